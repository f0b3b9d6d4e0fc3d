package policy

import (
	"fmt"
	"strings"
)

// Evaluate is a model of how IAM decides a request against one resource-based
// policy, for the elements this project writes. It exists to prove that two
// documents decide every request alike (a compacted policy and the grants it
// replaces), so wherever IAM's rule is unknown or not modelled the choice is
// the one that keeps that proof sound, not the one that fails closed.
//
// The AWS pages it follows (IAM User Guide):
//   - reference_policies_evaluation-logic_policy-eval-denyallow.html: an explicit
//     deny overrides any allow; without an allow the request is implicitly denied.
//   - reference_policies_elements_principal.html: an account id and
//     arn:aws:iam::ID:root "behave the same way" and delegate to the whole
//     account; "Principal":"*" and {"AWS":"*"} are equivalent for anonymous users.
//   - reference_policies_elements_action.html: "The prefix and the action name
//     are case insensitive."
//   - reference_policies_elements_resource.html: wildcards within ARN segments; a
//     * that ends a segment expands across colons.
//   - reference_policies_elements_condition.html: "Context key names are not
//     case-sensitive"; the case-sensitivity of values depends on the operator.
//   - reference_policies_elements_condition_operators.html: the operators, the
//     absent-key rule, ...IfExists and Null.
//   - reference_policies_multi-value-conditions.html and
//     reference_policies_condition-single-vs-multi-valued-context-keys.html:
//     values OR, negated values NOR, ForAllValues/ForAnyValue.

// Request is one call a caller makes on a function: who, which action, on which resource, and the request context's condition keys.
type Request struct {
	Principal RequestPrincipal
	Action    string
	Resource  string
	Context   map[string][]string // condition key (matched case-insensitively) → its values; a key not in the map is not in the request
}

// RequestPrincipal is who calls.
type RequestPrincipal struct {
	Type string // "AWS" (an IAM identity), "Service" (an AWS service principal), or "Anonymous"
	ID   string // AWS: an IAM ARN such as arn:aws:iam::123456789012:role/x or arn:aws:iam::123456789012:root; Service: e.g. s3.amazonaws.com
}

// Decision is the outcome of evaluating a request.
type Decision int

const (
	ImplicitDeny Decision = iota // no statement allows it
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Evaluate decides req against a resource-based policy's statements the way IAM does for the elements this project writes.
//
// A statement the model cannot read exactly (Unmodelled elements such as
// NotPrincipal, an Effect other than Allow or Deny, an unknown condition
// operator or an unparseable operand, a policy variable) matches nothing,
// whatever its Effect. Decisions combine monotonically, so two documents that
// hold such a statement verbatim decide alike exactly when the rest of them
// do: leaving the statement out of the model can never hide a difference
// elsewhere. Letting an unreadable Deny match (fail closed) would: it would
// answer ExplicitDeny for both documents over every request its modelled
// parts match, masking any difference between them there. The price is that
// the model does not see such a statement at all, so a test using it must
// check separately that these statements survive byte for byte.
func Evaluate(statements []Statement, req Request) Decision {
	ctx := foldContext(req.Context)
	allowed := false
	for _, st := range statements {
		if !statementMatches(st, req, ctx) {
			continue
		}
		switch st.Effect {
		case EffectDeny:
			return ExplicitDeny
		case EffectAllow:
			allowed = true
		}
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

// foldContext keys the request context by lower-cased key, since IAM matches
// condition keys case-insensitively. A key with no values is left out: the
// model treats an empty data set as an absent key, as AWS's set operators do
// ("ForAllValues returns true, ForAnyValue returns false").
func foldContext(context map[string][]string) map[string][]string {
	folded := make(map[string][]string, len(context))
	for key, values := range context {
		if len(values) > 0 {
			k := strings.ToLower(key)
			folded[k] = append(folded[k], values...)
		}
	}
	return folded
}

func statementMatches(st Statement, req Request, ctx map[string][]string) bool {
	if len(st.Unmodelled) > 0 || (st.Effect != EffectAllow && st.Effect != EffectDeny) {
		return false
	}
	return principalMatches(st.Principal, req.Principal) &&
		actionMatches(st.Action, req.Action) &&
		resourceMatches(st.Resource, req.Resource) &&
		conditionHolds(st.Condition, ctx)
}

func principalMatches(p Principal, who RequestPrincipal) bool {
	if p.Anyone {
		return true // "*" includes anonymous callers
	}
	for kind, ids := range p.IDs {
		for _, id := range ids {
			if principalEntryMatches(kind, id, who) {
				return true
			}
		}
	}
	return false
}

func principalEntryMatches(kind, id string, who RequestPrincipal) bool {
	if kind != "AWS" {
		// Service principals compare exactly: no AWS page states their case
		// rule, and valid ones are lower-case DNS names (SPEC §16.6), so
		// exact comparison only ever tells apart spellings AWS would refuse.
		return who.Type == kind && who.ID == id
	}
	switch {
	case id == "*":
		// {"AWS":"*"} equals "*" for anonymous users (Principal page). Whether
		// it also names service principals is not documented: the model says
		// no, so "*" and {"AWS":"*"} stay apart.
		return who.Type == "AWS" || who.Type == "Anonymous"
	case who.Type != "AWS":
		return false
	}
	if account, ok := rootAccountOf(id); ok {
		// An account entry delegates to every identity of the account, not
		// only its root user (Principal page, "AWS account principals").
		return callerAccount(who.ID) == account
	}
	// An IAM user or role ARN matches exactly: the user name part is case
	// sensitive. (IAM also lets a role ARN cover that role's sessions; callers
	// of this model name the role, not the session.)
	return who.ID == id
}

// rootAccountOf returns the account a principal entry delegates to, if the
// entry is a 12-digit account id or arn:PARTITION:iam::ACCOUNT:root.
func rootAccountOf(id string) (string, bool) {
	if accountIDPrincipal.MatchString(id) {
		return id, true
	}
	return rootAccount(id)
}

// callerAccount is the account field of a caller's IAM or STS ARN; a bare
// account id stands for that account.
func callerAccount(id string) string {
	if accountIDPrincipal.MatchString(id) {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") {
		return parts[4]
	}
	return ""
}

func actionMatches(patterns []string, action string) bool {
	action = strings.ToLower(action)
	for _, p := range patterns {
		if wildcardMatch(strings.ToLower(p), action) {
			return true
		}
	}
	return false
}

// resourceMatches matches the whole ARN as one pattern. IAM confines a
// wildcard to its ARN segment unless the * ends the segment, when it may cross
// colons (Resource page); every Resource Lambda accepts is a function ARN,
// bare or ending in ":*" (SPEC §16.6), and for those the two readings agree.
func resourceMatches(patterns []string, resource string) bool {
	for _, p := range patterns {
		if hasPolicyVariable(p) {
			return false // the statement is unreadable; see Evaluate
		}
	}
	for _, p := range patterns {
		if wildcardMatch(p, resource) {
			return true
		}
	}
	return false
}

// hasPolicyVariable reports a ${…} policy variable, which IAM substitutes from
// the request and the model does not.
func hasPolicyVariable(s string) bool { return strings.Contains(s, "${") }
