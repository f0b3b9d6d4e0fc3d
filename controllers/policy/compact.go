package policy

import (
	"slices"
	"strings"
)

// Compaction: Lambda caps a policy at 20,480 bytes, and one statement per
// grant (250 to 400 bytes) reaches it at about sixty triggers. Grants that
// are the same in every respect but one are written as one statement
// listing the differing values, which IAM reads as "any of these": the
// statement allows (or denies) exactly what its members did together.
// Merging grants that differ in two respects would grant the cross
// product, so a group shares everything but its one Dimension.

// Dimension is the one respect in which the members of a compacted
// statement differ.
type Dimension string

const (
	// BySourceArn lists the members' AWS:SourceArn under their one ArnLike
	// (or ArnEquals) operator.
	BySourceArn Dimension = "SourceArn"
	// BySourceAccount lists their AWS:SourceAccount under StringEquals.
	BySourceAccount Dimension = "SourceAccount"
	// ByPrincipal lists their AWS principals in Principal.AWS.
	ByPrincipal Dimension = "Principal"
	// ByAction lists their actions in Action.
	ByAction Dimension = "Action"
)

// dimensions are tried in this order: the first that groups a grant with
// others holds it. Source ARNs first: they are what a function invoked by
// many buckets, topics or rules has many of.
var dimensions = []Dimension{BySourceArn, BySourceAccount, ByPrincipal, ByAction}

// Compacted is one statement of a compacted policy and the grants it holds.
type Compacted struct {
	Statement Statement
	// Dimension is what the members differ in; empty for a grant that is
	// written as it is (a group of one).
	Dimension Dimension
	// Members are the grants the statement holds, by Sid, each with its own
	// value in Dimension, ordered by value, then Sid.
	Members []Member
}

// Member is one grant held by a compacted statement.
type Member struct {
	Sid   string
	Value string // the grant's own value in its statement's Dimension
}

// Compact groups grants that differ in one Dimension only into one
// statement each, and returns every grant exactly once: in a group, or as
// it is. The result depends on the set of grants alone, not on their
// order, and a group's Sid (sidPrefix, "compacted-", the dimension and a
// hash of what the members share) stays the same as members come and go, so the same
// objects always give the same document. Grants with elements the model
// does not know (Unmodelled) are never merged; nor are values under
// negated or multi-valued operators, where a list does not mean "any of".
// Grants are the operator's own: statements it does not own must not be
// passed.
func Compact(grants []Statement, sidPrefix string) []Compacted {
	left := slices.Clone(grants)
	slices.SortFunc(left, func(a, b Statement) int { return strings.Compare(a.Sid, b.Sid) })
	var out []Compacted
	for _, d := range dimensions {
		groups := map[string][]grouped{} // by what the members share
		for i, g := range left {
			if shared, value, ok := split(g, d); ok {
				groups[shared] = append(groups[shared], grouped{i, value})
			}
		}
		taken := map[int]bool{}
		for _, shared := range sortedKeys(groups) {
			members := groups[shared]
			if len(members) < 2 {
				continue
			}
			out = append(out, merge(left, members, d, shared, sidPrefix))
			for _, m := range members {
				taken[m.i] = true
			}
		}
		var rest []Statement
		for i, g := range left {
			if !taken[i] {
				rest = append(rest, g)
			}
		}
		left = rest
	}
	for _, g := range left {
		out = append(out, Compacted{Statement: g, Members: []Member{{Sid: g.Sid}}})
	}
	slices.SortFunc(out, func(a, b Compacted) int { return strings.Compare(a.Statement.Sid, b.Statement.Sid) })
	return out
}

// Statements are the statements of a compacted policy, in its order.
func Statements(compacted []Compacted) []Statement {
	out := make([]Statement, len(compacted))
	for i, c := range compacted {
		out[i] = c.Statement
	}
	return out
}

// grouped is a grant of a group: its index in the grants left, and its
// value in the group's dimension.
type grouped struct {
	i     int
	value string
}

// merge writes the grants members of left, which share shared, as one
// statement listing their values in d.
func merge(left []Statement, members []grouped, d Dimension, shared, sidPrefix string) Compacted {
	c := Compacted{Dimension: d}
	for _, m := range members {
		c.Members = append(c.Members, Member{Sid: left[m.i].Sid, Value: m.value})
	}
	slices.SortFunc(c.Members, func(a, b Member) int {
		if v := strings.Compare(a.Value, b.Value); v != 0 {
			return v
		}
		return strings.Compare(a.Sid, b.Sid)
	})
	var values []string
	for _, m := range c.Members {
		if len(values) == 0 || values[len(values)-1] != m.Value {
			values = append(values, m.Value) // duplicates granted twice, listed once
		}
	}
	st := cloneStatement(left[members[0].i])
	setValues(&st, d, values)
	st.Sid = compactedSid(sidPrefix, d, shared)
	c.Statement = st
	return c
}

// split returns what g shares with the other members of a group along d
// (a canonical text: everything but its Sid and its value in d), and its
// value in d; ok is false when g cannot be grouped along d.
func split(g Statement, d Dimension) (shared, value string, ok bool) {
	if len(g.Unmodelled) > 0 {
		return "", "", false
	}
	rest := cloneStatement(g)
	rest.Sid = ""
	switch d {
	case BySourceArn, BySourceAccount:
		operator, key := "StringEquals", keySourceAccount
		if d == BySourceArn {
			key = keySourceArn
			if operator = arnOperator(g.Condition); operator == "" {
				return "", "", false
			}
		}
		values := g.Condition[operator][key]
		if len(values) != 1 {
			return "", "", false
		}
		value = values[0]
		delete(rest.Condition[operator], key)
		// The operator stays named in what is shared, empty or not: an
		// ArnLike list and an ArnEquals list are not one list.
		rest.Condition[operator] = nonNil(rest.Condition[operator])
	case ByPrincipal:
		if g.Principal.Anyone || len(g.Principal.IDs["AWS"]) != 1 {
			return "", "", false
		}
		value = g.Principal.IDs["AWS"][0]
		rest.Principal.IDs["AWS"] = []string{}
	case ByAction:
		if len(g.Action) != 1 {
			return "", "", false
		}
		value = g.Action[0]
		rest.Action = []string{}
	}
	return string(d) + "\n" + rest.Render(), value, true
}

// arnOperator is the one operator under which c lists AWS:SourceArn for a
// group: ArnLike, as Lambda writes it, or ArnEquals, which IAM reads the
// same way; none when the key is under both, or only under others.
func arnOperator(c Condition) string {
	like, equals := len(c["ArnLike"][keySourceArn]) > 0, len(c["ArnEquals"][keySourceArn]) > 0
	switch {
	case like && !equals:
		return "ArnLike"
	case equals && !like:
		return "ArnEquals"
	}
	return ""
}

func setValues(st *Statement, d Dimension, values []string) {
	switch d {
	case BySourceArn:
		operator := arnOperator(st.Condition)
		st.Condition[operator][keySourceArn] = values
	case BySourceAccount:
		st.Condition["StringEquals"][keySourceAccount] = values
	case ByPrincipal:
		st.Principal.IDs["AWS"] = values
	case ByAction:
		st.Action = values
	}
}

// cloneStatement copies st deeply enough to change its lists and maps.
func cloneStatement(st Statement) Statement {
	out := st
	out.Action = slices.Clone(st.Action)
	out.Resource = slices.Clone(st.Resource)
	if st.Principal.IDs != nil {
		out.Principal.IDs = map[string][]string{}
		for k, v := range st.Principal.IDs {
			out.Principal.IDs[k] = slices.Clone(v)
		}
	}
	if st.Condition != nil {
		out.Condition = Condition{}
		for operator, keys := range st.Condition {
			out.Condition[operator] = map[string][]string{}
			for k, v := range keys {
				out.Condition[operator][k] = slices.Clone(v)
			}
		}
	}
	return out
}

func nonNil(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

// Expand is the inverse of compaction, for adopting a policy someone
// compacted by hand: a statement that lists several values in exactly one
// Dimension (and is otherwise one grant) as one statement per value, each
// named sid(value). It returns the statement alone, with no Dimension, when
// it lists one value in each, and ok false when it lists several values in
// more than one: that statement grants a cross product no set of
// single-valued grants of one Dimension each spells, and is left as it is.
func Expand(st Statement, sid func(value string) string) (grants []Statement, d Dimension, ok bool) {
	if len(st.Unmodelled) > 0 {
		return []Statement{st}, "", true
	}
	for _, candidate := range dimensions {
		if values := listedIn(st, candidate); len(values) > 1 {
			if d != "" {
				return nil, "", false
			}
			d = candidate
		}
	}
	if d == "" {
		return []Statement{st}, "", true
	}
	for _, value := range listedIn(st, d) {
		g := cloneStatement(st)
		setValues(&g, d, []string{value})
		g.Sid = sid(value)
		grants = append(grants, g)
	}
	return grants, d, true
}

// listedIn is what st lists in d, where a compacted statement lists it.
func listedIn(st Statement, d Dimension) []string {
	switch d {
	case BySourceArn:
		if operator := arnOperator(st.Condition); operator != "" {
			return st.Condition[operator][keySourceArn]
		}
		return nil
	case BySourceAccount:
		return st.Condition["StringEquals"][keySourceAccount]
	case ByPrincipal:
		if st.Principal.Anyone {
			return nil
		}
		return st.Principal.IDs["AWS"]
	}
	return st.Action
}
