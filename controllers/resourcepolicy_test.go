//go:build integration

package controllers_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// raw is a JSON value as the spec's schemaless fields hold it.
func raw(t *testing.T, v any) *apiextensionsv1.JSON {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

// statement is a spec statement from IAM's JSON values.
func statement(t *testing.T, sid, effect string, principal, action any, condition map[string]any) lambdav1alpha1.ResourcePolicyStatement {
	t.Helper()
	st := lambdav1alpha1.ResourcePolicyStatement{Sid: sid, Effect: effect, Principal: *raw(t, principal), Action: *raw(t, action)}
	if condition != nil {
		st.Condition = raw(t, condition)
	}
	return st
}

// The statements the tests declare: a partner account, and a Deny that
// only a whole document can hold.
func partnerStatement(t *testing.T) lambdav1alpha1.ResourcePolicyStatement {
	return statement(t, "partner", "Allow", map[string]any{"AWS": "111122223333"}, "lambda:InvokeFunction", nil)
}

func denyOutsideStatement(t *testing.T) lambdav1alpha1.ResourcePolicyStatement {
	return statement(t, "deny-outside", "Deny", "*", []string{"lambda:InvokeFunction"},
		map[string]any{"NotIpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}})
}

func resourcePolicy(name, function string, statements ...lambdav1alpha1.ResourcePolicyStatement) *lambdav1alpha1.LambdaResourcePolicy {
	return &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: lambdav1alpha1.LambdaResourcePolicySpec{FunctionName: function, Policy: lambdav1alpha1.ResourcePolicyDocument{Statement: statements}}}
}

func getPolicyObject(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	current := &lambdav1alpha1.LambdaResourcePolicy{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), current); err != nil {
		t.Fatalf("getting %s: %v", obj.Name, err)
	}
	return current
}

func updatePolicyObject(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, change func(*lambdav1alpha1.LambdaResourcePolicy)) {
	t.Helper()
	for {
		current := getPolicyObject(t, obj)
		change(current)
		err := k8s.Update(ctx, current)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "the object has been modified") {
			t.Fatalf("updating %s: %v", obj.Name, err)
		}
	}
}

// waitPolicyCondition waits until the object's Ready condition has the
// status and reason at its current generation, and returns the object then.
func waitPolicyCondition(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, want metav1.ConditionStatus, reason string) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	var current *lambdav1alpha1.LambdaResourcePolicy
	eventually(t, fmt.Sprintf("%s Ready=%s/%s", obj.Name, want, reason), func() string {
		current = getPolicyObject(t, obj)
		c := meta.FindStatusCondition(current.Status.Conditions, lambdav1alpha1.ConditionReady)
		switch {
		case c == nil:
			return "without Ready"
		case current.Status.ObservedGeneration != current.Generation:
			return fmt.Sprintf("at observedGeneration %d of %d", current.Status.ObservedGeneration, current.Generation)
		case c.Status != want || c.Reason != reason:
			return fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return ""
	})
	return current
}

// waitPolicySynced waits until the object is Ready with a lastSyncTime after
// since: a sync that began after since found or made the policy as declared.
func waitPolicySynced(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, since time.Time) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	var current *lambdav1alpha1.LambdaResourcePolicy
	eventually(t, obj.Name+" synced", func() string {
		current = waitPolicyCondition(t, obj, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
		if last := current.Status.LastSyncTime; last == nil || last.Time.Before(since.Truncate(time.Second)) {
			return "not synced since " + since.String()
		}
		return ""
	})
	return current
}

// syncPolicyNow asks for a check against a fresh read at once and waits
// until it found or made the policy as declared. lastSyncTime has a
// resolution of a second: a second apart, the check is told from the last.
func syncPolicyNow(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	time.Sleep(1100 * time.Millisecond)
	since := time.Now()
	requestPolicySync(t, obj)
	return waitPolicySynced(t, obj, since)
}

// requestPolicySync asks for a check against a fresh read at once.
func requestPolicySync(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) {
	t.Helper()
	updatePolicyObject(t, obj, func(o *lambdav1alpha1.LambdaResourcePolicy) {
		if o.Annotations == nil {
			o.Annotations = map[string]string{}
		}
		o.Annotations[lambdav1alpha1.SyncRequestedAnnotation] = time.Now().Format(time.RFC3339Nano)
	})
}

func policyEventReasons(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(ctx, &list, client.InNamespace(obj.Namespace)); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == obj.Name && e.Regarding.Kind == "LambdaResourcePolicy" {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

func waitPolicyEvent(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, reason string) {
	t.Helper()
	eventually(t, fmt.Sprintf("event %s on %s", reason, obj.Name), func() string {
		if got := policyEventReasons(t, obj); !slices.Contains(got, reason) {
			return fmt.Sprintf("only %v", got)
		}
		return ""
	})
}

func deletePolicyObject(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) {
	t.Helper()
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	eventually(t, obj.Name+" deleted", func() string {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), &lambdav1alpha1.LambdaResourcePolicy{}); err == nil {
			return "present"
		}
		return ""
	})
}

// putOutside replaces the whole policy as CloudFormation or Terraform would.
func putOutside(t *testing.T, function, document string) {
	t.Helper()
	if _, err := outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(functionARN(function)), Policy: aws.String(document)}); err != nil {
		t.Fatalf("PutResourcePolicy outside on %s: %v", function, err)
	}
}

// writesTo counts the operator's writes to function's policies, by
// operation, from now on.
type writesTo string

func (fn writesTo) since(before map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range lambdaAPI.WritesByOperation(string(fn)) {
		if d := n - before[op]; d != 0 {
			out[op] = d
		}
	}
	return out
}

func (fn writesTo) now() map[string]int { return lambdaAPI.WritesByOperation(string(fn)) }

func wantPolicySids(t *testing.T, function string, want ...string) {
	t.Helper()
	doc, _ := storedPolicy(function, "")
	slices.Sort(want)
	if got := sids(doc); !slices.Equal(got, want) {
		t.Fatalf("policy of %s holds %v, want exactly %v", function, got, want)
	}
}

func waitPolicySids(t *testing.T, function string, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, "policy of "+function, func() string {
		doc, _ := storedPolicy(function, "")
		if got := sids(doc); !slices.Equal(got, want) {
			return fmt.Sprintf("%v, want %v", got, want)
		}
		return ""
	})
}

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
	waitPolicyEvent(t, owner, lambdav1alpha1.EventPolicyWritten)
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

func withKind(obj *lambdav1alpha1.LambdaResourcePolicy) *lambdav1alpha1.LambdaResourcePolicy {
	obj.SetGroupVersionKind(lambdav1alpha1.GroupVersion.WithKind("LambdaResourcePolicy"))
	return obj
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
	updatePolicyObject(t, owner, func(o *lambdav1alpha1.LambdaResourcePolicy) {
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
	// AddPermission each. Lambda is held until every change is queued, so
	// that how the objects trickle in on a busy machine cannot add writes.
	var teams []*lambdav1alpha1.LambdaPermission
	for i := range 5 {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("team-%d", i)
		teams = append(teams, permission(newName("team"), fn, spec))
	}
	before = writesTo(fn).now()
	queued := metricValue(t, "lambda_permission_policy_changes_queued", nil)
	release := lambdaAPI.Hold(fn)
	createAll(t, teams)
	updatePolicyObject(t, owner, func(o *lambdav1alpha1.LambdaResourcePolicy) {
		o.Spec.Policy.Statement = o.Spec.Policy.Statement[:1] // deny-outside goes
	})
	eventually(t, "every change queued", func() string {
		if q := metricValue(t, "lambda_permission_policy_changes_queued", nil); q < queued+6 {
			return fmt.Sprintf("%v changes queued, want %v", q, queued+6)
		}
		return ""
	})
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
	time.Sleep(1100 * time.Millisecond)
	since := time.Now()
	requestPolicySync(t, obj)
	eventually(t, "a second check", func() string {
		c := meta.FindStatusCondition(getPolicyObject(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady)
		if p := getPolicyObject(t, obj).Status.PendingChange; p == nil || p.Time == nil || p.Time.Time.Before(since.Truncate(time.Second)) || c.Reason != lambdav1alpha1.ReasonDriftDetected {
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
	updatePolicyObject(t, obj, func(o *lambdav1alpha1.LambdaResourcePolicy) {
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
	updatePolicyObject(t, owner, func(o *lambdav1alpha1.LambdaResourcePolicy) { o.Spec.IncludePermissions = ptr.To(true) })
	waitReady(t, team)
	waitPolicySids(t, fn, "partner", "s3")
}

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
	waitPolicyEvent(t, owner, lambdav1alpha1.EventDriftCorrected)

	// A whole-document write that replaced everything: the owner restores
	// its statements and takes the stranger out; the team's object restores
	// its own at its next sync.
	putOutside(t, fn, `{"Version":"2012-10-17","Statement":[{"Sid":"stranger","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"`+functionARN(fn)+`"}]}`)
	requestPolicySync(t, owner)
	forceSyncs(t, 1, team)
	waitPolicySids(t, fn, "partner", "s3")
	if stored, _ := storedStatement(fn, "", "s3"); stored != predicted(t, fn, "", s3Spec) {
		t.Errorf("team's statement restored as %s", stored)
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
