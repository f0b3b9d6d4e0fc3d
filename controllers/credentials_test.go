//go:build integration

package controllers_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// Credentials that AWS refuses are the operator's to fix, not the
// object's: the account and the object both say so with
// CredentialsInvalid, nothing is written, the refusals are counted, and
// once AWS takes the credentials again a sync request puts the statement
// in place.
func TestRefusedCredentialsAreNamedAndRecovered(t *testing.T) {
	const expiredAccount = "410987654321"
	role := "arn:aws:iam::" + expiredAccount + ":role/lambda-permission-operator"
	if err := emu.AddRole(emulator.Role{ARN: role, TrustedAccounts: []string{account}}); err != nil {
		t.Fatal(err)
	}
	fn := newName("expiring")
	arn := createFunctionIn(t, clientIn(t, expiredAccount), fn)
	// The sessions of the role are refused, as when AWS revokes them.
	emu.FailCredentials(expiredAccount, emulator.CredentialsExpired)
	t.Cleanup(func() { emu.FailCredentials(expiredAccount, "") })

	acct := declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: expiredAccount, RoleARN: role,
		Access: []lambdav1alpha1.AccountAccessRule{{}}})
	eventually(t, "account CredentialsInvalid", func() string {
		var got lambdav1alpha1.LambdaPermissionAccount
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(acct), &got); err != nil {
			t.Fatal(err)
		}
		c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != lambdav1alpha1.ReasonCredentialsInvalid || !strings.Contains(c.Message, "session as "+role) {
			return "condition " + conditionString(c)
		}
		return ""
	})
	refused := metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"outcome": "InvalidCredentials", "account": expiredAccount})
	if refused == 0 {
		t.Errorf("no call counted as InvalidCredentials in %s", expiredAccount)
	}

	obj := permission(newName("expiring"), arn, s3Spec)
	create(t, obj)
	got := waitCondition(t, obj, lambdav1alpha1.ConditionStalled, metav1.ConditionTrue, lambdav1alpha1.ReasonCredentialsInvalid)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); !strings.Contains(c.Message, "ExpiredToken") {
		t.Errorf("Stalled: %s, want AWS's ExpiredToken", c.Message)
	}
	if n := lambdaAPI.WritesTo(fn); n != 0 {
		t.Errorf("%d writes with refused credentials", n)
	}

	emu.FailCredentials(expiredAccount, "")
	requestSync(t, obj)
	waitReady(t, obj)
	if _, ok := storedStatement(arn, "", get(t, obj).Status.StatementID); !ok {
		t.Errorf("the statement is not in %s's policy once the credentials work", fn)
	}
}
