package policy

import (
	"slices"
	"strings"
	"testing"
)

// base is what Lambda stores for an S3 notification permission with every
// condition it knows (see the golden cases for the recorded originals).
const base = `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function","Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012","aws:PrincipalOrgID":"o-a1b2c3d4e5"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket/*"},"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`

const account = `{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"}`

func TestSameGrantEqualSpellings(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"identical", base, base},
		{"account id vs root ARN", account,
			`{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"223456789012"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"}`},
		{"account id list vs root ARN", account,
			`{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":["223456789012"]},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"}`},
		{"account id in aws-cn partition",
			`{"Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::223456789012:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws-cn:lambda:cn-north-1:123456789012:function:f"}`,
			`{"Effect":"Allow","Principal":{"AWS":"223456789012"},"Action":"lambda:InvokeFunction","Resource":"arn:aws-cn:lambda:cn-north-1:123456789012:function:f"}`},
		{"Sid is not part of the grant", account, replace(account, `"Sid":"xaccount"`, `"Sid":"other"`)},
		{"historical key order and Action array", account,
			`{"Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Sid":"xaccount"}`},
		{"Action array in 2016 order", account,
			`{"Sid":"xaccount","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":["lambda:InvokeFunction"]}`},
		{"Resource as one-element list", account, replace(account, `"Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"`, `"Resource":["arn:aws:lambda:us-east-2:123456789012:function:my-function"]`)},
		{"action name case", account, replace(account, "lambda:InvokeFunction", "Lambda:invokefunction")},
		{"operator and key order", base,
			`{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function","Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket/*"},"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5","AWS:SourceAccount":"123456789012"}}}`},
		{"condition key case", base, replace(base, `"AWS:SourceArn"`, `"aws:sourcearn"`)},
		{"condition value as list", base, replace(base, `"AWS:SourceAccount":"123456789012"`, `"AWS:SourceAccount":["123456789012"]`)},
		{"Bool true as JSON boolean", base, replace(base, `"lambda:InvokedViaFunctionUrl":"true"`, `"lambda:InvokedViaFunctionUrl":true`)},
		{"star vs AWS star", `{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"r"}`,
			`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction","Resource":"r"}`},
		{"empty operator block", account, replace(account, `:function:my-function"}`, `:function:my-function","Condition":{"StringEquals":{}}}`)},
		{"duplicate values", account, replace(account, `"Action":"lambda:InvokeFunction"`, `"Action":["lambda:InvokeFunction","lambda:InvokeFunction"]`)},
		{"white space", account, "{ \"Sid\" : \"xaccount\",\n \"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::223456789012:root\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:us-east-2:123456789012:function:my-function\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, tt.a), mustParse(t, tt.b)
			if d := GrantDifferences(a, b); len(d) != 0 {
				t.Errorf("GrantDifferences = %v, want none", d)
			}
			if !SameGrant(b, a) {
				t.Error("SameGrant is not symmetric")
			}
		})
	}
}

func TestSameGrantRealDifferences(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       []string
	}{
		{"Effect", account, replace(account, `"Effect":"Allow"`, `"Effect":"Deny"`), []string{"Effect"}},
		{"other account", account, replace(account, "223456789012:root", "223456789013:root"), []string{"Principal"}},
		{"role instead of account root", account, replace(account, "223456789012:root", "223456789012:role/app"), []string{"Principal"}},
		{"account in another partition", account, replace(account, "arn:aws:iam::", "arn:aws-cn:iam::"), []string{"Principal"}},
		{"service instead of account", account, replace(account, `{"AWS":"arn:aws:iam::223456789012:root"}`, `{"Service":"s3.amazonaws.com"}`), []string{"Principal"}},
		{"everyone instead of account", account, replace(account, `{"AWS":"arn:aws:iam::223456789012:root"}`, `"*"`), []string{"Principal"}},
		{"extra principal", account, replace(account, `{"AWS":"arn:aws:iam::223456789012:root"}`, `{"AWS":["arn:aws:iam::223456789012:root","arn:aws:iam::323456789012:root"]}`), []string{"Principal"}},
		{"service principal region", base, replace(base, "s3.amazonaws.com", "s3.us-east-1.amazonaws.com"), []string{"Principal"}},
		{"Action", account, replace(account, "lambda:InvokeFunction", "lambda:InvokeFunctionUrl"), []string{"Action"}},
		{"lambda:* is not *", account, replace(account, "lambda:InvokeFunction", "lambda:*"), []string{"Action"}},
		{"extra action", account, replace(account, `"Action":"lambda:InvokeFunction"`, `"Action":["lambda:InvokeFunction","lambda:GetFunction"]`), []string{"Action"}},
		{"qualified Resource", account, replace(account, ":function:my-function", ":function:my-function:prod"), []string{"Resource"}},
		{"function name case", account, replace(account, ":function:my-function", ":function:My-function"), []string{"Resource"}},
		{"SourceArn value", base, replace(base, "my-bucket/*", "my-bucket"), []string{"Condition"}},
		{"SourceArn value case", base, replace(base, "my-bucket/*", "My-bucket/*"), []string{"Condition"}},
		{"StringLike is not ArnLike", base, replace(base, `"ArnLike"`, `"StringLike"`), []string{"Condition"}},
		{"SourceAccount missing", base, replace(base, `"AWS:SourceAccount":"123456789012",`, ``), []string{"Condition"}},
		{"SourceAccount value", base, replace(base, `"AWS:SourceAccount":"123456789012"`, `"AWS:SourceAccount":"123456789013"`), []string{"Condition"}},
		{"extra condition value", base, replace(base, `"AWS:SourceAccount":"123456789012"`, `"AWS:SourceAccount":["123456789012","123456789013"]`), []string{"Condition"}},
		{"PrincipalOrgID value", base, replace(base, "o-a1b2c3d4e5", "o-a1b2c3d4e6"), []string{"Condition"}},
		{"Bool false", base, replace(base, `"lambda:InvokedViaFunctionUrl":"true"`, `"lambda:InvokedViaFunctionUrl":"false"`), []string{"Condition"}},
		{"no Condition at all", base, replace(base, base[len(`{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"`):len(base)-1], ""), []string{"Condition"}},
		{"same key in two cases both kept", base, replace(base, `"AWS:SourceArn":"arn:aws:s3:::my-bucket/*"`, `"AWS:SourceArn":"arn:aws:s3:::my-bucket/*","aws:sourcearn":"arn:aws:s3:::other/*"`), []string{"Condition"}},
		{"NotPrincipal", account, replace(account, `"Effect":"Allow"`, `"Effect":"Allow","NotPrincipal":{"AWS":"x"}`), []string{"NotPrincipal"}},
		{"two differences", account, replace(replace(account, "Allow", "Deny"), "lambda:InvokeFunction", "lambda:GetFunction"), []string{"Effect", "Action"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.a == tt.b {
				t.Fatal("test case does not change the statement")
			}
			a, b := mustParse(t, tt.a), mustParse(t, tt.b)
			if got := GrantDifferences(a, b); !slices.Equal(got, tt.want) {
				t.Errorf("GrantDifferences = %v, want %v", got, tt.want)
			}
			if SameGrant(b, a) {
				t.Error("SameGrant(b, a) = true")
			}
		})
	}
}

// Every field of a Permission must show in the desired statement: changing
// any one of them must make the old statement a different grant.
func TestEveryPermissionFieldChangesTheGrant(t *testing.T) {
	target := FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "f"}
	full := Permission{
		StatementID: "sid", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceArn: "arn:aws:s3:::bucket", SourceAccount: "123456789012", PrincipalOrgID: "o-a1b2c3d4e5",
		EventSourceToken: "token", FunctionURLAuthType: "NONE", InvokedViaFunctionURL: true,
	}
	changes := map[string]func(*Permission){
		"action":                func(p *Permission) { p.Action = "lambda:GetFunction" },
		"principal":             func(p *Permission) { p.Principal = "sns.amazonaws.com" },
		"sourceArn":             func(p *Permission) { p.SourceArn = "arn:aws:s3:::other" },
		"sourceArn removed":     func(p *Permission) { p.SourceArn = "" },
		"sourceAccount":         func(p *Permission) { p.SourceAccount = "123456789013" },
		"principalOrgID":        func(p *Permission) { p.PrincipalOrgID = "o-a1b2c3d4e6" },
		"eventSourceToken":      func(p *Permission) { p.EventSourceToken = "other" },
		"functionUrlAuthType":   func(p *Permission) { p.FunctionURLAuthType = "AWS_IAM" },
		"invokedViaFunctionUrl": func(p *Permission) { p.InvokedViaFunctionURL = false },
	}
	old := DesiredStatement(target, full)
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			p := full
			change(&p)
			if SameGrant(old, DesiredStatement(target, p)) {
				t.Errorf("changing %s left the grant the same", name)
			}
		})
	}
	t.Run("qualifier", func(t *testing.T) {
		q := target
		q.Qualifier = "prod"
		if SameGrant(old, DesiredStatement(q, full)) {
			t.Error("a qualified target left the grant the same")
		}
	})
	t.Run("statementId only", func(t *testing.T) {
		p := full
		p.StatementID = "other"
		if !SameGrant(old, DesiredStatement(target, p)) {
			t.Error("the Sid changed the grant")
		}
	})
}

func mustParse(t testing.TB, statement string) Statement {
	t.Helper()
	st, err := ParseStatement(statement)
	if err != nil {
		t.Fatalf("ParseStatement(%s): %v", statement, err)
	}
	return st
}

func replace(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
