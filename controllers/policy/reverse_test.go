package policy

import (
	"strings"
	"testing"
)

// Every statement AWS stored for a recorded AddPermission reads back as the
// request that made it: PermissionFrom inverts DesiredStatement.
func TestPermissionFromInvertsTheRecordedCases(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			target, stored := c.storedStatement(t)
			got, err := PermissionFrom(target, stored)
			if err != nil {
				t.Fatalf("PermissionFrom: %v", err)
			}
			want := permissionOf(c.Input)
			if account, ok := rootAccount(want.Principal); ok {
				want.Principal = account // the request's root ARN and its account id are one principal
			}
			if got.StatementID != want.StatementID || got.Action != want.Action || got.Principal != want.Principal ||
				got.SourceArn != want.SourceArn || got.SourceAccount != want.SourceAccount || got.PrincipalOrgID != want.PrincipalOrgID ||
				got.EventSourceToken != want.EventSourceToken || got.FunctionURLAuthType != want.FunctionURLAuthType ||
				got.InvokedViaFunctionURL != want.InvokedViaFunctionURL || got.NeedsDocument() {
				t.Errorf("PermissionFrom = %+v\nwant the request %+v", got, want)
			}
		})
	}
}

// permissionFromCase is a statement PermissionFrom reads back as want, or
// refuses with an error that says refused.
type permissionFromCase struct {
	name      string
	target    FunctionRef
	statement string
	want      Permission
	refused   string // part of the error; empty when accepted
}

func permissionFromCases() []permissionFromCase {
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "111122223333", Name: "orders"}
	alias := target
	alias.Qualifier = "live"
	const resource = `"Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"`
	return []permissionFromCase{
		{name: "account root becomes the account id", target: target,
			statement: `{"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction",` + resource + `}`,
			want:      Permission{StatementID: "a", Principal: "444455556666", Action: "lambda:InvokeFunction"}},
		{name: "role, action list of one, lowercase key", target: target,
			statement: `{"Sid":"r","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/app"]},"Action":["lambda:GetFunction"],` + resource + `,"Condition":{"StringEquals":{"aws:sourceaccount":"444455556666"}}}`,
			want:      Permission{StatementID: "r", Principal: "arn:aws:iam::444455556666:role/app", Action: "lambda:GetFunction", SourceAccount: "444455556666"}},
		{name: "every member AddPermission writes", target: alias,
			statement: `{"Sid":"all","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders:live",` +
				`"Condition":{"StringEquals":{"AWS:SourceAccount":"444455556666","aws:PrincipalOrgID":"o-a1b2c3d4e5","lambda:EventSourceToken":"tok"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"},"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`,
			want: Permission{StatementID: "all", Principal: "*", Action: "lambda:InvokeFunction", SourceAccount: "444455556666", PrincipalOrgID: "o-a1b2c3d4e5",
				EventSourceToken: "tok", SourceArn: "arn:aws:s3:::b", InvokedViaFunctionURL: true}},
		{name: "Deny and conditions only a document holds", target: target,
			statement: `{"Sid":"d","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction",` + resource + `,"Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]},"ArnLike":{"AWS:SourceArn":["arn:aws:s3:::a","arn:aws:s3:::b"]}}}`,
			want: Permission{StatementID: "d", Principal: "*", Action: "lambda:InvokeFunction", Effect: EffectDeny,
				Conditions: []ConditionEntry{{Operator: "ArnLike", Key: "AWS:SourceArn", Values: []string{"arn:aws:s3:::a", "arn:aws:s3:::b"}},
					{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24", "198.51.100.0/24"}}}}},
		{name: "a document condition beside a member", target: target,
			statement: `{"Sid":"ip","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction",` + resource + `,"Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::a"}}}`,
			want: Permission{StatementID: "ip", Principal: "*", Action: "lambda:InvokeFunction", Effect: EffectDeny, SourceArn: "arn:aws:s3:::a",
				Conditions: []ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24", "198.51.100.0/24"}}}}},
		{name: "StringLike on SourceArn is a condition, not the member", target: target,
			statement: `{"Sid":"like","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction",` + resource + `,"Condition":{"StringLike":{"AWS:SourceArn":"arn:aws:s3:::a*"}}}`,
			want: Permission{StatementID: "like", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction",
				Conditions: []ConditionEntry{{Operator: "StringLike", Key: "AWS:SourceArn", Values: []string{"arn:aws:s3:::a*"}}}}},
		{name: "two principals", target: target,
			statement: `{"Sid":"two","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:root"]},"Action":"lambda:InvokeFunction",` + resource + `}`,
			refused:   "names 2 principals"},
		{name: "two actions", target: target,
			statement: `{"Sid":"acts","Effect":"Allow","Principal":"*","Action":["lambda:InvokeFunction","lambda:GetFunction"],` + resource + `}`,
			refused:   "grants 2 actions"},
		{name: "another resource", target: target,
			statement: `{"Sid":"fam","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders:*"}`,
			refused:   "names Resource"},
		{name: "federated principal", target: target,
			statement: `{"Sid":"fed","Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"lambda:InvokeFunction",` + resource + `}`,
			refused:   "Federated"},
		{name: "NotPrincipal", target: target,
			statement: `{"Sid":"np","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction",` + resource + `}`,
			refused:   "NotPrincipal"},
		{name: "a Sid Lambda's API refuses", target: target,
			statement: `{"Sid":"has.dot","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction",` + resource + `}`,
			refused:   "statementId"},
	}
}

func TestPermissionFrom(t *testing.T) {
	for _, tc := range permissionFromCases() {
		t.Run(tc.name, func(t *testing.T) { checkPermissionFrom(t, tc) })
	}
}

// checkPermissionFrom reads tc's statement back and checks the permission
// against tc.want, and that it grants what the statement grants.
func checkPermissionFrom(t *testing.T, tc permissionFromCase) {
	t.Helper()
	st, err := ParseStatement(tc.statement)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PermissionFrom(tc.target, st)
	if tc.refused != "" {
		if err == nil || !strings.Contains(err.Error(), tc.refused) {
			t.Fatalf("PermissionFrom = %+v, %v; want an error naming %q", got, err, tc.refused)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.StatementID != tc.want.StatementID || got.Principal != tc.want.Principal || got.Action != tc.want.Action ||
		got.SourceArn != tc.want.SourceArn || got.SourceAccount != tc.want.SourceAccount || got.PrincipalOrgID != tc.want.PrincipalOrgID ||
		got.EventSourceToken != tc.want.EventSourceToken || got.InvokedViaFunctionURL != tc.want.InvokedViaFunctionURL ||
		got.Effect != tc.want.Effect || len(got.Conditions) != len(tc.want.Conditions) {
		t.Fatalf("PermissionFrom = %+v\nwant %+v", got, tc.want)
	}
	for i, c := range tc.want.Conditions {
		g := got.Conditions[i]
		if g.Operator != c.Operator || g.Key != c.Key || strings.Join(g.Values, ",") != strings.Join(c.Values, ",") {
			t.Errorf("condition %d = %+v, want %+v", i, g, c)
		}
	}
	if !SameGrant(DesiredStatement(tc.target, got), st) {
		t.Errorf("the permission's statement %s does not grant what %s does", DesiredStatement(tc.target, got).Render(), tc.statement)
	}
}
