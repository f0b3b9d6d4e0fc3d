//go:build integration

package controllers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// What other writers do to an owned policy: healed at the next sync, or,
// under Observe, reported and left alone.

func TestResourcePolicyHealsForeignWritesAtTheNextSync(t *testing.T) {
	fn := newName("lrp-heal")
	createFunction(t, fn)
	team := permission(newName("team"), fn, s3Spec)
	create(t, team)
	owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	waitReady(t, team)
	waitPolicySids(t, fn, "partner", "s3")

	// An AddPermission someone made: gone at the next sync, in one write.
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("intruder"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("444455556666")})
	before := writesTo(fn).now()
	got := syncPolicyNow(t, owner)
	wantPolicySids(t, fn, "partner", "s3")
	if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
		t.Errorf("writes to heal: %v, want one PutResourcePolicy", w)
	}
	if c := got.Status.LastChange; c == nil || !slices.Equal(c.Removed, []string{"intruder"}) {
		t.Errorf("lastChange %+v", c)
	}
	waitEvent(t, owner, lambdav1alpha1.EventDriftCorrected)

	// A whole-document write that replaced everything: the owner restores
	// its statements and takes the stranger out; the team's object restores
	// its own at its next sync.
	putOutside(t, fn, `{"Version":"2012-10-17","Statement":[{"Sid":"stranger","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"`+functionARN(fn)+`"}]}`)
	requestSync(t, owner)
	forceSyncs(t, 1, team)
	waitPolicySids(t, fn, "partner", "s3")
	if stored, _ := storedStatement(fn, "", "s3"); stored != predicted(t, fn, "", s3Spec) {
		t.Errorf("team's statement restored as %s", stored)
	}
}

func TestResourcePolicyObserveWritesNothingAndReportsWhatManageWould(t *testing.T) {
	fn := newName("lrp-observe")
	createFunction(t, fn)
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("partner"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("999999999999")}) // differs from the declared partner
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("legacy"), Action: aws.String("lambda:GetFunction"),
		Principal: aws.String("444455556666")})
	policyBefore, revisionBefore, _ := emu.Policy(fn, "")

	before := writesTo(fn).now()
	obj := resourcePolicy(newName("observer"), fn, partnerStatement(t), denyOutsideStatement(t))
	obj.Spec.ManagementPolicy = lambdav1alpha1.ManagementPolicyObserve
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := waitPolicyCondition(t, obj, metav1.ConditionFalse, lambdav1alpha1.ReasonDriftDetected)
	pending := got.Status.PendingChange
	if pending == nil || !slices.Equal(pending.Added, []string{"deny-outside"}) || !slices.Equal(pending.Changed, []string{"partner"}) ||
		!slices.Equal(pending.Removed, []string{"legacy"}) {
		t.Errorf("pendingChange %+v; want added deny-outside, changed partner, removed legacy", pending)
	}
	if got.Status.StatementCount != 2 || got.Status.IncludedStatements != 0 || got.Status.PolicySize == 0 {
		t.Errorf("status counts %d statements (%d included), size %d; want the 2 in the policy now", got.Status.StatementCount, got.Status.IncludedStatements, got.Status.PolicySize)
	}
	if msg := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady).Message; !strings.Contains(msg, `add "deny-outside"; change "partner"; remove "legacy"`) {
		t.Errorf("Ready says %q", msg)
	}
	if st := kstatusOf(t, withKind(got)); st != status.FailedStatus {
		t.Errorf("kstatus %s, want Failed (Stalled)", st)
	}
	request := requestSync(t, obj)
	eventually(t, "a second check", func() string {
		current := get(t, obj)
		c := meta.FindStatusCondition(current.Status.Conditions, lambdav1alpha1.ConditionReady)
		if current.Status.LastHandledSyncRequest != request || current.Status.PendingChange == nil || c.Reason != lambdav1alpha1.ReasonDriftDetected {
			return "not checked again"
		}
		return ""
	})
	if w := writesTo(fn).since(before); len(w) != 0 {
		t.Errorf("Observe wrote %v", w)
	}
	if p, r, _ := emu.Policy(fn, ""); p != policyBefore || r != revisionBefore {
		t.Errorf("Observe changed the policy: %s (revision %s → %s)", p, revisionBefore, r)
	}

	// Manage makes exactly the change Observe reported, in one write.
	before = writesTo(fn).now()
	update(t, obj, func(o *lambdav1alpha1.LambdaResourcePolicy) {
		o.Spec.ManagementPolicy = lambdav1alpha1.ManagementPolicyManage
	})
	got = waitPolicyCondition(t, obj, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	if c := got.Status.LastChange; c == nil || !slices.Equal(c.Added, pending.Added) || !slices.Equal(c.Changed, pending.Changed) || !slices.Equal(c.Removed, pending.Removed) {
		t.Errorf("Manage did %+v, Observe reported %+v", c, pending)
	}
	if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
		t.Errorf("writes: %v, want one PutResourcePolicy", w)
	}
	wantPolicySids(t, fn, "partner", "deny-outside")
	if got.Status.PendingChange != nil {
		t.Errorf("pendingChange %+v once in place", got.Status.PendingChange)
	}
}
