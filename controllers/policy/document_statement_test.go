package policy

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

const (
	docFunctionARN = "arn:aws:lambda:us-east-2:123456789012:function:my-function"
	docAliasARN    = docFunctionARN + ":live"
)

// docStatement is a valid document statement on docFunctionARN with the
// given elements (raw JSON) set; an empty value removes the element.
func docStatement(t testing.TB, elements ...string) Statement {
	t.Helper()
	members := map[string]string{
		"Sid": `"ok"`, "Effect": `"Allow"`, "Principal": `{"AWS":"111122223333"}`,
		"Action": `"lambda:InvokeFunction"`, "Resource": strconv.Quote(docFunctionARN),
	}
	for i := 0; i+1 < len(elements); i += 2 {
		if elements[i+1] == "" {
			delete(members, elements[i])
		} else {
			members[elements[i]] = elements[i+1]
		}
	}
	var parts []string
	for _, key := range sortedKeys(members) {
		parts = append(parts, strconv.Quote(key)+":"+members[key])
	}
	st, err := ParseStatement("{" + strings.Join(parts, ",") + "}")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestValidateDocumentStatementAccepts(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		elements []string
	}{
		{"minimal", docFunctionARN, nil},
		{"Sid with dash and underscore", docFunctionARN, []string{"Sid", `"Allow-partner_1"`}},
		{"Deny", docFunctionARN, []string{"Effect", `"Deny"`}},
		{"principal *", docFunctionARN, []string{"Principal", `"*"`}},
		{"AWS *", docFunctionARN, []string{"Principal", `{"AWS":"*"}`}},
		{"AWS list", docFunctionARN, []string{"Principal", `{"AWS":["111122223333","arn:aws:iam::111122223333:role/deployer","arn:aws:sts::111122223333:assumed-role/r/s"]}`}},
		{"AWS ARN in aws-cn", docFunctionARN, []string{"Principal", `{"AWS":"arn:aws-cn:iam::111122223333:root"}`}},
		{"AWS ARN any resource part", docFunctionARN, []string{"Principal", `{"AWS":"arn:aws:iam::111122223333:role"}`}},
		{"services", docFunctionARN, []string{"Principal", `{"Service":["s3.amazonaws.com","logs.us-east-1.amazonaws.com","s3.amazonaws.com.cn","alexa-appkit.amazon.com"]}`}},
		{"Federated and CanonicalUser", docFunctionARN, []string{"Principal", `{"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`}},
		{"several principal types", docFunctionARN, []string{"Principal", `{"AWS":"111122223333","Service":"sns.amazonaws.com"}`}},
		{"action *", docFunctionARN, []string{"Action", `"*"`}},
		{"action lambda:*", docFunctionARN, []string{"Action", `"lambda:*"`}},
		{"action in another case", docFunctionARN, []string{"Action", `"LAMBDA:invokefunction"`}},
		{"action list", docFunctionARN, []string{"Action", `["lambda:InvokeFunction","lambda:InvokeFunctionUrl","lambda:GetFunction","lambda:UpdateFunctionEventInvokeConfig"]`}},
		{"resource list with :*", docFunctionARN, []string{"Resource", `["` + docFunctionARN + `","` + docFunctionARN + `:*"]`}},
		{"alias resource", docAliasARN, []string{"Resource", strconv.Quote(docAliasARN)}},
		{"conditions", docFunctionARN, []string{"Condition", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24"]},"Bool":{"aws:SecureTransport":true},` +
			`"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600},"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/*"},` +
			`"ForAllValues:StringNotLikeIfExists":{"aws:TagKeys":"x"},"ArnNotLike":{"AWS:SourceArn":"arn:aws:s3:::a-*"},"Null":{"aws:SourceVpc":"false"}}`}},
		{"policy variable", docFunctionARN, []string{"Condition", `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`}},
		{"empty Condition", docFunctionARN, []string{"Condition", `{}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateDocumentStatement(docStatement(t, tt.elements...), tt.resource); err != nil {
				t.Errorf("ValidateDocumentStatement: %v", err)
			}
		})
	}
}

func TestValidateDocumentStatementNamesTheElement(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		elements []string
		field    string
		value    string
	}{
		{"Sid missing", docFunctionARN, []string{"Sid", ""}, "Sid", ""},
		{"Sid empty", docFunctionARN, []string{"Sid", `""`}, "Sid", ""},
		{"Sid with a dot", docFunctionARN, []string{"Sid", `"a.b"`}, "Sid", "a.b"},
		{"Sid with a space", docFunctionARN, []string{"Sid", `"a b"`}, "Sid", "a b"},
		{"NotPrincipal", docFunctionARN, []string{"NotPrincipal", `{"AWS":"111122223333"}`}, "NotPrincipal", `{"AWS":"111122223333"}`},
		{"NotAction", docFunctionARN, []string{"NotAction", `"lambda:DeleteFunction"`}, "NotAction", `"lambda:DeleteFunction"`},
		{"NotResource", docFunctionARN, []string{"NotResource", strconv.Quote(docFunctionARN)}, "NotResource", strconv.Quote(docFunctionARN)},
		{"unknown element", docFunctionARN, []string{"Foo", `1`}, "Foo", "1"},
		{"element in lower case", docFunctionARN, []string{"condition", `{}`}, "condition", "{}"},
		{"Effect missing", docFunctionARN, []string{"Effect", ""}, "Effect", ""},
		{"Effect in lower case", docFunctionARN, []string{"Effect", `"allow"`}, "Effect", "allow"},
		{"Principal missing", docFunctionARN, []string{"Principal", ""}, "Principal", ""},
		{"Principal a string", docFunctionARN, []string{"Principal", `"111122223333"`}, "Principal", "111122223333"},
		{"Principal empty object", docFunctionARN, []string{"Principal", `{}`}, "Principal", ""},
		{"Principal unknown type", docFunctionARN, []string{"Principal", `{"User":"bob"}`}, "Principal", "User"},
		{"AWS short account", docFunctionARN, []string{"Principal", `{"AWS":"12345"}`}, "Principal.AWS", "12345"},
		{"AWS malformed ARN", docFunctionARN, []string{"Principal", `{"AWS":"arn:aws:iam:111122223333:role/x"}`}, "Principal.AWS", "arn:aws:iam:111122223333:role/x"},
		{"AWS ARN of another service", docFunctionARN, []string{"Principal", `{"AWS":"arn:aws:s3::111122223333:x"}`}, "Principal.AWS", "arn:aws:s3::111122223333:x"},
		{"AWS ARN without resource", docFunctionARN, []string{"Principal", `{"AWS":"arn:aws:iam::111122223333:"}`}, "Principal.AWS", "arn:aws:iam::111122223333:"},
		{"AWS unique id", docFunctionARN, []string{"Principal", `{"AWS":"AROAEXAMPLEID"}`}, "Principal.AWS", "AROAEXAMPLEID"},
		{"AWS empty list", docFunctionARN, []string{"Principal", `{"AWS":[]}`}, "Principal.AWS", "[]"},
		{"AWS bad value in a list", docFunctionARN, []string{"Principal", `{"AWS":["111122223333",""]}`}, "Principal.AWS", ""},
		{"Service bare domain", docFunctionARN, []string{"Principal", `{"Service":"amazonaws.com"}`}, "Principal.Service", "amazonaws.com"},
		{"Service other domain", docFunctionARN, []string{"Principal", `{"Service":"invalid.nonaws.com"}`}, "Principal.Service", "invalid.nonaws.com"},
		{"Service upper case", docFunctionARN, []string{"Principal", `{"Service":"S3.amazonaws.com"}`}, "Principal.Service", "S3.amazonaws.com"},
		{"Federated with a space", docFunctionARN, []string{"Principal", `{"Federated":"a b"}`}, "Principal.Federated", "a b"},
		{"CanonicalUser empty", docFunctionARN, []string{"Principal", `{"CanonicalUser":""}`}, "Principal.CanonicalUser", ""},
		{"Action missing", docFunctionARN, []string{"Action", ""}, "Action", ""},
		{"Action empty list", docFunctionARN, []string{"Action", `[]`}, "Action", ""},
		{"Action of another service", docFunctionARN, []string{"Action", `"s3:GetObject"`}, "Action", "s3:GetObject"},
		{"Action partial wildcard", docFunctionARN, []string{"Action", `"lambda:Get*"`}, "Action", "lambda:Get*"},
		{"Action not function-scoped", docFunctionARN, []string{"Action", `["lambda:InvokeFunction","lambda:ListFunctions"]`}, "Action", "lambda:ListFunctions"},
		{"Action without prefix", docFunctionARN, []string{"Action", `"InvokeFunction"`}, "Action", "InvokeFunction"},
		{"Resource missing", docFunctionARN, []string{"Resource", ""}, "Resource", ""},
		{"Resource *", docFunctionARN, []string{"Resource", `"*"`}, "Resource", "*"},
		{"Resource another function", docFunctionARN, []string{"Resource", `"arn:aws:lambda:us-east-2:123456789012:function:other"`}, "Resource", "arn:aws:lambda:us-east-2:123456789012:function:other"},
		{"Resource a qualifier of the function", docFunctionARN, []string{"Resource", strconv.Quote(docAliasARN)}, "Resource", docAliasARN},
		{"Resource :* on an alias", docAliasARN, []string{"Resource", strconv.Quote(docAliasARN + ":*")}, "Resource", docAliasARN + ":*"},
		{"Resource the function on an alias", docAliasARN, []string{"Resource", strconv.Quote(docFunctionARN)}, "Resource", docFunctionARN},
		{"Condition operator misspelt", docFunctionARN, []string{"Condition", `{"StringEqual":{"aws:SourceAccount":"111122223333"}}`}, "Condition", "StringEqual"},
		{"Condition operator in lower case", docFunctionARN, []string{"Condition", `{"stringequals":{"aws:SourceAccount":"111122223333"}}`}, "Condition", "stringequals"},
		{"Condition NullIfExists", docFunctionARN, []string{"Condition", `{"NullIfExists":{"aws:SourceVpc":"true"}}`}, "Condition", "NullIfExists"},
		{"Condition two set prefixes", docFunctionARN, []string{"Condition", `{"ForAnyValue:ForAllValues:StringLike":{"aws:TagKeys":"x"}}`}, "Condition", "ForAnyValue:ForAllValues:StringLike"},
		{"Condition empty operator", docFunctionARN, []string{"Condition", `{"StringEquals":{}}`}, "Condition.StringEquals", "{}"},
		{"Condition empty key", docFunctionARN, []string{"Condition", `{"StringEquals":{"":"x"}}`}, "Condition.StringEquals", ""},
		{"Condition no values", docFunctionARN, []string{"Condition", `{"IpAddress":{"aws:SourceIp":[]}}`}, `Condition.IpAddress["aws:SourceIp"]`, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateDocumentStatement(docStatement(t, tt.elements...), tt.resource)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ValidateDocumentStatement = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field || fe.Value != tt.value {
				t.Errorf("field, value = %q, %q, want %q, %q (%v)", fe.Field, fe.Value, tt.field, tt.value, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.field+": ") || !strings.Contains(msg, strconv.Quote(tt.value)) {
				t.Errorf("message %q does not start with %q and quote %q", msg, tt.field+": ", tt.value)
			}
		})
	}
}

// The defect reported is the first in the order of SPEC §16.6, so a
// statement with several shows the same one every time.
func TestValidateDocumentStatementReportsTheFirstDefect(t *testing.T) {
	st := docStatement(t, "Effect", `"allow"`, "Action", `"s3:GetObject"`, "NotAction", `"x"`, "Foo", `1`,
		"Condition", `{"B":{"k":"v"},"A":{"k":"v"}}`)
	for range 20 {
		var fe *FieldError
		if err := ValidateDocumentStatement(st, docFunctionARN); !errors.As(err, &fe) || fe.Field != "Foo" {
			t.Fatalf("got %v, want the unmodelled Foo first (sorted)", err)
		}
	}
	st = docStatement(t, "Condition", `{"StringEqual":{"k":"v"},"ArnLke":{"k":"v"}}`)
	for range 20 {
		var fe *FieldError
		if err := ValidateDocumentStatement(st, docFunctionARN); !errors.As(err, &fe) || fe.Value != "ArnLke" {
			t.Fatalf("got %v, want ArnLke, the first operator in sorted order", err)
		}
	}
}

// What the operator itself renders from a valid Permission must pass: a
// LambdaResourcePolicy that includes LambdaPermissions puts their
// statements in the same document.
func TestValidateDocumentStatementAcceptsDesiredStatements(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			target := c.target(t)
			st := DesiredStatement(target, permissionOf(c.Input))
			if err := ValidateDocumentStatement(st, target.ResourceARN()); err != nil {
				t.Errorf("%s: %v", st.Render(), err)
			}
		})
	}
	target := FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "my-function"}
	for name, p := range guardrailPermissions() {
		t.Run(name, func(t *testing.T) {
			if err := p.Validate(); err != nil {
				t.Fatalf("the table's permission is invalid: %v", err)
			}
			st := DesiredStatement(target, p)
			if err := ValidateDocumentStatement(st, target.ResourceARN()); err != nil {
				t.Errorf("%s: %v", st.Render(), err)
			}
		})
	}
}
