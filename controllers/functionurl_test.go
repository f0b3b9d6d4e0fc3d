//go:build integration

package controllers_test

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

func functionURL(name, function string, spec lambdav1alpha1.LambdaFunctionURLPermissionSpec) *lambdav1alpha1.LambdaFunctionURLPermission {
	spec.FunctionName = function
	return &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: spec}
}

func waitURLCondition(t *testing.T, url *lambdav1alpha1.LambdaFunctionURLPermission, conditionType string, want metav1.ConditionStatus, reason string) *lambdav1alpha1.LambdaFunctionURLPermission {
	t.Helper()
	got := &lambdav1alpha1.LambdaFunctionURLPermission{}
	eventually(t, url.Name+" "+conditionType+"="+string(want)+"/"+reason, func() string {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(url), got); err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Status.Conditions {
			if c.Type == conditionType {
				if c.Status == want && c.Reason == reason && got.Status.ObservedGeneration == got.Generation {
					return ""
				}
				return conditionString(&c)
			}
		}
		return "without the condition"
	})
	return got
}

func waitURLGone(t *testing.T, url *lambdav1alpha1.LambdaFunctionURLPermission) {
	t.Helper()
	eventually(t, url.Name+" deleted", func() string {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(url), &lambdav1alpha1.LambdaFunctionURLPermission{}); err == nil {
			return "present"
		}
		return ""
	})
}

// One object grants IAM-authenticated access to a function URL: both
// statements AWS requires appear, and both go when the object goes.
func TestFunctionURLPairIsCreatedAndRemovedTogether(t *testing.T) {
	fn := newName("url")
	newFunction(t, fn)
	url := functionURL(newName("site"), fn, lambdav1alpha1.LambdaFunctionURLPermissionSpec{
		AuthType: "AWS_IAM", Principal: "223456789012", StatementIDPrefix: "site"})
	if err := k8s.Create(ctx, url); err != nil {
		t.Fatal(err)
	}
	got := waitURLCondition(t, url, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	if !slices.Equal(got.Status.Permissions, []string{url.Name + "-url", url.Name + "-invoke"}) {
		t.Errorf("status.permissions = %v", got.Status.Permissions)
	}
	doc, _ := storedPolicy(fn, "")
	if got := sids(doc); !slices.Equal(got, []string{"foreign-terraform", "site-invoke", "site-url"}) {
		t.Fatalf("policy Sids = %v", got)
	}
	urlStatement, _ := storedStatement(fn, "", "site-url")
	invokeStatement, _ := storedStatement(fn, "", "site-invoke")
	if !strings.Contains(urlStatement, `"Action":"lambda:InvokeFunctionUrl"`) || !strings.Contains(urlStatement, `"lambda:FunctionUrlAuthType":"AWS_IAM"`) {
		t.Errorf("InvokeFunctionUrl statement = %s", urlStatement)
	}
	if !strings.Contains(invokeStatement, `"Action":"lambda:InvokeFunction"`) || !strings.Contains(invokeStatement, `"Bool":{"lambda:InvokedViaFunctionUrl":"true"}`) {
		t.Errorf("InvokeFunction statement = %s", invokeStatement)
	}
	if s := kstatusOf(t, got); s != "Current" {
		t.Errorf("kstatus = %s, want Current", s)
	}

	if err := k8s.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLGone(t, url)
	doc, _ = storedPolicy(fn, "")
	if got := sids(doc); !slices.Equal(got, []string{"foreign-terraform"}) {
		t.Errorf("after deletion the policy Sids are %v, want only the foreign one", got)
	}
}

// A public URL is refused by default, for both statements, without a call.
func TestPublicFunctionURLNeedsAnAdmin(t *testing.T) {
	fn := newName("public-url")
	newFunction(t, fn)
	url := functionURL(newName("open"), fn, lambdav1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "NONE"})
	if err := k8s.Create(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLCondition(t, url, lambdav1alpha1.ConditionStalled, metav1.ConditionTrue, lambdav1alpha1.ReasonPublicAccessDenied)
	if n := lambdaAPI.CallsTo(fn); n != 0 {
		t.Errorf("%d AWS calls for a refused public URL", n)
	}

	// The admin allows public access in this account: both statements appear.
	declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: account, Access: []lambdav1alpha1.AccountAccessRule{{}},
		Guardrails: lambdav1alpha1.Guardrails{AllowPublicAccess: ptr.To(true)}})
	waitURLCondition(t, url, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	doc, _ := storedPolicy(fn, "")
	if n := len(doc.Statements); n != 3 {
		t.Errorf("%d statements, want the foreign one and the URL pair", n)
	}
	if err := k8s.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
}

// Objects made before the function URL kind had a finalizer of its own carry
// the LambdaPermission's: it is replaced, and deletion still waits for both
// statements to go.
func TestFunctionURLFinalizerIsMigrated(t *testing.T) {
	fn := newName("legacy-url")
	newFunction(t, fn)
	url := functionURL(newName("legacy"), fn, lambdav1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "223456789012"})
	url.Finalizers = []string{lambdav1alpha1.PermissionFinalizer}
	if err := k8s.Create(ctx, url); err != nil {
		t.Fatal(err)
	}
	got := waitURLCondition(t, url, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	if !slices.Equal(got.Finalizers, []string{lambdav1alpha1.FunctionURLFinalizer}) {
		t.Errorf("finalizers %v, want only %s", got.Finalizers, lambdav1alpha1.FunctionURLFinalizer)
	}
	if err := k8s.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLGone(t, url)
	if doc, _ := storedPolicy(fn, ""); !slices.Equal(sids(doc), []string{"foreign-terraform"}) {
		t.Errorf("after deletion the policy Sids are %v, want only the foreign one", sids(doc))
	}
}

// A grant's name leaves room for its LambdaPermissions' -url and -invoke:
// the longest the CRD admits makes both and is Ready; one character more is
// refused at admission, naming metadata.name, rather than admitted and
// left unable to make its second LambdaPermission.
func TestFunctionURLNameLeavesRoomForItsPermissions(t *testing.T) {
	fn := newName("long-url")
	newFunction(t, fn)
	spec := lambdav1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "223456789012"}
	longest := newName("site")
	longest += strings.Repeat("n", lambdav1alpha1.MaxFunctionURLPermissionNameLength-len(longest))

	tooLong := functionURL(longest+"n", fn, spec)
	err := k8s.Create(ctx, tooLong)
	if err == nil || !strings.Contains(err.Error(), "metadata.name must be at most 246 characters") {
		t.Fatalf("creating a grant named with %d characters: %v; want refused, naming metadata.name", len(tooLong.Name), err)
	}

	url := functionURL(longest, fn, spec)
	if err := k8s.Create(ctx, url); err != nil {
		t.Fatal(err)
	}
	got := waitURLCondition(t, url, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	if !slices.Equal(got.Status.Permissions, []string{url.Name + "-url", url.Name + "-invoke"}) {
		t.Errorf("status.permissions = %v", got.Status.Permissions)
	}
	if err := k8s.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLGone(t, url)
}
