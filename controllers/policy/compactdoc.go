package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
)

// A compacted policy as a whole document: which of its statements are the
// operator's compacted ones, which grants they hold, and the document after
// grants leave them or after the operator's grants are compacted again.
// A compacted statement names no object: its Sid says what its members
// share, and its members are found by what they grant, so the same
// document reads the same after a restart, with no state kept anywhere.

// compactedSidPattern is what follows the operator's Sid prefix in the Sid
// of a statement it compacted.
var compactedSidPattern = regexp.MustCompile(`^compacted-(sourcearn|sourceaccount|principal|action)-[0-9a-f]{16}$`)

// compactedSidSuffix is compactedSidPattern at the end of any Sid.
var compactedSidSuffix = regexp.MustCompile(`compacted-(sourcearn|sourceaccount|principal|action)-[0-9a-f]{16}$`)

// CompactedSidPrefix reports whether sid names a statement an operator
// compacted, whatever its Sid prefix, and returns that prefix: for tools
// that read a policy without knowing the operator's settings.
func CompactedSidPrefix(sid string) (string, bool) {
	loc := compactedSidSuffix.FindStringIndex(sid)
	if loc == nil {
		return "", false
	}
	return sid[:loc[0]], true
}

// compactedSid names the statement that lists, along d, the grants sharing
// shared: the same whichever members come and go.
func compactedSid(sidPrefix string, d Dimension, shared string) string {
	sum := sha256.Sum256([]byte(shared))
	return sidPrefix + "compacted-" + strings.ToLower(string(d)) + "-" + hex.EncodeToString(sum[:])[:16]
}

// IsCompacted reports whether sid names a statement the operator with
// sidPrefix compacted.
func IsCompacted(sid, sidPrefix string) bool {
	rest, ok := strings.CutPrefix(sid, sidPrefix)
	// Every plan asks of every statement: most answers cost no regexp.
	return ok && strings.HasPrefix(rest, "compacted-") && compactedSidPattern.MatchString(rest)
}

// Holding is a compacted statement that holds a grant.
type Holding struct {
	Statement StoredStatement
	Dimension Dimension // what its members differ in; empty when it holds one grant
	Value     string    // the grant's own value in Dimension
}

// Holds finds the operator's compacted statement (Sid under sidPrefix)
// that holds grant as one of its members, however either is spelled.
func (d PolicyDocument) Holds(grant Statement, sidPrefix string) (Holding, bool) {
	for _, st := range d.Statements {
		if !IsCompacted(st.Sid, sidPrefix) {
			continue
		}
		dim, members := membersOf(st.Statement)
		for _, m := range members {
			if SameGrant(m.grant, grant) {
				return Holding{Statement: st, Dimension: dim, Value: m.value}, true
			}
		}
	}
	return Holding{}, false
}

// MemberOf is the grant a compacted statement holds with value, named sid;
// the statement itself when it lists one value in each dimension.
func MemberOf(st Statement, value, sid string) (Statement, bool) {
	dim, members := membersOf(st)
	for _, m := range members {
		if dim == "" || m.value == value {
			g := cloneStatement(m.grant)
			g.Sid = sid
			return g, true
		}
	}
	return Statement{}, false
}

// member is one grant of a compacted statement, with its value in the
// statement's dimension.
type member struct {
	grant Statement
	value string
}

// membersOf lists what a compacted statement grants, one member per value
// of its dimension (the statement itself when it lists one value in each).
// A statement that lists several values in two dimensions, which the
// operator never writes, is read as one member: it is kept, never split.
func membersOf(st Statement) (Dimension, []member) {
	grants, dim, ok := Expand(st, func(string) string { return st.Sid })
	if !ok || dim == "" {
		return "", []member{{grant: st}}
	}
	values := listedIn(st, dim)
	out := make([]member, len(grants))
	for i, g := range grants {
		out[i] = member{grant: g, value: values[i]}
	}
	return dim, out
}

// WithoutGrants is the document with grants taken out of the operator's
// compacted statements: each goes from the list that holds it, and a
// statement left with nothing goes. Every other statement keeps its text.
func (d PolicyDocument) WithoutGrants(grants []Statement, sidPrefix string) PolicyDocument {
	if len(grants) == 0 {
		return d
	}
	out := PolicyDocument{Version: d.Version, ID: d.ID, Statements: make([]StoredStatement, 0, len(d.Statements))}
	for _, st := range d.Statements {
		if !IsCompacted(st.Sid, sidPrefix) {
			out.Statements = append(out.Statements, st)
			continue
		}
		dim, members := membersOf(st.Statement)
		kept := slices.DeleteFunc(slices.Clone(members), func(m member) bool {
			return slices.ContainsFunc(grants, func(g Statement) bool { return SameGrant(m.grant, g) })
		})
		switch {
		case len(kept) == len(members):
			out.Statements = append(out.Statements, st)
		case len(kept) > 0:
			rest := cloneStatement(st.Statement)
			var values []string
			for _, m := range kept {
				values = append(values, m.value)
			}
			setValues(&rest, dim, values)
			out.Statements = append(out.Statements, StoredStatement{Statement: rest, Raw: rest.Render()})
		}
	}
	return out
}

// Recompacted is the document with the operator's grants compacted: those
// its compacted statements hold, and the statements whose Sids own names
// (grants written alone). They are written as Compact makes them, after
// every other statement, which keeps its place and its text; a statement
// that comes out as it was keeps its text too, so that compacting an
// unchanged set changes nothing.
func (d PolicyDocument) Recompacted(own func(sid string) bool, sidPrefix string) PolicyDocument {
	out := PolicyDocument{Version: d.Version, ID: d.ID}
	var grants []Statement
	before := map[string]StoredStatement{}
	for _, st := range d.Statements {
		switch {
		case IsCompacted(st.Sid, sidPrefix):
			_, members := membersOf(st.Statement)
			for _, m := range members {
				grants = append(grants, m.grant) // named as their statement, which a lone one keeps
			}
		case st.Sid != "" && own(st.Sid) && len(st.Unmodelled) == 0:
			grants = append(grants, st.Statement)
		default:
			out.Statements = append(out.Statements, st)
			continue
		}
		before[st.Sid] = st
	}
	if len(grants) == 0 {
		return d
	}
	for _, c := range Compact(grants, sidPrefix) {
		if was, ok := before[c.Statement.Sid]; ok && SameGrant(was.Statement, c.Statement) {
			out.Statements = append(out.Statements, was)
			continue
		}
		out.Statements = append(out.Statements, StoredStatement{Statement: c.Statement, Raw: c.Statement.Render()})
	}
	return out
}

// Expanded is the document with each of the operator's compacted
// statements written as one statement per member: what the policy would
// be without compaction, to size it.
func (d PolicyDocument) Expanded(sidPrefix string) PolicyDocument {
	out := PolicyDocument{Version: d.Version, ID: d.ID, Statements: make([]StoredStatement, 0, len(d.Statements))}
	for _, st := range d.Statements {
		if !IsCompacted(st.Sid, sidPrefix) {
			out.Statements = append(out.Statements, st)
			continue
		}
		_, members := membersOf(st.Statement)
		for _, m := range members {
			out.Statements = append(out.Statements, StoredStatement{Statement: m.grant, Raw: m.grant.Render()})
		}
	}
	return out
}
