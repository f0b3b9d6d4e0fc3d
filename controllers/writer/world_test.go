package writer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
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

// The writers' world: the Lambda emulator over HTTP, reached through the
// operator's real port, and a port that records the writers' calls.

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
	cfg     aws.Config // the port's, to build another
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
	w := &world{t: t, emu: emu, outside: lambda.NewFromConfig(cfg), cfg: cfg, now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
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

// recordingPort is the writer's port to Lambda, recording each call and
// running a hook armed before the next call of an operation.
type recordingPort struct {
	awslambda.Lambda
	mu    sync.Mutex
	calls []call
	hooks map[string]func()
	turn  func() // when set, a write turn waits for it (see turnWhenQueued)
}

// TakeWriteTurn is the real port's (awslambda.Turns), after the test's own
// wait when one is set.
func (p *recordingPort) TakeWriteTurn(ctx context.Context, ref policy.FunctionRef, within time.Duration) (*awslambda.Turn, error) {
	p.mu.Lock()
	turn := p.turn
	p.mu.Unlock()
	if turn != nil {
		turn()
	}
	return p.Lambda.(awslambda.Turns).TakeWriteTurn(ctx, ref, within)
}

// turnWhenQueued holds the first write turn until n plans are queued, as
// AWS's quota holds a write while a burst reaches the policy; the turns
// after it come at once. It counts queued plans through Writers.Queued
// (after the hook set there before).
func (w *world) turnWhenQueued(n int) {
	var mu sync.Mutex
	queued := 0
	reached := make(chan struct{})
	counted := w.writers.Queued
	w.writers.Queued = func(key string, waiting bool) {
		if counted != nil {
			counted(key, waiting)
		}
		mu.Lock()
		defer mu.Unlock()
		if waiting {
			queued++
		}
		if queued == n && waiting {
			close(reached)
		}
	}
	w.holdFirstTurnUntil(reached, fmt.Sprintf("%d plans were never queued together", n))
}

// holdFirstTurn holds the first write turn until release is called, as
// AWS's quota holds a write while an object's spec changes again; the
// turns after it come at once.
func (w *world) holdFirstTurn() (release func()) {
	released := make(chan struct{})
	w.holdFirstTurnUntil(released, "the first write turn was never released")
	return sync.OnceFunc(func() { close(released) })
}

// holdFirstTurnUntil holds the first write turn until done is closed (the
// test fails with never if that takes 20 s); the turns after it come at
// once.
func (w *world) holdFirstTurnUntil(done <-chan struct{}, never string) {
	var once sync.Once
	w.port.mu.Lock()
	defer w.port.mu.Unlock()
	w.port.turn = func() {
		once.Do(func() {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				w.t.Error(never)
			}
		})
	}
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
