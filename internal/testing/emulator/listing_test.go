package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// listed is what one list entry says about itself.
type listed struct{ name, version, arn string }

func (l listed) String() string { return l.name + ":" + l.version }

// arnOf is a test function's ARN, with ":qualifier" unless it is "".
func arnOf(name, qualifier string) string {
	arn := "arn:aws:lambda:" + testRegion + ":" + testAccount + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

// pageWalk follows NextMarker from the first page to the last. It fails
// the test on an error, on a page longer than limit, on a short page that
// is not the last, or after too many pages.
func pageWalk(t *testing.T, limit int, next func(marker *string) ([]listed, *string, error)) []listed {
	t.Helper()
	var all []listed
	var marker *string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("NextMarker never ran out")
		}
		items, nextMarker, err := next(marker)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(items) > limit {
			t.Fatalf("page %d has %d entries, more than %d", pages, len(items), limit)
		}
		all = append(all, items...)
		if aws.ToString(nextMarker) == "" {
			return all
		}
		if len(items) != limit {
			t.Fatalf("page %d has %d entries and a NextMarker; want full pages of %d", pages, len(items), limit)
		}
		marker = nextMarker
	}
}

func fromConfigurations(configs []types.FunctionConfiguration) []listed {
	out := make([]listed, 0, len(configs))
	for _, c := range configs {
		out = append(out, listed{aws.ToString(c.FunctionName), aws.ToString(c.Version), aws.ToString(c.FunctionArn)})
	}
	return out
}

func listFunctionsPage(h *harness, maxItems *int32, all bool) func(*string) ([]listed, *string, error) {
	return func(marker *string) ([]listed, *string, error) {
		in := &lambda.ListFunctionsInput{Marker: marker, MaxItems: maxItems}
		if all {
			in.FunctionVersion = types.FunctionVersionAll
		}
		out, err := h.client.ListFunctions(h.ctx, in)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range out.Functions {
			// Only GetFunction reports these (§17.1).
			if f.State != "" || f.LastUpdateStatus != "" {
				h.t.Errorf("%s lists State %q LastUpdateStatus %q", aws.ToString(f.FunctionArn), f.State, f.LastUpdateStatus)
			}
		}
		return fromConfigurations(out.Functions), out.NextMarker, nil
	}
}

// listingFixture creates functions out of name order with versions[i]
// published versions each, and returns what ListFunctions should list in
// its documented order (§17.1): names sorted; with all, $LATEST (qualified
// ARN) then versions ascending.
func listingFixture(h *harness, versions map[string]int, all bool) []listed {
	names := make([]string, 0, len(versions))
	for name := range versions {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(b, a) }) // create in reverse order
	for _, name := range names {
		h.createFunction(name)
		for range versions[name] {
			h.publishVersion(name)
		}
	}
	slices.Sort(names)
	var want []listed
	for _, name := range names {
		if !all {
			want = append(want, listed{name, "$LATEST", arnOf(name, "")})
			continue
		}
		want = append(want, listed{name, "$LATEST", arnOf(name, "$LATEST")})
		for v := 1; v <= versions[name]; v++ {
			want = append(want, listed{name, strconv.Itoa(v), arnOf(name, strconv.Itoa(v))})
		}
	}
	return want
}

// TestListFunctionsPagination: following NextMarker with any MaxItems
// lists every function (and with ALL every version) once, in order.
func TestListFunctionsPagination(t *testing.T) {
	versions := map[string]int{"delta": 0, "alpha": 2, "charlie": 1, "bravo": 3, "echo-fn": 0}
	for _, all := range []bool{false, true} {
		for _, maxItems := range []int32{1, 2, 3, 50, 10000, 0} { // 0: MaxItems absent
			t.Run(fmt.Sprintf("all=%v/maxItems=%d", all, maxItems), func(t *testing.T) {
				h := newHarness(t, Config{})
				want := listingFixture(h, versions, all)
				var limit *int32
				pageSize := defaultPageSize
				if maxItems > 0 {
					limit = aws.Int32(maxItems)
					pageSize = min(int(maxItems), functionPageCap)
				}
				got := pageWalk(t, pageSize, listFunctionsPage(h, limit, all))
				if !slices.Equal(got, want) {
					t.Errorf("\n got: %v\nwant: %v", got, want)
				}
			})
		}
	}
}

// TestListFunctionsPaginator: the SDK's own paginator collects everything.
func TestListFunctionsPaginator(t *testing.T) {
	h := newHarness(t, Config{})
	want := listingFixture(h, map[string]int{"f1": 1, "f2": 0, "f3": 2, "f4": 0}, true)
	p := lambda.NewListFunctionsPaginator(h.client, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, MaxItems: aws.Int32(2)})
	var got []listed
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, fromConfigurations(out.Functions)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("\n got: %v\nwant: %v", got, want)
	}
	if wantPages := (len(want) + 1) / 2; pages != wantPages {
		t.Errorf("%d pages, want %d", pages, wantPages)
	}
}

// TestListFunctionsPageCap: ListFunctions returns at most 50 per page,
// whatever MaxItems says, and 50 when it is absent (§17.1).
func TestListFunctionsPageCap(t *testing.T) {
	h := newHarness(t, Config{})
	const awsCap = 50 // "returns a maximum of 50 items in each response"
	const n = awsCap + 5
	for i := range n {
		h.createFunction(fmt.Sprintf("fn-%03d", i))
	}
	for _, maxItems := range []*int32{nil, aws.Int32(awsCap + 1), aws.Int32(10000)} {
		out, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{MaxItems: maxItems})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Functions) != awsCap || aws.ToString(out.NextMarker) == "" {
			t.Errorf("MaxItems %v: %d functions, NextMarker %q", aws.ToInt32(maxItems), len(out.Functions), aws.ToString(out.NextMarker))
		}
		rest, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{MaxItems: maxItems, Marker: out.NextMarker})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest.Functions) != n-awsCap || rest.NextMarker != nil {
			t.Errorf("second page: %d functions, NextMarker %v", len(rest.Functions), rest.NextMarker)
		}
	}
}

// TestListFunctionsMarkerAfterChanges: a page resumes after the last
// listed function, so functions deleted or added meanwhile neither repeat
// nor shift the listing.
func TestListFunctionsMarkerAfterChanges(t *testing.T) {
	h := newHarness(t, Config{})
	for _, name := range []string{"b", "d", "f", "h"} {
		h.createFunction(name)
	}
	first, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got := fromConfigurations(first.Functions); len(got) != 2 || got[1].name != "d" {
		t.Fatalf("first page %v", got)
	}
	// "d" (the marker's function) goes; "a" sorts before the marker, "e" after.
	if _, err := h.client.DeleteFunction(h.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	h.createFunction("a")
	h.createFunction("e")
	rest := pageWalk(t, 2, func(marker *string) ([]listed, *string, error) {
		if marker == nil {
			marker = first.NextMarker
		}
		return listFunctionsPage(h, aws.Int32(2), false)(marker)
	})
	var names []string
	for _, l := range rest {
		names = append(names, l.name)
	}
	if want := []string{"e", "f", "h"}; !slices.Equal(names, want) {
		t.Errorf("after the marker: %v, want %v", names, want)
	}
}

// TestListFunctionsAccounts: each account lists only its own functions.
func TestListFunctionsAccounts(t *testing.T) {
	h := twoAccounts(t, Config{})
	a, b := h.lambdaAs(staticCreds(keyA, "x", "")), h.lambdaAs(staticCreds(keyB, "x", ""))
	createFunctionWith(t, h.ctx, a, "only-a")
	createFunctionWith(t, h.ctx, b, "only-b")
	for client, want := range map[*lambda.Client]string{a: "arn:aws:lambda:us-east-2:" + accountA + ":function:only-a", b: "arn:aws:lambda:us-east-2:" + accountB + ":function:only-b"} {
		out, err := client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Functions) != 1 || aws.ToString(out.Functions[0].FunctionArn) != want {
			t.Errorf("want only %s, got %v", want, fromConfigurations(out.Functions))
		}
	}
	out, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(out.Functions) != 0 || out.Functions == nil {
		t.Errorf("default account: %v %+v", err, out)
	}
}

// TestListFunctionsErrors: model constraints, markers and MasterRegion.
func TestListFunctionsErrors(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.publishVersion("fn")
	h.createFunction("other")
	page, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	versions, err := h.client.ListVersionsByFunction(h.ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	const min1 = "Member must have value greater than or equal to 1"
	for _, tc := range []struct {
		name          string
		in            lambda.ListFunctionsInput
		code, message string
	}{
		{"MaxItems 0", lambda.ListFunctionsInput{MaxItems: aws.Int32(0)}, codeValidation, validationMsg("0", "maxItems", min1)},
		{"MaxItems negative", lambda.ListFunctionsInput{MaxItems: aws.Int32(-5)}, codeValidation, validationMsg("-5", "maxItems", min1)},
		{"MaxItems above 10000", lambda.ListFunctionsInput{MaxItems: aws.Int32(10001)}, codeValidation,
			validationMsg("10001", "maxItems", "Member must have value less than or equal to 10000")},
		// Recorded by LocalStack against AWS.
		{"FunctionVersion not ALL", lambda.ListFunctionsInput{FunctionVersion: "invalid"}, codeValidation,
			validationMsg("invalid", "functionVersion", "Member must satisfy enum value set: [ALL]")},
		{"two violations in model order", lambda.ListFunctionsInput{FunctionVersion: "all", MaxItems: aws.Int32(0)}, codeValidation,
			"2 validation errors detected: Value 'all' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]; " +
				"Value '0' at 'maxItems' failed to satisfy constraint: " + min1},
		{"MasterRegion pattern", lambda.ListFunctionsInput{MasterRegion: aws.String("mars"), FunctionVersion: types.FunctionVersionAll}, codeValidation,
			validationMsg("mars", "masterRegion", "Member must satisfy regular expression pattern: ALL|[a-z]{2}(-gov)?-[a-z]+-\\d{1}")},
		{"MasterRegion without ALL", lambda.ListFunctionsInput{MasterRegion: aws.String("us-east-1")}, codeInvalidParameterValue,
			"MasterRegion requires FunctionVersion to be ALL."},
		{"Marker not issued", lambda.ListFunctionsInput{Marker: aws.String("not-a-marker!")}, codeInvalidParameterValue, "Invalid Marker: not-a-marker!"},
		{"Marker of ListVersionsByFunction", lambda.ListFunctionsInput{Marker: versions.NextMarker}, codeInvalidParameterValue,
			"Invalid Marker: " + aws.ToString(versions.NextMarker)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.ListFunctions(h.ctx, &tc.in)
			assertAPIError(t, err, tc.code, tc.message)
			if httpStatus(err) != http.StatusBadRequest {
				t.Errorf("status %d, want 400", httpStatus(err))
			}
		})
	}
	// Lambda@Edge replicas do not exist here, so a MasterRegion lists none.
	for _, region := range []string{"ALL", "us-east-1"} {
		out, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{MasterRegion: aws.String(region), FunctionVersion: types.FunctionVersionAll})
		if err != nil || len(out.Functions) != 0 {
			t.Errorf("MasterRegion %s: %v %v", region, err, out)
		}
	}
	// An empty Marker starts at the beginning, as an absent one.
	out, err := h.client.ListFunctions(h.ctx, &lambda.ListFunctionsInput{Marker: aws.String(""), MaxItems: aws.Int32(1)})
	if err != nil || aws.ToString(out.NextMarker) != aws.ToString(page.NextMarker) {
		t.Errorf("empty Marker: %v %+v", err, out)
	}
}

// TestListFunctionsRawRoutes: the reference's trailing-slash route, and a
// MaxItems that is no integer (the SDK cannot send one).
func TestListFunctionsRawRoutes(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	for _, path := range []string{"/2015-03-31/functions", "/2015-03-31/functions/"} {
		got := rawRequest(t, http.MethodGet, h.url+path+"?MaxItems=1", "")
		var body struct {
			Functions []struct{ FunctionName string }
		}
		if err := json.Unmarshal([]byte(got.body), &body); got.status != http.StatusOK || err != nil ||
			len(body.Functions) != 1 || body.Functions[0].FunctionName != "fn" || strings.Contains(got.body, "NextMarker") {
			t.Errorf("GET %s: %d %s", path, got.status, got.body)
		}
	}
	got := rawRequest(t, http.MethodGet, h.url+"/2015-03-31/functions?MaxItems=ten", "")
	want := `{"message":"1 validation error detected: Value 'ten' at 'maxItems' failed to satisfy constraint: Member must be an integer"}`
	if got.status != http.StatusBadRequest || got.header.Get("X-Amzn-ErrorType") != codeValidation || got.body != want {
		t.Errorf("MaxItems=ten: %d %s %s", got.status, got.header.Get("X-Amzn-ErrorType"), got.body)
	}
	if h.emu.Stats().Calls[OpListFunctions] != 3 {
		t.Errorf("ListFunctions counted %d times, want 3", h.emu.Stats().Calls[OpListFunctions])
	}
}

func listVersionsPage(h *harness, name string, maxItems *int32) func(*string) ([]listed, *string, error) {
	return func(marker *string) ([]listed, *string, error) {
		out, err := h.client.ListVersionsByFunction(h.ctx, &lambda.ListVersionsByFunctionInput{
			FunctionName: aws.String(name), Marker: marker, MaxItems: maxItems,
		})
		if err != nil {
			return nil, nil, err
		}
		return fromConfigurations(out.Versions), out.NextMarker, nil
	}
}

// TestListVersionsByFunction: $LATEST (qualified ARN) then the versions in
// ascending number, paginated; a deleted version is not listed.
func TestListVersionsByFunction(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.createFunction("neighbour")
	h.publishVersion("neighbour")
	const published = 12 // past 9, so ascending is numeric, not textual
	want := []listed{{"fn", "$LATEST", arnOf("fn", "$LATEST")}}
	for range published {
		v := h.publishVersion("fn")
		want = append(want, listed{"fn", v, arnOf("fn", v)})
	}
	for _, tc := range []struct {
		name     string
		maxItems *int32
		pageSize int
	}{
		{"MaxItems 1", aws.Int32(1), 1},
		{"MaxItems 2", aws.Int32(2), 2},
		{"MaxItems 5", aws.Int32(5), 5},
		{"MaxItems absent", nil, defaultPageSize},
		{"MaxItems above the cap", aws.Int32(10000), functionPageCap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pageWalk(t, tc.pageSize, listVersionsPage(h, "fn", tc.maxItems))
			if !slices.Equal(got, want) {
				t.Errorf("\n got: %v\nwant: %v", got, want)
			}
		})
	}
	t.Run("by ARN, deleted version", func(t *testing.T) {
		if _, err := h.client.DeleteFunction(h.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn"), Qualifier: aws.String("3")}); err != nil {
			t.Fatal(err)
		}
		got := pageWalk(t, 4, listVersionsPage(h, arnOf("fn", ""), aws.Int32(4)))
		wantNow := slices.DeleteFunc(slices.Clone(want), func(l listed) bool { return l.version == "3" })
		if !slices.Equal(got, wantNow) {
			t.Errorf("\n got: %v\nwant: %v", got, wantNow)
		}
	})
	t.Run("50 per page at most", func(t *testing.T) {
		h.createFunction("many")
		for range 55 {
			h.publishVersion("many")
		}
		got := pageWalk(t, 50, listVersionsPage(h, "many", aws.Int32(100)))
		if len(got) != 56 || got[0].version != "$LATEST" || got[55].version != "55" {
			t.Errorf("%d versions, from %v to %v", len(got), got[0], got[len(got)-1])
		}
	})
	t.Run("paginator", func(t *testing.T) {
		p := lambda.NewListVersionsByFunctionPaginator(h.client, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("neighbour"), MaxItems: aws.Int32(1)})
		var got []listed
		for p.HasMorePages() {
			out, err := p.NextPage(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fromConfigurations(out.Versions)...)
		}
		want := []listed{{"neighbour", "$LATEST", arnOf("neighbour", "$LATEST")}, {"neighbour", "1", arnOf("neighbour", "1")}}
		if !slices.Equal(got, want) {
			t.Errorf("\n got: %v\nwant: %v", got, want)
		}
	})
}

// TestListVersionsByFunctionErrors: unknown function, constraints, markers.
func TestListVersionsByFunctionErrors(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.createFunction("other")
	h.publishVersion("other")
	otherPage, err := h.client.ListVersionsByFunction(h.ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("other"), MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		in            lambda.ListVersionsByFunctionInput
		code, message string
		status        int
	}{
		{"unknown function", lambda.ListVersionsByFunctionInput{FunctionName: aws.String("ghost")},
			codeResourceNotFound, "Function not found: " + arnOf("ghost", ""), http.StatusNotFound},
		{"unknown function by ARN", lambda.ListVersionsByFunctionInput{FunctionName: aws.String(arnOf("ghost", ""))},
			codeResourceNotFound, "Function not found: " + arnOf("ghost", ""), http.StatusNotFound},
		{"other region", lambda.ListVersionsByFunctionInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:" + testAccount + ":function:fn")},
			codeResourceNotFound, "Functions from 'eu-west-1' are not reachable in this region ('us-east-2')", http.StatusNotFound},
		{"bad name", lambda.ListVersionsByFunctionInput{FunctionName: aws.String("no spaces")}, codeValidation,
			validationMsg("no spaces", "functionName", "Member must satisfy regular expression pattern: "+namespacedFunctionNamePattern.text), http.StatusBadRequest},
		{"MaxItems 0", lambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(0)}, codeValidation,
			validationMsg("0", "maxItems", "Member must have value greater than or equal to 1"), http.StatusBadRequest},
		{"Marker of another function", lambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn"), Marker: otherPage.NextMarker},
			codeInvalidParameterValue, "Invalid Marker: " + aws.ToString(otherPage.NextMarker), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.ListVersionsByFunction(h.ctx, &tc.in)
			assertAPIError(t, err, tc.code, tc.message)
			if httpStatus(err) != tc.status {
				t.Errorf("status %d, want %d", httpStatus(err), tc.status)
			}
		})
	}
}

func aliasNames(aliases []types.AliasConfiguration) []string {
	out := []string{}
	for _, a := range aliases {
		out = append(out, aws.ToString(a.Name))
	}
	return out
}

// TestListAliases: name order, the FunctionVersion filter, pagination and
// no 50 cap.
func TestListAliases(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	v1, v2 := h.publishVersion("fn"), h.publishVersion("fn")
	target := map[string]string{}
	for i := range 60 {
		name := fmt.Sprintf("alias-%02d", 59-i) // created in reverse order
		target[name] = []string{v1, v2, "$LATEST"}[i%3]
		created := h.createAlias("fn", name, target[name])
		got, err := h.client.ListAliases(h.ctx, &lambda.ListAliasesInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		// A listed alias is GetAlias's configuration.
		i := slices.IndexFunc(got.Aliases, func(a types.AliasConfiguration) bool { return aws.ToString(a.Name) == name })
		if i < 0 || aws.ToString(got.Aliases[i].AliasArn) != aws.ToString(created.AliasArn) ||
			aws.ToString(got.Aliases[i].RevisionId) != aws.ToString(created.RevisionId) || aws.ToString(got.Aliases[i].FunctionVersion) != target[name] {
			t.Fatalf("%s listed as %+v", name, got.Aliases)
		}
	}
	sortedNames := func(version string) []string {
		var out []string
		for name, v := range target {
			if version == "" || v == version {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name     string
		version  string
		maxItems *int32
		pageSize int
	}{
		{"all, MaxItems 1", "", aws.Int32(1), 1},
		{"all, MaxItems 2", "", aws.Int32(2), 2},
		{"all, MaxItems absent", "", nil, defaultPageSize},
		{"all, MaxItems above 50", "", aws.Int32(55), 55},
		{"version 1, MaxItems 2", v1, aws.Int32(2), 2},
		{"version 2, MaxItems 7", v2, aws.Int32(7), 7},
		{"$LATEST", "$LATEST", aws.Int32(3), 3},
		{"version without aliases", "99", aws.Int32(3), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			pageWalk(t, tc.pageSize, func(marker *string) ([]listed, *string, error) {
				in := &lambda.ListAliasesInput{FunctionName: aws.String("fn"), Marker: marker, MaxItems: tc.maxItems}
				if tc.version != "" {
					in.FunctionVersion = aws.String(tc.version)
				}
				out, err := h.client.ListAliases(h.ctx, in)
				if err != nil {
					return nil, nil, err
				}
				names = append(names, aliasNames(out.Aliases)...)
				return make([]listed, len(out.Aliases)), out.NextMarker, nil
			})
			if want := sortedNames(tc.version); !slices.Equal(names, want) {
				t.Errorf("\n got: %v\nwant: %v", names, want)
			}
		})
	}
	t.Run("paginator", func(t *testing.T) {
		p := lambda.NewListAliasesPaginator(h.client, &lambda.ListAliasesInput{FunctionName: aws.String("fn"), FunctionVersion: aws.String(v2), MaxItems: aws.Int32(4)})
		var names []string
		for p.HasMorePages() {
			out, err := p.NextPage(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, aliasNames(out.Aliases)...)
		}
		if want := sortedNames(v2); !slices.Equal(names, want) {
			t.Errorf("\n got: %v\nwant: %v", names, want)
		}
	})
}

// TestListAliasesErrors: unknown function, the FunctionName shape (no dot,
// at most 140), the FunctionVersion pattern, MaxItems, markers.
func TestListAliasesErrors(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.createFunction("other")
	h.createAlias("other", "a", "$LATEST")
	h.createAlias("other", "b", "$LATEST")
	otherPage, err := h.client.ListAliases(h.ctx, &lambda.ListAliasesInput{FunctionName: aws.String("other"), MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("n", 141)
	for _, tc := range []struct {
		name          string
		in            lambda.ListAliasesInput
		code, message string
	}{
		{"unknown function", lambda.ListAliasesInput{FunctionName: aws.String("ghost")}, codeResourceNotFound, "Function not found: " + arnOf("ghost", "")},
		{"dot in the name", lambda.ListAliasesInput{FunctionName: aws.String("fn.v2")}, codeValidation,
			validationMsg("fn.v2", "functionName", "Member must satisfy regular expression pattern: "+shortFunctionNamePattern.text)},
		{"name too long", lambda.ListAliasesInput{FunctionName: aws.String(long)}, codeValidation,
			validationMsg(long, "functionName", "Member must have length less than or equal to 140")},
		{"FunctionVersion pattern", lambda.ListAliasesInput{FunctionName: aws.String("fn"), FunctionVersion: aws.String("live")}, codeValidation,
			validationMsg("live", "functionVersion", "Member must satisfy regular expression pattern: "+versionPattern.text)},
		{"MaxItems above 10000", lambda.ListAliasesInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(20000)}, codeValidation,
			validationMsg("20000", "maxItems", "Member must have value less than or equal to 10000")},
		{"Marker of another function", lambda.ListAliasesInput{FunctionName: aws.String("fn"), Marker: otherPage.NextMarker},
			codeInvalidParameterValue, "Invalid Marker: " + aws.ToString(otherPage.NextMarker)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.ListAliases(h.ctx, &tc.in)
			assertAPIError(t, err, tc.code, tc.message)
		})
	}
	out, err := h.client.ListAliases(h.ctx, &lambda.ListAliasesInput{FunctionName: aws.String("fn")})
	if err != nil || out.Aliases == nil || len(out.Aliases) != 0 || out.NextMarker != nil {
		t.Errorf("no aliases: %v %+v", err, out)
	}
}

// TestListingQuotaAndStats: the three list operations draw from the
// control-plane bucket and are counted under their names.
func TestListingQuotaAndStats(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now, Quotas: map[string]float64{BucketControlPlane: 1}})
	h.createFunction("fn") // spends the one token
	calls := map[string]func(context.Context, *lambda.Client) error{
		OpListFunctions: func(ctx context.Context, c *lambda.Client) error {
			_, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
			return err
		},
		OpListVersionsByFunction: func(ctx context.Context, c *lambda.Client) error {
			_, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn")})
			return err
		},
		OpListAliases: func(ctx context.Context, c *lambda.Client) error {
			_, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("fn")})
			return err
		},
	}
	for op, call := range calls {
		assertAPIError(t, call(h.ctx, h.client), codeTooManyRequests, "Rate exceeded")
		clock.Advance(time.Second)
		mustSucceed(t, call(h.ctx, h.client))
		stats := h.emu.Stats()
		if stats.Calls[op] != 2 || stats.Errors[op][codeTooManyRequests] != 1 {
			t.Errorf("%s: calls %d, throttled %d", op, stats.Calls[op], stats.Errors[op][codeTooManyRequests])
		}
	}
}
