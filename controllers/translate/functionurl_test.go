package translate_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// A function URL grant is two LambdaPermissions whose Sids derive from the
// object and the operator's --statement-id-prefix (or are the object's
// statementIdPrefix, as written), each valid for Lambda at any name length
// and unique.
func TestFunctionURLStatements(t *testing.T) {
	long := strings.Repeat("n", 253)
	seen := map[string]string{}
	for _, tt := range []struct {
		name, namespace, prefix, clusterPrefix string
		wantSids                               [2]string
	}{
		{"site", "web", "", "", [2]string{"web_site-url", "web_site-invoke"}},
		{"site", "web", "public-site", "", [2]string{"public-site-url", "public-site-invoke"}},
		{"a.b", "web", "", "", [2]string{"web_a_b-url", "web_a_b-invoke"}},
		{long, strings.Repeat("x", 63), "", "", [2]string{}},
		{"site", "web", "", "east-", [2]string{"east-web_site-url", "east-web_site-invoke"}},
		{"site", "web", "checkout", "east-", [2]string{"checkout-url", "checkout-invoke"}},
		{long, strings.Repeat("x", 63), "", strings.Repeat("p", 32), [2]string{}},
		{long[:252] + "m", strings.Repeat("x", 63), "", strings.Repeat("p", 32), [2]string{}},
		// Between 93 and 100 characters derived: cut with a hash, not bare.
		{strings.Repeat("n", 78) + "a", "web", "", "east-cluster-", [2]string{}},
		{strings.Repeat("n", 78) + "b", "web", "", "east-cluster-", [2]string{}},
	} {
		url := &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: tt.name, Namespace: tt.namespace},
			Spec: lambdav1alpha1.LambdaFunctionURLPermissionSpec{FunctionName: "fn", AuthType: "AWS_IAM", Principal: "223456789012",
				StatementIDPrefix: tt.prefix, DeletionPolicy: lambdav1alpha1.DeletionPolicyRetain}}
		children := translate.FunctionURLPermissions(url, tt.clusterPrefix)
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
			if err := translate.PermissionOf(c.Spec, c.Spec.StatementID).Validate(); err != nil {
				t.Errorf("%s/%s: %s is invalid for Lambda: %v", tt.namespace, tt.name, c.Spec.StatementID, err)
			}
			if !strings.HasPrefix(c.Spec.StatementID, tt.clusterPrefix) && tt.prefix == "" {
				t.Errorf("%s/%s: %s lacks the operator's prefix %q", tt.namespace, tt.name, c.Spec.StatementID, tt.clusterPrefix)
			}
			owner := tt.clusterPrefix + " " + tt.namespace + "/" + tt.name
			if other, dup := seen[c.Spec.StatementID]; dup && other != owner {
				t.Errorf("%s and %s both → %q", owner, other, c.Spec.StatementID)
			}
			seen[c.Spec.StatementID] = owner
			if _, err := policy.ResolveTarget(c.Spec.FunctionName, c.Spec.Qualifier); err != nil {
				t.Error(err)
			}
		}
	}
}

// The LambdaPermissions a function URL grant makes are valid object names
// whenever the grant's own name is within the CRD's bound
// (MaxFunctionURLPermissionNameLength), and the bound is the tightest.
func TestFunctionURLPermissionNamesFit(t *testing.T) {
	for _, tt := range []struct {
		length int
		fit    bool
	}{
		{1, true},
		{lambdav1alpha1.MaxFunctionURLPermissionNameLength, true},
		{lambdav1alpha1.MaxFunctionURLPermissionNameLength + 1, false},
	} {
		url := &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("n", tt.length), Namespace: "web"},
			Spec: lambdav1alpha1.LambdaFunctionURLPermissionSpec{FunctionName: "fn", AuthType: "AWS_IAM", Principal: "223456789012"}}
		var invalid []string
		for _, c := range translate.FunctionURLPermissions(url, "") {
			if errs := validation.IsDNS1123Subdomain(c.Name); len(errs) > 0 {
				invalid = append(invalid, c.Name[tt.length-1:]+": "+strings.Join(errs, "; "))
			}
		}
		if fit := len(invalid) == 0; fit != tt.fit {
			t.Errorf("a name of %d characters: children valid = %v, want %v (%v)", tt.length, fit, tt.fit, invalid)
		}
	}
}
