//go:build integration

package controllers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// otherAccount is a second AWS account, reached by assuming a role in it.
const otherAccount = "210987654321"

// clientIn acts directly in an account, as that account's own admin would.
func clientIn(t *testing.T, accountID string) *lambda.Client {
	t.Helper()
	key, secret := emu.AccessKeyFor(accountID)
	cfg := awsConfig.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
}

func createFunctionIn(t *testing.T, api *lambda.Client, name string) string {
	t.Helper()
	out, err := api.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String("h"),
		Role: aws.String("arn:aws:iam::" + otherAccount + ":role/fn"), Code: &types.FunctionCode{ZipFile: []byte("x")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.FunctionArn)
}

func newNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: newName("team"), Labels: labels}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// expectRefused waits for the refusal and checks that the controller made
// no AWS call about the function, then or a moment later.
func expectRefused(t *testing.T, obj *lambdav1alpha1.LambdaPermission, reason, messagePart string) {
	t.Helper()
	function := functionNameOf(obj.Spec.FunctionName)
	before := lambdaAPI.CallsTo(function)
	create(t, obj)
	got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, reason)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, messagePart) {
		t.Errorf("Stalled = %+v, want True mentioning %q", c, messagePart)
	}
	waitEvent(t, obj, reason)
	time.Sleep(500 * time.Millisecond)
	if n := lambdaAPI.CallsTo(function) - before; n != 0 {
		t.Errorf("%d AWS calls about %s for a refused object, want 0", n, function)
	}
}

func functionNameOf(functionName string) string {
	if i := strings.Index(functionName, ":function:"); i >= 0 {
		functionName = functionName[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(functionName, ":")
	return name
}

func TestGuardrailsRefuseBeforeAnyCall(t *testing.T) {
	fn := newName("guarded")
	newFunction(t, fn)
	t.Run("public", func(t *testing.T) {
		obj := permission(newName("public"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "public", Principal: "*"})
		expectRefused(t, obj, lambdav1alpha1.ReasonPublicAccessDenied, "allowPublicAccess")
	})
	t.Run("public function URL without IAM auth", func(t *testing.T) {
		obj := permission(newName("furl"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "furl", Principal: "*",
			Action: "lambda:InvokeFunctionUrl", FunctionURLAuthType: "NONE"})
		expectRefused(t, obj, lambdav1alpha1.ReasonPublicAccessDenied, "functionUrlAuthType AWS_IAM")
	})
	t.Run("service without source", func(t *testing.T) {
		obj := permission(newName("deputy"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "deputy", Principal: "sns.amazonaws.com"})
		expectRefused(t, obj, lambdav1alpha1.ReasonSourceRequired, "sourceArn or sourceAccount")
	})
	t.Run("narrowed grants pass", func(t *testing.T) {
		for _, spec := range []lambdav1alpha1.LambdaPermissionSpec{
			{StatementID: "org", Principal: "*", PrincipalOrgID: "o-a1b2c3d4e5"},
			{StatementID: "iam-url", Principal: "*", Action: "lambda:InvokeFunctionUrl", FunctionURLAuthType: "AWS_IAM"},
			{StatementID: "sourced", Principal: "sns.amazonaws.com", SourceArn: "arn:aws:sns:us-east-2:123456789012:topic"},
		} {
			obj := permission(newName(spec.StatementID), fn, spec)
			create(t, obj)
			waitReady(t, obj)
		}
	})
}

func TestAccountsAdmitNamespacesAndFunctions(t *testing.T) {
	fn := newName("payments")
	newFunction(t, fn)
	payments := newNamespace(t, map[string]string{"team": "payments"})
	other := newNamespace(t, map[string]string{"team": "web"})
	declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{
		AccountID: account,
		Access: []lambdav1alpha1.AccountAccessRule{{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}},
			Functions:         []string{"payments-*"},
		}},
	})

	t.Run("a selected namespace grants on an allowed function", func(t *testing.T) {
		obj := permission(newName("ok"), fn, s3Spec)
		obj.Namespace = payments
		create(t, obj)
		waitReady(t, obj)
	})
	t.Run("function outside the allow-list", func(t *testing.T) {
		other := newName("billing")
		newFunction(t, other)
		obj := permission(newName("elsewhere"), other, s3Spec)
		obj.Namespace = payments
		expectRefused(t, obj, lambdav1alpha1.ReasonFunctionNotAllowed, "payments-*")
	})
	t.Run("namespace not selected, until an admin labels it", func(t *testing.T) {
		obj := permission(newName("intruder"), fn, s3Spec)
		obj.Spec.StatementID = "web"
		obj.Namespace = other
		expectRefused(t, obj, lambdav1alpha1.ReasonAccountNotAllowed, "namespace "+other)

		var ns corev1.Namespace
		if err := k8s.Get(ctx, client.ObjectKey{Name: other}, &ns); err != nil {
			t.Fatal(err)
		}
		ns.Labels["team"] = "payments"
		if err := k8s.Update(ctx, &ns); err != nil {
			t.Fatal(err)
		}
		waitReady(t, obj)
	})
}

func TestUndeclaredAccountIsRefused(t *testing.T) {
	obj := permission(newName("foreign"), "arn:aws:lambda:us-east-2:"+otherAccount+":function:theirs", s3Spec)
	expectRefused(t, obj, lambdav1alpha1.ReasonAccountNotAllowed, "no LambdaPermissionAccount declares account "+otherAccount)
}

// A function in another account, reached by assuming a role there with an
// external id; its statement is written with the role's credentials.
func TestCrossAccountThroughAnAssumedRole(t *testing.T) {
	role := "arn:aws:iam::" + otherAccount + ":role/lambda-permission-operator"
	if err := emu.AddRole(emulator.Role{ARN: role, ExternalID: "cluster-7", TrustedAccounts: []string{account}}); err != nil {
		t.Fatal(err)
	}
	theirs := clientIn(t, otherAccount)
	fn := newName("partner")
	arn := createFunctionIn(t, theirs, fn)
	acct := declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{
		AccountID: otherAccount, RoleARN: role, ExternalID: "cluster-7", SessionName: "lpo-test",
		Access: []lambdav1alpha1.AccountAccessRule{{}},
	})
	eventually(t, "account Ready", func() string {
		var got lambdav1alpha1.LambdaPermissionAccount
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(acct), &got); err != nil {
			t.Fatal(err)
		}
		c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(got.Status.CallerArn, "assumed-role/lambda-permission-operator/lpo-test") {
			return "not verified: " + got.Status.CallerArn
		}
		return ""
	})

	assumed := emu.Stats().ByAccount[account].Calls["AssumeRole"]
	obj := permission(newName("partner"), arn, s3Spec)
	create(t, obj)
	got := waitReady(t, obj)
	want := predicted(t, fn, "", s3Spec)
	want = strings.ReplaceAll(want, ":"+account+":function:", ":"+otherAccount+":function:")
	if stored, ok := storedStatement(arn, "", "s3"); !ok || stored != want || got.Status.Statement != want {
		t.Fatalf("the other account's policy holds %q (status %q), want %q", stored, got.Status.Statement, want)
	}
	if n := lambdaAPI.WritesTo(fn); n != 1 {
		t.Errorf("%d writes to %s, want 1", n, fn)
	}
	if n := emu.Stats().ByAccount[account].Calls["AssumeRole"] - assumed; n > 1 {
		t.Errorf("%d more AssumeRole calls for one object; credentials should be cached", n)
	}

	t.Run("a refused external id is reported, not retried into a write", func(t *testing.T) {
		bad := declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: "310987654321",
			RoleARN: "arn:aws:iam::310987654321:role/nobody", ExternalID: "wrong", Access: []lambdav1alpha1.AccountAccessRule{{}}})
		eventually(t, "account not Ready", func() string {
			var got lambdav1alpha1.LambdaPermissionAccount
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(bad), &got); err != nil {
				t.Fatal(err)
			}
			if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != lambdav1alpha1.ReasonExternalIDDenied {
				return "condition " + conditionString(c)
			}
			return ""
		})
		obj := permission(newName("unreachable"), "arn:aws:lambda:us-east-2:310987654321:function:f", s3Spec)
		create(t, obj)
		got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonExternalIDDenied)
		if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || !strings.Contains(c.Message, "not authorized to perform: sts:AssumeRole") ||
			!strings.Contains(c.Message, "sts:ExternalId") {
			t.Errorf("Stalled = %s, want AWS's refusal to assume the role, and the external id to check", conditionString(c))
		}
		if n := lambdaAPI.WritesTo("f"); n != 0 {
			t.Errorf("%d writes with an identity that cannot be assumed", n)
		}
	})
}

func TestObserveNeverWrites(t *testing.T) {
	fn := newName("observed")
	newFunction(t, fn)
	spec := s3Spec
	spec.ManagementPolicy = lambdav1alpha1.ManagementPolicyObserve
	obj := permission(newName("watcher"), fn, spec)
	create(t, obj)
	got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonDriftDetected)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady); !strings.Contains(c.Message, "missing") {
		t.Errorf("message %q does not say the statement is missing", c.Message)
	}

	// Someone adds exactly that statement: it is adopted, Ready, no write by us.
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(spec.Action),
		Principal: aws.String(spec.Principal), SourceArn: aws.String(spec.SourceArn), SourceAccount: aws.String(spec.SourceAccount)})
	forceSyncs(t, 1, obj)
	waitReady(t, obj)
	waitEvent(t, obj, lambdav1alpha1.EventAdopted)

	// Then changes it: drift is reported, and still nothing is written.
	removeOutside(t, fn, "s3")
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(spec.Action),
		Principal: aws.String(spec.Principal), SourceArn: aws.String("arn:aws:s3:::other/*")})
	forceSyncs(t, 1, obj)
	got = waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonDriftDetected)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady); !strings.Contains(c.Message, "other/*") {
		t.Errorf("message %q does not show the drifted statement", c.Message)
	}

	// Deleting the object leaves the statement.
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitGone(t, obj)
	if _, ok := storedStatement(fn, "", "s3"); !ok {
		t.Error("deleting an observing object removed the statement")
	}
	if n := lambdaAPI.WritesTo(fn); n != 0 {
		t.Errorf("%d writes by the operator for an Observe object, want 0", n)
	}
}

func TestAdoptionOfAnIdenticalStatement(t *testing.T) {
	fn := newName("adopt")
	newFunction(t, fn)
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(s3Spec.Action),
		Principal: aws.String(s3Spec.Principal), SourceArn: aws.String(s3Spec.SourceArn), SourceAccount: aws.String(s3Spec.SourceAccount)})
	obj := permission(newName("adopter"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)
	waitEvent(t, obj, lambdav1alpha1.EventAdopted)
	if n := lambdaAPI.WritesTo(fn); n != 0 {
		t.Errorf("%d writes to adopt an identical statement, want 0", n)
	}
}

func conditionString(c *metav1.Condition) string {
	if c == nil {
		return "absent"
	}
	return string(c.Status) + "/" + c.Reason + ": " + c.Message
}

// An access rule whose namespaceSelector the API server admits but no label
// selector can be (the CRD keeps metav1.LabelSelector's schema, which the
// API server does not check for custom resources) grants nothing: the
// account says so, naming the rule's field, without a call to AWS; fixed,
// it verifies its identity and is Ready.
func TestUnreadableAccessRuleIsNamed(t *testing.T) {
	const ruledAccount = "510987654321"
	role := "arn:aws:iam::" + ruledAccount + ":role/lambda-permission-operator"
	if err := emu.AddRole(emulator.Role{ARN: role, TrustedAccounts: []string{account}}); err != nil {
		t.Fatal(err)
	}
	acct := declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: ruledAccount, RoleARN: role,
		Access: []lambdav1alpha1.AccountAccessRule{
			{NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}}},
			{NamespaceSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "team", Operator: "Within", Values: []string{"web"}}}}},
		}})
	waitAccount := func(status metav1.ConditionStatus, reason, says string) *lambdav1alpha1.LambdaPermissionAccount {
		t.Helper()
		var got lambdav1alpha1.LambdaPermissionAccount
		eventually(t, "account "+reason, func() string {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(acct), &got); err != nil {
				t.Fatal(err)
			}
			c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady)
			if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, says) || c.ObservedGeneration != got.Generation {
				return "condition " + conditionString(c)
			}
			return ""
		})
		return &got
	}
	if got := waitAccount(metav1.ConditionFalse, lambdav1alpha1.ReasonInvalidSpec,
		`spec.access[1].namespaceSelector: "Within" is not a valid label selector operator`); got.Status.CallerArn != "" {
		t.Errorf("status.callerArn = %s: the identity was checked for an account whose rules cannot be read", got.Status.CallerArn)
	}

	patch := client.MergeFrom(acct.DeepCopy())
	acct.Spec.Access[1].NamespaceSelector.MatchExpressions[0].Operator = metav1.LabelSelectorOpIn
	if err := k8s.Patch(ctx, acct, patch); err != nil {
		t.Fatal(err)
	}
	waitAccount(metav1.ConditionTrue, lambdav1alpha1.ReasonIdentityVerified, "assumed-role/lambda-permission-operator")
}
