package controllers

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// A function URL grant is two LambdaPermissions whose Sids derive from the
// object (or its statementIdPrefix), each valid for Lambda at any name length.
func TestFunctionURLStatements(t *testing.T) {
	for _, tt := range []struct {
		name, namespace, prefix string
		wantSids                [2]string
	}{
		{"site", "web", "", [2]string{"web_site-url", "web_site-invoke"}},
		{"site", "web", "public-site", [2]string{"public-site-url", "public-site-invoke"}},
		{"a.b", "web", "", [2]string{"web_a_b-url", "web_a_b-invoke"}},
		{strings.Repeat("n", 253), strings.Repeat("x", 63), "", [2]string{}},
	} {
		url := &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: tt.name, Namespace: tt.namespace},
			Spec: lambdav1alpha1.LambdaFunctionURLPermissionSpec{FunctionName: "fn", AuthType: "AWS_IAM", Principal: "223456789012",
				StatementIDPrefix: tt.prefix, DeletionPolicy: lambdav1alpha1.DeletionPolicyRetain}}
		children := statementsFor(url)
		if len(children) != 2 {
			t.Fatalf("%d LambdaPermissions, want 2", len(children))
		}
		urlSpec, invokeSpec := children[0].Spec, children[1].Spec
		if tt.wantSids != ([2]string{}) && (urlSpec.StatementID != tt.wantSids[0] || invokeSpec.StatementID != tt.wantSids[1]) {
			t.Errorf("%s/%s: Sids %q, %q; want %v", tt.namespace, tt.name, urlSpec.StatementID, invokeSpec.StatementID, tt.wantSids)
		}
		if urlSpec.Action != "lambda:InvokeFunctionUrl" || urlSpec.FunctionURLAuthType != "AWS_IAM" ||
			invokeSpec.Action != "lambda:InvokeFunction" || !invokeSpec.InvokedViaFunctionURL {
			t.Errorf("specs %+v, %+v", urlSpec, invokeSpec)
		}
		for _, c := range children {
			if c.Spec.DeletionPolicy != lambdav1alpha1.DeletionPolicyRetain || c.Spec.Principal != "223456789012" {
				t.Errorf("%s does not carry the object's deletionPolicy and principal: %+v", c.Name, c.Spec)
			}
			if err := PermissionOf(c.Spec, c.Spec.StatementID).Validate(); err != nil {
				t.Errorf("%s/%s: %s is invalid for Lambda: %v", tt.namespace, tt.name, c.Spec.StatementID, err)
			}
			if _, err := policy.ResolveTarget(c.Spec.FunctionName, c.Spec.Qualifier); err != nil {
				t.Error(err)
			}
		}
	}
}
