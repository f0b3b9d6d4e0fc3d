package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

func TestAuditFindings(t *testing.T) {
	const resource = `"Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"`
	st := func(sid, effect, principal, action, condition string) string {
		s := fmt.Sprintf(`{"Sid":%q,"Effect":%q,"Principal":%s,"Action":%q,%s`, sid, effect, principal, action, resource)
		if condition != "" {
			s += `,"Condition":` + condition
		}
		return s + "}"
	}
	for _, tc := range []struct {
		name      string
		statement string
		url       string // the function URL's auth type; "" without one
		want      []string
	}{
		{"anyone, no condition", st("p", "Allow", `"*"`, "lambda:InvokeFunction", ""), "", []string{findingPublic}},
		{"anyone as AWS *", st("p", "Allow", `{"AWS":"*"}`, "lambda:InvokeFunction", ""), "", []string{findingPublic}},
		{"anyone through a public URL", st("p", "Allow", `"*"`, "lambda:InvokeFunctionUrl", `{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}`), "", []string{findingPublic}},
		{"anyone in an organization", st("p", "Allow", `"*"`, "lambda:InvokeFunction", `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), "", nil},
		{"anyone from a network", st("p", "Allow", `"*"`, "lambda:InvokeFunction", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`), "", nil},
		{"anyone through an IAM URL", st("p", "Allow", `"*"`, "lambda:InvokeFunctionUrl", `{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}`), "", nil},
		{"a Deny for anyone", st("d", "Deny", `"*"`, "lambda:InvokeFunction", ""), "", nil},
		{"a service without source", st("s", "Allow", `{"Service":"sns.amazonaws.com"}`, "lambda:InvokeFunction", ""), "", []string{findingConfusedDeputy}},
		{"a service with SourceArn", st("s", "Allow", `{"Service":"s3.amazonaws.com"}`, "lambda:InvokeFunction", `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}`), "", nil},
		{"a service with SourceAccount", st("s", "Allow", `{"Service":"s3.amazonaws.com"}`, "lambda:InvokeFunction", `{"StringEquals":{"aws:sourceaccount":"111122223333"}}`), "", nil},
		{"an account", st("a", "Allow", `{"AWS":"arn:aws:iam::444455556666:root"}`, "lambda:InvokeFunction", ""), "", nil},
		{"a URL grant alone, with a URL", st("u", "Allow", `{"AWS":"arn:aws:iam::444455556666:root"}`, "lambda:InvokeFunctionUrl", `{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}`), "AWS_IAM", []string{findingURLMissingInvoke}},
		{"a URL grant alone, no URL", st("u", "Allow", `{"AWS":"arn:aws:iam::444455556666:root"}`, "lambda:InvokeFunctionUrl", `{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}`), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policyOf(t, orders, tc.statement)
			p.URLAuthType = tc.url
			var got []string
			for _, f := range audit([]policyRead{p}, nil) {
				got = append(got, f.Kind)
				if f.Resource != orders.ResourceARN() || f.Sid == "" || f.Detail == "" {
					t.Errorf("finding %+v does not say where and why", f)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAuditURLPairsAndUnmanagedAndSize(t *testing.T) {
	urlHalf := policy.Permission{StatementID: "pub-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"}
	invokeHalf := policy.Permission{StatementID: "pub-invoke", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true}
	p := policyOf(t, orders, stored(orders, urlHalf), stored(orders, invokeHalf))
	p.URLAuthType = "NONE"
	managed := map[string]bool{managedKey(orders.ResourceARN(), "pub-url"): true}
	findings := audit([]policyRead{p}, managed)
	var kinds []string
	for _, f := range findings {
		kinds = append(kinds, f.Sid+" "+f.Kind)
	}
	// Both halves of a public URL are public by design; the pair is whole;
	// only pub-invoke lacks an object.
	want := []string{"pub-url public", "pub-invoke public", "pub-invoke unmanaged"}
	if !slices.Equal(kinds, want) {
		t.Errorf("findings %v, want %v", kinds, want)
	}
	if n := failing(findings, []string{findingUnmanaged}); n != 1 {
		t.Errorf("--fail-on unmanaged counts %d, want 1", n)
	}
	if n := failing(findings, []string{"any"}); n != 3 {
		t.Errorf("--fail-on any counts %d, want 3", n)
	}

	// A policy past 80 % of the limit is one finding, whatever its statements.
	var many []string
	for i := 0; ; i++ {
		perm := policy.Permission{StatementID: fmt.Sprintf("acct-%03d", i), Action: "lambda:InvokeFunction", Principal: fmt.Sprintf("4444555%05d", i)}
		many = append(many, stored(orders, perm))
		if size := policyOf(t, orders, many...).Document.SizeAfter(nil); size > policy.MaxPolicySize*8/10 {
			break
		}
	}
	big := policyOf(t, orders, many...)
	near := audit([]policyRead{big}, nil)
	if len(near) != 1 || near[0].Kind != findingNearLimit || near[0].Sid != "" {
		t.Fatalf("findings %+v, want one near-limit for the policy", near)
	}
	below := policyOf(t, orders, many[:len(many)-2]...)
	if below.Document.SizeAfter(nil) <= policy.MaxPolicySize*8/10 && len(audit([]policyRead{below}, nil)) != 0 {
		t.Errorf("a policy at or below 80 %% is reported")
	}

	// Both outputs carry every finding.
	var table, js bytes.Buffer
	if err := renderFindings(&table, findings, "table"); err != nil {
		t.Fatal(err)
	}
	if err := renderFindings(&js, findings, "json"); err != nil {
		t.Fatal(err)
	}
	var decoded []finding
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || len(decoded) != len(findings) {
		t.Errorf("json: %v, %d findings, want %d", err, len(decoded), len(findings))
	}
	if lines := strings.Count(strings.TrimSpace(table.String()), "\n"); lines != len(findings) {
		t.Errorf("table has %d rows under its header, want %d:\n%s", lines, len(findings), table.String())
	}
}
