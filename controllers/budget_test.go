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
	b := newCallBudget(t, "budget", functionCount, n)
	functions, calls, report := b.functions, b.calls, b.report

	// Creating N: a GetFunction per function (bare names), a GetPolicy per
	// function per sync period the creation took (the view ages; on a busy
	// machine creating 60 objects can take longer than one), and one
	// AddPermission per object.
	before, _ := calls()
	began := time.Now()
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
	report("create", after-before, writes, n+functionCount+b.readsSince(began))

	b.steadyState(objs)

	// One spec change on one object: read the revision, remove, add.
	before, writesBefore := calls()
	moveSource(t, objs[0], functions[0])
	after, writes = calls()
	report("one spec change", after-before, writes-writesBefore, 3)

	// Deleting N: one RemovePermission per object, a read per function per
	// sync period, and as many again for the revisions the first removals
	// want.
	before, writesBefore = calls()
	began = time.Now()
	for _, obj := range objs {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range objs {
		waitGone(t, obj)
	}
	after, writes = calls()
	report("delete", after-before, writes-writesBefore, n+functionCount+b.readsSince(began))
	for _, fn := range functions {
		if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != 1 {
			t.Errorf("%s keeps %d statements after deletion, want only the foreign one", fn, len(doc.Statements))
		}
	}
}

// callBudget counts the operator's calls about a test's functions, and
// checks each phase of the test against its budget.
type callBudget struct {
	t         *testing.T
	functions []string // F of them
	objects   int      // N
}

// newCallBudget creates count functions named after prefix, each with a
// statement the operator does not own, for a test of objects objects.
func newCallBudget(t *testing.T, prefix string, count, objects int) *callBudget {
	t.Helper()
	b := &callBudget{t: t, objects: objects}
	for range count {
		fn := newName(prefix)
		newFunction(t, fn)
		b.functions = append(b.functions, fn)
	}
	return b
}

// readsSince is how many policy reads the budget allows since began: one
// per function for each sync period begun since then.
func (b *callBudget) readsSince(began time.Time) int {
	return len(b.functions) * (1 + int(time.Since(began)/syncPeriod))
}

// report logs a phase's calls and fails the test if they are over budget.
func (b *callBudget) report(phase string, all, writes, budget int) {
	b.t.Helper()
	b.t.Logf("%-22s N=%d F=%d: %3d calls (%d reads, %d writes), budget %d", phase, b.objects, len(b.functions), all, all-writes, writes, budget)
	if all > budget {
		b.t.Errorf("%s: %d calls, over the budget of %d", phase, all, budget)
	}
}

// calls counts the operator's calls about the functions so far, and of
// them its writes.
func (b *callBudget) calls() (all, writes int) {
	for _, fn := range b.functions {
		all += lambdaAPI.CallsTo(fn)
		writes += lambdaAPI.WritesTo(fn)
	}
	return all, writes
}

// steadyState checks the steady state: over one sync period, at most one
// GetPolicy per function and no write to Lambda; from Ready on, no write to
// the objects either (a check that finds a statement in place writes no
// status, so resourceVersions stay put).
func (b *callBudget) steadyState(objs []*lambdav1alpha1.LambdaPermission) {
	b.t.Helper()
	// From the moment every object is Ready: each object's first check
	// after it comes finds a policy that others' statements have changed
	// since its own write, and must not write its status for that.
	versions := map[string]string{}
	for _, obj := range objs {
		versions[obj.Name] = get(b.t, obj).ResourceVersion
	}
	time.Sleep(2 * syncPeriod) // every object is checked at least once more
	before, writesBefore := b.calls()
	time.Sleep(syncPeriod)
	after, writes := b.calls()
	b.report("one sync period", after-before, writes-writesBefore, len(b.functions))
	if writes != writesBefore {
		b.t.Errorf("%d writes in steady state, want 0", writes-writesBefore)
	}
	written := 0
	for _, obj := range objs {
		if get(b.t, obj).ResourceVersion != versions[obj.Name] {
			written++
		}
	}
	b.t.Logf("%-22s N=%d: %d objects written", "three sync periods", len(objs), written)
	if written != 0 {
		b.t.Errorf("%d of %d objects written in steady state, want none", written, len(objs))
	}
}

// moveSource changes obj's sourceArn and waits until its statement on
// function is the one the new spec predicts.
func moveSource(t *testing.T, obj *lambdav1alpha1.LambdaPermission, function string) {
	t.Helper()
	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::moved/*" })
	eventually(t, "the change in place", func() string {
		got := get(t, obj)
		if want := predicted(t, function, "", got.Spec); got.Status.Statement != want || got.Status.ObservedGeneration != got.Generation {
			return "status.statement " + got.Status.Statement
		}
		return ""
	})
}
