package translate_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/golden"
)

var orders = policy.FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "111122223333", Name: "orders"}

// storedStatement reads one statement as GetPolicy returns it.
func storedStatement(t *testing.T, raw string) policy.StoredStatement {
	t.Helper()
	doc, err := policy.ParsePolicy(`{"Version":"2012-10-17","Id":"default","Statement":[` + raw + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Statements[0]
}

// checkRoundTrip checks that s, declared on target, grants what st grants
// as stored: as it is, and after YAML as kubectl passes it on.
func checkRoundTrip(t *testing.T, target policy.FunctionRef, st policy.StoredStatement, s lambdav1alpha1.ResourcePolicyStatement, read policy.Statement) {
	t.Helper()
	declared, err := translate.DeclaredStatements(lambdav1alpha1.ResourcePolicyDocument{Statement: []lambdav1alpha1.ResourcePolicyStatement{s}}, target)
	if err != nil {
		t.Fatalf("%s: DeclaredStatements refuses the statement made of it: %v", st.Raw, err)
	}
	if diffs := policy.GrantDifferences(declared[0], st.Statement); len(diffs) > 0 || !policy.SameGrant(declared[0], st.Statement) {
		t.Errorf("stored %s\ndeclared %s\ndiffer in %v", st.Raw, declared[0].Render(), diffs)
	}
	if !policy.SameGrant(read, declared[0]) {
		t.Errorf("%s: returned %s, DeclaredStatements reads %s", st.Raw, read.Render(), declared[0].Render())
	}
	text, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back lambdav1alpha1.ResourcePolicyStatement
	if err := yaml.UnmarshalStrict(text, &back); err != nil {
		t.Fatal(err)
	}
	again, err := translate.DeclaredStatements(lambdav1alpha1.ResourcePolicyDocument{Statement: []lambdav1alpha1.ResourcePolicyStatement{back}}, target)
	if err != nil || !policy.SameGrant(again[0], st.Statement) {
		t.Errorf("%s: through YAML (%s) it declares %v (%v)", st.Raw, text, again, err)
	}
}

// Every recorded AWS case, as Lambda stored it, is declared as it is: the
// statement made of it grants the same, and leaves Resource out, since it
// is the function's, version's or alias's own ARN.
func TestResourcePolicyStatementOfRecordedCases(t *testing.T) {
	for _, c := range golden.MustLoad(t) {
		t.Run(c.ID, func(t *testing.T) {
			raw := c.StatementRaw
			if raw == "" {
				raw = string(c.Statement)
			}
			st := storedStatement(t, raw)
			target, err := policy.ParseFunctionName(st.Resource[0])
			if err != nil {
				t.Fatal(err)
			}
			s, read, err := translate.ResourcePolicyStatementOf(target, st)
			if err != nil {
				t.Fatalf("%s cannot be declared: %v", raw, err)
			}
			if s.Resource != nil {
				t.Errorf("Resource %s kept; it is the policy's own", s.Resource.Raw)
			}
			if s.Sid != c.Input.StatementId {
				t.Errorf("Sid %q, want %q", s.Sid, c.Input.StatementId)
			}
			checkRoundTrip(t, target, st, s, read)
		})
	}
}

// The statements of a policy that a LambdaResourcePolicy can hold are
// declared as stored, their elements Lambda's JSON; the others are refused
// with a reason naming the defect.
func TestResourcePolicyStatementOf(t *testing.T) {
	arn := orders.ResourceARN()
	v1 := orders
	v1.Qualifier = "1"
	rendered := func(target policy.FunctionRef, p policy.Permission) string {
		return policy.DesiredStatement(target, p).Render()
	}
	s3 := policy.Permission{StatementID: "AllowS3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceArn: "arn:aws:s3:::uploads", SourceAccount: "111122223333"}
	const deny = `{"Sid":"deny-outside","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]},"Bool":{"aws:SecureTransport":"false"}}}`
	for _, tc := range []struct {
		name, raw string
		target    policy.FunctionRef
		resource  bool   // Resource kept: it is not the target's own ARN
		refused   string // "" when it can be declared, else what the reason names
	}{
		{name: "service with source", raw: rendered(orders, s3)},
		{name: "account", raw: rendered(orders, policy.Permission{StatementID: "partner_read", Action: "lambda:GetFunction", Principal: "444455556666"})},
		{name: "URL half", raw: rendered(orders, policy.Permission{StatementID: "web-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "AWS_IAM"})},
		{name: "organization", raw: rendered(orders, policy.Permission{StatementID: "org", Action: "lambda:InvokeFunction", Principal: "*", PrincipalOrgID: "o-a1b2c3d4e5"})},
		{name: "public", raw: rendered(orders, policy.Permission{StatementID: "everyone", Action: "lambda:InvokeFunction", Principal: "*"})},
		{name: "service without source", raw: rendered(orders, policy.Permission{StatementID: "sns", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com"})},
		{name: "deny with conditions", raw: deny},
		{name: "version", raw: rendered(v1, s3), target: v1},
		{name: "deny on a version", raw: strings.ReplaceAll(deny, arn, v1.ResourceARN()), target: v1},
		{name: "lists", raw: `{"Sid":"two","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/reader","555566667777"]},"Action":["lambda:GetFunction","lambda:GetPolicy"],"Resource":["arn:aws:lambda:us-east-1:111122223333:function:orders"]}`},
		{name: "every alias", raw: `{"Sid":"every-alias","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders:*"}`, resource: true},
		{name: "white space", raw: "{ \"Sid\": \"spaced\", \"Effect\": \"Allow\",\n \"Principal\": { \"AWS\": \"444455556666\" }, \"Action\": \"lambda:GetFunction\", \"Resource\": \"" + arn + "\" }"},
		{name: "whole numbers", raw: `{"Sid":"whole","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"Bool":{"aws:SecureTransport":true}}}`},

		{name: "no Sid", raw: `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`, refused: "no Sid"},
		{name: "long Sid", raw: `{"Sid":"` + strings.Repeat("s", 101) + `","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`, refused: "longer than the 100"},
		{name: "NotPrincipal", raw: `{"Sid":"not-principal","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lambda:*","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`, refused: "NotPrincipal"},
		{name: "Sid with a dot", raw: `{"Sid":"has.dot","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`, refused: "Sid"},
		{name: "another function", raw: `{"Sid":"elsewhere","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:payments"}`, refused: "Resource"},
		// YAML gives a JSON number back as a float64: 1.50 comes back as
		// 1.5, which the policy package tells apart.
		{name: "number YAML changes", raw: `{"Sid":"trailing","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":1.50}}}`, refused: "in YAML, it would not be written as stored (Condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target == (policy.FunctionRef{}) {
				target = orders
			}
			st := storedStatement(t, tc.raw)
			s, read, err := translate.ResourcePolicyStatementOf(target, st)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Errorf("error %v, want one naming %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if s.Sid != st.Sid || s.Effect != st.Effect {
				t.Errorf("Sid, Effect %q, %q; want %q, %q", s.Sid, s.Effect, st.Sid, st.Effect)
			}
			// As stored: the elements' JSON is Lambda's, Resource left out
			// only where it is the policy's own ARN.
			var elements map[string]json.RawMessage
			if err := json.Unmarshal([]byte(st.Raw), &elements); err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string][]byte{"Principal": s.Principal.Raw, "Action": s.Action.Raw, "Condition": rawOf(s.Condition)} {
				if want := compacted(t, elements[name]); !bytes.Equal(got, want) {
					t.Errorf("%s is %s, stored %s", name, got, want)
				}
			}
			if (s.Resource != nil) != tc.resource {
				t.Errorf("Resource %s; want it only where it is not the policy's own ARN", rawOf(s.Resource))
			}
			if tc.resource && !bytes.Equal(s.Resource.Raw, compacted(t, elements["Resource"])) {
				t.Errorf("Resource %s, stored %s", s.Resource.Raw, elements["Resource"])
			}
			checkRoundTrip(t, target, st, s, read)
		})
	}
}

// compacted is an element's JSON without white space, nil when absent.
func compacted(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	if raw == nil {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rawOf(j *apiextensionsv1.JSON) []byte {
	if j == nil {
		return nil
	}
	return j.Raw
}
