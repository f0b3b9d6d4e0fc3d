package resilience

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambda-permission-operator/lambda-permission-operator/hack/lambda-emulator/emulator"
)

// While the operator converges a namespace's objects onto some functions
// (a third of them replacing an outdated statement under their Sid, which
// takes a RemovePermission guarded by the policy's RevisionId), and keeps
// re-reading them afterwards, someone else edits the same policies every
// 50 ms: Terraform, a deploy script, a colleague in the console, adding and
// removing statements of their own. When they stop, their statements are
// exactly the ones they believe are there (none lost, none altered, none
// resurrected), and all of ours are in place.
func TestConcurrentForeignWriterKeepsItsStatements(t *testing.T) {
	w := newWorld(t, "writer", size.writerFunctions)
	ns := w.namespace("writer")
	startInProcessOperator(t, w, ns, 3*time.Second) // frequent re-reads while the writer writes
	objs := w.permissions(ns, "o", size.writerObjects)
	for i, obj := range objs {
		if i%3 == 0 {
			w.plantStale(obj)
		}
	}
	w.startPhase()

	writer := newForeignWriter(w, 7)
	writerDone := make(chan struct{})
	settled := make(chan struct{})
	go func() {
		defer close(writerDone)
		writer.run(50*time.Millisecond, size.writerMaxOps, settled, size.writerOpsAfter)
	}()
	// Whatever happens below, the writer stops before the test's end.
	var settleOnce sync.Once
	settle := func() { settleOnce.Do(func() { close(settled) }) }
	t.Cleanup(func() { settle(); <-writerDone })

	// Every call takes 0-50 ms, widening the windows between the
	// operator's read of a policy and its writes, and the objects arrive
	// in waves, so that the writer's writes land inside those windows.
	w.setFaults(emulator.Faults{Seed: 7, Operations: map[string]emulator.OperationFaults{
		emulator.AllOperations: {Latency: 25 * time.Millisecond, LatencyJitter: 25 * time.Millisecond}}})
	started := time.Now()
	for _, wave := range batches(objs, 5) {
		createAll(t, wave)
		time.Sleep(500 * time.Millisecond)
	}
	waitAllReady(t, ns, len(objs))
	took := time.Since(started)
	settle()
	<-writerDone

	for _, err := range writer.errors {
		t.Errorf("foreign writer: %v", err)
	}
	want := w.expect(objs).merge(writer.present)
	mismatches := w.requireNoMismatches("after the foreign writer stopped", want)
	w.logFigures("converge-beside-foreign-writer", len(objs), mismatches, writer.calls,
		fmt.Sprintf("allReadyAfter=%s writer[adds=%d removes=%d presentAtEnd=%d failed=%d]",
			took.Round(100*time.Millisecond), writer.calls[emulator.OpAddPermission], writer.calls[emulator.OpRemovePermission],
			writer.presentCount(), len(writer.errors)))

	w.setFaults(emulator.Faults{})
	w.startPhase()
	deleteAll(t, objs)
	waitAllGone(t, ns)
	mismatches = w.requireNoMismatches("after deleting our objects", w.expect().merge(writer.present))
	w.logFigures("delete-beside-foreign-statements", len(objs), mismatches, nil)
}

// foreignWriter adds and removes statements of its own (Sids "foreign-…")
// on the world's functions through an SDK client of its own, and records
// what it believes each policy holds of its statements.
type foreignWriter struct {
	w       *world
	client  *lambda.Client
	rng     *rand.Rand
	present expected   // function → Sid → statement, as Lambda returned it
	calls   callCounts // its own calls, to tell them from the operator's
	errors  []error    // a call that failed: with no faults injected, none should
	next    int        // numbers its Sids
}

// Only the writer's goroutine touches its fields until run returns.

func newForeignWriter(w *world, seed uint64) *foreignWriter {
	// No retries: what it records must be exactly what it did.
	own := lambda.NewFromConfig(w.awsConfig, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	return &foreignWriter{w: w, client: own, rng: rand.New(rand.NewPCG(seed, seed)),
		present: expected{}, calls: callCounts{}}
}

// run writes once every interval: it adds a statement, or (when the
// function has some of its own, half the time) removes one. It stops by
// itself after maxOps writes, or after opsAfter more once settled is closed.
func (f *foreignWriter) run(interval time.Duration, maxOps int, settled <-chan struct{}, opsAfter int) {
	left := -1 // writes left once settled
	for op := 0; op < maxOps && left != 0; op++ {
		select {
		case <-settled:
			if left < 0 {
				left = opsAfter
			}
		default:
		}
		if left > 0 {
			left--
		}
		fn := f.w.functions[f.rng.IntN(len(f.w.functions))]
		if mine := f.present[fn]; len(mine) > 0 && (len(mine) >= 4 || f.rng.IntN(2) == 0) {
			f.remove(fn, slices.Sorted(maps.Keys(mine))[f.rng.IntN(len(mine))])
		} else {
			f.add(fn)
		}
		time.Sleep(interval)
	}
}

func (f *foreignWriter) add(fn string) {
	f.next++
	sid := fmt.Sprintf("foreign-w%05d", f.next)
	f.calls[emulator.OpAddPermission]++
	out, err := f.client.AddPermission(ctx, foreignStatement(fn, sid))
	if err != nil {
		f.errors = append(f.errors, fmt.Errorf("adding %s to %s: %w", sid, fn, err))
		return
	}
	f.present.add(fn, sid, aws.ToString(out.Statement))
}

// remove takes one of its statements out. A 404 here would mean someone
// else (the operator) removed it first.
func (f *foreignWriter) remove(fn, sid string) {
	f.calls[emulator.OpRemovePermission]++
	_, err := f.client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(sid)})
	var notFound *types.ResourceNotFoundException
	if err != nil {
		f.errors = append(f.errors, fmt.Errorf("removing its own %s from %s: %w", sid, fn, err))
	}
	if err == nil || errors.As(err, &notFound) {
		delete(f.present[fn], sid)
	}
}

func (f *foreignWriter) presentCount() int {
	n := 0
	for _, statements := range f.present {
		n += len(statements)
	}
	return n
}
