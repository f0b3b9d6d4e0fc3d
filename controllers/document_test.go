//go:build integration

package controllers_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// documentWorkers is the Document operator's workers, as few as the
// suite's: a reconcile does not wait for its policy's write, so a few
// workers feed batches of any size.
const documentWorkers = 4

// startDocumentOperator runs an operator that writes its own account's
// policies with the Document strategy, for objects made by documentObject.
// It returns what the operator's changes wait for.
func startDocumentOperator(t *testing.T) *changeQueue {
	t.Helper()
	queue := &changeQueue{waiting: map[engine.WriteKey]bool{}}
	startOperator(t, "document", documentWorkers, func(o *controllers.Options) {
		o.WriteStrategy = writer.Document
		o.OnQueued = queue.told
	})
	return queue
}

// changeQueue knows which keys' changes (an object's statement, or a
// removal, see engine.WriteKey) wait for their policy's next write.
type changeQueue struct {
	mu      sync.Mutex
	waiting map[engine.WriteKey]bool
}

func (q *changeQueue) told(key engine.WriteKey, waiting bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if waiting {
		q.waiting[key] = true
	} else {
		delete(q.waiting, key)
	}
}

// notWaiting counts the objects with no change waiting: of their own
// statement, or (removal) of a statement they take out.
func (q *changeQueue) notWaiting(objs []*lambdav1alpha1.LambdaPermission, removal bool) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	missing := 0
	for _, obj := range objs {
		found := false
		for key := range q.waiting {
			found = found || (key.Object == client.ObjectKeyFromObject(obj) && (key.Removal != engine.StatementRef{}) == removal)
		}
		if !found {
			missing++
		}
	}
	return missing
}

// documentObject is a LambdaPermission for the Document operator, naming its
// function by ARN (no GetFunction).
func documentObject(name, function string, spec lambdav1alpha1.LambdaPermissionSpec) *lambdav1alpha1.LambdaPermission {
	obj := permission(name, functionARN(function), spec)
	obj.Labels = map[string]string{managerLabel: "document"}
	return obj
}

func functionARN(function string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + function
}

// createAll creates the objects at once, as kubectl apply or a GitOps sync
// of a directory does.
func createAll(t *testing.T, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(objs))
	for _, obj := range objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- k8s.Create(ctx, obj)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestDocumentCallBudgets(t *testing.T) {
	queue := startDocumentOperator(t)
	const functionCount, perFunction = 3, 20
	const n = functionCount * perFunction
	var functions []string
	for range functionCount {
		fn := newName("docbudget")
		newFunction(t, fn)
		functions = append(functions, fn)
	}
	calls := func() (all, writes int) {
		for _, fn := range functions {
			all += lambdaAPI.CallsTo(fn)
			writes += lambdaAPI.WritesTo(fn)
		}
		return all, writes
	}
	report := func(phase string, all, writes, budget int) {
		t.Helper()
		t.Logf("%-22s N=%d F=%d: %3d calls (%d reads, %d writes), budget %d", phase, n, functionCount, all, all-writes, writes, budget)
		if all > budget {
			t.Errorf("%s: %d calls, over the budget of %d", phase, all, budget)
		}
	}

	// Creating N: a GetPolicy and a PutResourcePolicy per function, and one
	// more write for the changes that came while the first was under way.
	// Lambda is held until every object's change is queued, so that how
	// the objects trickle in on a busy machine cannot add writes.
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range n {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("doc-%02d", i)
		objs = append(objs, documentObject(newName("docbudget"), functions[i%functionCount], spec))
	}
	queuedWhile(t, queue, functions, objs, false, func() { createAll(t, objs) })
	for _, obj := range objs {
		waitReady(t, obj)
	}
	after, writes := calls()
	report("create", after, writes, 3*functionCount)
	for i, obj := range objs {
		if stored, _ := storedStatement(functions[i%functionCount], "", obj.Spec.StatementID); stored != predicted(t, functions[i%functionCount], "", obj.Spec) {
			t.Errorf("%s: policy holds %q", obj.Spec.StatementID, stored)
		}
	}

	// Steady state: over one sync period, at most one GetPolicy per
	// function and no write.
	time.Sleep(2 * syncPeriod)
	before, writesBefore := calls()
	time.Sleep(syncPeriod)
	after, writes = calls()
	report("one sync period", after-before, writes-writesBefore, functionCount)
	if writes != writesBefore {
		t.Errorf("%d writes in steady state, want 0", writes-writesBefore)
	}

	// One spec change: one write, and a read if the view has aged.
	fn0 := func() (all, writes int) { return lambdaAPI.CallsTo(functions[0]), lambdaAPI.WritesTo(functions[0]) }
	before, writesBefore = fn0()
	changed := objs[0]
	update(t, changed, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::moved/*" })
	eventually(t, "the change in place", func() string {
		got := get(t, changed)
		if want := predicted(t, functions[0], "", got.Spec); got.Status.Statement != want || got.Status.ObservedGeneration != got.Generation {
			return "status.statement " + got.Status.Statement
		}
		return ""
	})
	after, writes = fn0()
	report("one spec change", after-before, writes-writesBefore, 2)
	waitEvent(t, changed, lambdav1alpha1.EventReplaced)

	// Deleting N: the policies lose our statements in a write or two each
	// (Lambda held likewise until every removal is queued).
	before, writesBefore = calls()
	queuedWhile(t, queue, functions, objs, true, func() {
		for _, obj := range objs {
			if err := k8s.Delete(ctx, obj); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, obj := range objs {
		waitGone(t, obj)
	}
	after, writes = calls()
	report("delete", after-before, writes-writesBefore, 3*functionCount)
	for _, fn := range functions {
		if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != 1 {
			t.Errorf("%s keeps %d statements after deletion, want only the foreign one", fn, len(doc.Statements))
		}
	}
}

// queuedWhile holds the operator's calls about functions while apply runs,
// until every object has a change waiting (its statement, or with suffix
// "#remove" its removal), then lets them through.
func queuedWhile(t *testing.T, queue *changeQueue, functions []string, objs []*lambdav1alpha1.LambdaPermission, removal bool, apply func()) {
	t.Helper()
	release := lambdaAPI.Hold(functions...)
	defer release()
	apply()
	eventually(t, "every object's change queued", func() string {
		if missing := queue.notWaiting(objs, removal); missing > 0 {
			return fmt.Sprintf("%d of %d not queued", missing, len(objs))
		}
		return ""
	})
	// The gauge counts them too (and whatever else waits).
	if q := metricValue(t, "lambda_permission_policy_changes_queued", nil); q < float64(len(objs)) {
		t.Errorf("lambda_permission_policy_changes_queued is %v with %d objects' changes waiting", q, len(objs))
	}
}

// deleteAll deletes the objects at once and waits until they are gone.
func deleteAll(t *testing.T, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	for _, obj := range objs {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range objs {
		waitGone(t, obj)
	}
}

// A spec change is one PutResourcePolicy: a reader polling GetPolicy while
// a hundred changes run never finds a managed statement missing.
func TestDocumentSpecChangesLeaveNoGap(t *testing.T) {
	startDocumentOperator(t)
	fn := newName("nogap")
	newFunction(t, fn)
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 10 {
		objs = append(objs, documentObject(newName("nogap"), fn, lambdav1alpha1.LambdaPermissionSpec{
			StatementID: fmt.Sprintf("grant-%d", i), Principal: "223456789012"}))
	}
	createAll(t, objs)
	for _, obj := range objs {
		waitReady(t, obj)
	}

	var stop atomic.Bool
	var reads, gaps atomic.Int32
	var firstGap atomic.Value
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for !stop.Load() {
			out, err := outside.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
			if err != nil {
				firstGap.CompareAndSwap(nil, err.Error())
				gaps.Add(1)
				continue
			}
			reads.Add(1)
			doc, err := policy.ParsePolicy(aws.ToString(out.Policy))
			if err != nil {
				firstGap.CompareAndSwap(nil, err.Error())
				gaps.Add(1)
				continue
			}
			for _, obj := range objs {
				if _, ok := doc.Find(obj.Spec.StatementID); !ok {
					firstGap.CompareAndSwap(nil, obj.Spec.StatementID+" missing")
					gaps.Add(1)
				}
			}
		}
	}()
	for round := range 10 {
		for _, obj := range objs {
			update(t, obj, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.Principal = fmt.Sprintf("3234567890%02d", round) })
		}
		for _, obj := range objs {
			eventually(t, fmt.Sprintf("round %d of %s", round, obj.Name), func() string {
				got := get(t, obj)
				if got.Status.ObservedGeneration != got.Generation || got.Status.Statement != predicted(t, fn, "", got.Spec) {
					return "status.statement " + got.Status.Statement
				}
				return ""
			})
		}
	}
	stop.Store(true)
	<-polled
	t.Logf("%d reads of the policy during 100 spec changes, %d writes", reads.Load(), lambdaAPI.WritesTo(fn))
	if gaps.Load() != 0 || reads.Load() == 0 {
		t.Errorf("%d reads found a managed statement missing (first: %v), of %d", gaps.Load(), firstGap.Load(), reads.Load())
	}
	deleteAll(t, objs)
}

// What only a document can hold: a Deny with a condition next to an Allow.
// On an account written statement by statement the same object is refused
// before any AWS call.
func TestDocumentHoldsDenyAndConditions(t *testing.T) {
	startDocumentOperator(t)
	fn := newName("denied")
	newFunction(t, fn)
	denySpec := lambdav1alpha1.LambdaPermissionSpec{StatementID: "deny-outside-office", Principal: "*", Effect: lambdav1alpha1.EffectDeny,
		Conditions: []lambdav1alpha1.StatementCondition{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}}
	allowSpec := lambdav1alpha1.LambdaPermissionSpec{StatementID: "office", Principal: "223456789012",
		Conditions: []lambdav1alpha1.StatementCondition{{Operator: "IpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24", "198.51.100.7/32"}}}}
	deny, allow := documentObject(newName("deny"), fn, denySpec), documentObject(newName("allow"), fn, allowSpec)
	createAll(t, []*lambdav1alpha1.LambdaPermission{deny, allow})
	for _, obj := range []*lambdav1alpha1.LambdaPermission{deny, allow} {
		got := waitReady(t, obj)
		stored, _ := storedStatement(fn, "", got.Spec.StatementID)
		if want := predicted(t, fn, "", got.Spec); stored != want || got.Status.Statement != want {
			t.Errorf("%s: stored %q, status %q, want %q", got.Spec.StatementID, stored, got.Status.Statement, want)
		}
	}
	if stored, _ := storedStatement(fn, "", "deny-outside-office"); !strings.Contains(stored, `"Effect":"Deny"`) || !strings.Contains(stored, `"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}`) {
		t.Errorf("the Deny is stored as %s", stored)
	}

	statementsFn := newName("statements")
	newFunction(t, statementsFn)
	refused := permission(newName("refused"), statementsFn, denySpec)
	before := lambdaAPI.CallsTo(statementsFn)
	create(t, refused)
	got := waitCondition(t, refused, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonRequiresDocumentStrategy)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "--write-strategy=Document") {
		t.Errorf("Stalled = %s", conditionString(c))
	}
	if n := lambdaAPI.CallsTo(statementsFn) - before; n != 0 {
		t.Errorf("%d AWS calls for an object the strategy cannot write", n)
	}
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{deny, allow, refused})
	if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != 1 {
		t.Errorf("%d statements left after deletion, want only the foreign one", len(doc.Statements))
	}
}

// The guarantees of the Statements strategy hold, now atomic: adoption
// without a write, Observe never writes, deletion with Retain keeps the
// statement, a foreign Sid is never touched.
func TestDocumentAdoptsObservesAndRetains(t *testing.T) {
	startDocumentOperator(t)
	fn := newName("docadopt")
	newFunction(t, fn)
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(s3Spec.Action),
		Principal: aws.String(s3Spec.Principal), SourceArn: aws.String(s3Spec.SourceArn), SourceAccount: aws.String(s3Spec.SourceAccount)})
	adopted := documentObject(newName("adopter"), fn, s3Spec)
	observeSpec := lambdav1alpha1.LambdaPermissionSpec{StatementID: "watched", Principal: "sns.amazonaws.com", SourceAccount: account,
		ManagementPolicy: lambdav1alpha1.ManagementPolicyObserve}
	observed := documentObject(newName("watcher"), fn, observeSpec)
	retainSpec := lambdav1alpha1.LambdaPermissionSpec{StatementID: "kept", Principal: "sqs.amazonaws.com", SourceAccount: account,
		DeletionPolicy: lambdav1alpha1.DeletionPolicyRetain}
	retained := documentObject(newName("retained"), fn, retainSpec)
	createAll(t, []*lambdav1alpha1.LambdaPermission{adopted, observed})
	waitReady(t, adopted)
	waitEvent(t, adopted, lambdav1alpha1.EventAdopted)
	waitCondition(t, observed, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonDriftDetected)
	if n := lambdaAPI.WritesTo(fn); n != 0 {
		t.Errorf("%d writes to adopt one statement and observe another, want 0", n)
	}

	create(t, retained)
	waitReady(t, retained)
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{adopted, observed, retained})
	doc, _ := storedPolicy(fn, "")
	if got := sids(doc); strings.Join(got, ",") != "foreign-terraform,kept" {
		t.Errorf("policy Sids after deletion = %v, want foreign-terraform and kept", got)
	}
}

// The Statements strategy's other guarantees hold when the policy is
// written whole: a Sid two objects claim goes to the older one and nothing
// flaps; a statement removed outside is restored with one write; and a
// batch that would push the document past Lambda's 20,480 bytes is cut
// before it is written, not refused by Lambda.
func TestDocumentKeepsTheGuarantees(t *testing.T) {
	startDocumentOperator(t)

	t.Run("SidConflict", func(t *testing.T) {
		fn := newName("docconflict")
		newFunction(t, fn)
		first := documentObject(newName("first"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "shared", Principal: "sns.amazonaws.com", SourceAccount: account})
		create(t, first)
		waitReady(t, first)
		time.Sleep(1100 * time.Millisecond) // creation times have a one-second resolution
		second := documentObject(newName("second"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "shared", Principal: "sqs.amazonaws.com", SourceAccount: account})
		create(t, second)
		got := waitCondition(t, second, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict)
		if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, first.Name) {
			t.Errorf("Stalled = %s, want True naming %s", conditionString(c), first.Name)
		}
		writes := lambdaAPI.WritesTo(fn)
		forceSyncs(t, 1, first, second)
		if stored, _ := storedStatement(fn, "", "shared"); stored != predicted(t, fn, "", first.Spec) {
			t.Errorf("policy holds %q, want the first object's statement", stored)
		}
		if n := lambdaAPI.WritesTo(fn) - writes; n != 0 {
			t.Errorf("%d writes while the conflict stood, want 0", n)
		}
		deleteAll(t, []*lambdav1alpha1.LambdaPermission{second, first})
	})

	t.Run("drift healed with one write", func(t *testing.T) {
		fn := newName("docdrift")
		newFunction(t, fn)
		obj := documentObject(newName("s3"), fn, s3Spec)
		create(t, obj)
		want := waitReady(t, obj).Status.Statement
		writes := lambdaAPI.WritesTo(fn)
		removeOutside(t, fn, "s3")
		forceSyncs(t, 1, obj)
		if stored, _ := storedStatement(fn, "", "s3"); stored != want {
			t.Errorf("policy holds %q, want %q", stored, want)
		}
		if n := lambdaAPI.WritesTo(fn) - writes; n != 1 {
			t.Errorf("%d writes to restore one statement, want 1", n)
		}
		waitEvent(t, obj, lambdav1alpha1.EventDriftCorrected)
		deleteAll(t, []*lambdav1alpha1.LambdaPermission{obj})
	})

	t.Run("PolicyTooLarge before the write", func(t *testing.T) {
		fn := newName("doccrowded")
		newFunction(t, fn)
		long := "arn:aws:s3:::" + strings.Repeat("b", 1800) + "/*"
		var objs []*lambdav1alpha1.LambdaPermission
		for i := range 14 {
			spec := s3Spec
			spec.StatementID = fmt.Sprintf("big-%02d", i)
			spec.SourceArn = long
			objs = append(objs, documentObject(newName("big"), fn, spec))
		}
		refusedBefore := emu.Stats().Errors["PutResourcePolicy"]["PolicyLengthExceededException"]
		createAll(t, objs) // at once: they meet in one batch
		var ready, tooLarge int
		eventually(t, "every object Ready or PolicyTooLarge", func() string {
			ready, tooLarge = 0, 0
			for _, obj := range objs {
				c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady)
				switch {
				case c == nil:
					return obj.Name + " has no status yet"
				case c.Status == metav1.ConditionTrue:
					ready++
				case c.Reason == lambdav1alpha1.ReasonPolicyTooLarge && strings.Contains(c.Message, "20480"):
					tooLarge++
				default:
					return obj.Name + ": " + conditionString(c)
				}
			}
			return ""
		})
		doc, _ := storedPolicy(fn, "")
		size := doc.SizeAfter(nil)
		t.Logf("%d statements in place (policy %d bytes), %d refused as too large", ready, size, tooLarge)
		if ready == 0 || tooLarge == 0 || len(doc.Statements) != ready+1 || size > policy.MaxPolicySize {
			t.Errorf("%d ready, %d too large of %d; policy has %d statements, %d bytes", ready, tooLarge, len(objs), len(doc.Statements), size)
		}
		if n := emu.Stats().Errors["PutResourcePolicy"]["PolicyLengthExceededException"] - refusedBefore; n != 0 {
			t.Errorf("%d PutResourcePolicy calls reached Lambda's own size check; the operator should cut the batch first", n)
		}
		deleteAll(t, objs)
	})
}
