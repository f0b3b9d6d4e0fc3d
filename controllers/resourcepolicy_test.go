//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
)

// A LambdaResourcePolicy makes its function's policy exactly its statements
// and, unless it excludes them, the LambdaPermissions' on the policy: one
// PutResourcePolicy per change.

func TestResourcePolicyMakesThePolicyExactlyItsStatementsAndTheIncludedPermissions(t *testing.T) {
	fn := newName("lrp-exact")
	createFunction(t, fn)
	// What others left: a whole-document write and an AddPermission.
	putOutside(t, fn, `{"Version":"2012-10-17","Statement":[{"Sid":"cfn-stack","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+functionARN(fn)+`","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-2:123456789012:topic"}}}]}`)
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("console-grant"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("444455556666")})
	// A team's LambdaPermission, written before any owner exists.
	team := permission(newName("team"), fn, s3Spec)
	create(t, team)
	waitReady(t, team)

	before := writesTo(fn).now()
	owner := resourcePolicy(newName("owner"), fn, partnerStatement(t), denyOutsideStatement(t))
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	got := waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)

	wantPolicySids(t, fn, "partner", "deny-outside", "s3")
	if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
		t.Errorf("writes to make the policy: %v, want one PutResourcePolicy", w)
	}
	doc, _ := storedPolicy(fn, "")
	if st, _ := doc.Find("s3"); st.Raw != predicted(t, fn, "", s3Spec) {
		t.Errorf("the included statement became %s", st.Raw)
	}
	if st, _ := doc.Find("deny-outside"); st.Effect != "Deny" || st.Condition["NotIpAddress"]["aws:SourceIp"][0] != "10.0.0.0/8" {
		t.Errorf("deny-outside stored as %s", st.Raw)
	}
	_, revision, _ := emu.Policy(fn, "")
	s := got.Status
	if s.StatementCount != 3 || s.IncludedStatements != 1 || s.PolicyRevisionID != revision || s.PolicySize == 0 || s.PolicySizeLimit != 20480 ||
		s.ResourceArn != functionARN(fn) || s.PendingChange != nil {
		t.Errorf("status %+v; want 3 statements, 1 included, revision %s, a size, no pending change", s, revision)
	}
	if c := s.LastChange; c == nil || !slices.Equal(c.Added, []string{"partner", "deny-outside"}) || c.Changed != nil ||
		!slices.Equal(c.Removed, []string{"cfn-stack", "console-grant"}) || c.Time == nil {
		t.Errorf("lastChange %+v; want added partner and deny-outside, removed cfn-stack and console-grant", c)
	}
	waitEvent(t, owner, lambdav1alpha1.EventPolicyWritten)
	if st := kstatusOf(t, withKind(got)); st != status.CurrentStatus {
		t.Errorf("kstatus %s, want Current", st)
	}

	// A check in place writes nothing.
	before = writesTo(fn).now()
	syncPolicyNow(t, owner)
	if w := writesTo(fn).since(before); len(w) != 0 {
		t.Errorf("a check of a policy in place wrote %v", w)
	}
	// The team's object keeps its own status.
	if got := waitReady(t, team); got.Status.Statement != predicted(t, fn, "", s3Spec) {
		t.Errorf("team's status.statement %s", got.Status.Statement)
	}
}

func TestResourcePolicyWritesAChangeSetInOnePut(t *testing.T) {
	fn := newName("lrp-changeset")
	createFunction(t, fn)
	owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)

	// One spec change that adds, changes and removes: one write.
	before := writesTo(fn).now()
	update(t, owner, func(o *lambdav1alpha1.LambdaResourcePolicy) {
		changed := statement(t, "partner", "Allow", map[string]any{"AWS": []string{"111122223333", "777788889999"}}, "lambda:InvokeFunction", nil)
		o.Spec.Policy.Statement = []lambdav1alpha1.ResourcePolicyStatement{changed, denyOutsideStatement(t)}
	})
	got := waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
		t.Errorf("writes for one spec change: %v, want one PutResourcePolicy", w)
	}
	if c := got.Status.LastChange; c == nil || !slices.Equal(c.Added, []string{"deny-outside"}) || !slices.Equal(c.Changed, []string{"partner"}) {
		t.Errorf("lastChange %+v", c)
	}

	// Several teams' LambdaPermissions applied together, with the owner's
	// own change: the statements go out in the owner's writes, one Put for
	// the set and at most one more for what came while it was under way,
	// where the account's strategy (Statements) would make one
	// AddPermission each.
	before = writesTo(fn).now()
	teams, release := queueChangeSet(t, fn, owner)
	release()
	for _, team := range teams {
		waitReady(t, team)
	}
	got = waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	w := writesTo(fn).since(before)
	if w["PutResourcePolicy"] < 1 || w["PutResourcePolicy"] > 2 || len(w) != 1 {
		t.Errorf("writes for 5 LambdaPermissions and a spec change: %v, want one or two PutResourcePolicy and nothing else", w)
	}
	t.Logf("5 LambdaPermissions and a spec change: %v", w)
	wantPolicySids(t, fn, "partner", "team-0", "team-1", "team-2", "team-3", "team-4")
	if got.Status.IncludedStatements != 5 || got.Status.StatementCount != 6 {
		t.Errorf("status counts %d statements, %d included; want 6, 5", got.Status.StatementCount, got.Status.IncludedStatements)
	}

	// Deleting a team's object takes out its statement, through the owner.
	before = writesTo(fn).now()
	if err := k8s.Delete(ctx, teams[0]); err != nil {
		t.Fatal(err)
	}
	waitGone(t, teams[0])
	waitPolicySids(t, fn, "partner", "team-1", "team-2", "team-3", "team-4")
	if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
		t.Errorf("writes to delete one LambdaPermission: %v, want one PutResourcePolicy", w)
	}
}

// queueChangeSet holds Lambda, then queues a change of owner's spec (its
// deny-outside goes) and five teams' LambdaPermissions on fn, and returns
// the teams and what releases Lambda. Lambda is held until every change is
// queued, so that how the objects trickle in on a busy machine cannot add
// writes. The owner's change is queued first: a team's LambdaPermission
// queues the owner's plan too, so waiting for the owner's key after the
// teams could see a plan of the spec before the change, and the change's
// own plan come after the write that set left.
func queueChangeSet(t *testing.T, fn string, owner *lambdav1alpha1.LambdaResourcePolicy) ([]*lambdav1alpha1.LambdaPermission, func()) {
	t.Helper()
	var teams []*lambdav1alpha1.LambdaPermission
	for i := range 5 {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("team-%d", i)
		teams = append(teams, permission(newName("team"), fn, spec))
	}
	release := lambdaAPI.Hold(fn)
	update(t, owner, func(o *lambdav1alpha1.LambdaResourcePolicy) {
		o.Spec.Policy.Statement = o.Spec.Policy.Statement[:1] // deny-outside goes
	})
	ownerKey := engine.WriteKey{Kind: engine.ResourcePolicyKind, Object: client.ObjectKeyFromObject(owner)}
	eventually(t, "the owner's change queued", func() string {
		if !suiteQueue.waitingFor(ownerKey) {
			return "not queued"
		}
		return ""
	})
	createAll(t, teams)
	eventually(t, "every team's change queued", func() string {
		if missing := suiteQueue.notWaiting(teams, false); missing > 0 {
			return fmt.Sprintf("%d of the teams' changes not queued", missing)
		}
		return ""
	})
	return teams, release
}

func TestResourcePolicyWithoutIncludedPermissions(t *testing.T) {
	fn := newName("lrp-exclusive")
	createFunction(t, fn)
	team := permission(newName("team"), fn, s3Spec)
	create(t, team)
	waitReady(t, team)

	owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
	owner.Spec.IncludePermissions = ptr.To(false)
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	got := waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	wantPolicySids(t, fn, "partner")
	if got.Status.IncludedStatements != 0 || !slices.Equal(got.Status.LastChange.Removed, []string{"s3"}) {
		t.Errorf("status %+v", got.Status)
	}
	refused := waitCondition(t, team, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonExcludedByPolicyOwner)
	if msg := meta.FindStatusCondition(refused.Status.Conditions, lambdav1alpha1.ConditionReady).Message; !strings.Contains(msg, owner.Name) {
		t.Errorf("exclusion message %q does not name the owner", msg)
	}

	// Including them again brings the statement back.
	update(t, owner, func(o *lambdav1alpha1.LambdaResourcePolicy) { o.Spec.IncludePermissions = ptr.To(true) })
	waitReady(t, team)
	waitPolicySids(t, fn, "partner", "s3")
}
