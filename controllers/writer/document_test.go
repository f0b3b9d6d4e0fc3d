package writer_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// The Document strategy against the emulator's whole-document API.

func (w *world) document(target policy.FunctionRef) writer.Writer[string] {
	return w.writerWith(target, writer.Document)
}

// writeAll runs the Writes at once, as objects applied together are
// reconciled, and fails the test on any error.
func writeAll(t *testing.T, writers []writer.Writer[string], planners []writer.Planner) []writer.Applied {
	t.Helper()
	applied := make([]writer.Applied, len(planners))
	errs := make([]error, len(planners))
	var wg sync.WaitGroup
	for i := range planners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = writers[i].Write(ctx, nextKey(), hourly, planners[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return applied
}

func TestDocumentBatchesConcurrentWrites(t *testing.T) {
	w := newWorld(t)
	fn := w.function("batched")
	const n = 40
	var queued, peak atomic.Int64
	w.writers.Queued = func(_ string, waiting bool) {
		delta := int64(-1)
		if waiting {
			delta = 1
		}
		now := queued.Add(delta)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
	}
	var runs int32
	var writers []writer.Writer[string]
	var planners []writer.Planner
	for i := range n {
		put := grant(fn, fmt.Sprintf("grant-%02d", i), "223456789012")
		writers = append(writers, w.document(fn))
		planners = append(planners, func(o writer.Observed) writer.Plan {
			atomic.AddInt32(&runs, 1)
			if _, found := o.Document.Find(put.Permission.StatementID); found {
				return writer.Plan{}
			}
			return writer.Plan{Puts: []writer.Put{put}}
		})
	}
	// The batch is sealed when its turn at the quota comes: every plan
	// that reached the policy while it waited shares the one write.
	w.turnWhenQueued(n)
	applied := writeAll(t, writers, planners)
	puts, reads := w.port.count("PutResourcePolicy"), w.port.count("GetPolicy")
	t.Logf("%d objects: %d GetPolicy, %d PutResourcePolicy", n, reads, puts)
	if reads != 1 || puts != 1 || w.port.count("AddPermission") != 0 {
		t.Errorf("%d GetPolicy and %d PutResourcePolicy for %d objects queued before the write's turn; want 1 and 1", reads, puts, n)
	}
	if queued.Load() != 0 || peak.Load() < 2 || peak.Load() > n {
		t.Errorf("Queued counted %d plans still queued after the writes, at most %d at once; want 0, and between 2 and %d", queued.Load(), peak.Load(), n)
	}
	stored := w.stored("batched")
	for i, a := range applied {
		sid := fmt.Sprintf("grant-%02d", i)
		if len(a.Writes) != 1 || a.Writes[0].Operation != "PutResourcePolicy" || a.Writes[0].Change != writer.Added || a.Writes[0].Stored != stored[sid] || stored[sid] == "" {
			t.Errorf("%s: applied %+v, stored %q", sid, a.Writes, stored[sid])
		}
	}
	if len(stored) != n+1 {
		t.Errorf("%d statements stored, want %d and the foreign one", len(stored), n)
	}
}

// A replacement is one write: a reader polling the policy never sees the
// statement missing, while a Statements replacement (remove, then add)
// leaves a gap.
func TestDocumentReplacementHasNoGap(t *testing.T) {
	for _, strategy := range []writer.Strategy{writer.Document, writer.Statements} {
		t.Run(string(strategy), func(t *testing.T) {
			w := newWorld(t)
			fn := w.function("nogap")
			var runs int
			if _, err := w.writerWith(fn, strategy).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs)); err != nil {
				t.Fatal(err)
			}
			var stop atomic.Bool
			var reads, absent atomic.Int32
			done := make(chan struct{})
			go func() {
				defer close(done)
				for !stop.Load() {
					reads.Add(1)
					if _, ok := w.stored("nogap")["x"]; !ok {
						absent.Add(1)
					}
				}
			}()
			w.port.before("AddPermission", func() { // between a Statements replacement's remove and add
				if _, ok := w.stored("nogap")["x"]; !ok {
					absent.Add(1)
				}
			})
			for i := range 20 {
				if _, err := w.writerWith(fn, strategy).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", fmt.Sprintf("3234567890%02d", i)), &runs)); err != nil {
					t.Fatal(err)
				}
			}
			stop.Store(true)
			<-done
			t.Logf("%s: %d reads, %d saw x missing", strategy, reads.Load(), absent.Load())
			switch {
			case strategy == writer.Document && absent.Load() != 0:
				t.Errorf("a reader saw the statement missing %d times during Document replacements", absent.Load())
			case strategy == writer.Statements && absent.Load() == 0:
				t.Error("the Statements replacement left no gap: this test cannot tell the two apart")
			}
			if !strings.Contains(w.stored("nogap")["x"], "323456789019") {
				t.Errorf("policy holds %s", w.stored("nogap")["x"])
			}
		})
	}
}

// Another writer changes the policy between the read and the Put: Lambda
// answers 412, the batch reads again and merges again, and the other
// writer's statement is in the document it writes.
func TestDocumentStaleRevisionMergesAgain(t *testing.T) {
	w := newWorld(t)
	fn := w.function("doc412")
	var concurrent string
	w.port.before("PutResourcePolicy", func() { concurrent = w.addOutside("doc412", "console", "sns.amazonaws.com") })
	var runs int
	applied, err := w.document(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.port.operations(); !slices.Equal(got, []string{"GetPolicy", "PutResourcePolicy", "GetPolicy", "PutResourcePolicy"}) {
		t.Errorf("calls %v", got)
	}
	if n := w.emu.Stats().Errors["PutResourcePolicy"]["PreconditionFailedException"]; n != 1 || runs != 2 {
		t.Errorf("%d 412s, %d plans; want 1 and 2", n, runs)
	}
	stored := w.stored("doc412")
	if stored["console"] != concurrent || stored["x"] == "" || len(applied.Writes) != 1 {
		t.Errorf("policy %v, applied %+v", stored, applied.Writes)
	}
}

func TestDocumentGivesUpWhenThePolicyKeepsChanging(t *testing.T) {
	w := newWorld(t)
	fn := w.function("docchurn")
	churn := 0
	var interfere func()
	interfere = func() {
		churn++
		w.addOutside("docchurn", fmt.Sprintf("churn-%d", churn), "sns.amazonaws.com")
		w.port.before("PutResourcePolicy", interfere)
	}
	w.port.before("PutResourcePolicy", interfere)
	var runs int
	_, err := w.document(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs))
	if awslambda.KindOf(err) != awslambda.StaleRevision || !strings.Contains(err.Error(), "with PutResourcePolicy") {
		t.Fatalf("err = %v, want a StaleRevision while writing", err)
	}
	if n := w.port.count("PutResourcePolicy"); n != 4 {
		t.Errorf("%d guarded writes tried, want 4", n)
	}
	if _, ok := w.stored("docchurn")["x"]; ok {
		t.Error("a document built from a stale read was written")
	}
}

// What only a document holds, and a removal that leaves the policy empty
// deletes it under its revision.
func TestDocumentDenyConditionsAndRemoval(t *testing.T) {
	w := newWorld(t)
	fn := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "lone"}
	w.create("lone")
	deny := policy.Permission{StatementID: "deny-outside", Action: "lambda:InvokeFunction", Principal: "*", Effect: policy.EffectDeny,
		Conditions: []policy.ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}}
	var runs int
	if _, err := w.document(fn).Write(ctx, nextKey(), hourly, ensure(writer.Put{Permission: deny, Statement: policy.DesiredStatement(fn, deny)}, &runs)); err != nil {
		t.Fatal(err)
	}
	if got := w.stored("lone")["deny-outside"]; got != policy.DesiredStatement(fn, deny).Render() {
		t.Errorf("stored %s", got)
	}
	if w.port.calls[1].revision != "" {
		t.Errorf("the first document of a function without a policy was sent with RevisionId %q", w.port.calls[1].revision)
	}
	applied, err := w.document(fn).Write(ctx, nextKey(), hourly, remove("deny-outside"))
	if err != nil || len(applied.Writes) != 1 || applied.Writes[0].Operation != "DeleteResourcePolicy" || applied.Writes[0].Change != writer.Removed {
		t.Fatalf("applied %+v, err %v", applied.Writes, err)
	}
	if _, _, ok := w.emu.Policy("lone", ""); ok {
		t.Error("the empty policy was not deleted")
	}
	if last := w.port.calls[len(w.port.calls)-1]; last.revision == "" {
		t.Error("the policy was deleted without its revision")
	}
}

// Statements written by AddPermission leave the revision unknown: the
// Document strategy reads again before it writes.
func TestDocumentAfterStatementsReadsTheRevision(t *testing.T) {
	w := newWorld(t)
	fn := w.function("mixed")
	var runs int
	if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "a", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	w.port.reset()
	if _, err := w.document(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "b", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	if got := w.port.operations(); !slices.Equal(got, []string{"GetPolicy", "PutResourcePolicy"}) || w.port.calls[1].revision == "" {
		t.Errorf("calls %+v; want a read, then a guarded write", w.port.calls)
	}
	if stored := w.stored("mixed"); stored["a"] == "" || stored["b"] == "" {
		t.Errorf("policy %v", stored)
	}
}

// Plans of one batch see each other's changes: the second of two large
// statements is refused by its own planner, and nothing is lost.
func TestDocumentPlansSeeTheBatch(t *testing.T) {
	w := newWorld(t)
	fn := w.function("sized")
	big := func(sid string) writer.Put {
		p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceAccount: account,
			SourceArn: "arn:aws:s3:::" + strings.Repeat("b", 12000)}
		return writer.Put{Permission: p, Statement: policy.DesiredStatement(fn, p)}
	}
	var refused atomic.Int32
	sized := func(put writer.Put) writer.Planner {
		return func(o writer.Observed) writer.Plan {
			if _, found := o.Document.Find(put.Permission.StatementID); found {
				return writer.Plan{}
			}
			if o.Document.SizeAfter(nil, put.Statement) > policy.MaxPolicySize {
				refused.Add(1)
				return writer.Plan{}
			}
			return writer.Plan{Puts: []writer.Put{put}}
		}
	}
	writeAll(t, []writer.Writer[string]{w.document(fn), w.document(fn)}, []writer.Planner{sized(big("one")), sized(big("two"))})
	stored := w.stored("sized")
	if refused.Load() < 1 || (stored["one"] == "") == (stored["two"] == "") {
		t.Errorf("refused %d; stored one %v, two %v: want exactly one", refused.Load(), stored["one"] != "", stored["two"] != "")
	}
}

// Lambda refuses what one statement of a batch says: the others are still
// written, and only that Write fails.
func TestDocumentOneRefusedStatementDoesNotHoldBackTheBatch(t *testing.T) {
	w := newWorld(t)
	fn := w.function("poisoned")
	good := grant(fn, "good", "223456789012")
	bad := grant(fn, "bad", "223456789012")
	bad.Statement.Principal = policy.Principal{IDs: map[string][]string{"AWS": {"not-an-account"}}} // Lambda refuses this principal
	var runs int
	planners := []writer.Planner{ensure(good, &runs), ensure(bad, &runs)}
	w.turnWhenQueued(len(planners))
	results := make([]error, 2)
	var wg sync.WaitGroup
	for i := range planners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = w.document(fn).Write(ctx, nextKey(), hourly, planners[i])
		}()
	}
	wg.Wait()
	if results[0] != nil || awslambda.KindOf(results[1]) != awslambda.Invalid {
		t.Fatalf("good: %v; bad: %v (want nil and Invalid)", results[0], results[1])
	}
	stored := w.stored("poisoned")
	if stored["good"] == "" || stored["bad"] != "" {
		t.Errorf("policy %v: want good and not bad", stored)
	}
	// Together (refused), then each alone: the good one written, the bad
	// one refused again.
	if n, puts := w.emu.Stats().Errors["PutResourcePolicy"]["InvalidParameterValueException"], w.port.count("PutResourcePolicy"); n != 2 || puts != 3 {
		t.Errorf("%d Puts, %d refused; want 3 and 2", puts, n)
	}
}

// A Document Write that needs the policy written does not wait for it: it
// queues its plan, the batch wakes its key when done, and the key's next
// Write returns what was written, with the decision it was made from
// (WriteDecided). A key's later plan
// replaces its queued one; a check with nothing to write is answered at once.
func TestDocumentQueuesAndWakes(t *testing.T) {
	w := newWorld(t)
	fn := w.function("queued")
	raw := w.writers.For(w.port, fn, writer.Document)
	noted := func(put writer.Put, note string) writer.Decider[string] {
		var runs int
		ensured := ensure(put, &runs)
		return func(o writer.Observed) (writer.Plan, string) { return ensured(o), note }
	}
	woken := w.expectWake("obj")
	release := w.holdFirstTurn()
	defer release()
	if _, _, err := writer.WriteDecided(ctx, raw, "obj", hourly, noted(grant(fn, "x", "223456789012"), "first")); !errors.Is(err, writer.ErrQueued) {
		t.Fatalf("err = %v, want ErrQueued", err)
	}
	// Before the batch closes (its write waits for its turn), the object's
	// spec changes: its new plan replaces the queued one.
	if _, _, err := writer.WriteDecided(ctx, raw, "obj", hourly, noted(grant(fn, "x", "323456789012"), "second")); !errors.Is(err, writer.ErrQueued) {
		t.Fatalf("err = %v, want ErrQueued", err)
	}
	release()
	select {
	case <-woken:
	case <-time.After(10 * time.Second):
		t.Fatal("never woken")
	}
	applied, note, err := writer.WriteDecided(ctx, raw, "obj", hourly, noted(grant(fn, "x", "323456789012"), "third"))
	if err != nil || len(applied.Writes) != 1 || note != "second" || !strings.Contains(applied.Writes[0].Stored, "323456789012") {
		t.Fatalf("applied %+v, note %q, err %v; want the second plan, written once", applied, note, err)
	}
	if puts := w.port.count("PutResourcePolicy"); puts != 1 {
		t.Errorf("%d PutResourcePolicy calls, want 1", puts)
	}
	// In place, with a view the write left fresh: answered at once.
	applied, note, err = writer.WriteDecided(ctx, raw, "obj", hourly, noted(grant(fn, "x", "323456789012"), "check"))
	if err != nil || len(applied.Writes) != 0 || note != "check" {
		t.Errorf("a check of a statement in place: applied %+v, err %v", applied, err)
	}
}

// A key queued again while its plan is being written (its object was
// reconciled once more meanwhile) asks afterwards for what was written,
// not for the later plan's finding that it is in place.
func TestDocumentRequeuedKeyGetsTheWriteItWaitedFor(t *testing.T) {
	w := newWorld(t)
	fn := w.function("requeued")
	put := grant(fn, "mine", "223456789012")
	var runs int
	raw := w.writers.For(w.port, fn, writer.Document)
	const key = "requeued-object"
	done := make(chan struct{})
	w.writers.Queued = func(k string, waiting bool) {
		if k == key && !waiting {
			close(done)
		}
	}
	w.port.before("PutResourcePolicy", func() {
		if _, err := raw.Write(ctx, key, hourly, ensure(put, &runs)); !errors.Is(err, writer.ErrQueued) {
			t.Errorf("queued again while written: %v, want ErrQueued", err)
		}
	})
	if _, err := raw.Write(ctx, key, hourly, ensure(put, &runs)); !errors.Is(err, writer.ErrQueued) {
		t.Fatalf("first Write: %v, want ErrQueued", err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the key's plans were never done")
	}
	applied, err := raw.Write(ctx, key, hourly, ensure(put, &runs))
	if err != nil || len(applied.Writes) != 1 || applied.Writes[0].Sid != "mine" || applied.Writes[0].Change != writer.Added {
		t.Errorf("the key asks afterwards: %+v, %v; want the PutResourcePolicy that added mine", applied.Writes, err)
	}
	if puts := w.port.count("PutResourcePolicy"); puts != 1 {
		t.Errorf("%d PutResourcePolicy, want 1", puts)
	}
}
