//go:build integration

package controllers_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// What deleting a LambdaResourcePolicy does to its policy, by its
// deletionPolicy.

func TestResourcePolicyDeletion(t *testing.T) {
	t.Run("Delete takes out its own statements and leaves the included ones", func(t *testing.T) {
		fn := newName("lrp-delete")
		createFunction(t, fn)
		team := permission(newName("team"), fn, s3Spec)
		create(t, team)
		owner := resourcePolicy(newName("owner"), fn, partnerStatement(t), denyOutsideStatement(t))
		if err := k8s.Create(ctx, owner); err != nil {
			t.Fatal(err)
		}
		waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
		waitReady(t, team)
		waitPolicySids(t, fn, "partner", "deny-outside", "s3")

		before := writesTo(fn).now()
		deletePolicyObject(t, owner)
		wantPolicySids(t, fn, "s3")
		if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
			t.Errorf("writes to delete: %v, want one PutResourcePolicy", w)
		}
		// The team's object is written by its account's strategy again.
		before = writesTo(fn).now()
		update(t, team, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::moved/*" })
		eventually(t, "the team's change", func() string {
			if got := get(t, team); got.Status.ObservedGeneration != got.Generation || !strings.Contains(got.Status.Statement, "moved") {
				return "status.statement " + got.Status.Statement
			}
			return ""
		})
		if w := writesTo(fn).since(before); w["AddPermission"] != 1 || w["PutResourcePolicy"] != 0 {
			t.Errorf("writes after the owner went: %v, want AddPermission (the account's strategy)", w)
		}
	})
	t.Run("Delete with nothing else left deletes the policy", func(t *testing.T) {
		fn := newName("lrp-delete-all")
		createFunction(t, fn)
		owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
		if err := k8s.Create(ctx, owner); err != nil {
			t.Fatal(err)
		}
		waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
		before := writesTo(fn).now()
		deletePolicyObject(t, owner)
		if _, ok := storedPolicy(fn, ""); ok {
			t.Error("the policy is still there")
		}
		if w := writesTo(fn).since(before); w["DeleteResourcePolicy"] != 1 || len(w) != 1 {
			t.Errorf("writes to delete: %v, want one DeleteResourcePolicy", w)
		}
	})
	t.Run("Retain leaves the policy", func(t *testing.T) {
		fn := newName("lrp-retain")
		createFunction(t, fn)
		owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
		owner.Spec.DeletionPolicy = lambdav1alpha1.DeletionPolicyRetain
		if err := k8s.Create(ctx, owner); err != nil {
			t.Fatal(err)
		}
		waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
		policyBefore, _, _ := emu.Policy(fn, "")
		before := writesTo(fn).now()
		deletePolicyObject(t, owner)
		if p, _, _ := emu.Policy(fn, ""); p != policyBefore {
			t.Errorf("Retain changed the policy to %s", p)
		}
		if w := writesTo(fn).since(before); len(w) != 0 {
			t.Errorf("Retain wrote %v", w)
		}
	})
}
