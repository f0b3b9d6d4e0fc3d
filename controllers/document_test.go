//go:build integration

package controllers_test

import (
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// The Document strategy writes a policy whole, one PutResourcePolicy for
// the changes of many objects: its call budget, spec changes without a gap,
// and what only a whole document can hold.

func TestDocumentCallBudgets(t *testing.T) {
	queue := startDocumentOperator(t)
	const functionCount, perFunction = 3, 20
	const n = functionCount * perFunction
	b := newCallBudget(t, "docbudget", functionCount, n)
	functions, calls, report := b.functions, b.calls, b.report

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

	b.steadyState(objs)

	// One spec change: one write, and a read if the view has aged.
	fn0 := func() (all, writes int) { return lambdaAPI.CallsTo(functions[0]), lambdaAPI.WritesTo(functions[0]) }
	before, writesBefore := fn0()
	changed := objs[0]
	moveSource(t, changed, functions[0])
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

// AddPermission takes any lambda:Name, a document only the operations a
// function's policy supports. Written whole, a plain Allow of another
// action is refused before any call, naming spec.action, rather than sent
// in a document Lambda would refuse whole; the statements beside it are
// written.
func TestDocumentRefusesAnActionNoDocumentTakes(t *testing.T) {
	startDocumentOperator(t)
	fn := newName("listing")
	newFunction(t, fn)
	refusedBefore := emu.Stats().ByAccount[account].Errors["PutResourcePolicy"]
	listing := documentObject(newName("listing"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "list", Principal: "223456789012", Action: "lambda:ListFunctions"})
	invoke := documentObject(newName("invoke"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "invoke", Principal: "223456789012"})
	createAll(t, []*lambdav1alpha1.LambdaPermission{listing, invoke})
	waitReady(t, invoke)
	got := waitCondition(t, listing, lambdav1alpha1.ConditionStalled, metav1.ConditionTrue, lambdav1alpha1.ReasonInvalidSpec)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); !strings.Contains(c.Message, "spec.action lambda:ListFunctions") {
		t.Errorf("Stalled: %s, want it to name spec.action", c.Message)
	}
	if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != 2 {
		t.Errorf("%d statements, want the foreign one and invoke", len(doc.Statements))
	}
	if refused := emu.Stats().ByAccount[account].Errors["PutResourcePolicy"]; !maps.Equal(refused, refusedBefore) {
		t.Errorf("Lambda refused documents: %v, before %v", refused, refusedBefore)
	}
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{listing, invoke})
}
