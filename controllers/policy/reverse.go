package policy

import (
	"fmt"
	"slices"
	"strings"
)

// PermissionFrom is the inverse of DesiredStatement: the Permission whose
// statement on target grants exactly what st grants (SameGrant), so that an
// object declaring it adopts st without a write. It fails, saying why, for
// what no Permission can express: several principals or actions, another
// resource, a principal kind other than AWS and Service, NotPrincipal and
// other elements the model does not hold.
//
// The conditions AddPermission writes become their members (sourceArn, …);
// every other condition, and Deny, go to Effect and Conditions, which only
// the Document strategy can write (NeedsDocument).
func PermissionFrom(target FunctionRef, st Statement) (Permission, error) {
	p := Permission{StatementID: st.Sid}
	if len(st.Unmodelled) > 0 {
		return Permission{}, fmt.Errorf("has %s, which a LambdaPermission cannot express", strings.Join(sortedKeys(st.Unmodelled), ", "))
	}
	switch st.Effect {
	case EffectAllow:
	case EffectDeny:
		p.Effect = EffectDeny
	default:
		return Permission{}, fmt.Errorf("has Effect %q", st.Effect)
	}
	principal, err := principalFrom(st.Principal, target.Partition)
	if err != nil {
		return Permission{}, err
	}
	p.Principal = principal
	if len(st.Action) != 1 {
		return Permission{}, fmt.Errorf("grants %d actions; a LambdaPermission grants one", len(st.Action))
	}
	p.Action = st.Action[0]
	if len(st.Resource) != 1 || st.Resource[0] != target.ResourceARN() {
		return Permission{}, fmt.Errorf("names Resource %s, not %s", strings.Join(st.Resource, ", "), target.ResourceARN())
	}
	p.setConditions(st.Condition)

	if err := p.Validate(); err != nil {
		return Permission{}, fmt.Errorf("cannot be declared: %w", err)
	}
	// The proof: the statement the Permission makes is the one read.
	if diffs := GrantDifferences(DesiredStatement(target, p), st); len(diffs) > 0 {
		return Permission{}, fmt.Errorf("cannot be declared exactly (it would differ in %s)", strings.Join(diffs, ", "))
	}
	return p, nil
}

// principalFrom is the principal member that stores as pr: "*", an account
// id for an account's root, an IAM ARN or a service.
func principalFrom(pr Principal, partition string) (string, error) {
	set := principalSet(pr, partition)
	if len(set) != 1 {
		return "", fmt.Errorf("names %d principals; a LambdaPermission names one", len(set))
	}
	if set[0] == "*" {
		return "*", nil
	}
	kind, id, _ := strings.Cut(set[0], "\x00")
	switch kind {
	case "AWS":
		if account, ok := rootAccount(id); ok {
			return account, nil
		}
		return id, nil
	case "Service":
		return id, nil
	default:
		return "", fmt.Errorf("names a %s principal; a LambdaPermission names an account, an IAM identity, a service or *", kind)
	}
}

// rootAccount is the account id of arn:PARTITION:iam::ID:root.
func rootAccount(arn string) (string, bool) {
	rest, ok := strings.CutSuffix(arn, ":root")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, ":")
	account := rest[i+1:]
	if !accountIDPrincipal.MatchString(account) || !strings.HasSuffix(rest[:i+1], ":iam::") {
		return "", false
	}
	return account, true
}

type memberKey struct {
	operator, key string
	set           func(p *Permission, value string)
}

// memberKeys are the conditions AddPermission writes, with the member each
// one fills.
var memberKeys = []memberKey{
	{"ArnLike", keySourceArn, func(p *Permission, v string) { p.SourceArn = v }},
	{"StringEquals", keySourceAccount, func(p *Permission, v string) { p.SourceAccount = v }},
	{"StringEquals", keyPrincipalOrgID, func(p *Permission, v string) { p.PrincipalOrgID = v }},
	{"StringEquals", keyFunctionURLAuthType, func(p *Permission, v string) { p.FunctionURLAuthType = v }},
	{"StringEquals", keyEventSourceToken, func(p *Permission, v string) { p.EventSourceToken = v }},
	{"Bool", keyInvokedViaFunctionURL, func(p *Permission, v string) { p.InvokedViaFunctionURL = strings.EqualFold(v, "true") }},
}

// setConditions fills the members from the conditions AddPermission writes
// (one value each; keys compared without case, as IAM does) and keeps the
// rest as Conditions, sorted so that the output is stable.
func (p *Permission) setConditions(c Condition) {
	for _, operator := range sortedKeys(c) {
		for _, key := range sortedKeys(c[operator]) {
			values := c[operator][key]
			member := slices.IndexFunc(memberKeys, func(m memberKey) bool {
				return m.operator == operator && strings.EqualFold(m.key, key)
			})
			// Bool "false" is no member: InvokedViaFunctionURL false writes nothing.
			if member >= 0 && len(values) == 1 && !(operator == "Bool" && !strings.EqualFold(values[0], "true")) {
				memberKeys[member].set(p, values[0])
				continue
			}
			p.Conditions = append(p.Conditions, ConditionEntry{Operator: operator, Key: key, Values: slices.Clone(values)})
		}
	}
}
