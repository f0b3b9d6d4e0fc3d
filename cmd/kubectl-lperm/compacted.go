package main

import (
	"fmt"
	"regexp"
	"strings"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// A statement that lists several values in one respect (source ARNs,
// source accounts, AWS principals or actions) grants each of them: the
// operator's compaction writes such statements, and so do people by hand.
// audit and import read it grant by grant, each grant with its own value.

// listedGrant is one grant of a statement that lists several values.
type listedGrant struct {
	statement policy.Statement // lists value alone
	value     string           // the grant's own value in the list
}

// grantsOf splits st into its grants as policy.Expand does, each named
// sid(value) and paired with its value. It returns no grant (and d "")
// when st lists one value in every respect, and ok false when it lists
// several in two: a cross product, which is read whole.
func grantsOf(st policy.Statement, sid func(value string) string) (grants []listedGrant, d policy.Dimension, ok bool) {
	var values []string
	split, d, ok := policy.Expand(st, func(value string) string {
		values = append(values, value) // Expand names its grants in order, one call each
		return sid(value)
	})
	if !ok || d == "" {
		return nil, d, ok
	}
	seen := map[string]bool{}
	for i, g := range split {
		if !seen[values[i]] { // a value listed twice is one grant
			seen[values[i]] = true
			grants = append(grants, listedGrant{statement: g, value: values[i]})
		}
	}
	return grants, d, true
}

// listNouns name a list's values in messages, by what they are.
var listNouns = map[policy.Dimension]string{
	policy.BySourceArn:     "source ARNs",
	policy.BySourceAccount: "source accounts",
	policy.ByPrincipal:     "AWS principals",
	policy.ByAction:        "actions",
}

// crossProduct says what a statement listing several values in two or more
// respects lists, e.g. "3 source ARNs and 2 actions", and how many grants
// that makes (6), for a message.
func crossProduct(st policy.Statement) (lists string, combinations int) {
	like, equals := st.Condition["ArnLike"]["AWS:SourceArn"], st.Condition["ArnEquals"]["AWS:SourceArn"]
	arns := 0
	if len(like) == 0 || len(equals) == 0 { // under both, they are not one list
		arns = len(like) + len(equals)
	}
	counts := []struct {
		d policy.Dimension
		n int
	}{
		{policy.BySourceArn, arns},
		{policy.BySourceAccount, len(st.Condition["StringEquals"]["AWS:SourceAccount"])},
		{policy.ByPrincipal, len(st.Principal.IDs["AWS"])},
		{policy.ByAction, len(st.Action)},
	}
	var parts []string
	combinations = 1
	for _, c := range counts {
		if c.n > 1 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, listNouns[c.d]))
			combinations *= c.n
		}
	}
	return strings.Join(parts, " and "), combinations
}

var rootARN = regexp.MustCompile(`^arn:[a-z-]+:iam::([0-9]{12}):root$`)

// memberValue is a list value as audit compares it: an account as its id
// whether written so or as its root ARN (Lambda stores the ARN), an action
// in lower case (IAM ignores the case).
func memberValue(d policy.Dimension, value string) string {
	if m := rootARN.FindStringSubmatch(value); m != nil {
		return m[1]
	}
	if d == policy.ByAction {
		return strings.ToLower(value)
	}
	return value
}

// memberKey is a managed map's key for one grant of a statement listing
// several values: the statement's Sid and the grant's value.
func memberKey(resourceARN, sid string, d policy.Dimension, value string) string {
	return managedKey(resourceARN, sid) + "\x00" + memberValue(d, value)
}

// listedItems are the LambdaPermissions that adopt st, which lists the
// values of grants in d: one per grant, the first under comments saying
// what st is and what happens to it once they are applied. A grant no
// object can declare leaves st as a comment, whole.
func listedItems(target policy.FunctionRef, st policy.StoredStatement, d policy.Dimension, grants []listedGrant, opts importOptions, names objectNames) []manifestItem {
	location := target.ResourceARN()
	perms := make([]policy.Permission, len(grants))
	for i, g := range grants {
		perm, err := policy.PermissionFrom(target, g.statement)
		if err != nil {
			return []manifestItem{notImported(st, location, fmt.Sprintf("lists %d %s, and the grant of %s %v", len(grants), listNouns[d], g.value, err))}
		}
		perms[i] = perm
	}
	header := []string{fmt.Sprintf("Statement %q on %s lists %d %s: imported as one LambdaPermission per grant.", st.Sid, location, len(grants), listNouns[d])}
	if prefix, ok := policy.CompactedSidPrefix(st.Sid); ok {
		header = append(header, fmt.Sprintf("The operator compacted it (Sid prefix %q): on an account whose LambdaPermissionAccount has writeStrategy: Document and compaction.mode Always or Threshold, with --statement-id-prefix %q, the objects adopt it with no write.", prefix, prefix))
	} else {
		header = append(header, fmt.Sprintf("It was compacted by hand: the operator writes the grants in statements of its own and never removes %q, which grants them too; remove it once the objects are Ready.", st.Sid))
	}
	var items []manifestItem
	for i, g := range grants {
		var comments []string
		if i == 0 {
			comments = header
		}
		comments = append(comments, fmt.Sprintf("Grant of %q: %s.", st.Sid, g.value))
		items = append(items, permissionItem(target, perms[i], opts, names, comments...))
	}
	return items
}

var notInSid = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// grantSid is the statementId of the object that adopts the grant of value
// in the statement sid: sid (as far as a Sid can spell it) and a hash of
// both, unique per grant, the same in every import, and within Lambda's
// limit on a Sid.
func grantSid(sid, value string) string {
	readable := strings.Trim(notInSid.ReplaceAllString(sid, "-"), "-")
	return hashed(readable, sid+"\x00"+value, lambdav1alpha1.MaxStatementIDLength)
}
