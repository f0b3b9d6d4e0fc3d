//go:build integration

package v1alpha1_test

// Admission tests for the LambdaResourcePolicy CRD's own rules (OpenAPI
// limits, enums, defaults and CEL), through the same real kube-apiserver as
// validation_test.go. The shapes of the schemaless members (Principal,
// Action, Resource, Condition), which the CRD cannot see, are tested with
// the ValidatingAdmissionPolicy that checks them, in
// resourcepolicy_admission_test.go.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// rawJSON is a schemaless member holding text, which must be JSON.
func rawJSON(text string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(text)} }

func rawJSONPtr(text string) *apiextensionsv1.JSON { j := rawJSON(text); return &j }

// statement is a well-formed statement with the given Sid.
func statement(sid string) v1alpha1.ResourcePolicyStatement {
	return v1alpha1.ResourcePolicyStatement{
		Sid:       sid,
		Effect:    "Allow",
		Principal: rawJSON(`{"Service":"s3.amazonaws.com"}`),
		Action:    rawJSON(`"lambda:InvokeFunction"`),
		Condition: rawJSONPtr(`{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::my-bucket"},"StringEquals":{"aws:SourceAccount":"123456789012"}}`),
	}
}

// validResourcePolicy is accepted as it is; each invalid case breaks one
// thing in it.
func validResourcePolicy() *v1alpha1.LambdaResourcePolicy {
	return &v1alpha1.LambdaResourcePolicy{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "lrp-", Namespace: namespace},
		Spec: v1alpha1.LambdaResourcePolicySpec{
			FunctionName: "my-function",
			Policy: v1alpha1.ResourcePolicyDocument{
				Statement: []v1alpha1.ResourcePolicyStatement{statement("s3-invoke")},
			},
		},
	}
}

// createResourcePolicy sends obj; when raw is set, as unstructured JSON
// after raw has edited its spec (for what the typed struct cannot say), and
// then sets obj's name to the one the object was given.
func createResourcePolicy(ctx context.Context, obj *v1alpha1.LambdaResourcePolicy, raw func(spec map[string]any)) error {
	if raw == nil {
		return k8sClient.Create(ctx, obj)
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetAPIVersion(v1alpha1.GroupVersion.String())
	u.SetKind("LambdaResourcePolicy")
	spec, ok := content["spec"].(map[string]any)
	if !ok {
		return errors.New("no spec in the unstructured object")
	}
	raw(spec)
	if err := k8sClient.Create(ctx, u); err != nil {
		return err
	}
	obj.Name = u.GetName()
	return nil
}

// firstStatement is the first statement of an unstructured spec.
func firstStatement(spec map[string]any) map[string]any {
	return spec["policy"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
}

const (
	msgSid       = "policy.Statement[].Sid must contain only letters, digits, '-' and '_' (Lambda refuses '.')"
	msgSidUnique = "policy.Statement[].Sid must be unique: each statement needs its own Sid"
)

func TestResourcePolicyBaseObject(t *testing.T) {
	ctx := testContext(t)
	obj := validResourcePolicy()
	if err := createResourcePolicy(ctx, obj, nil); err != nil {
		t.Fatalf("the base object of the invalid cases is refused: %v", err)
	}
	got := &v1alpha1.LambdaResourcePolicy{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	// The defaults.
	if got.Spec.Policy.Version != "2012-10-17" || got.Spec.IncludePermissions == nil || !*got.Spec.IncludePermissions ||
		got.Spec.ManagementPolicy != v1alpha1.ManagementPolicyManage || got.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete {
		t.Errorf("defaults not applied: %+v", got.Spec)
	}
	// The schemaless members come back as they were sent.
	for what, pair := range map[string][2]string{
		"Principal": {string(got.Spec.Policy.Statement[0].Principal.Raw), `{"Service":"s3.amazonaws.com"}`},
		"Action":    {string(got.Spec.Policy.Statement[0].Action.Raw), `"lambda:InvokeFunction"`},
		"Condition": {string(got.Spec.Policy.Statement[0].Condition.Raw), `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::my-bucket"},"StringEquals":{"aws:SourceAccount":"123456789012"}}`},
	} {
		if pair[0] != pair[1] {
			t.Errorf("stored %s = %s, want %s", what, pair[0], pair[1])
		}
	}
}

func TestResourcePolicyInvalidObjectsAreRefused(t *testing.T) {
	withStatements := func(n int) func(*v1alpha1.LambdaResourcePolicy) {
		return func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.Policy.Statement = nil
			for i := range n {
				o.Spec.Policy.Statement = append(o.Spec.Policy.Statement, statement(fmt.Sprintf("s%d", i)))
			}
		}
	}
	tests := []struct {
		name        string
		mutate      func(*v1alpha1.LambdaResourcePolicy)
		raw         func(spec map[string]any)
		field       string
		wantMessage string
	}{
		// functionName, qualifier and region: LambdaPermission's rules.
		{name: "functionName with a space", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = "my function" },
			field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName ARN of another service", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.FunctionName = "arn:aws:s3:us-east-2:123456789012:function:f"
		}, field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName name of 65", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = strings.Repeat("n", 65) },
			field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName on $LATEST", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = "my-function:$LATEST" },
			field: "spec.functionName", wantMessage: msgFunctionLatest},
		{name: "functionName ARN on $LATEST", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = lambdaARN + "f:$LATEST" },
			field: "spec.functionName", wantMessage: msgFunctionLatest},
		{name: "functionName empty", raw: func(spec map[string]any) { spec["functionName"] = "" },
			field: "spec.functionName", wantMessage: tooShort(1)},
		{name: "functionName missing", raw: func(spec map[string]any) { delete(spec, "functionName") },
			field: "spec.functionName", wantMessage: msgRequired},
		{name: "qualifier with a dot", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "v1.2" },
			field: "spec.qualifier", wantMessage: msgQualifier},
		{name: "qualifier $LATEST", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "$LATEST" },
			field: "spec.qualifier", wantMessage: msgQualifierLatest},
		{name: "qualifier other than functionName's suffix", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.FunctionName, o.Spec.Qualifier = "my-function:live", "prod"
		}, field: "spec.qualifier", wantMessage: msgQualifierMatch},
		{name: "qualifier other than the ARN's suffix", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.FunctionName, o.Spec.Qualifier = lambdaARN+"my-function:7", "8"
		}, field: "spec.qualifier", wantMessage: msgQualifierMatch},
		{name: "region upper-case", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "US-EAST-2" },
			field: "spec.region", wantMessage: msgRegion},
		{name: "region other than the ARN's", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.FunctionName, o.Spec.Region = lambdaARN+"my-function", "eu-west-1"
		}, field: "spec.region", wantMessage: "region must be the region in functionName's ARN (or in its REGION: prefix), or be left out"},

		// The policy document.
		{name: "Version 2008", raw: func(spec map[string]any) { spec["policy"].(map[string]any)["Version"] = "2008-10-17" },
			field: "spec.policy.Version", wantMessage: "Unsupported value"},
		{name: "101 statements", mutate: withStatements(101),
			field: "spec.policy.Statement", wantMessage: "must have at most 100 items"},
		{name: "Sid with a dot", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Policy.Statement[0].Sid = "s3.invoke" },
			field: "spec.policy.Statement[0].Sid", wantMessage: msgSid},
		{name: "Sid with a space", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Policy.Statement[0].Sid = "s3 invoke" },
			field: "spec.policy.Statement[0].Sid", wantMessage: msgSid},
		{name: "Sid of a compacted statement", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.Policy.Statement[0].Sid = "compacted-principal-0123456789abcdef"
		}, field: "spec.policy.Statement[0].Sid", wantMessage: "must not end in compacted-<dimension>-<16 hex digits>"},
		{name: "Sid of the second statement with a colon", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.Policy.Statement = append(o.Spec.Policy.Statement, statement("sns:invoke"))
		}, field: "spec.policy.Statement[1].Sid", wantMessage: msgSid},
		{name: "Sid of 101", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Policy.Statement[0].Sid = strings.Repeat("s", 101) },
			field: "spec.policy.Statement[0].Sid", wantMessage: tooLong(100)},
		{name: "Sid empty", raw: func(spec map[string]any) { firstStatement(spec)["Sid"] = "" },
			field: "spec.policy.Statement[0].Sid", wantMessage: tooShort(1)},
		{name: "Sid missing", raw: func(spec map[string]any) { delete(firstStatement(spec), "Sid") },
			field: "spec.policy.Statement[0].Sid", wantMessage: msgRequired},
		{name: "two statements with one Sid", mutate: func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.Policy.Statement = append(o.Spec.Policy.Statement, statement("other"), statement("s3-invoke"))
		}, field: "spec.policy.Statement", wantMessage: msgSidUnique},
		{name: "Effect allow in lower case", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Policy.Statement[0].Effect = "allow" },
			field: "spec.policy.Statement[0].Effect", wantMessage: "Unsupported value"},
		{name: "Effect missing", raw: func(spec map[string]any) { delete(firstStatement(spec), "Effect") },
			field: "spec.policy.Statement[0].Effect", wantMessage: msgRequired},
		{name: "Principal missing", raw: func(spec map[string]any) { delete(firstStatement(spec), "Principal") },
			field: "spec.policy.Statement[0].Principal", wantMessage: msgRequired},
		{name: "Action missing", raw: func(spec map[string]any) { delete(firstStatement(spec), "Action") },
			field: "spec.policy.Statement[0].Action", wantMessage: msgRequired},
		// A null member is dropped before validation: a required one is then missing.
		{name: "Principal null", raw: func(spec map[string]any) { firstStatement(spec)["Principal"] = nil },
			field: "spec.policy.Statement[0].Principal", wantMessage: msgRequired},
		{name: "Action null", raw: func(spec map[string]any) { firstStatement(spec)["Action"] = nil },
			field: "spec.policy.Statement[0].Action", wantMessage: msgRequired},
		{name: "policy missing", raw: func(spec map[string]any) { delete(spec, "policy") },
			field: "spec.policy", wantMessage: msgRequired},

		// The modes.
		{name: "managementPolicy unknown", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.ManagementPolicy = "Adopt" },
			field: "spec.managementPolicy", wantMessage: "Unsupported value"},
		{name: "deletionPolicy unknown", mutate: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.DeletionPolicy = "Orphan" },
			field: "spec.deletionPolicy", wantMessage: "Unsupported value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validResourcePolicy()
			if tt.mutate != nil {
				tt.mutate(obj)
			}
			requireInvalid(t, createResourcePolicy(testContext(t), obj, tt.raw), tt.field, tt.wantMessage)
		})
	}
}

func TestResourcePolicyValidFormsAreAccepted(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*v1alpha1.LambdaResourcePolicy)
	}{
		{"a function ARN", func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = lambdaARN + "my-function" }},
		{"an alias in the ARN and in qualifier", func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.FunctionName, o.Spec.Qualifier = lambdaARN+"my-function:live", "live"
		}},
		{"a version", func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "42" }},
		{"the ARN's region said again", func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.FunctionName, o.Spec.Region = lambdaARN+"my-function", "us-east-2"
		}},
		{"a region with a name", func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "us-gov-west-1" }},
		{"no statements", func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Policy.Statement = nil }},
		{"100 statements", func(o *v1alpha1.LambdaResourcePolicy) {
			// Short ones, so that the policy stays within Lambda's size limit.
			o.Spec.Policy.Statement = nil
			for i := range 100 {
				o.Spec.Policy.Statement = append(o.Spec.Policy.Statement, v1alpha1.ResourcePolicyStatement{
					Sid: fmt.Sprintf("Statement_%03d-x", i), Effect: "Deny", Principal: rawJSON(`"*"`), Action: rawJSON(`"*"`),
				})
			}
		}},
		{"a Deny, Observe, Retain, no included permissions", func(o *v1alpha1.LambdaResourcePolicy) {
			o.Spec.Policy.Statement[0].Effect = "Deny"
			o.Spec.ManagementPolicy = v1alpha1.ManagementPolicyObserve
			o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain
			no := false
			o.Spec.IncludePermissions = &no
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			obj := validResourcePolicy()
			tt.mutate(obj)
			want := obj.Spec.DeepCopy()
			if err := createResourcePolicy(ctx, obj, nil); err != nil {
				t.Fatalf("refused: %v", err)
			}
			got := &v1alpha1.LambdaResourcePolicy{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			if got.Spec.FunctionName != want.FunctionName || got.Spec.Qualifier != want.Qualifier || got.Spec.Region != want.Region ||
				len(got.Spec.Policy.Statement) != len(want.Policy.Statement) {
				t.Errorf("stored spec = %+v, want %+v", got.Spec, want)
			}
		})
	}
}

// A null Resource or Condition is dropped before validation and storage,
// as if it had been left out.
func TestResourcePolicyNullOptionalMembersAreDropped(t *testing.T) {
	ctx := testContext(t)
	obj := validResourcePolicy()
	err := createResourcePolicy(ctx, obj, func(spec map[string]any) {
		firstStatement(spec)["Resource"] = nil
		firstStatement(spec)["Condition"] = nil
		spec["policy"].(map[string]any)["Statement"] = append(spec["policy"].(map[string]any)["Statement"].([]any),
			map[string]any{"Sid": "second", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetFunction", "Resource": nil})
	})
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(v1alpha1.GroupVersion.String())
	u.SetKind("LambdaResourcePolicy")
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), u); err != nil {
		t.Fatal(err)
	}
	statements, _, err := unstructured.NestedSlice(u.Object, "spec", "policy", "Statement")
	if err != nil || len(statements) != 2 {
		t.Fatalf("stored statements %v (%v), want 2", statements, err)
	}
	for i, st := range statements {
		for _, member := range []string{"Resource", "Condition"} {
			if value, ok := st.(map[string]any)[member]; ok {
				t.Errorf("statement %d stored with %s %v, want it dropped", i, member, value)
			}
		}
	}
}

func TestResourcePolicyImmutability(t *testing.T) {
	const (
		msgQualifierImmutable = "qualifier is immutable: it may not be changed, added or removed"
		msgRegionImmutable    = "region is immutable: it may not be changed, added or removed"
	)
	tests := []struct {
		name        string
		initial     func(*v1alpha1.LambdaResourcePolicy)
		update      func(*v1alpha1.LambdaResourcePolicy)
		field       string // empty when the update is allowed
		wantMessage string
	}{
		{name: "functionName changed",
			update: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = "other-function" },
			field:  "spec.functionName", wantMessage: "functionName is immutable"},
		{name: "functionName changed to the same function's ARN",
			update: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.FunctionName = lambdaARN + "my-function" },
			field:  "spec.functionName", wantMessage: "functionName is immutable"},
		{name: "qualifier changed",
			initial: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "1" },
			update:  func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "2" },
			field:   "spec.qualifier", wantMessage: msgQualifierImmutable},
		{name: "qualifier removed",
			initial: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "live" },
			update:  func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "" },
			field:   "spec.qualifier", wantMessage: msgQualifierImmutable},
		{name: "qualifier added",
			update: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier = "live" },
			field:  "spec.qualifier", wantMessage: msgQualifierImmutable},
		{name: "region changed",
			initial: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "us-east-2" },
			update:  func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "eu-west-1" },
			field:   "spec.region", wantMessage: msgRegionImmutable},
		{name: "region removed",
			initial: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "us-east-2" },
			update:  func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "" },
			field:   "spec.region", wantMessage: msgRegionImmutable},
		{name: "region added",
			update: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Region = "us-east-2" },
			field:  "spec.region", wantMessage: msgRegionImmutable},
		{name: "statements, modes and includePermissions changed",
			initial: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Qualifier, o.Spec.Region = "live", "us-east-2" },
			update: func(o *v1alpha1.LambdaResourcePolicy) {
				st := statement("cross-account")
				st.Principal = rawJSON(`{"AWS":["arn:aws:iam::123456789012:root","111122223333"]}`)
				st.Action = rawJSON(`["lambda:InvokeFunction","lambda:GetFunction"]`)
				st.Condition = nil
				o.Spec.Policy.Statement = append(o.Spec.Policy.Statement, st)
				o.Spec.ManagementPolicy = v1alpha1.ManagementPolicyObserve
				o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain
				no := false
				o.Spec.IncludePermissions = &no
			}},
		{name: "every statement removed",
			update: func(o *v1alpha1.LambdaResourcePolicy) { o.Spec.Policy.Statement = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			obj := validResourcePolicy()
			if tt.initial != nil {
				tt.initial(obj)
			}
			if err := createResourcePolicy(ctx, obj, nil); err != nil {
				t.Fatalf("create: %v", err)
			}
			tt.update(obj)
			want := *obj.Spec.DeepCopy()
			err := k8sClient.Update(ctx, obj)
			if tt.field != "" {
				requireInvalid(t, err, tt.field, tt.wantMessage)
				return
			}
			if err != nil {
				t.Fatalf("update refused: %v", err)
			}
			got := &v1alpha1.LambdaResourcePolicy{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(got.Spec, want) {
				t.Errorf("stored spec = %+v, want %+v", got.Spec, want)
			}
		})
	}
}
