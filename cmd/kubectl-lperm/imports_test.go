package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

var orders = policy.FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "111122223333", Name: "orders"}

// policyOf is a read policy holding the statements.
func policyOf(t *testing.T, target policy.FunctionRef, statements ...string) policyRead {
	t.Helper()
	text := `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`
	doc, err := policy.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return policyRead{Target: target, Revision: "r1", Document: doc}
}

// stored is the statement Lambda stores for p on target.
func stored(target policy.FunctionRef, p policy.Permission) string {
	return policy.DesiredStatement(target, p).Render()
}

func TestImportAdoptsEveryDeclarableStatement(t *testing.T) {
	live := orders
	live.Qualifier = "live"
	s3 := policy.Permission{StatementID: "AllowS3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceArn: "arn:aws:s3:::uploads", SourceAccount: "111122223333"}
	account := policy.Permission{StatementID: "partner_read", Action: "lambda:GetFunction", Principal: "444455556666"}
	urlHalf := policy.Permission{StatementID: "public-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"}
	invokeHalf := policy.Permission{StatementID: "public-invoke", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true}
	deny := policy.Permission{StatementID: "deny-outside", Action: "lambda:InvokeFunction", Principal: "*", Effect: policy.EffectDeny,
		Conditions: []policy.ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}}
	lonelyURL := policy.Permission{StatementID: "lonely-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "AWS_IAM"}
	everyone := policy.Permission{StatementID: "everyone", Action: "lambda:InvokeFunction", Principal: "*"}
	sns := policy.Permission{StatementID: "sns", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com"}
	federated := `{"Sid":"web-identity","Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`

	policies := []policyRead{
		policyOf(t, orders, stored(orders, s3), stored(orders, account), stored(orders, urlHalf), stored(orders, invokeHalf),
			stored(orders, deny), stored(orders, lonelyURL), stored(orders, everyone), stored(orders, sns), federated),
		policyOf(t, live, stored(live, s3)),
	}
	items := importManifest(policies, importOptions{namespace: "payments", observe: true})

	var permissions []*lambdav1alpha1.LambdaPermission
	var urls []*lambdav1alpha1.LambdaFunctionURLPermission
	var skipped []manifestItem
	names := map[string]bool{}
	for _, item := range items {
		switch obj := item.object.(type) {
		case *lambdav1alpha1.LambdaPermission:
			permissions = append(permissions, obj)
			names[obj.Name] = true
			if obj.Namespace != "payments" || obj.Spec.ManagementPolicy != lambdav1alpha1.ManagementPolicyObserve {
				t.Errorf("%s: namespace %q, managementPolicy %q; want payments, Observe", obj.Name, obj.Namespace, obj.Spec.ManagementPolicy)
			}
		case *lambdav1alpha1.LambdaFunctionURLPermission:
			urls = append(urls, obj)
			names[obj.Name] = true
		case nil:
			skipped = append(skipped, item)
		}
	}
	if len(permissions) != 7 || len(urls) != 1 || len(skipped) != 1 || len(names) != 8 {
		t.Fatalf("%d LambdaPermissions, %d URL grants, %d skipped, %d distinct names; want 7, 1, 1, 8", len(permissions), len(urls), len(skipped), len(names))
	}

	// Each LambdaPermission's statement is the one in the policy: applying
	// it adopts the statement, with no write.
	byResourceAndSid := map[string]policy.Statement{}
	for _, p := range policies {
		for _, st := range p.Document.Statements {
			byResourceAndSid[p.Target.ResourceARN()+" "+st.Sid] = st.Statement
		}
	}
	for _, obj := range permissions {
		target, err := policy.ResolveTarget(obj.Spec.FunctionName, obj.Spec.Qualifier)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := byResourceAndSid[target.ResourceARN()+" "+obj.Spec.StatementID]
		if !ok {
			t.Errorf("%s names %s %q, which is not in the policies", obj.Name, target.ResourceARN(), obj.Spec.StatementID)
			continue
		}
		if got := policy.DesiredStatement(target, translate.PermissionOf(obj.Spec, obj.Spec.StatementID)); !policy.SameGrant(got, want) {
			t.Errorf("%s declares %s, the policy holds %s", obj.Name, got.Render(), want.Render())
		}
		if errs := validation.IsDNS1123Subdomain(obj.Name); len(errs) > 0 {
			t.Errorf("name %q: %v", obj.Name, errs)
		}
	}

	url := urls[0]
	if url.Spec.StatementIDPrefix != "public" || url.Spec.AuthType != "NONE" || url.Spec.Principal != "*" || url.Spec.FunctionName != orders.FunctionARN() ||
		url.Spec.ManagementPolicy != lambdav1alpha1.ManagementPolicyObserve {
		t.Errorf("URL grant %+v; want prefix public, AuthType NONE, principal *, function %s, Observe", url.Spec, orders.FunctionARN())
	}
	if !strings.Contains(skipped[0].comments[0], `"web-identity"`) || !strings.Contains(skipped[0].comments[0], "names a Federated principal") || !strings.Contains(skipped[0].comments[1], federated) {
		t.Errorf("the skipped statement's comment %q does not name it, say why and show it", skipped[0].comments)
	}
	// What the operator's default guardrails refuse says so.
	for _, item := range items {
		obj, ok := item.object.(*lambdav1alpha1.LambdaPermission)
		if !ok {
			continue
		}
		comments := strings.Join(item.comments, " ")
		refused := map[string]string{"everyone": "PublicAccessDenied", "sns": "SourceRequired"}[obj.Spec.StatementID]
		if (refused != "") != strings.Contains(comments, "guardrail") || !strings.Contains(comments, refused) {
			t.Errorf("%s: comments %q; want a guardrail note only for everyone and sns, naming %q", obj.Spec.StatementID, comments, refused)
		}
	}
	for _, item := range items {
		if obj, ok := item.object.(*lambdav1alpha1.LambdaPermission); ok && obj.Spec.StatementID == "deny-outside" &&
			(obj.Spec.Effect != lambdav1alpha1.EffectDeny || len(obj.Spec.Conditions) != 1 || !strings.Contains(strings.Join(item.comments, " "), "writeStrategy: Document")) {
			t.Errorf("the Deny imports as %+v with comments %q; want effect Deny, its condition, and a note that it needs the Document strategy", obj.Spec, item.comments)
		}
	}

	// The YAML is what kubectl apply takes: kinds, no status, comments.
	var out bytes.Buffer
	if err := renderManifest(&out, items); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"# Not imported: statement \"web-identity\"", "kind: LambdaFunctionURLPermission", "apiVersion: lambda.permissions.dev/v1alpha1", "statementId: AllowS3"} {
		if !strings.Contains(text, want) {
			t.Errorf("the manifest lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"status:", "creationTimestamp"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the manifest holds %q:\n%s", unwanted, text)
		}
	}
	docs := strings.Split(text, "\n---\n")
	for _, doc := range docs[1:] {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj["kind"] == nil {
			t.Errorf("a document does not parse as an object (%v):\n%s", err, doc)
		}
	}
}

func TestObjectNames(t *testing.T) {
	live := orders
	live.Qualifier = "live"
	long := orders
	long.Name = strings.Repeat("f", 64)
	names := objectNames{}
	for _, tc := range []struct {
		target policy.FunctionRef
		sid    string
		want   string // "" for a hashed name
	}{
		{orders, "s3-uploads", "orders-s3-uploads"},
		{live, "s3-uploads", "orders-live-s3-uploads"},
		{orders, "AllowS3", ""}, // case lost
		{orders, "allows3", "orders-allows3"},
		{orders, "a_b", ""}, // '_' lost
		{orders, "a-b", "orders-a-b"},
		{long, "x", ""}, // too long
		{long, "y", ""},
	} {
		got := names.take(tc.target, tc.sid)
		if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 || len(got) > maxObjectName {
			t.Errorf("%s %q: name %q is not valid or longer than %d: %v", tc.target.ResourceARN(), tc.sid, got, maxObjectName, errs)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("%s %q: name %q, want %q", tc.target.ResourceARN(), tc.sid, got, tc.want)
		}
		if tc.want == "" && !strings.HasPrefix(got, "orders-") && !strings.HasPrefix(got, "fff") {
			t.Errorf("%s %q: name %q does not start with the function", tc.target.ResourceARN(), tc.sid, got)
		}
	}
	if len(names) != 8 {
		t.Errorf("%d distinct names for 8 statements", len(names))
	}
	// The same statement gets the same name in another import.
	if a, b := (objectNames{}).take(orders, "AllowS3"), (objectNames{}).take(orders, "AllowS3"); a != b {
		t.Errorf("names differ between imports: %q, %q", a, b)
	}
}
