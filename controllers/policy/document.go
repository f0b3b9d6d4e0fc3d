package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PolicyDocument is a function's resource-based policy as GetPolicy returns it.
type PolicyDocument struct {
	Version    string
	ID         string
	Statements []StoredStatement
}

// StoredStatement is a statement read from a policy, with its text exactly as
// Lambda returned it: statements this operator does not own are never
// re-rendered, only looked at.
type StoredStatement struct {
	Statement
	Raw string
}

// MaxPolicySize is Lambda's limit on a function policy, in the unit its
// PolicyLengthExceededException reports (SPEC §8).
const MaxPolicySize = 20480

// ParsePolicy reads the Policy string of a GetPolicy response. It accepts the
// modern format and the historical ones (SPEC §11): any key order, Action as
// an array, no Id, and Statement as a single object.
func ParsePolicy(policy string) (PolicyDocument, error) {
	var doc struct {
		Version   string
		ID        string `json:"Id"`
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return PolicyDocument{}, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	raws, err := statementList(doc.Statement)
	if err != nil {
		return PolicyDocument{}, err
	}
	out := PolicyDocument{Version: doc.Version, ID: doc.ID, Statements: make([]StoredStatement, 0, len(raws))}
	for i, raw := range raws {
		st, err := ParseStatement(string(raw))
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("policy statement %d: %w", i, err)
		}
		out.Statements = append(out.Statements, StoredStatement{Statement: st, Raw: string(raw)})
	}
	return out, nil
}

func statementList(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '{':
		return []json.RawMessage{raw}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("policy Statement is neither an object nor a list: %w", err)
	}
	return list, nil
}

// ParseStatement reads one statement, such as AddPermission's response.
func ParseStatement(statement string) (Statement, error) {
	dec := json.NewDecoder(strings.NewReader(statement))
	dec.UseNumber() // keep numbers as written, so 1.50 and 1.5 stay apart
	var elements map[string]any
	if err := dec.Decode(&elements); err != nil {
		return Statement{}, fmt.Errorf("statement is not a JSON object: %w", err)
	}
	if elements == nil {
		return Statement{}, fmt.Errorf("statement is not a JSON object: null")
	}
	var st Statement
	for key, value := range elements {
		var err error
		switch key {
		case "Sid":
			st.Sid, err = asString(value)
		case "Effect":
			st.Effect, err = asString(value)
		case "Principal":
			st.Principal, err = parsePrincipal(value)
		case "Action":
			st.Action, err = parseValues(value)
		case "Resource":
			st.Resource, err = parseValues(value)
		case "Condition":
			st.Condition, err = parseCondition(value)
		default:
			if st.Unmodelled == nil {
				st.Unmodelled = map[string]json.RawMessage{}
			}
			st.Unmodelled[key], err = json.Marshal(value)
		}
		if err != nil {
			return Statement{}, fmt.Errorf("statement element %s: %w", key, err)
		}
	}
	return st, nil
}

func asString(value any) (string, error) {
	s, ok := value.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %v", value)
	}
	return s, nil
}

func parsePrincipal(value any) (Principal, error) {
	switch v := value.(type) {
	case string:
		if v == "*" {
			return Principal{Anyone: true}, nil
		}
		// Not valid IAM, but kept so that it compares unequal to everything.
		return Principal{IDs: map[string][]string{"": {v}}}, nil
	case map[string]any:
		p := Principal{IDs: make(map[string][]string, len(v))}
		for kind, ids := range v {
			values, err := parseValues(ids)
			if err != nil {
				return Principal{}, fmt.Errorf("%s: %w", kind, err)
			}
			p.IDs[kind] = values
		}
		return p, nil
	default:
		return Principal{}, fmt.Errorf(`want "*" or an object, got %v`, value)
	}
}

func parseCondition(value any) (Condition, error) {
	byOperator, ok := value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object of objects, got %v", value)
	}
	c := make(Condition, len(byOperator))
	for operator, keys := range byOperator {
		byKey, ok := keys.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object, got %v", operator, keys)
		}
		c[operator] = make(map[string][]string, len(byKey))
		for key, raw := range byKey {
			values, err := parseValues(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", operator, key, err)
			}
			c[operator][key] = values
		}
	}
	return c, nil
}

// parseValues reads a policy value: one scalar or a list of them. Scalars
// are kept as text, so that true and "true" read the same, as IAM reads them.
func parseValues(value any) ([]string, error) {
	list, ok := value.([]any)
	if !ok {
		v, err := parseScalar(value)
		if err != nil {
			return nil, err
		}
		return []string{v}, nil
	}
	values := make([]string, 0, len(list))
	for _, item := range list {
		v, err := parseScalar(item)
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	return values, nil
}

func parseScalar(value any) (string, error) {
	switch v := value.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return string(v), nil
	default:
		return "", fmt.Errorf("want a string, number or boolean, got %v", value)
	}
}

// Find returns the statement with the given Sid.
func (d PolicyDocument) Find(sid string) (StoredStatement, bool) {
	for _, st := range d.Statements {
		if st.Sid == sid {
			return st, true
		}
	}
	return StoredStatement{}, false
}

// SizeAfter estimates the policy's size once the statements with the given
// Sids are removed and the added ones appended, to check against
// MaxPolicySize before calling AWS. Lambda's own measure is not public; the
// compact length of the resulting document is the closest known rule, and
// Lambda's count was seen to be somewhat larger (SPEC §8).
func (d PolicyDocument) SizeAfter(removeSids []string, add ...Statement) int {
	size, count := len(`{"Version":"2012-10-17","Id":"default","Statement":[]}`), 0
	for _, st := range d.Statements {
		if !slices.Contains(removeSids, st.Sid) {
			size, count = size+compactLen(st.Raw), count+1
		}
	}
	for _, st := range add {
		size, count = size+len(st.Render()), count+1
	}
	if count > 1 {
		size += count - 1 // the commas between statements
	}
	return size
}

// Size is the policy's size in Lambda's measure, estimated as SizeAfter
// does; 0 for a document without statements, which Lambda does not keep
// (GetPolicy then finds no policy).
func (d PolicyDocument) Size() int {
	if len(d.Statements) == 0 {
		return 0
	}
	return d.SizeAfter(nil)
}

// compactLen is the length of raw as compact JSON. Lambda returns its
// statements compact, so the usual answer costs a scan and no copy: every
// check of every object on a policy sizes the whole policy.
func compactLen(raw string) int {
	if !strings.ContainsAny(raw, " \t\r\n") {
		return len(raw)
	}
	return len(compact(raw))
}

func compact(raw string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(raw)) != nil {
		return raw
	}
	return b.String()
}

// With is the document after putting statements, each in the place of the
// statement with its Sid or else at the end, and removing the statements
// with the given Sids: what a whole-document write (PutResourcePolicy)
// sends. Every other statement keeps the text Lambda stored, so a
// whole-document write never changes what it was not asked to.
func (d PolicyDocument) With(put []Statement, remove []string) PolicyDocument {
	out := PolicyDocument{Version: d.Version, ID: d.ID, Statements: make([]StoredStatement, 0, len(d.Statements)+len(put))}
	placed := map[string]bool{}
	rendered := func(st Statement) StoredStatement { return StoredStatement{Statement: st, Raw: st.Render()} }
	for _, existing := range d.Statements {
		if slices.Contains(remove, existing.Sid) && existing.Sid != "" {
			continue
		}
		i := slices.IndexFunc(put, func(st Statement) bool { return st.Sid == existing.Sid && st.Sid != "" })
		if i < 0 {
			out.Statements = append(out.Statements, existing)
			continue
		}
		out.Statements = append(out.Statements, rendered(put[i]))
		placed[put[i].Sid] = true
	}
	for _, st := range put {
		if !placed[st.Sid] {
			out.Statements = append(out.Statements, rendered(st))
			placed[st.Sid] = true
		}
	}
	return out
}

// WithoutUnnamed is the document without its statements that have no Sid:
// no single-statement call can name them, only a whole-document write drops
// them.
func (d PolicyDocument) WithoutUnnamed() PolicyDocument {
	out := d
	out.Statements = slices.DeleteFunc(slices.Clone(d.Statements), func(st StoredStatement) bool { return st.Sid == "" })
	return out
}

// Text is the document as PutResourcePolicy takes it: compact JSON with
// the document's own Version and Id (Lambda writes no Id into a document
// that was put whole, and "default" into one AddPermission built).
func (d PolicyDocument) Text() string {
	var b bytes.Buffer
	version := d.Version
	if version == "" {
		version = "2012-10-17"
	}
	b.WriteString(`{"Version":`)
	writeString(&b, version)
	if d.ID != "" {
		b.WriteString(`,"Id":`)
		writeString(&b, d.ID)
	}
	b.WriteString(`,"Statement":[`)
	for i, st := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(compact(st.Raw))
	}
	b.WriteString(`]}`)
	return b.String()
}
