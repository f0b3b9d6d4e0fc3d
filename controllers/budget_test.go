//go:build integration

package controllers_test

import (
	"fmt"
	"testing"
	"time"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// The call budget: objects on one function share one view of its policy, so
// N objects over F functions cost about one call each and two per function,
// not one read per object per sync.
func TestCallBudgets(t *testing.T) {
	const functionCount, perFunction = 3, 20
	const n = functionCount * perFunction
	var functions []string
	for range functionCount {
		fn := newName("budget")
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

	// Creating N: a GetFunction and a GetPolicy per function (bare names),
	// and one AddPermission per object.
	before, _ := calls()
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range n {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("budget-%02d", i)
		obj := permission(newName("budget"), functions[i%functionCount], spec)
		create(t, obj)
		objs = append(objs, obj)
	}
	for _, obj := range objs {
		waitReady(t, obj)
	}
	after, writes := calls()
	report("create", after-before, writes, n+2*functionCount)

	// Steady state: over one sync period, at most one GetPolicy per
	// function and no write.
	time.Sleep(2 * syncPeriod) // let the creations' own resyncs pass
	before, writesBefore := calls()
	time.Sleep(syncPeriod)
	after, writes = calls()
	report("one sync period", after-before, writes-writesBefore, functionCount)
	if writes != writesBefore {
		t.Errorf("%d writes in steady state, want 0", writes-writesBefore)
	}

	// One spec change on one object: read the revision, remove, add.
	before, writesBefore = calls()
	changed := objs[0]
	update(t, changed, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::moved/*" })
	eventually(t, "the change in place", func() string {
		got := get(t, changed)
		if want := predicted(t, functions[0], "", got.Spec); got.Status.Statement != want || got.Status.ObservedGeneration != got.Generation {
			return "status.statement " + got.Status.Statement
		}
		return ""
	})
	after, writes = calls()
	report("one spec change", after-before, writes-writesBefore, 3)

	// Deleting N: one RemovePermission per object, a read per function.
	before, writesBefore = calls()
	for _, obj := range objs {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range objs {
		waitGone(t, obj)
	}
	after, writes = calls()
	report("delete", after-before, writes-writesBefore, n+2*functionCount)
	for _, fn := range functions {
		if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != 1 {
			t.Errorf("%s keeps %d statements after deletion, want only the foreign one", fn, len(doc.Statements))
		}
	}
}
