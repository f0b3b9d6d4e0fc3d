package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// resourcePolicies are the LambdaResourcePolicies among items, with the
// comments above each.
func resourcePolicies(items []manifestItem) ([]*lambdav1alpha1.LambdaResourcePolicy, map[string][]string) {
	var objects []*lambdav1alpha1.LambdaResourcePolicy
	comments := map[string][]string{}
	for _, item := range items {
		if obj, ok := item.object.(*lambdav1alpha1.LambdaResourcePolicy); ok {
			objects = append(objects, obj)
			comments[obj.Name] = item.comments
		}
	}
	return objects, comments
}

// checkDeclaresAsStored checks that the controller reads obj's statements
// as granting exactly what the same Sids grant in the stored policy.
func checkDeclaresAsStored(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, stored policyRead) {
	t.Helper()
	target, err := policy.ResolveTarget(obj.Spec.FunctionName, obj.Spec.Qualifier)
	if err != nil {
		t.Fatal(err)
	}
	if target.ResourceARN() != stored.Target.ResourceARN() {
		t.Fatalf("%s is on %s, want %s", obj.Name, target.ResourceARN(), stored.Target.ResourceARN())
	}
	declared, err := translate.DeclaredStatements(obj.Spec.Policy, target)
	if err != nil {
		t.Fatalf("%s: the controller refuses the spec: %v", obj.Name, err)
	}
	for _, st := range declared {
		want, ok := stored.Document.Find(st.Sid)
		if !ok {
			t.Errorf("%s declares %q, which is not in the policy", obj.Name, st.Sid)
			continue
		}
		if !policy.SameGrant(st, want.Statement) {
			t.Errorf("%s declares %s, the policy holds %s (%v)", obj.Name, st.Render(), want.Raw, policy.GrantDifferences(st, want.Statement))
		}
	}
}

func TestResourcePolicyImportDeclaresEveryStatement(t *testing.T) {
	live, v1 := orders, orders
	live.Qualifier, v1.Qualifier = "live", "1"
	arn := orders.ResourceARN()
	s3 := policy.Permission{StatementID: "AllowS3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceArn: "arn:aws:s3:::uploads", SourceAccount: "111122223333"}
	account := policy.Permission{StatementID: "partner_read", Action: "lambda:GetFunction", Principal: "444455556666"}
	urlHalf := policy.Permission{StatementID: "web-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "AWS_IAM"}
	org := policy.Permission{StatementID: "org", Action: "lambda:InvokeFunction", Principal: "*", PrincipalOrgID: "o-a1b2c3d4e5"}
	everyone := policy.Permission{StatementID: "everyone", Action: "lambda:InvokeFunction", Principal: "*"}
	sns := policy.Permission{StatementID: "sns", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com"}
	const (
		deny       = `{"Sid":"deny-outside","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]},"Bool":{"aws:SecureTransport":"false"}}}`
		twoActions = `{"Sid":"two","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/reader","555566667777"]},"Action":["lambda:GetFunction","lambda:GetPolicy"],"Resource":["arn:aws:lambda:us-east-1:111122223333:function:orders"]}`
		everyAlias = `{"Sid":"every-alias","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders:*"}`
		noSid      = `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`
		notPrin    = `{"Sid":"not-principal","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lambda:*","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`
		dotted     = `{"Sid":"has.dot","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`
		elsewhere  = `{"Sid":"elsewhere","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:payments"}`
		again      = `{"Sid":"two","Effect":"Allow","Principal":"*","Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`
	)
	policies := []policyRead{
		policyOf(t, orders, stored(orders, s3), stored(orders, account), stored(orders, urlHalf), stored(orders, org), deny, twoActions, everyAlias,
			noSid, notPrin, dotted, elsewhere, again, stored(orders, everyone), stored(orders, sns)),
		policyOf(t, v1, stored(v1, s3), strings.ReplaceAll(deny, arn, v1.ResourceARN())),
		{Target: live}, // no policy
	}
	out := resourcePolicyManifest(policies, policyImportOptions{namespace: "payments"})
	objects, comments := resourcePolicies(out.items)
	if len(objects) != 2 || out.objects != 2 || out.empty != 1 {
		t.Fatalf("%d objects (counted %d), %d without a policy; want 2 objects, 1 without a policy", len(objects), out.objects, out.empty)
	}
	fn, version := objects[0], objects[1]
	if fn.Name != "orders" || version.Name != "orders.1" {
		t.Errorf("names %q, %q; want orders, orders.1", fn.Name, version.Name)
	}
	for _, obj := range objects {
		spec := obj.Spec
		if obj.Namespace != "payments" || spec.ManagementPolicy != lambdav1alpha1.ManagementPolicyObserve || spec.DeletionPolicy != lambdav1alpha1.DeletionPolicyRetain ||
			spec.IncludePermissions == nil || !*spec.IncludePermissions || spec.FunctionName != orders.FunctionARN() || spec.Region != "" || spec.Policy.Version != "2012-10-17" {
			t.Errorf("%s: namespace %q, spec %+v; want payments, Observe, Retain, includePermissions true, function %s, Version 2012-10-17", obj.Name, obj.Namespace, spec, orders.FunctionARN())
		}
		if errs := validation.IsDNS1123Subdomain(obj.Name); len(errs) > 0 {
			t.Errorf("name %q: %v", obj.Name, errs)
		}
	}
	if version.Spec.Qualifier != "1" || fn.Spec.Qualifier != "" {
		t.Errorf("qualifiers %q, %q; want none and 1", fn.Spec.Qualifier, version.Spec.Qualifier)
	}
	checkDeclaresAsStored(t, fn, policies[0])
	checkDeclaresAsStored(t, version, policies[1])

	var sids []string
	byS := map[string]lambdav1alpha1.ResourcePolicyStatement{}
	for _, s := range fn.Spec.Policy.Statement {
		sids = append(sids, s.Sid)
		byS[s.Sid] = s
	}
	if got, want := strings.Join(sids, " "), "AllowS3 partner_read web-url org deny-outside two every-alias everyone sns"; got != want {
		t.Errorf("declared Sids %q, want %q", got, want)
	}
	if len(version.Spec.Policy.Statement) != 2 {
		t.Errorf("the version's object declares %d statements, want 2", len(version.Spec.Policy.Statement))
	}
	// As stored: the elements' JSON is Lambda's, Resource left out only
	// where it is the policy's own ARN.
	for sid, s := range byS {
		st, _ := policies[0].Document.Find(sid)
		var elements map[string]json.RawMessage
		if err := json.Unmarshal([]byte(st.Raw), &elements); err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string][]byte{"Principal": s.Principal.Raw, "Action": s.Action.Raw, "Condition": rawOf(s.Condition)} {
			if want := compactJSON(string(elements[name])); string(got) != want {
				t.Errorf("%s: %s is %s, stored %s", sid, name, got, want)
			}
		}
		if (s.Resource != nil) != (sid == "every-alias") {
			t.Errorf("%s: Resource %s; want it only where it is not the function's ARN", sid, rawOf(s.Resource))
		}
	}
	if got := string(byS["two"].Action.Raw); got != `["lambda:GetFunction","lambda:GetPolicy"]` {
		t.Errorf("two: Action %s, want the stored list", got)
	}

	// The statements no LambdaResourcePolicy can hold: a comment each on
	// the object, with the reason and the statement, and reported.
	refused := map[string]string{`#7`: "no Sid", `"not-principal"`: "NotPrincipal", `"has.dot"`: "Sid", `"elsewhere"`: "Resource", `"two"`: "unique"}
	if len(out.undeclarable) != len(refused) {
		t.Errorf("%d statements cannot be declared, want %d: %+v", len(out.undeclarable), len(refused), out.undeclarable)
	}
	text := strings.Join(comments[fn.Name], "\n")
	for _, u := range out.undeclarable {
		want, ok := refused[u.Ref]
		if !ok || u.Resource != arn || !strings.Contains(u.Reason, want) {
			t.Errorf("refused %+v; want one of %v on %s, its reason naming the defect", u, refused, arn)
		}
		if !strings.Contains(text, "Cannot be declared: statement "+u.Ref+": "+u.Reason) || !strings.Contains(text, "\n  "+u.Raw) {
			t.Errorf("the object's comments do not show %s, its reason and the statement:\n%s", u.Ref, text)
		}
	}
	if !strings.Contains(text, "5 statements cannot be declared: Manage would remove them") {
		t.Errorf("the comments do not say Manage would remove them:\n%s", text)
	}
	for _, want := range []string{`"everyone" is public`, "PublicAccessDenied", `"sns" grants a service`, "SourceRequired"} {
		if !strings.Contains(text, want) {
			t.Errorf("the comments lack the guardrail note %q:\n%s", want, text)
		}
	}
	if len(out.guarded) != 2 {
		t.Errorf("%d guardrail notes, want 2: %q", len(out.guarded), out.guarded)
	}

	// The YAML, read back as kubectl apply reads it, declares the same.
	var b bytes.Buffer
	if err := renderManifest(&b, out.items); err != nil {
		t.Fatal(err)
	}
	manifest := b.String()
	docs := strings.Split("\n"+manifest, "\n---\n")[1:]
	if len(docs) != 2 || !strings.HasPrefix(manifest, "---\n") {
		t.Fatalf("%d YAML documents, want 2 objects:\n%s", len(docs), manifest)
	}
	for i, doc := range docs {
		var obj lambdav1alpha1.LambdaResourcePolicy
		if err := yaml.UnmarshalStrict([]byte(doc), &obj); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		if obj.Kind != "LambdaResourcePolicy" || obj.APIVersion != "lambda.permissions.dev/v1alpha1" {
			t.Errorf("document %d is a %s %s", i, obj.APIVersion, obj.Kind)
		}
		checkDeclaresAsStored(t, &obj, policies[i])
		if len(obj.Spec.Policy.Statement) != len(objects[i].Spec.Policy.Statement) {
			t.Errorf("document %d: %d statements, want %d", i, len(obj.Spec.Policy.Statement), len(objects[i].Spec.Policy.Statement))
		}
	}
	for _, want := range []string{"# No policy on " + live.ResourceARN(), "managementPolicy: Observe", "deletionPolicy: Retain", "includePermissions: true",
		"Principal: '*'", "Sid: deny-outside", "# Cannot be declared: statement #7: it has no Sid"} {
		if !strings.Contains(manifest, want) {
			t.Errorf("the manifest lacks %q:\n%s", want, manifest)
		}
	}
	for _, unwanted := range []string{"status:", "creationTimestamp", "region:"} {
		if strings.Contains(manifest, unwanted) {
			t.Errorf("the manifest holds %q:\n%s", unwanted, manifest)
		}
	}
}

func TestResourcePolicyImportOptions(t *testing.T) {
	p := policyOf(t, orders, stored(orders, policy.Permission{StatementID: "a", Action: "lambda:GetFunction", Principal: "444455556666"}),
		`{"Effect":"Allow","Principal":"*","Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:orders"}`)
	out := resourcePolicyManifest([]policyRead{p}, policyImportOptions{manage: true, deletionPolicy: lambdav1alpha1.DeletionPolicyDelete})
	objects, comments := resourcePolicies(out.items)
	if len(objects) != 1 || objects[0].Spec.ManagementPolicy != lambdav1alpha1.ManagementPolicyManage || objects[0].Spec.DeletionPolicy != lambdav1alpha1.DeletionPolicyDelete ||
		objects[0].Namespace != "" {
		t.Fatalf("objects %+v; want one, Manage and Delete, no namespace", objects)
	}
	if text := strings.Join(comments[objects[0].Name], "\n"); !strings.Contains(text, "managementPolicy Manage") || strings.Contains(text, "Retain") {
		t.Errorf("comments:\n%s", text)
	}

	var stdout, stderr bytes.Buffer
	if code := writePolicyImport(&stdout, &stderr, []policyRead{p}, policyImportOptions{deletionPolicy: lambdav1alpha1.DeletionPolicyRetain}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"statement #1 cannot be declared: it has no Sid", "Manage would remove it", "1 LambdaResourcePolicies (managementPolicy Observe, deletionPolicy Retain) declaring 1 statements; 1 statements cannot be declared", "Observe first"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestPolicyObjectNames(t *testing.T) {
	at := func(name, qualifier string) policy.FunctionRef {
		ref := orders
		ref.Name, ref.Qualifier = name, qualifier
		return ref
	}
	names := objectNames{}
	for _, tc := range []struct {
		target policy.FunctionRef
		want   string // "" for a hashed name
	}{
		{at("orders", ""), "orders"},
		{at("orders", "live"), "orders.live"},
		{at("orders", "1"), "orders.1"},
		{at("orders-1", ""), "orders-1"}, // not version 1's
		{at("Orders", ""), ""},
		{at("orders", "my_alias"), ""},
		{at("-orders", "-x"), ""},
		{at(strings.Repeat("f", 64), strings.Repeat("a", 128)), strings.Repeat("f", 64) + "." + strings.Repeat("a", 128)},
		{at("_", ""), ""},
	} {
		got := names.takePolicy(tc.target)
		if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
			t.Errorf("%s: name %q is not valid: %v", tc.target.ResourceARN(), got, errs)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("%s: name %q, want %q", tc.target.ResourceARN(), got, tc.want)
		}
		if tc.want == "" && got == strings.ToLower(tc.target.Name) {
			t.Errorf("%s: name %q lost characters without a hash", tc.target.ResourceARN(), got)
		}
		// The same policy gets the same name in another import.
		if again := (objectNames{}).takePolicy(tc.target); again != got {
			t.Errorf("%s: named %q, then %q", tc.target.ResourceARN(), got, again)
		}
	}
	if len(names) != 9 {
		t.Errorf("%d distinct names for 9 policies", len(names))
	}
}

func TestResourcePolicyFlags(t *testing.T) {
	for _, args := range [][]string{
		{"import", "--function", "orders", "--manage"},
		{"import", "--function", "orders", "--deletion-policy", "Delete"},
		{"import", "--function", "orders", "--resource-policy", "--deletion-policy", "Keep"},
		{"import", "--function", "orders", "--resource-policy", "--manage", "--observe"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%s: exit %d, want %d (%s)", strings.Join(args, " "), code, exitUsage, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", "-h"}, &stdout, &stderr); code != exitOK || !strings.Contains(stderr.String(), "-resource-policy") {
		t.Errorf("import -h: exit %d, does not document --resource-policy:\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"--help"}, &stdout, &stderr); code != exitOK || !strings.Contains(stderr.String(), "import --resource-policy") {
		t.Errorf("--help: exit %d, does not document import --resource-policy:\n%s", code, stderr.String())
	}
}

func rawOf(j *apiextensionsv1.JSON) []byte {
	if j == nil {
		return nil
	}
	return j.Raw
}
