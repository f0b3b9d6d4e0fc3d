//go:build integration

package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// What keeps a statement from its policy (a Sid someone else holds, a
// function or alias not there yet, a policy that would grow too large), and
// what does not make one in place not Ready (a check that failed).

// claimTwice makes two objects (made by newObject) claim the Sid "shared"
// on fn, the second a second later, and checks that the second is
// refused, Stalled, naming the first.
func claimTwice(t *testing.T, fn string, newObject func(name, function string, spec lambdav1alpha1.LambdaPermissionSpec) *lambdav1alpha1.LambdaPermission) (first, second *lambdav1alpha1.LambdaPermission) {
	t.Helper()
	newFunction(t, fn)
	first = newObject(newName("first"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "shared", Principal: "sns.amazonaws.com", SourceAccount: account})
	create(t, first)
	waitReady(t, first)
	time.Sleep(1100 * time.Millisecond) // creation times have a one-second resolution
	second = newObject(newName("second"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "shared", Principal: "sqs.amazonaws.com", SourceAccount: account})
	create(t, second)

	got := waitCondition(t, second, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, first.Name) {
		t.Errorf("Stalled = %s, want True naming %s", conditionString(c), first.Name)
	}
	return first, second
}

func TestSidConflict(t *testing.T) {
	fn := newName("conflict")
	first, second := claimTwice(t, fn, permission)
	if s := kstatus(t, second); s != status.FailedStatus {
		t.Errorf("kstatus of the loser = %s, want Failed", s)
	}
	waitEvent(t, second, lambdav1alpha1.ReasonSidConflict)

	// Neither flaps: over two sync periods the first keeps its statement
	// and nothing is written.
	before := lambdaAPI.WritesTo(fn)
	time.Sleep(2 * syncPeriod)
	want := predicted(t, fn, "", get(t, first).Spec)
	if stored, _ := storedStatement(fn, "", "shared"); stored != want {
		t.Errorf("policy holds %q, want the first object's %q", stored, want)
	}
	if got := lambdaAPI.WritesTo(fn) - before; got != 0 {
		t.Errorf("%d writes while the conflict stood, want 0", got)
	}
	if s := kstatus(t, first); s != status.CurrentStatus {
		t.Errorf("kstatus of the owner = %s, want Current", s)
	}

	// A loser that asks for exactly the owner's statement is refused too, and
	// deleting it leaves the owner's statement in place.
	removals := lambdaAPI.WritesTo(fn)
	twin := permission(newName("twin"), fn, get(t, first).Spec)
	create(t, twin)
	waitCondition(t, twin, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict)
	if err := k8s.Delete(ctx, twin); err != nil {
		t.Fatal(err)
	}
	waitGone(t, twin)
	if stored, _ := storedStatement(fn, "", "shared"); stored != want {
		t.Errorf("deleting a losing twin left the policy with %q, want the owner's %q", stored, want)
	}
	if n := lambdaAPI.WritesTo(fn) - removals; n != 0 {
		t.Errorf("deleting a losing twin made %d writes, want 0", n)
	}

	// When the first goes, the second takes the Sid over.
	if err := k8s.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	got := waitReady(t, second)
	if stored, _ := storedStatement(fn, "", "shared"); stored != predicted(t, fn, "", got.Spec) {
		t.Errorf("after the owner left, policy holds %q", stored)
	}
}

func TestFunctionNotFoundUntilItAppears(t *testing.T) {
	fn := newName("later")
	notFound := metricValue(t, "lambda_permission_reconcile_errors_total", map[string]string{"reason": "FunctionNotFound"})
	obj := permission(newName("early"), fn, s3Spec)
	create(t, obj)
	got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonFunctionNotFound)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling = %+v, want True while waiting for the function", c)
	}
	if s := kstatus(t, obj); s != status.InProgressStatus {
		t.Errorf("kstatus = %s, want InProgress", s)
	}
	waitEvent(t, obj, lambdav1alpha1.ReasonFunctionNotFound)
	eventually(t, "the failure counted", func() string {
		if got := metricValue(t, "lambda_permission_reconcile_errors_total", map[string]string{"reason": "FunctionNotFound"}); got <= notFound {
			return fmt.Sprintf("reconcile_errors_total{reason=FunctionNotFound} at %v", got)
		}
		return ""
	})

	newFunction(t, fn)
	waitReady(t, obj)
	if s := kstatus(t, obj); s != status.CurrentStatus {
		t.Errorf("kstatus = %s, want Current", s)
	}
}

func TestAliasNotFoundUntilItAppears(t *testing.T) {
	fn := newName("aliased")
	newFunction(t, fn)
	spec := s3Spec
	spec.Qualifier = "live"
	obj := permission(newName("on-alias"), fn, spec)
	create(t, obj)
	waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonFunctionNotFound)
	publishWithAlias(t, fn, "live")
	got := waitReady(t, obj)
	if stored, _ := storedStatement(fn, "live", "s3"); stored != got.Status.Statement || !strings.Contains(stored, ":function:"+fn+":live\"") {
		t.Errorf("alias policy holds %q, status %q", stored, got.Status.Statement)
	}
	if _, onFunction := storedStatement(fn, "", "s3"); onFunction {
		t.Error("the statement landed on the unqualified function too")
	}
}

// Objects that would push a policy past Lambda's 20 KB are refused before
// any write, with PolicyTooLarge; the others are unaffected.
func TestPolicyTooLargeIsRefusedBeforeAnyWrite(t *testing.T) {
	fn := newName("crowded")
	newFunction(t, fn)
	long := "arn:aws:s3:::" + strings.Repeat("b", 1800) + "/*"
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 14 {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("big-%02d", i)
		spec.SourceArn = long
		obj := permission(newName("big"), fn, spec)
		create(t, obj)
		objs = append(objs, obj)
		// One at a time, so which ones fit is deterministic.
		eventually(t, obj.Name+" settled", func() string {
			c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady)
			if c == nil || (c.Status != metav1.ConditionTrue && c.Reason != lambdav1alpha1.ReasonPolicyTooLarge) {
				return conditionString(c)
			}
			return ""
		})
	}
	var ready, tooLarge int
	for _, obj := range objs {
		switch c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady); {
		case c.Status == metav1.ConditionTrue:
			ready++
		case c.Reason == lambdav1alpha1.ReasonPolicyTooLarge && strings.Contains(c.Message, "20480"):
			tooLarge++
		}
	}
	doc, _ := storedPolicy(fn, "")
	size := doc.SizeAfter(nil)
	t.Logf("%d statements in place (policy %d bytes), %d refused as too large", ready, size, tooLarge)
	if ready == 0 || tooLarge == 0 || ready+tooLarge != len(objs) || len(doc.Statements) != ready+1 || size > 20480 {
		t.Errorf("%d ready, %d too large of %d; policy has %d statements, %d bytes", ready, tooLarge, len(objs), len(doc.Statements), size)
	}
	if n := emu.Stats().Errors["AddPermission"]["PolicyLengthExceededException"]; n != 0 {
		t.Errorf("%d AddPermission calls reached Lambda's own size check; the operator should refuse first", n)
	}
}

// A periodic check that cannot read the policy (here every GetPolicy is
// throttled) does not flip a statement that is in place to not Ready: GitOps
// health would flap with every throttle. The failed check is an Event, and
// is retried.
func TestAFailedCheckDoesNotUnreadyAStatementInPlace(t *testing.T) {
	fn := newName("steady")
	newFunction(t, fn)
	obj := permission(newName("steady"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)

	if err := emu.SetFaults(emulator.Faults{Seed: 1, Operations: map[string]emulator.OperationFaults{"GetPolicy": {Throttle: 1}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.SetFaults(emulator.Faults{}) })
	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) {
		o.Annotations = map[string]string{lambdav1alpha1.SyncRequestedAnnotation: time.Now().Format(time.RFC3339Nano)}
	})
	waitEvent(t, obj, lambdav1alpha1.ReasonThrottled)
	if c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s after a throttled check, want True", conditionString(c))
	}
}
