//go:build integration

package controllers_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Who may write a LambdaResourcePolicy's policy: one owner at a time, its
// Sids before a LambdaPermission's, and nothing the checks refuse.

func TestResourcePolicyOwnerConflict(t *testing.T) {
	fn := newName("lrp-conflict")
	createFunction(t, fn)
	first := resourcePolicy(newName("first"), fn, partnerStatement(t))
	if err := k8s.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitPolicyCondition(t, first, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has a resolution of a second

	second := resourcePolicy(newName("second"), fn, denyOutsideStatement(t))
	if err := k8s.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	got := waitPolicyCondition(t, second, metav1.ConditionFalse, lambdav1alpha1.ReasonPolicyOwnerConflict)
	if msg := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady).Message; !strings.Contains(msg, "default/"+first.Name) {
		t.Errorf("conflict message %q does not name the owner", msg)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("conflict is not Stalled: %+v", got.Status.Conditions)
	}
	syncPolicyNow(t, first)
	wantPolicySids(t, fn, "partner")

	// The owner goes (its statement with it); the other takes over.
	deletePolicyObject(t, first)
	waitPolicyCondition(t, second, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	wantPolicySids(t, fn, "deny-outside")
}

func TestResourcePolicyStatementWinsOverALambdaPermissionWithItsSid(t *testing.T) {
	fn := newName("lrp-sid")
	createFunction(t, fn)
	owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	ownersPartner, _ := storedStatement(fn, "", "partner")

	// A team's object claims the owner's Sid with another grant: it is
	// refused, and the two do not fight over the statement.
	spec := s3Spec
	spec.StatementID = "partner"
	team := permission(newName("team"), fn, spec)
	create(t, team)
	refused := waitCondition(t, team, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict)
	if msg := meta.FindStatusCondition(refused.Status.Conditions, lambdav1alpha1.ConditionReady).Message; !strings.Contains(msg, "LambdaResourcePolicy default/"+owner.Name) {
		t.Errorf("conflict message %q does not name the owner", msg)
	}
	forceSyncs(t, 1, team)
	syncPolicyNow(t, owner)
	if got, _ := storedStatement(fn, "", "partner"); got != ownersPartner {
		t.Errorf("partner is now %s, was the owner's %s", got, ownersPartner)
	}
	// Deleting the refused object leaves the owner's statement.
	if err := k8s.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitGone(t, team)
	if got, _ := storedStatement(fn, "", "partner"); got != ownersPartner {
		t.Errorf("deleting the refused object left partner as %s", got)
	}
}

func TestResourcePolicyRefusesBeforeAnyWrite(t *testing.T) {
	fn := newName("lrp-refuse")
	createFunction(t, fn)
	before := writesTo(fn).now()
	for _, tt := range []struct {
		name       string
		statement  lambdav1alpha1.ResourcePolicyStatement
		wantReason string
		wantInMsg  string
	}{
		{"an action Lambda does not have", statement(t, "bad-action", "Allow", map[string]any{"AWS": "111122223333"}, "lambda:Invoke", nil),
			lambdav1alpha1.ReasonInvalidSpec, `spec.policy.Statement[0] (Sid "bad-action")`},
		{"another function's resource", func() lambdav1alpha1.ResourcePolicyStatement {
			st := partnerStatement(t)
			st.Resource = raw(t, functionARN("someone-else"))
			return st
		}(), lambdav1alpha1.ReasonInvalidSpec, "Resource"},
		{"public", statement(t, "open", "Allow", "*", "lambda:InvokeFunction", nil), lambdav1alpha1.ReasonPublicAccessDenied, `"open"`},
		{"a service without a source", statement(t, "sns", "Allow", map[string]any{"Service": "sns.amazonaws.com"}, "lambda:InvokeFunction", nil),
			lambdav1alpha1.ReasonSourceRequired, `"sns"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := resourcePolicy(newName("refused"), fn, tt.statement)
			if err := k8s.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
			got := waitPolicyCondition(t, obj, metav1.ConditionFalse, tt.wantReason)
			if msg := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady).Message; !strings.Contains(msg, tt.wantInMsg) {
				t.Errorf("message %q does not say %s", msg, tt.wantInMsg)
			}
			deletePolicyObject(t, obj)
		})
	}
	if w := writesTo(fn).since(before); len(w) != 0 {
		t.Errorf("refused objects wrote %v", w)
	}
}
