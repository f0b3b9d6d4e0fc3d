// Package policy predicts the statement Lambda stores for an AddPermission
// call, reads the policy GetPolicy returns, and tells whether two statements
// grant the same thing. It does no I/O: every rule here follows recorded AWS
// behaviour, cited by section of docs/lambda-api/SPEC.md (SPEC §n).
package policy

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
)

// Statement is one statement of a function's resource-based policy.
type Statement struct {
	Sid       string
	Effect    string
	Principal Principal
	Action    []string // Lambda stores one action; older policies wrote it as an array
	Resource  []string
	Condition Condition
	// Unmodelled keeps elements this package does not model (NotPrincipal,
	// NotAction, …) as raw JSON, so that a statement carrying them never
	// compares equal to one that does not.
	Unmodelled map[string]json.RawMessage
}

// Principal is a statement's Principal element: "*" (Anyone) or a map from
// principal type ("AWS", "Service", …) to identifiers.
type Principal struct {
	Anyone bool
	IDs    map[string][]string
}

// Condition maps an operator (StringEquals, ArnLike, Bool, …) to condition
// keys and their values.
type Condition map[string]map[string][]string

// Condition keys Lambda writes, spelled exactly as Lambda spells them: the
// prefix is "AWS:" for SourceArn and SourceAccount but "aws:" for
// PrincipalOrgID (SPEC §3.4, §10.2).
const (
	keySourceAccount         = "AWS:SourceAccount"
	keySourceArn             = "AWS:SourceArn"
	keyPrincipalOrgID        = "aws:PrincipalOrgID"
	keyFunctionURLAuthType   = "lambda:FunctionUrlAuthType"
	keyEventSourceToken      = "lambda:EventSourceToken"
	keyInvokedViaFunctionURL = "lambda:InvokedViaFunctionUrl"
)

// DesiredStatement is the statement Lambda stores when AddPermission is
// called with p on target. The target must be complete (see
// FunctionRef.WithDefaults) and p valid (see Permission.Validate).
func DesiredStatement(target FunctionRef, p Permission) Statement {
	st := Statement{
		Sid:      p.StatementID,
		Effect:   EffectAllow,
		Action:   []string{p.Action}, // verbatim, never re-cased
		Resource: []string{target.ResourceARN()},
	}
	if kind := principalKind(p.Principal); kind == "*" {
		st.Principal.Anyone = true // "*" stays a bare string, not {"AWS":"*"}
	} else {
		st.Principal.IDs = map[string][]string{kind: {normalizedPrincipal(p.Principal, target.Partition)}}
	}
	// SourceArn goes under ArnLike, although the API reference says
	// StringLike: every recording since 2016 shows ArnLike (SPEC §10.1).
	st.Condition.add("StringEquals", keySourceAccount, p.SourceAccount)
	st.Condition.add("StringEquals", keyFunctionURLAuthType, p.FunctionURLAuthType)
	st.Condition.add("StringEquals", keyPrincipalOrgID, p.PrincipalOrgID)
	st.Condition.add("StringEquals", keyEventSourceToken, p.EventSourceToken)
	st.Condition.add("ArnLike", keySourceArn, p.SourceArn)
	if p.InvokedViaFunctionURL {
		// The value is the string "true", not a JSON boolean (SPEC §3.4).
		st.Condition.add("Bool", keyInvokedViaFunctionURL, "true")
	}
	// What only a whole document holds (SPEC §16.6): the document stores
	// the statement as the operator renders it.
	if p.Effect == EffectDeny {
		st.Effect = EffectDeny
	}
	for _, c := range p.Conditions {
		for _, v := range c.Values {
			st.Condition.add(c.Operator, c.Key, v)
		}
	}
	return st
}

func (c *Condition) add(operator, key, value string) {
	if value == "" {
		return
	}
	if *c == nil {
		*c = Condition{}
	}
	if (*c)[operator] == nil {
		(*c)[operator] = map[string][]string{}
	}
	(*c)[operator][key] = append((*c)[operator][key], value)
}

// The order in which Lambda writes statement elements, operators and
// StringEquals keys (SPEC §3.1, §3.4). Where Lambda's order is unrecorded
// (EventSourceToken beside other StringEquals keys, Bool beside other
// operators) the entry is placed last; comparison never depends on order.
var (
	operatorOrder     = []string{"StringEquals", "ArnLike", "Bool"}
	conditionKeyOrder = []string{keySourceAccount, keyFunctionURLAuthType, keyPrincipalOrgID, keyEventSourceToken}
	principalOrder    = []string{"AWS", "Service", "Federated", "CanonicalUser"}
)

// Render writes the statement as Lambda does: compact JSON, elements in
// Lambda's order, a single value as a string rather than an array.
func (s Statement) Render() string {
	var b bytes.Buffer
	b.WriteByte('{')
	writeKey(&b, "Sid", true)
	writeString(&b, s.Sid)
	writeKey(&b, "Effect", false)
	writeString(&b, s.Effect)
	writeKey(&b, "Principal", false)
	if s.Principal.Anyone && len(s.Principal.IDs) == 0 {
		writeString(&b, "*")
	} else {
		writeObject(&b, s.Principal.IDs, principalOrder, func(values []string) { writeValues(&b, values) })
	}
	writeKey(&b, "Action", false)
	writeValues(&b, s.Action)
	writeKey(&b, "Resource", false)
	writeValues(&b, s.Resource)
	if len(s.Condition) > 0 { // Lambda omits an empty Condition, never writes {}
		writeKey(&b, "Condition", false)
		writeObject(&b, s.Condition, operatorOrder, func(keys map[string][]string) {
			writeObject(&b, keys, conditionKeyOrder, func(values []string) { writeValues(&b, values) })
		})
	}
	for _, key := range sortedKeys(s.Unmodelled) {
		writeKey(&b, key, false)
		_ = json.Compact(&b, s.Unmodelled[key])
	}
	b.WriteByte('}')
	return b.String()
}

// writeObject writes m with the keys named in order first, then the rest
// alphabetically.
func writeObject[V any](b *bytes.Buffer, m map[string]V, order []string, writeValue func(V)) {
	b.WriteByte('{')
	first := true
	for _, key := range orderedKeys(m, order) {
		writeKey(b, key, first)
		writeValue(m[key])
		first = false
	}
	b.WriteByte('}')
}

func orderedKeys[V any](m map[string]V, order []string) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return rank(order, keys[i]) < rank(order, keys[j]) })
	return keys
}

func rank(order []string, key string) int {
	if i := slices.Index(order, key); i >= 0 {
		return i
	}
	return len(order)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeKey(b *bytes.Buffer, key string, first bool) {
	if !first {
		b.WriteByte(',')
	}
	writeString(b, key)
	b.WriteByte(':')
}

func writeValues(b *bytes.Buffer, values []string) {
	if len(values) == 1 {
		writeString(b, values[0])
		return
	}
	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, v)
	}
	b.WriteByte(']')
}

// writeString writes a JSON string the way Lambda does: unlike Go's default,
// it does not escape <, > and &.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
