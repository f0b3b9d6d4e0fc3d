package writer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// The Statements writer against the Lambda emulator over HTTP, through the
// operator's real port: no control plane, milliseconds per test.

const (
	region  = "us-east-2"
	account = "123456789012"
)

var ctx = context.Background()

// world is one emulator, a port to it that records and can interfere with
// the writer's calls, another writer's SDK client, and a clock.
type world struct {
	t       *testing.T
	emu     *emulator.Server
	port    *recordingPort
	outside *lambda.Client
	now     time.Time
	writers *writer.Writers[string]

	mu    sync.Mutex
	woken map[string]chan struct{} // by key: a queued Write's wake-up
}

func newWorld(t *testing.T) *world {
	t.Helper()
	emu := emulator.New(emulator.Config{Region: region, AccountID: account})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	w := &world{t: t, emu: emu, outside: lambda.NewFromConfig(cfg), now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	w.port = &recordingPort{Lambda: awslambda.New(awslambda.Config{AWS: cfg})}
	w.writers = &writer.Writers[string]{Now: func() time.Time { return w.now }, Wake: w.wake}
	return w
}

var keys atomic.Int64

// nextKey names a Write no other Write of the test shares.
func nextKey() string { return fmt.Sprint("key-", keys.Add(1)) }

// waiting is a Writer that, when its plan is queued, waits to be woken and
// asks again for what was done: what a reconcile does over two runs.
type waiting struct {
	writer.Writer[string]
	w *world
}

func (q waiting) Write(ctx context.Context, key string, fresh writer.Freshness, plan writer.Planner) (writer.Applied, error) {
	woken := q.w.expectWake(key)
	applied, err := q.Writer.Write(ctx, key, fresh, plan)
	if !errors.Is(err, writer.ErrQueued) {
		return applied, err
	}
	select {
	case <-woken:
	case <-time.After(20 * time.Second):
		return applied, errors.New(key + " was never woken")
	}
	return q.Writer.Write(ctx, key, fresh, plan)
}

func (w *world) expectWake(key string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.woken == nil {
		w.woken = map[string]chan struct{}{}
	}
	ch := make(chan struct{}, 1)
	w.woken[key] = ch
	return ch
}

func (w *world) wake(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.woken[key] <- struct{}{}:
	default:
	}
}

// function creates a function with a statement the writer must never touch.
func (w *world) function(name string) policy.FunctionRef {
	w.t.Helper()
	w.create(name)
	foreign := w.addOutside(name, "foreign", "events.amazonaws.com")
	w.t.Cleanup(func() {
		if got := w.stored(name)["foreign"]; got != foreign {
			w.t.Errorf("the foreign statement on %s is now %q, was %q", name, got, foreign)
		}
	})
	return policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: name}
}

// create creates a function without a policy.
func (w *world) create(name string) {
	w.t.Helper()
	if _, err := w.outside.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Handler: aws.String("h"), Role: aws.String("arn:aws:iam::123456789012:role/r"), Code: &types.FunctionCode{ZipFile: []byte("x")}}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) addOutside(function, sid, principal string) string {
	w.t.Helper()
	out, err := w.outside.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(function), StatementId: aws.String(sid),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(principal), SourceAccount: aws.String(account)})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.Statement)
}

// stored is the emulator's policy, by Sid, read without counting a call.
func (w *world) stored(function string) map[string]string {
	w.t.Helper()
	raw, _, ok := w.emu.Policy(function, "")
	if !ok {
		return nil
	}
	doc, err := policy.ParsePolicy(raw)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]string{}
	for _, st := range doc.Statements {
		out[st.Sid] = st.Raw
	}
	return out
}

func (w *world) writer(target policy.FunctionRef) writer.Writer[string] {
	return w.writerWith(target, writer.Statements)
}

func (w *world) writerWith(target policy.FunctionRef, strategy writer.Strategy) writer.Writer[string] {
	return waiting{Writer: w.writers.For(w.port, target, strategy), w: w}
}

// grant is the Put of a cross-account grant under sid.
func grant(target policy.FunctionRef, sid, principal string) writer.Put {
	p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: principal}
	return writer.Put{Permission: p, Statement: policy.DesiredStatement(target, p)}
}

// ensure is a planner that puts statement put under its Sid unless the Sid
// already grants it, replacing whatever else is there; it counts its runs.
func ensure(put writer.Put, runs *int) writer.Planner {
	return func(o writer.Observed) writer.Plan {
		*runs++
		existing, found := o.Document.Find(put.Permission.StatementID)
		switch {
		case found && policy.SameGrant(existing.Statement, put.Statement):
			return writer.Plan{}
		case found:
			put.Replaces = &existing
		}
		return writer.Plan{Puts: []writer.Put{put}}
	}
}

func remove(sid string) writer.Planner {
	return func(o writer.Observed) writer.Plan {
		if _, found := o.Document.Find(sid); !found {
			return writer.Plan{}
		}
		return writer.Plan{Removes: []writer.Remove{{Sid: sid}}}
	}
}

var hourly = writer.Freshness{MaxAge: time.Hour}

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

// recordingPort is the writer's port to Lambda, recording each call and
// running a hook armed before the next call of an operation.
type recordingPort struct {
	awslambda.Lambda
	mu    sync.Mutex
	calls []call
	hooks map[string]func()
}

type call struct{ operation, revision string }

func (p *recordingPort) record(operation, revision string) {
	p.mu.Lock()
	p.calls = append(p.calls, call{operation, revision})
	hook := p.hooks[operation]
	delete(p.hooks, operation)
	p.mu.Unlock()
	if hook != nil {
		hook()
	}
}

func (p *recordingPort) before(operation string, hook func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hooks == nil {
		p.hooks = map[string]func(){}
	}
	p.hooks[operation] = hook
}

func (p *recordingPort) count(operation string) (n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		if c.operation == operation {
			n++
		}
	}
	return n
}

func (p *recordingPort) operations() (out []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		out = append(out, c.operation)
	}
	return out
}

func (p *recordingPort) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

func (p *recordingPort) GetPolicy(ctx context.Context, ref policy.FunctionRef) (awslambda.Policy, error) {
	p.record("GetPolicy", "")
	return p.Lambda.GetPolicy(ctx, ref)
}

func (p *recordingPort) AddPermission(ctx context.Context, ref policy.FunctionRef, perm policy.Permission) (string, error) {
	p.record("AddPermission", "")
	return p.Lambda.AddPermission(ctx, ref, perm)
}

func (p *recordingPort) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error {
	p.record("RemovePermission", revisionID)
	return p.Lambda.RemovePermission(ctx, ref, sid, revisionID)
}

func (p *recordingPort) PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (awslambda.Policy, error) {
	p.record("PutResourcePolicy", revisionID)
	return p.Lambda.PutResourcePolicy(ctx, ref, document, revisionID)
}

func (p *recordingPort) DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error {
	p.record("DeleteResourcePolicy", revisionID)
	return p.Lambda.DeleteResourcePolicy(ctx, ref, revisionID)
}

// keepAll is a planner that keeps the given Sids where they are found and
// records what it observed.
func keepAll(seen *writer.Observed, sids ...string) writer.Planner {
	return func(o writer.Observed) writer.Plan {
		*seen = o
		var keep []string
		for _, sid := range sids {
			if _, found := o.Document.Find(sid); found {
				keep = append(keep, sid)
			}
		}
		return writer.Plan{Keep: keep}
	}
}

func (w *world) removeOutside(function, sid string) {
	w.t.Helper()
	if _, err := w.outside.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(function), StatementId: aws.String(sid)}); err != nil {
		w.t.Fatal(err)
	}
}

// Several statements the operator keeps, gone between two reads, are a
// replacement of the whole policy; one gone is ordinary drift. The
// replacement lasts until every lost statement is back.
func TestReplacementIsSeveralKeptStatementsGoneAtOnce(t *testing.T) {
	w := newWorld(t)
	fn := w.function("replaced")
	w.addOutside("replaced", "theirs", "sqs.amazonaws.com")
	var runs int
	for _, sid := range []string{"a", "b", "c"} {
		if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
			t.Fatal(err)
		}
	}
	fresh := writer.Freshness{} // every Write reads
	var seen writer.Observed

	w.removeOutside("replaced", "a")
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen, "b", "c")); err != nil {
		t.Fatal(err)
	}
	if seen.Replacement != nil {
		t.Fatalf("one statement gone is drift, not a replacement: %+v", seen.Replacement)
	}

	w.removeOutside("replaced", "b")
	w.removeOutside("replaced", "c")
	w.removeOutside("replaced", "theirs") // a foreign statement the replacement dropped too
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
		t.Fatal(err)
	}
	if r := seen.Replacement; r == nil || r.Lost != 3 || !slices.Equal(r.Missing, []string{"a", "b", "c"}) || !r.Lacks("b") || r.Lacks("theirs") {
		t.Fatalf("replacement %+v, want a, b and c lost at once", r)
	}

	// Each statement put back leaves the replacement; the last one ends it.
	for i, sid := range []string{"a", "b", "c"} {
		if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
			t.Fatal(err)
		}
		switch r := seen.Replacement; {
		case i < 2 && (r == nil || r.Lost != 3 || r.Lacks(sid) || len(r.Missing) != 2-i):
			t.Errorf("after putting %s back: replacement %+v", sid, r)
		case i == 2 && r != nil:
			t.Errorf("after putting every statement back: replacement %+v", r)
		}
	}
}

// Statements found in place count when the plan keeps them; a released
// statement, or one removed by the operator, no longer counts.
func TestKeptAndReleasedStatements(t *testing.T) {
	w := newWorld(t)
	fn := w.function("kept")
	for _, sid := range []string{"a", "b", "c", "theirs"} {
		w.addOutside("kept", sid, "sns.amazonaws.com") // written before this operator started
	}
	fresh := writer.Freshness{}
	var seen writer.Observed
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen, "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, func(writer.Observed) writer.Plan { return writer.Plan{Release: []string{"c"}} }); err != nil {
		t.Fatal(err)
	}
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, remove("b")); err != nil {
		t.Fatal(err)
	}
	w.addOutside("kept", "b", "sns.amazonaws.com")
	w.removeOutside("kept", "b")
	w.removeOutside("kept", "c")
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
		t.Fatal(err)
	}
	if seen.Replacement != nil {
		t.Errorf("statements no longer kept counted as a replacement: %+v", seen.Replacement)
	}
	w.removeOutside("kept", "a")
	w.removeOutside("kept", "theirs")
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
		t.Fatal(err)
	}
	if seen.Replacement != nil {
		t.Errorf("one kept statement gone with a foreign one is drift, not a replacement: %+v", seen.Replacement)
	}
}

// The real thing: another writer's PutResourcePolicy or
// DeleteResourcePolicy takes every statement at once.
func TestWholeDocumentWritesAreReplacements(t *testing.T) {
	for _, overwrite := range []struct {
		name  string
		write func(w *world, arn string) error
	}{
		{"PutResourcePolicy", func(w *world, arn string) error {
			_, err := w.outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Sid":"cfn","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `"}]}`)})
			return err
		}},
		{"DeleteResourcePolicy", func(w *world, arn string) error {
			_, err := w.outside.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)})
			return err
		}},
	} {
		t.Run(overwrite.name, func(t *testing.T) {
			w := newWorld(t)
			fn := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "whole"}
			w.create("whole")
			var runs int
			for _, sid := range []string{"a", "b"} {
				if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
					t.Fatal(err)
				}
			}
			if err := overwrite.write(w, fn.FunctionARN()); err != nil {
				t.Fatal(err)
			}
			var seen writer.Observed
			if _, err := w.writer(fn).Write(ctx, nextKey(), writer.Freshness{}, keepAll(&seen)); err != nil {
				t.Fatal(err)
			}
			if r := seen.Replacement; r == nil || r.Lost != 2 || !r.Lacks("a") || !r.Lacks("b") {
				t.Errorf("replacement %+v, want a and b lost at once", r)
			}
		})
	}
}
