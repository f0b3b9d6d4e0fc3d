package emulator

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ListFunctions, ListVersionsByFunction and ListAliases (§17.1-17.3).

// Page sizes (§17.1): MaxItems must be 1-10000 (the model's MaxListItems);
// an absent MaxItems means 50, and ListFunctions and ListVersionsByFunction
// never return more than 50, whatever MaxItems says.
const (
	maxListItems    = 10000
	defaultPageSize = 50
	functionPageCap = 50
)

func maxItemsField(r *http.Request) integerField {
	return integerField{wireName: "maxItems", value: queryParam(r, "MaxItems"), min: 1, max: maxListItems}
}

// pageKey orders list entries and is what a Marker carries: the entry after
// which the next page starts. Keys are unique within one listing.
type pageKey struct {
	name    string // function name (ListFunctions), alias name (ListAliases), "" (ListVersionsByFunction)
	version int    // -1 for $LATEST, else the version number; 0 in ListAliases
}

func comparePageKeys(a, b pageKey) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	return a.version - b.version
}

// listEntry is one item of a listing with its key.
type listEntry struct {
	key  pageKey
	item any
}

// encodeMarker makes the opaque NextMarker. It names the operation and the
// listing's scope (the function, for the per-function lists), so a marker
// is refused by any other listing.
func encodeMarker(operation, scope string, k pageKey) string {
	text := strings.Join([]string{operation, scope, k.name, strconv.Itoa(k.version)}, "\n")
	return base64.RawURLEncoding.EncodeToString([]byte(text))
}

func decodeMarker(operation, scope, marker string) (pageKey, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil {
		return pageKey{}, false
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 4 || parts[0] != operation || parts[1] != scope {
		return pageKey{}, false
	}
	version, err := strconv.Atoi(parts[3])
	if err != nil {
		return pageKey{}, false
	}
	return pageKey{name: parts[2], version: version}, true
}

// errInvalidMarker refuses a Marker this listing did not issue ([unknown]
// at AWS; the model lists only InvalidParameterValueException, §17.1).
func errInvalidMarker(marker string) *apiError {
	return errInvalidParameter("Invalid Marker: " + marker)
}

// paginate returns the page of sorted entries after the marker (an empty
// or absent marker starts at the beginning) and the NextMarker, "" on the
// last page. Resuming after the last returned key, not at an index, keeps
// pages free of duplicates and gaps when entries are added or deleted
// between calls: an entry added behind the marker is not listed, one added
// ahead of it is.
func paginate(operation, scope string, marker *string, size int, entries []listEntry) ([]any, string, *apiError) {
	start := 0
	if m := deref(marker); m != "" {
		after, ok := decodeMarker(operation, scope, m)
		if !ok {
			return nil, "", errInvalidMarker(m)
		}
		start, _ = slices.BinarySearchFunc(entries, after, func(e listEntry, k pageKey) int {
			return comparePageKeys(e.key, k)
		})
		if start < len(entries) && comparePageKeys(entries[start].key, after) == 0 {
			start++
		}
	}
	end := min(start+size, len(entries))
	page := make([]any, 0, end-start)
	for _, e := range entries[start:end] {
		page = append(page, e.item)
	}
	next := ""
	if end < len(entries) {
		next = encodeMarker(operation, scope, entries[end-1].key)
	}
	return page, next, nil
}

// listedConfiguration is a configuration as the list operations show it:
// without State and LastUpdateStatus, which only GetFunction returns
// (§17.1, [AWS-doc] and recorded).
func listedConfiguration(config functionConfiguration, arn string) functionConfiguration {
	config.FunctionArn = arn
	config.State, config.LastUpdateStatus = "", ""
	return config
}

// versionEntries lists $LATEST (ARN qualified with ":$LATEST") and then the
// published versions in ascending number, each keyed under name.
func (s *Server) versionEntries(fn *function, name string) []listEntry {
	entries := []listEntry{{
		key:  pageKey{name: name, version: -1},
		item: listedConfiguration(fn.latest.config, s.qualifiedARN(fn.account, fn.name, "$LATEST")),
	}}
	numbers := make([]int, 0, len(fn.versions))
	for v := range fn.versions {
		n, _ := strconv.Atoi(v)
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		config := fn.versions[strconv.Itoa(n)].config
		entries = append(entries, listEntry{key: pageKey{name: name, version: n}, item: listedConfiguration(config, config.FunctionArn)})
	}
	return entries
}

// listFunctions: GET /2015-03-31/functions (the reference writes
// /2015-03-31/functions/; both are served) ?FunctionVersion=&Marker=
// &MasterRegion=&MaxItems= (200 {"NextMarker","Functions"}).
// The caller's functions in name order; with FunctionVersion=ALL each
// function's $LATEST (qualified ARN) is followed by its versions (§17.1).
func (s *Server) listFunctions(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	masterRegion := queryParam(r, "MasterRegion")
	functionVersion := queryParam(r, "FunctionVersion")
	maxItems := maxItemsField(r)
	// Members in model order: MasterRegion, FunctionVersion, Marker, MaxItems.
	if err := validate(
		field{wireName: "masterRegion", value: masterRegion, pattern: &masterRegionPattern},
		field{wireName: "functionVersion", value: functionVersion, enum: allVersions},
		maxItems,
	); err != nil {
		return nil, err
	}
	all := functionVersion != nil
	if masterRegion != nil && !all {
		return nil, errInvalidParameter("MasterRegion requires FunctionVersion to be ALL.") // [unknown] text
	}
	var entries []listEntry
	// The emulator has no Lambda@Edge replicas, so any MasterRegion lists none.
	if masterRegion == nil {
		functions := s.accounts[c.who.account]
		for _, name := range slices.Sorted(maps.Keys(functions)) {
			fn := functions[name]
			if all {
				entries = append(entries, s.versionEntries(fn, name)...)
				continue
			}
			entries = append(entries, listEntry{
				key:  pageKey{name: name, version: -1},
				item: listedConfiguration(fn.latest.config, fn.latest.config.FunctionArn),
			})
		}
	}
	page, next, err := paginate(OpListFunctions, "", queryParam(r, "Marker"), min(maxItems.intOr(defaultPageSize), functionPageCap), entries)
	if err != nil {
		return nil, err
	}
	return jsonResponse(http.StatusOK, struct {
		NextMarker string `json:"NextMarker,omitempty"`
		Functions  []any  `json:"Functions"`
	}{next, page})
}

// listVersionsByFunction: GET /2015-03-31/functions/{FunctionName}/versions
// ?Marker=&MaxItems= (200 {"NextMarker","Versions"}): $LATEST, then the
// published versions in ascending number (§17.2).
func (s *Server) listVersionsByFunction(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	name := r.PathValue("FunctionName")
	maxItems := maxItemsField(r)
	if err := validate(functionNameField(name), maxItems); err != nil {
		return nil, err
	}
	// A ":qualifier" suffix on the name is ignored, as PublishVersion does.
	fn, _, err := s.functionNamed(c, name, nil)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(OpListVersionsByFunction, fn.name, queryParam(r, "Marker"),
		min(maxItems.intOr(defaultPageSize), functionPageCap), s.versionEntries(fn, ""))
	if err != nil {
		return nil, err
	}
	return jsonResponse(http.StatusOK, struct {
		NextMarker string `json:"NextMarker,omitempty"`
		Versions   []any  `json:"Versions"`
	}{next, page})
}

// listAliases: GET /2015-03-31/functions/{FunctionName}/aliases
// ?FunctionVersion=&Marker=&MaxItems= (200 {"NextMarker","Aliases"}):
// aliases in name order, only those pointing at FunctionVersion when it is
// given (§17.3).
func (s *Server) listAliases(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	name := r.PathValue("FunctionName")
	functionVersion := queryParam(r, "FunctionVersion")
	maxItems := maxItemsField(r)
	// Members in model order: FunctionName, FunctionVersion, Marker, MaxItems.
	if err := validate(
		shortFunctionNameField(name),
		field{wireName: "functionVersion", value: functionVersion, minLen: 1, maxLen: 1024, pattern: &versionPattern},
		maxItems,
	); err != nil {
		return nil, err
	}
	fn, _, err := s.functionNamed(c, name, nil)
	if err != nil {
		return nil, err
	}
	var entries []listEntry
	for _, aliasName := range slices.Sorted(maps.Keys(fn.aliases)) {
		alias := fn.aliases[aliasName].config
		if functionVersion != nil && alias.FunctionVersion != *functionVersion {
			continue
		}
		entries = append(entries, listEntry{key: pageKey{name: aliasName}, item: alias})
	}
	// No 50 cap: the reference states none for ListAliases (§17.3).
	page, next, err := paginate(OpListAliases, fn.name, queryParam(r, "Marker"), maxItems.intOr(defaultPageSize), entries)
	if err != nil {
		return nil, err
	}
	return jsonResponse(http.StatusOK, struct {
		NextMarker string `json:"NextMarker,omitempty"`
		Aliases    []any  `json:"Aliases"`
	}{next, page})
}
