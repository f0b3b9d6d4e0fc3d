package policy

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// SameGrant reports whether two statements grant exactly the same access,
// whatever their Sids and however each is written. Tools that compare text
// instead replace statements forever; see GrantDifferences for the rules.
func SameGrant(a, b Statement) bool {
	return len(GrantDifferences(a, b)) == 0
}

// GrantDifferences names the elements (Effect, Principal, Action, Resource,
// Condition, or an unmodelled element) in which the statements grant
// differently. Equal spellings of one grant are not differences:
//   - an account id and its root ARN, arn:PARTITION:iam::ID:root, which is
//     how Lambda stores an account (SPEC §3.2); "*" and {"AWS":"*"};
//   - a single value and a one-element list (Action was a list until 2017);
//   - the order of elements, operators, keys and values;
//   - the case of action names and condition key names, which IAM ignores;
//   - a Bool condition's true and "true".
//
// Everything else is a difference, including StringLike for ArnLike.
func GrantDifferences(a, b Statement) []string {
	var diffs []string
	if a.Effect != b.Effect {
		diffs = append(diffs, "Effect")
	}
	partition := statementPartition(a, b)
	if !slices.Equal(principalSet(a.Principal, partition), principalSet(b.Principal, partition)) {
		diffs = append(diffs, "Principal")
	}
	if !slices.Equal(valueSet(a.Action, strings.ToLower), valueSet(b.Action, strings.ToLower)) {
		diffs = append(diffs, "Action")
	}
	if !slices.Equal(valueSet(a.Resource, nil), valueSet(b.Resource, nil)) {
		diffs = append(diffs, "Resource")
	}
	if !slices.Equal(conditionSet(a.Condition), conditionSet(b.Condition)) {
		diffs = append(diffs, "Condition")
	}
	for _, key := range sortedKeys(unionKeys(a.Unmodelled, b.Unmodelled)) {
		if canonicalJSON(a.Unmodelled[key]) != canonicalJSON(b.Unmodelled[key]) {
			diffs = append(diffs, key)
		}
	}
	return diffs
}

// statementPartition is the partition an account id principal stands for: the
// one of the function the statement is on.
func statementPartition(statements ...Statement) string {
	for _, st := range statements {
		for _, resource := range st.Resource {
			if p := partitionOfARN(resource); p != "" {
				return p
			}
		}
	}
	return "aws"
}

// principalSet lists the principals as sorted "Type\x00id" entries.
func principalSet(p Principal, partition string) []string {
	var set []string
	if p.Anyone {
		set = append(set, "*")
	}
	for kind, ids := range p.IDs {
		for _, id := range ids {
			switch {
			case kind == "AWS" && id == "*":
				set = append(set, "*")
			case kind == "AWS":
				set = append(set, kind+"\x00"+normalizedPrincipal(id, partition))
			default:
				set = append(set, kind+"\x00"+id)
			}
		}
	}
	return sortedUnique(set)
}

// conditionSet lists the conditions as sorted "operator\x00key\x00values"
// entries. Keys are compared without case, as IAM compares them; two keys
// that differ only in case stay two entries, since both must hold.
func conditionSet(c Condition) []string {
	var set []string
	for operator, keys := range c {
		for key, values := range keys {
			var normalize func(string) string
			if strings.HasPrefix(operator, "Bool") {
				normalize = strings.ToLower
			}
			set = append(set, operator+"\x00"+strings.ToLower(key)+"\x00"+strings.Join(valueSet(values, normalize), "\x00"))
		}
	}
	slices.Sort(set)
	return set
}

func valueSet(values []string, normalize func(string) string) []string {
	set := make([]string, 0, len(values))
	for _, v := range values {
		if normalize != nil {
			v = normalize(v)
		}
		set = append(set, v)
	}
	return sortedUnique(set)
}

func sortedUnique(values []string) []string {
	slices.Sort(values)
	return slices.Compact(values)
}

func unionKeys(a, b map[string]json.RawMessage) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// canonicalJSON re-encodes raw JSON with sorted object keys, so that two
// spellings of one value compare equal.
func canonicalJSON(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(bytes.TrimSpace(raw))
	}
	out, _ := json.Marshal(v)
	return string(out)
}
