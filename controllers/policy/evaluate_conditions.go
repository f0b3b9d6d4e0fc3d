package policy

import "strings"

// The Condition element in Evaluate's model: operators, absent keys,
// IfExists, set operators, and how values match (see Evaluate for the AWS
// pages it follows).

// conditionHolds ANDs every operator and every key under it. An operator the
// model cannot evaluate makes the condition false; see Evaluate.
func conditionHolds(c Condition, ctx map[string][]string) bool {
	for name, keys := range c {
		op, ok := parseOperator(name)
		if !ok {
			return false
		}
		for key, want := range keys {
			got, present := ctx[strings.ToLower(key)]
			holds, known := op.holds(want, got, present)
			if !known || !holds {
				return false
			}
		}
	}
	return true
}

type setQualifier int

const (
	singleValued setQualifier = iota
	forAllValues
	forAnyValue
)

type operator struct {
	base     string // the positive operator: StringEquals, StringLike, ArnLike, Bool, Null, …
	negated  bool
	set      setQualifier
	ifExists bool
}

// negatedOperators maps each negated operator to its positive form: a negated
// operator holds exactly when its positive form does not.
var negatedOperators = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
}

var positiveOperators = map[string]bool{
	"StringEquals": true, "StringEqualsIgnoreCase": true, "StringLike": true,
	"ArnEquals": true, "ArnLike": true, "Bool": true, "Null": true,
}

// parseOperator reads [ForAllValues:|ForAnyValue:]Operator[IfExists]. Numeric,
// Date, IpAddress and Binary operators are not modelled, nor is any spelling
// AWS does not document.
func parseOperator(name string) (operator, bool) {
	var op operator
	switch {
	case strings.HasPrefix(name, "ForAllValues:"):
		op.set, name = forAllValues, strings.TrimPrefix(name, "ForAllValues:")
	case strings.HasPrefix(name, "ForAnyValue:"):
		op.set, name = forAnyValue, strings.TrimPrefix(name, "ForAnyValue:")
	}
	if base, ok := strings.CutSuffix(name, "IfExists"); ok {
		op.ifExists, name = true, base
	}
	if positive, ok := negatedOperators[name]; ok {
		op.base, op.negated = positive, true
	} else if positiveOperators[name] {
		op.base = name
	} else {
		return operator{}, false
	}
	switch {
	case op.base == "Null" && (op.ifExists || op.set != singleValued):
		// "You can add IfExists to the end of any condition operator name
		// except the Null condition"; a set of nulls means nothing.
		return operator{}, false
	case op.set == forAnyValue && op.ifExists:
		// The IfExists page says an absent key makes the condition true; reports
		// of ForAnyValue:…IfExists say it stays false. Unknown, so unmodelled.
		return operator{}, false
	}
	return op, true
}

// holds evaluates the operator for one key: want are the policy's values, got
// the request's (present reports whether the key is in the request at all).
// known is false when a policy value cannot be read.
func (op operator) holds(want, got []string, present bool) (holds, known bool) {
	if op.base == "Null" {
		// "true": the key is absent; "false": it is present. Values OR.
		for _, w := range want {
			switch strings.ToLower(w) {
			case "true":
				holds = holds || !present
			case "false":
				holds = holds || present
			default:
				return false, false
			}
		}
		return holds, true
	}
	for _, w := range want {
		if (op.base != "Bool" && hasPolicyVariable(w)) || (op.base == "Bool" && !isBool(w)) {
			return false, false
		}
	}
	// One request value against the policy's: values OR, and a negated
	// operator holds when none matches (NOR; multi-value-conditions page).
	valueHolds := func(v string) bool {
		for _, w := range want {
			if valueMatches(op.base, w, v) {
				return !op.negated
			}
		}
		return op.negated
	}
	switch op.set {
	case forAllValues:
		// True when every request value holds, and so also when the key is
		// absent ("If there are no context keys in the request, it also
		// returns true").
		for _, v := range got {
			if !valueHolds(v) {
				return false, true
			}
		}
		return true, true
	case forAnyValue:
		// False when the key is absent: no value holds.
		for _, v := range got {
			if valueHolds(v) {
				return true, true
			}
		}
		return false, true
	}
	if !present {
		// An absent key makes a positive operator false and a negated one
		// true ("If the policy condition requires that the key is not matched,
		// such as StringNotLike or ArnNotLike, and the right key is not
		// present, the condition is true"); IfExists makes any operator true.
		return op.ifExists || op.negated, true
	}
	// A single-valued operator given several request values (a multivalued
	// key used without ForAllValues/ForAnyValue) is read as its positive
	// form holding when any request value matches, and the negated form as
	// the negation of that: no request value matches any policy value.
	matched := false
	for _, v := range got {
		for _, w := range want {
			if valueMatches(op.base, w, v) {
				matched = true
			}
		}
	}
	return matched != op.negated, true
}

func isBool(s string) bool { return strings.EqualFold(s, "true") || strings.EqualFold(s, "false") }

// valueMatches compares one policy value (pattern) with one request value
// under a positive operator.
func valueMatches(base, pattern, value string) bool {
	switch base {
	case "StringEquals":
		return pattern == value
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(pattern, value)
	case "StringLike":
		return wildcardMatch(pattern, value)
	case "ArnEquals", "ArnLike":
		// The two behave identically (condition operators page).
		return arnMatch(pattern, value)
	case "Bool":
		return isBool(value) && strings.EqualFold(pattern, value)
	}
	return false
}

// arnMatch compares an ARN with an ARN pattern "each of the six
// colon-delimited components ... checked separately", case-sensitive, with *
// and ? inside a component. The resource component is the rest of the ARN,
// colons included. A value or pattern with fewer than six components matches
// nothing: a wildcard cannot stand in for missing components.
func arnMatch(pattern, value string) bool {
	p := strings.SplitN(pattern, ":", 6)
	v := strings.SplitN(value, ":", 6)
	if len(p) != 6 || len(v) != 6 {
		return false
	}
	for i := range p {
		if !wildcardMatch(p[i], v[i]) {
			return false
		}
	}
	return true
}

// wildcardMatch matches s against pattern, where * matches any run of
// characters (none included) and ? exactly one character; case-sensitive.
func wildcardMatch(pattern, s string) bool {
	p, v := []rune(pattern), []rune(s)
	pi, vi := 0, 0
	star, mark := -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case star >= 0:
			pi, mark = star+1, mark+1
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
