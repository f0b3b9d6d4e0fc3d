package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

const evalFunction = "arn:aws:lambda:us-east-1:123456789012:function:fn"

// allowStatement is an Allow for principal kind/id on lambda:InvokeFunction
// of evalFunction; modify it per case.
func allowStatement(kind, id string) Statement {
	return Statement{
		Effect: EffectAllow, Principal: Principal{IDs: map[string][]string{kind: {id}}},
		Action: []string{"lambda:InvokeFunction"}, Resource: []string{evalFunction},
	}
}

func withCondition(st Statement, operator, key string, values ...string) Statement {
	c := Condition{}
	for op, keys := range st.Condition {
		c[op] = keys
	}
	if c[operator] == nil {
		c[operator] = map[string][]string{}
	}
	c[operator][key] = values
	st.Condition = c
	return st
}

func invoke(kind, id string, context map[string][]string) Request {
	return Request{Principal: RequestPrincipal{kind, id}, Action: "lambda:InvokeFunction", Resource: evalFunction, Context: context}
}

func s3Invoke(sourceArn string) Request {
	return invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceArn: {sourceArn}})
}

// evaluateCase is one request against statements, and what IAM decides.
type evaluateCase struct {
	name       string
	statements []Statement
	req        Request
	want       Decision
}

// evaluateFixtures are the statements and the caller the cases start from.
func evaluateFixtures() (s3, deny, anyone Statement, role string) {
	s3 = allowStatement("Service", "s3.amazonaws.com")
	deny = s3
	deny.Effect = EffectDeny
	anyone = s3
	anyone.Principal = Principal{Anyone: true}
	return s3, deny, anyone, "arn:aws:iam::111122223333:role/caller"
}

// runEvaluateCases runs each case as a subtest.
func runEvaluateCases(t *testing.T, cases []evaluateCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Evaluate(c.statements, c.req); got != c.want {
				t.Errorf("Evaluate = %s, want %s", got, c.want)
			}
		})
	}
}

// Precedence.
func TestEvaluatePrecedence(t *testing.T) {
	s3, deny, _, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"a matching Allow allows", []Statement{s3}, invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"a matching Deny overrides a matching Allow", []Statement{s3, deny}, invoke("Service", "s3.amazonaws.com", nil), ExplicitDeny},
		{"a Deny listed first still overrides", []Statement{deny, s3}, invoke("Service", "s3.amazonaws.com", nil), ExplicitDeny},
		{"no statement at all is an implicit deny", nil, invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"a statement for another principal is an implicit deny", []Statement{s3}, invoke("Service", "sns.amazonaws.com", nil), ImplicitDeny},
		{"a Deny that does not match leaves the Allow", []Statement{s3, withCondition(deny, "StringEquals", keySourceAccount, "999999999999")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"111122223333"}}), Allow},
	})
}

// Principals.
func TestEvaluatePrincipals(t *testing.T) {
	s3, _, anyone, role := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"an account id grants a role in that account", []Statement{allowStatement("AWS", "111122223333")}, invoke("AWS", role, nil), Allow},
		{"the account's root ARN grants a role in that account too", []Statement{allowStatement("AWS", "arn:aws:iam::111122223333:root")}, invoke("AWS", role, nil), Allow},
		{"the account's root ARN grants the account's root", []Statement{allowStatement("AWS", "arn:aws:iam::111122223333:root")}, invoke("AWS", "arn:aws:iam::111122223333:root", nil), Allow},
		{"an account id grants an assumed-role session of that account", []Statement{allowStatement("AWS", "111122223333")}, invoke("AWS", "arn:aws:sts::111122223333:assumed-role/caller/s", nil), Allow},
		{"an account id does not grant another account", []Statement{allowStatement("AWS", "111122223333")}, invoke("AWS", "arn:aws:iam::444455556666:role/caller", nil), ImplicitDeny},
		{"an account id does not grant a service", []Statement{allowStatement("AWS", "111122223333")}, invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"a role ARN grants that role", []Statement{allowStatement("AWS", role)}, invoke("AWS", role, nil), Allow},
		{"a role ARN does not grant its account's root", []Statement{allowStatement("AWS", role)}, invoke("AWS", "arn:aws:iam::111122223333:root", nil), ImplicitDeny},
		{"a role ARN does not grant another role of its account", []Statement{allowStatement("AWS", role)}, invoke("AWS", "arn:aws:iam::111122223333:role/other", nil), ImplicitDeny},
		{"a role ARN is case-sensitive", []Statement{allowStatement("AWS", role)}, invoke("AWS", "arn:aws:iam::111122223333:role/Caller", nil), ImplicitDeny},
		{"a service principal grants that service", []Statement{s3}, invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"a service principal does not grant an IAM identity", []Statement{s3}, invoke("AWS", "arn:aws:iam::111122223333:root", nil), ImplicitDeny},
		{"a service principal compares exactly", []Statement{s3}, invoke("Service", "S3.amazonaws.com", nil), ImplicitDeny},
		{`"*" grants an anonymous caller`, []Statement{anyone}, invoke("Anonymous", "", nil), Allow},
		{`"*" grants a service`, []Statement{anyone}, invoke("Service", "events.amazonaws.com", nil), Allow},
		{`"*" grants an IAM identity`, []Statement{anyone}, invoke("AWS", role, nil), Allow},
		{`{"AWS":"*"} grants an anonymous caller as "*" does`, []Statement{allowStatement("AWS", "*")}, invoke("Anonymous", "", nil), Allow},
		{`{"AWS":"*"} grants any IAM identity`, []Statement{allowStatement("AWS", "*")}, invoke("AWS", role, nil), Allow},
	})
}

// Actions and resources.
func TestEvaluateActionsAndResources(t *testing.T) {
	s3, _, _, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"lambda:* covers every Lambda action", []Statement{withAction(s3, "lambda:*")}, withReqAction(invoke("Service", "s3.amazonaws.com", nil), "lambda:GetFunction"), Allow},
		{"lambda:Invoke* covers InvokeFunction", []Statement{withAction(s3, "lambda:Invoke*")}, invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"lambda:Invoke* does not cover GetFunction", []Statement{withAction(s3, "lambda:Invoke*")}, withReqAction(invoke("Service", "s3.amazonaws.com", nil), "lambda:GetFunction"), ImplicitDeny},
		{"? stands for exactly one character", []Statement{withAction(s3, "lambda:?etFunction")}, withReqAction(invoke("Service", "s3.amazonaws.com", nil), "lambda:GetFunction"), Allow},
		{"actions compare case-insensitively", []Statement{withAction(s3, "LAMBDA:invokefunction")}, invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"another action is not granted", []Statement{s3}, withReqAction(invoke("Service", "s3.amazonaws.com", nil), "lambda:GetFunction"), ImplicitDeny},
		{"a qualified request is not the unqualified resource", []Statement{s3}, withResource(invoke("Service", "s3.amazonaws.com", nil), evalFunction+":live"), ImplicitDeny},
		{"fn:* covers a qualified request", []Statement{withResources(s3, evalFunction+":*")}, withResource(invoke("Service", "s3.amazonaws.com", nil), evalFunction+":live"), Allow},
		{"any Resource entry may match", []Statement{withResources(s3, evalFunction+":other", evalFunction)}, invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"resources compare case-sensitively", []Statement{s3}, withResource(invoke("Service", "s3.amazonaws.com", nil), strings.ToUpper(evalFunction)), ImplicitDeny},
	})
}

// ARN conditions.
func TestEvaluateARNConditions(t *testing.T) {
	s3, _, _, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"ArnLike: a wildcard in the resource component", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*")}, s3Invoke("arn:aws:s3:::bucket-1"), Allow},
		{"ArnLike: the wildcard does not make another prefix match", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*")}, s3Invoke("arn:aws:s3:::other-1"), ImplicitDeny},
		{"ArnLike: a * in the region matches any region", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:sns:*:123456789012:topic")}, s3Invoke("arn:aws:sns:eu-west-1:123456789012:topic"), Allow},
		{"ArnLike: a * in the region does not reach into the account", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:sns:*:123456789012:topic")}, s3Invoke("arn:aws:sns:eu-west-1:999999999999:topic"), ImplicitDeny},
		{"ArnLike: components are matched one by one, not as a string (AWS's own example)", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:someservice:*:111122223333:finance/*")},
			s3Invoke("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"), ImplicitDeny},
		{"StringLike: the same pattern as a string does cross colons (AWS's own example)", []Statement{withCondition(s3, "StringLike", keySourceArn, "arn:aws:someservice:*:111122223333:finance/*")},
			s3Invoke("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"), Allow},
		{"ArnLike: the resource component may hold colons", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*")},
			s3Invoke("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:log-stream:1"), Allow},
		{"ArnLike: a lone * is not six components", []Statement{withCondition(s3, "ArnLike", keySourceArn, "*")}, s3Invoke("arn:aws:s3:::bucket-1"), ImplicitDeny},
		{"ArnLike is case-sensitive", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*")}, s3Invoke("arn:aws:s3:::Bucket-1"), ImplicitDeny},
		{"ArnEquals takes wildcards as ArnLike does", []Statement{withCondition(s3, "ArnEquals", keySourceArn, "arn:aws:s3:::bucket-*")}, s3Invoke("arn:aws:s3:::bucket-1"), Allow},
		{"ArnLike: any policy value may match", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::a", "arn:aws:s3:::b")}, s3Invoke("arn:aws:s3:::b"), Allow},
		{"ArnLike: an absent key does not match", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*")}, invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
	})
}

// String conditions.
func TestEvaluateStringConditions(t *testing.T) {
	s3, _, _, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"StringEquals is case-sensitive", []Statement{withCondition(s3, "StringEquals", "lambda:FunctionUrlAuthType", "NONE")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"lambda:FunctionUrlAuthType": {"none"}}), ImplicitDeny},
		{"StringEqualsIgnoreCase ignores case", []Statement{withCondition(s3, "StringEqualsIgnoreCase", "lambda:FunctionUrlAuthType", "NONE")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"lambda:FunctionUrlAuthType": {"none"}}), Allow},
		{"StringEquals takes * literally", []Statement{withCondition(s3, "StringEquals", keySourceAccount, "1111*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"111122223333"}}), ImplicitDeny},
		{"StringLike expands *", []Statement{withCondition(s3, "StringLike", keySourceAccount, "1111*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"111122223333"}}), Allow},
		{"StringLike expands ? to one character only", []Statement{withCondition(s3, "StringLike", keySourceAccount, "11112222333?")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"1111222233334"}}), ImplicitDeny},
		{"StringLike is case-sensitive", []Statement{withCondition(s3, "StringLike", "aws:PrincipalOrgID", "o-abc*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:PrincipalOrgID": {"o-ABCdef"}}), ImplicitDeny},
	})
}

// Negated operators.
func TestEvaluateNegatedOperators(t *testing.T) {
	s3, deny, _, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"StringNotEquals holds for another value", []Statement{withCondition(s3, "StringNotEquals", keySourceAccount, "111122223333")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"999999999999"}}), Allow},
		{"StringNotEquals fails for a listed value", []Statement{withCondition(s3, "StringNotEquals", keySourceAccount, "111122223333", "999999999999")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"999999999999"}}), ImplicitDeny},
		{"StringNotEquals holds when the key is absent", []Statement{withCondition(s3, "StringNotEquals", keySourceAccount, "111122223333")},
			invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"a Deny with ArnNotLike denies a request without the key", []Statement{s3, withCondition(deny, "ArnNotLike", keySourceArn, "arn:aws:s3:::bucket-*")},
			invoke("Service", "s3.amazonaws.com", nil), ExplicitDeny},
		{"a Deny with ArnNotLike spares a matching ARN", []Statement{s3, withCondition(deny, "ArnNotLike", keySourceArn, "arn:aws:s3:::bucket-*")},
			s3Invoke("arn:aws:s3:::bucket-1"), Allow},
		{"ArnNotEquals behaves as ArnNotLike", []Statement{s3, withCondition(deny, "ArnNotEquals", keySourceArn, "arn:aws:s3:::bucket-*")},
			s3Invoke("arn:aws:s3:::other"), ExplicitDeny},
		{"StringNotLike fails for a matching value", []Statement{withCondition(s3, "StringNotLike", keySourceArn, "arn:aws:s3:::bucket-b")},
			s3Invoke("arn:aws:s3:::bucket-b"), ImplicitDeny},
		{"StringNotEqualsIgnoreCase fails for a value in another case", []Statement{withCondition(s3, "StringNotEqualsIgnoreCase", "lambda:FunctionUrlAuthType", "NONE")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"lambda:FunctionUrlAuthType": {"None"}}), ImplicitDeny},
	})
}

// IfExists, Null, Bool.
func TestEvaluateIfExistsNullBool(t *testing.T) {
	s3, _, anyone, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"IfExists holds when the key is absent", []Statement{withCondition(s3, "ArnLikeIfExists", keySourceArn, "arn:aws:s3:::bucket-*")},
			invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"IfExists still checks a present key", []Statement{withCondition(s3, "ArnLikeIfExists", keySourceArn, "arn:aws:s3:::bucket-*")},
			s3Invoke("arn:aws:s3:::other"), ImplicitDeny},
		{"Null true holds when the key is absent", []Statement{withCondition(s3, "Null", keySourceArn, "true")},
			invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"Null true fails when the key is present", []Statement{withCondition(s3, "Null", keySourceArn, "true")},
			s3Invoke("arn:aws:s3:::bucket-1"), ImplicitDeny},
		{"Null false holds when the key is present", []Statement{withCondition(s3, "Null", keySourceArn, "false")},
			s3Invoke("arn:aws:s3:::bucket-1"), Allow},
		{"Null false fails when the key is absent", []Statement{withCondition(s3, "Null", keySourceArn, "false")},
			invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"Bool compares true case-insensitively", []Statement{withCondition(anyone, "Bool", keyInvokedViaFunctionURL, "true")},
			invoke("Anonymous", "", map[string][]string{keyInvokedViaFunctionURL: {"TRUE"}}), Allow},
		{"Bool true does not match false", []Statement{withCondition(anyone, "Bool", keyInvokedViaFunctionURL, "true")},
			invoke("Anonymous", "", map[string][]string{keyInvokedViaFunctionURL: {"false"}}), ImplicitDeny},
		{"Bool fails when the key is absent", []Statement{withCondition(anyone, "Bool", keyInvokedViaFunctionURL, "true")},
			invoke("Anonymous", "", nil), ImplicitDeny},
	})
}

// Several conditions, keys in another case, several request values.
func TestEvaluateSeveralConditionsKeysInAnother(t *testing.T) {
	s3, deny, _, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"conditions are ANDed: both hold", []Statement{withCondition(withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*"), "StringEquals", keySourceAccount, "111122223333")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceArn: {"arn:aws:s3:::bucket-1"}, keySourceAccount: {"111122223333"}}), Allow},
		{"conditions are ANDed: one fails", []Statement{withCondition(withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*"), "StringEquals", keySourceAccount, "111122223333")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceArn: {"arn:aws:s3:::bucket-1"}, keySourceAccount: {"999999999999"}}), ImplicitDeny},
		{"keys under one operator are ANDed", []Statement{withCondition(withCondition(s3, "StringEquals", keySourceAccount, "111122223333"), "StringEquals", "aws:PrincipalOrgID", "o-1")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"111122223333"}}), ImplicitDeny},
		{"a key spelled in another case in the request still matches", []Statement{withCondition(s3, "ArnLike", keySourceArn, "arn:aws:s3:::bucket-*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:sourcearn": {"arn:aws:s3:::bucket-1"}}), Allow},
		{"a key spelled in another case in the policy still matches", []Statement{withCondition(s3, "StringEquals", "aws:sourceaccount", "111122223333")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"111122223333"}}), Allow},
		{"a key with no values is absent", []Statement{withCondition(s3, "Null", keySourceArn, "true")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceArn: {}}), Allow},
		{"several request values: a positive operator holds if any matches", []Statement{withCondition(s3, "StringEquals", "aws:PrincipalOrgPaths", "o-1/r-1/")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:PrincipalOrgPaths": {"o-2/r-2/", "o-1/r-1/"}}), Allow},
		{"several request values: a negated operator fails if any matches", []Statement{withCondition(s3, "StringNotEquals", "aws:PrincipalOrgPaths", "o-1/r-1/")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:PrincipalOrgPaths": {"o-2/r-2/", "o-1/r-1/"}}), ImplicitDeny},
		{"ForAllValues holds when every request value matches", []Statement{withCondition(s3, "ForAllValues:StringLike", "aws:TagKeys", "key1*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:TagKeys": {"key1:hr", "key1:legal"}}), Allow},
		{"ForAllValues fails when one request value does not match", []Statement{withCondition(s3, "ForAllValues:StringLike", "aws:TagKeys", "key1*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:TagKeys": {"key1:hr", "key2:audit"}}), ImplicitDeny},
		{"ForAllValues holds when the key is absent", []Statement{withCondition(s3, "ForAllValues:StringLike", "aws:TagKeys", "key1*")},
			invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"ForAllValues:StringNotLike in a Deny (AWS's example): a key2 tag is denied", []Statement{s3, withCondition(deny, "ForAllValues:StringNotLike", "aws:TagKeys", "key1*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:TagKeys": {"key2:audit"}}), ExplicitDeny},
		{"ForAllValues:StringNotLike in a Deny (AWS's example): key1 tags are not", []Statement{s3, withCondition(deny, "ForAllValues:StringNotLike", "aws:TagKeys", "key1*")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:TagKeys": {"key1:hr", "key1:personnel"}}), Allow},
		{"ForAnyValue holds when one request value matches", []Statement{withCondition(s3, "ForAnyValue:StringEquals", "aws:TagKeys", "PostDateTime")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:TagKeys": {"UserName", "PostDateTime"}}), Allow},
		{"ForAnyValue fails when the key is absent", []Statement{withCondition(s3, "ForAnyValue:StringEquals", "aws:TagKeys", "PostDateTime")},
			invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
	})
}

// What the model does not read: such a statement matches nothing, Allow or Deny.
func TestEvaluateWhatTheModelDoesNot(t *testing.T) {
	s3, deny, anyone, _ := evaluateFixtures()
	runEvaluateCases(t, []evaluateCase{
		{"an Allow with an unknown operator grants nothing", []Statement{withCondition(s3, "IpAddress", "aws:SourceIp", "203.0.113.0/24")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:SourceIp": {"203.0.113.7"}}), ImplicitDeny},
		{"a Deny with an unknown operator denies nothing", []Statement{s3, withCondition(deny, "NumericLessThan", "aws:MultiFactorAuthAge", "3600")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{"aws:MultiFactorAuthAge": {"10"}}), Allow},
		{"a Deny with NotPrincipal denies nothing", []Statement{s3, withUnmodelled(deny, "NotPrincipal", `{"AWS":"111122223333"}`)},
			invoke("Service", "s3.amazonaws.com", nil), Allow},
		{"an Allow with NotAction grants nothing", []Statement{withUnmodelled(anyone, "NotAction", `"lambda:DeleteFunction"`)},
			invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"NullIfExists is not an operator", []Statement{withCondition(s3, "NullIfExists", keySourceArn, "true")},
			invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"ForAnyValue with IfExists is unmodelled", []Statement{withCondition(s3, "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", "team")},
			invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"a policy variable is unmodelled", []Statement{withCondition(s3, "StringEquals", keySourceAccount, "${aws:PrincipalAccount}")},
			invoke("Service", "s3.amazonaws.com", map[string][]string{keySourceAccount: {"${aws:PrincipalAccount}"}}), ImplicitDeny},
		{"an Effect other than Allow or Deny matches nothing", []Statement{withEffect(s3, "allow")}, invoke("Service", "s3.amazonaws.com", nil), ImplicitDeny},
		{"a Bool value other than true or false is unmodelled", []Statement{withCondition(anyone, "Bool", keyInvokedViaFunctionURL, "yes")},
			invoke("Anonymous", "", map[string][]string{keyInvokedViaFunctionURL: {"yes"}}), ImplicitDeny},
	})
}

func withAction(st Statement, actions ...string) Statement { st.Action = actions; return st }
func withResources(st Statement, rs ...string) Statement   { st.Resource = rs; return st }
func withEffect(st Statement, effect string) Statement     { st.Effect = effect; return st }
func withReqAction(r Request, action string) Request       { r.Action = action; return r }
func withResource(r Request, resource string) Request      { r.Resource = resource; return r }

func withUnmodelled(st Statement, element, raw string) Statement {
	st.Unmodelled = map[string]json.RawMessage{element: json.RawMessage(raw)}
	return st
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny", Decision(7): "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(d), got, want)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "anything", true}, {"a*", "a*b", true}, {"a*b", "a*b", true},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"a*c*e", "abcde", true}, {"a*c*e", "abcdf", false},
		{"**", "x", true}, {"é?", "éé", true}, {"abc", "ABC", false}, {"a*", "b", false},
	} {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// No recorded case says whether an invocation was allowed or denied: the
// golden cases record AddPermission requests and the statements AWS stored.
// What they do fix is the grant AddPermission was asked for, so each stored
// statement must allow exactly the call its request describes and refuse
// it once a condition the request set is missing.
func TestEvaluateGoldenStatementsGrantWhatAddPermissionAsked(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			target, stored := c.storedStatement(t)
			in := c.Input
			req := Request{Action: in.Action, Resource: target.ResourceARN(), Context: map[string][]string{}}
			switch kind := principalKind(in.Principal); {
			case kind == "*":
				req.Principal = RequestPrincipal{"Anonymous", ""}
			case kind == "AWS" && accountIDPrincipal.MatchString(in.Principal):
				req.Principal = RequestPrincipal{"AWS", "arn:aws:iam::" + in.Principal + ":role/any-role"}
			default:
				req.Principal = RequestPrincipal{kind, in.Principal}
			}
			// The request's keys are spelled in lower case: IAM matches keys
			// case-insensitively, and Lambda stores "AWS:" (SPEC §3.4).
			set := func(key, value string) {
				if value != "" {
					req.Context[strings.ToLower(key)] = []string{value}
				}
			}
			set(keySourceArn, in.SourceArn)
			set(keySourceAccount, in.SourceAccount)
			set(keyPrincipalOrgID, in.PrincipalOrgID)
			set(keyEventSourceToken, in.EventSourceToken)
			set(keyFunctionURLAuthType, in.FunctionUrlAuthType)
			if in.InvokedViaFunctionUrl {
				set(keyInvokedViaFunctionURL, "true")
			}
			if got := Evaluate([]Statement{stored}, req); got != Allow {
				t.Fatalf("the requested call: Evaluate = %s, want Allow\nstatement %s\nrequest %+v", got, stored.Render(), req)
			}
			for key := range req.Context {
				without := req
				without.Context = map[string][]string{}
				for k, v := range req.Context {
					if k != key {
						without.Context[k] = v
					}
				}
				if got := Evaluate([]Statement{stored}, without); got != ImplicitDeny {
					t.Errorf("without %s: Evaluate = %s, want ImplicitDeny", key, got)
				}
			}
			other := req
			other.Action = "lambda:DeleteFunction"
			if got := Evaluate([]Statement{stored}, other); got != ImplicitDeny {
				t.Errorf("another action: Evaluate = %s, want ImplicitDeny", got)
			}
		})
	}
}
