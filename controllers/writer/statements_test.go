package writer_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// The Statements writer against the Lambda emulator over HTTP, through the
// operator's real port: no control plane, milliseconds per test.

func TestWritersOfOnePolicyShareOneView(t *testing.T) {
	w := newWorld(t)
	fn := w.function("shared")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var runs int
			_, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, fmt.Sprintf("grant-%02d", i), "223456789012"), &runs))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := w.port.count("GetPolicy"); got != 1 {
		t.Errorf("%d GetPolicy calls for %d writers of one policy, want 1", got, n)
	}
	if got := w.port.count("AddPermission"); got != n {
		t.Errorf("%d AddPermission calls, want %d", got, n)
	}
	if got := len(w.stored("shared")); got != n+1 {
		t.Errorf("the policy holds %d statements, want %d and the foreign one", got, n)
	}

	// The view holds every write: a planner sees them all without a read.
	var seen int
	if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, func(o writer.Observed) writer.Plan {
		seen = len(o.Document.Statements)
		if o.RevisionID != "" {
			t.Errorf("revision %q known after writes that return none", o.RevisionID)
		}
		return writer.Plan{}
	}); err != nil {
		t.Fatal(err)
	}
	if seen != n+1 || w.port.count("GetPolicy") != 1 {
		t.Errorf("the view holds %d statements after %d GetPolicy calls; want %d after 1", seen, w.port.count("GetPolicy"), n+1)
	}
}

func TestFreshness(t *testing.T) {
	w := newWorld(t)
	fn := w.function("fresh")
	observe := func(fresh writer.Freshness) {
		t.Helper()
		if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, func(writer.Observed) writer.Plan { return writer.Plan{} }); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		name      string
		advance   time.Duration
		fresh     writer.Freshness
		wantReads int
	}{
		{"first use reads", 0, hourly, 1},
		{"a young view is used", 59 * time.Minute, hourly, 1},
		{"an old view is read again", 2 * time.Minute, hourly, 2},
		{"a check asked for after the read reads again", time.Second, writer.Freshness{MaxAge: time.Hour, NotBefore: w.now.Add(time.Hour + 2*time.Minute)}, 3},
		{"a check asked for before the read does not", time.Second, writer.Freshness{MaxAge: time.Hour, NotBefore: w.now}, 3},
		{"MaxAge 0 always reads", 0, writer.Freshness{}, 4},
	} {
		w.now = w.now.Add(step.advance)
		observe(step.fresh)
		if got := w.port.count("GetPolicy"); got != step.wantReads {
			t.Errorf("%s: %d reads in all, want %d", step.name, got, step.wantReads)
		}
	}
}

// A replacement is a RemovePermission under the revision, then an
// AddPermission; when the view's revision is unknown (after the operator's
// own write), it is read first.
func TestReplacementIsGuardedByTheRevision(t *testing.T) {
	w := newWorld(t)
	fn := w.function("replace")
	var runs int
	if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	w.port.reset()
	runs = 0
	applied, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "323456789012"), &runs))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.port.operations(); !slices.Equal(got, []string{"GetPolicy", "RemovePermission", "AddPermission"}) {
		t.Errorf("calls %v, want GetPolicy, RemovePermission, AddPermission", got)
	}
	if _, revision, _ := w.emu.Policy("replace", ""); w.port.calls[1].revision == "" || w.port.calls[1].revision == revision {
		t.Errorf("RemovePermission sent RevisionId %q; want the one read (and since replaced)", w.port.calls[1].revision)
	}
	if runs != 2 {
		t.Errorf("planned %d times, want 2 (the view, then the read with a revision)", runs)
	}
	want := []writer.Written{
		{Operation: "RemovePermission", Sid: "x", Change: writer.Removed, Replacing: true},
		{Operation: "AddPermission", Sid: "x", Change: writer.Added, Stored: w.stored("replace")["x"]},
	}
	if !slices.Equal(applied.Writes, want) {
		t.Errorf("applied %+v, want %+v", applied.Writes, want)
	}
	if !strings.Contains(w.stored("replace")["x"], "323456789012") {
		t.Errorf("policy holds %s", w.stored("replace")["x"])
	}
}

// Another writer changes the policy between the read and the guarded
// RemovePermission: Lambda answers 412, the writer reads again, plans
// again, and neither statement is lost.
func TestStaleRevisionPlansAgainFromAFreshRead(t *testing.T) {
	w := newWorld(t)
	fn := w.function("race412")
	var runs int
	if _, err := w.writer(fn).Write(ctx, nextKey(), writer.Freshness{}, ensure(grant(fn, "x", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	var concurrent string
	w.port.before("RemovePermission", func() { concurrent = w.addOutside("race412", "console", "sns.amazonaws.com") })
	runs = 0
	if _, err := w.writer(fn).Write(ctx, nextKey(), writer.Freshness{}, ensure(grant(fn, "x", "323456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	if n := w.emu.Stats().Errors["RemovePermission"]["PreconditionFailedException"]; n != 1 {
		t.Errorf("%d RemovePermission calls failed with 412, want 1", n)
	}
	if runs != 2 {
		t.Errorf("planned %d times, want 2", runs)
	}
	got := w.stored("race412")
	if got["console"] != concurrent || !strings.Contains(got["x"], "323456789012") {
		t.Errorf("policy %v; want the concurrent statement kept and x replaced", got)
	}
}

// Another writer adds our Sid with other content between the read and the
// AddPermission: Lambda answers 409, and the writer replaces it.
func TestSidThatAppearedIsReplaced(t *testing.T) {
	w := newWorld(t)
	fn := w.function("race409")
	w.port.before("AddPermission", func() { w.addOutside("race409", "x", "sqs.amazonaws.com") })
	var runs int
	applied, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.port.operations(); !slices.Equal(got, []string{"GetPolicy", "AddPermission", "GetPolicy", "RemovePermission", "AddPermission"}) {
		t.Errorf("calls %v", got)
	}
	if len(applied.Writes) != 2 || !strings.Contains(w.stored("race409")["x"], "223456789012") {
		t.Errorf("applied %+v; policy %v", applied.Writes, w.stored("race409"))
	}
}

// A policy that changes under every write: the writer gives up after a few
// plans with the last failure, classified, and says what it was doing.
func TestGivesUpWhenThePolicyKeepsChanging(t *testing.T) {
	w := newWorld(t)
	fn := w.function("churn")
	var runs int
	if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	churn := 0
	var interfere func()
	interfere = func() {
		churn++
		w.addOutside("churn", fmt.Sprintf("churn-%d", churn), "sns.amazonaws.com")
		w.port.before("RemovePermission", interfere)
	}
	w.port.before("RemovePermission", interfere)
	runs = 0
	_, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "323456789012"), &runs))
	var failure *writer.Error
	if !errors.As(err, &failure) || awslambda.KindOf(err) != awslambda.StaleRevision || failure.Read ||
		!strings.Contains(failure.Doing, `removing statement "x"`) {
		t.Fatalf("err = %v, want a StaleRevision while removing x", err)
	}
	if n := w.port.count("RemovePermission"); n != 4 {
		t.Errorf("%d guarded removals tried, want 4", n)
	}
	if !strings.Contains(w.stored("churn")["x"], "223456789012") {
		t.Errorf("the statement in place was lost: %v", w.stored("churn"))
	}
}

func TestAFailedReadWritesNothing(t *testing.T) {
	w := newWorld(t)
	fn := w.function("unreadable")
	if err := w.emu.SetFaults(emulator.Faults{Operations: map[string]emulator.OperationFaults{"GetPolicy": {Throttle: 1}}}); err != nil {
		t.Fatal(err)
	}
	var runs int
	applied, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs))
	var failure *writer.Error
	if !errors.As(err, &failure) || !failure.Read || awslambda.KindOf(err) != awslambda.Throttled {
		t.Fatalf("err = %v, want a throttled read", err)
	}
	if runs != 0 || len(applied.Writes) != 0 || w.port.count("AddPermission") != 0 {
		t.Errorf("planned %d times and wrote %v after a failed read", runs, applied.Writes)
	}
}

// A write that failed may still have happened: the view is dropped, the next
// Write reads the policy, and what was written before the failure is
// reported.
func TestAFailedWriteIsReportedWithTheWritesBeforeIt(t *testing.T) {
	w := newWorld(t)
	fn := w.function("halfway")
	var runs int
	if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	w.port.before("AddPermission", func() {
		if err := w.emu.SetFaults(emulator.Faults{Operations: map[string]emulator.OperationFaults{"AddPermission": {ServiceError: 1}}}); err != nil {
			t.Error(err)
		}
	})
	applied, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "323456789012"), &runs))
	if awslambda.KindOf(err) != awslambda.Unavailable || !strings.Contains(err.Error(), `adding statement "x"`) {
		t.Fatalf("err = %v, want the failed add", err)
	}
	if want := []writer.Written{{Operation: "RemovePermission", Sid: "x", Change: writer.Removed, Replacing: true}}; !slices.Equal(applied.Writes, want) {
		t.Errorf("applied %+v, want the removal made before the failure", applied.Writes)
	}
	if err := w.emu.SetFaults(emulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	reads := w.port.count("GetPolicy")
	if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, "x", "323456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	if w.port.count("GetPolicy") != reads+1 || !strings.Contains(w.stored("halfway")["x"], "323456789012") {
		t.Errorf("after the failure: %d reads, policy %v; want one read and x in place", w.port.count("GetPolicy")-reads, w.stored("halfway"))
	}
}

func TestRemoval(t *testing.T) {
	w := newWorld(t)
	fn := w.function("removal")
	var runs int
	for _, sid := range []string{"a", "b"} {
		if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
			t.Fatal(err)
		}
	}
	applied, err := w.writer(fn).Write(ctx, nextKey(), hourly, remove("a"))
	if err != nil || !slices.Equal(applied.Writes, []writer.Written{{Operation: "RemovePermission", Sid: "a", Change: writer.Removed}}) {
		t.Fatalf("applied %+v, err %v", applied.Writes, err)
	}
	// Removed outside meanwhile: Lambda's 404 means done, and is no write.
	if _, err := w.outside.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("removal"), StatementId: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	applied, err = w.writer(fn).Write(ctx, nextKey(), hourly, remove("b"))
	if err != nil || len(applied.Writes) != 0 {
		t.Fatalf("removing a statement already gone: applied %+v, err %v", applied.Writes, err)
	}
	if got := w.stored("removal"); len(got) != 1 {
		t.Errorf("policy %v, want only the foreign statement", got)
	}
	if got := w.port.count("GetPolicy"); got != 1 {
		t.Errorf("%d reads; removals from the view need none", got)
	}
}

// A Statements Write whose account has no write turn within TurnWithin
// keeps the turn for its key and fails with Paced, with when it comes;
// nothing is sent, and the view is kept. The key, back at its turn, writes
// at once with it, from the view it had.
func TestStatementsWriteKeepsAFarTurnForItsKey(t *testing.T) {
	w := newWorld(t)
	fn := w.function("paced")
	w.port = &recordingPort{Lambda: awslambda.New(awslambda.Config{AWS: w.cfg, Limits: awslambda.Limits{ControlPlane: 2}})}
	w.writers.TurnWithin = 100 * time.Millisecond
	var runs int
	if _, err := w.writerWith(fn, writer.Statements).Write(ctx, nextKey(), hourly, ensure(grant(fn, "first", "223456789012"), &runs)); err != nil {
		t.Fatal(err)
	}
	second, key := ensure(grant(fn, "second", "223456789012"), &runs), nextKey()
	applied, err := w.writerWith(fn, writer.Statements).Write(ctx, key, hourly, second)
	var paced *awslambda.Error
	if !errors.As(err, &paced) || paced.Kind != awslambda.Paced || len(applied.Writes) != 0 {
		t.Fatalf("a write half a second off, within 100ms: %v, writes %v; want Paced and none", err, applied.Writes)
	}
	if _, found := w.stored("paced")["second"]; found || w.port.count("AddPermission") != 1 {
		t.Fatalf("declined, yet %d AddPermission and second stored %v", w.port.count("AddPermission"), found)
	}
	// Back early, still Paced; at its turn, written without another wait.
	if _, err := w.writerWith(fn, writer.Statements).Write(ctx, key, hourly, second); awslambda.KindOf(err) != awslambda.Paced {
		t.Fatalf("back at once: %v, want Paced", err)
	}
	time.Sleep(paced.RetryAfter)
	start := time.Now()
	if _, err := w.writerWith(fn, writer.Statements).Write(ctx, key, hourly, second); err != nil {
		t.Fatalf("at its turn: %v", err)
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("the write at its kept turn took %s; want no wait for another turn", took)
	}
	if _, found := w.stored("paced")["second"]; !found || w.port.count("GetPolicy") != 1 {
		t.Errorf("second stored %v after %d GetPolicy; want it stored from the one read", found, w.port.count("GetPolicy"))
	}
}
