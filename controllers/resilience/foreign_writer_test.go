//go:build integration

package resilience

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// While the operator converges a namespace's objects onto some functions
// (a third of them replacing an outdated statement under their Sid, which
// takes a RemovePermission guarded by the policy's RevisionId), and keeps
// re-reading them afterwards, someone else edits the same policies every
// 50 ms: Terraform, a deploy script, a colleague in the console, adding and
// removing statements of their own. When they stop, their statements are
// exactly the ones they believe are there (none lost, none altered, none
// resurrected), and all of ours are in place.
//
// With the Document strategy the operator writes whole documents, and so,
// one write in three, does the other writer (PutResourcePolicy): its own
// statements plus every other statement it read. Half the time it reads
// the policy first and names the revision it read; half the time it puts
// what it last read or wrote, without a revision, as tools that keep their
// own state do, and that replaces whatever the operator wrote since: lost
// statements of ours, outdated ones back under our Sids. The operator must
// restore them, also after the writer stopped. The writer checks on every
// read that its statements, and the original foreign one, are there byte
// for byte and that none it removed is back; the write log checks that no
// whole document of the operator's touched them; the end state, that the
// operator re-added none the writer removed.
func TestConcurrentForeignWriterKeepsItsStatements(t *testing.T) {
	forEachStrategy(t, concurrentForeignWriterKeepsItsStatements)
}

func concurrentForeignWriterKeepsItsStatements(t *testing.T, v variant) {
	w := newWorld(t, "writer", size.writerFunctions, v)
	ns := w.namespace("writer")
	startInProcessOperator(t, w, ns, 3*time.Second) // frequent re-reads while the writer writes
	objs := w.permissions(ns, "o", size.writerObjects)
	for i, obj := range objs {
		if i%3 == 0 {
			w.plantStale(obj)
		}
	}
	w.startPhase()
	correctedBefore := driftCorrections(t)

	other := newForeignWriter(w, 7, v.strategy == writer.Document)
	writerDone := make(chan struct{})
	settled := make(chan struct{})
	go func() {
		defer close(writerDone)
		other.run(50*time.Millisecond, size.writerMaxOps, settled, size.writerOpsAfter)
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

	for _, err := range other.errors {
		t.Errorf("foreign writer: %v", err)
	}
	want := w.expect(objs).merge(other.present)
	var restored string
	if other.puts {
		// The writer's last whole documents may have replaced statements
		// of ours after every object was Ready. The operator restores them
		// when it next checks (every sync period), and nothing else
		// changes the policies now: wait until they hold exactly what they
		// must, and every object is Ready again.
		tookRestoring := waitUntil(t, "the operator restoring the statements the foreign writer's documents replaced", size.wait, func() string {
			if n, details := w.mismatches(want); n > 0 {
				return fmt.Sprintf("%d mismatches: %s", n, strings.Join(details, "; "))
			}
			return ""
		})
		waitAllReady(t, ns, len(objs))
		restored = fmt.Sprintf("restoredAfterWriterStopped=%s ", tookRestoring.Round(100*time.Millisecond))
	}
	mismatches := w.requireNoMismatches("after the foreign writer stopped", want)
	w.logFigures("converge-beside-foreign-writer", len(objs), mismatches, other.calls,
		fmt.Sprintf("allReadyAfter=%s %s%s %s", took.Round(100*time.Millisecond), restored, other.figures(),
			driftCorrectionsSince(t, correctedBefore)))

	w.setFaults(emulator.Faults{})
	w.startPhase()
	deleteAll(t, objs)
	waitAllGone(t, ns)
	mismatches = w.requireNoMismatches("after deleting our objects", w.expect().merge(other.present))
	w.logFigures("delete-beside-foreign-statements", len(objs), mismatches, nil)
}

// foreignWriter adds and removes statements of its own (Sids "foreign-w…")
// on the world's functions through an SDK client of its own, and records
// what it believes each policy holds of its statements. With puts it also
// writes whole documents.
type foreignWriter struct {
	w       *world
	client  *lambda.Client
	rng     *rand.Rand
	puts    bool                // also PutResourcePolicy, now and then
	present expected            // function → Sid → statement, as Lambda returned it
	calls   callCounts          // its own calls, to tell them from the operator's
	errors  []error             // a call that failed (with no faults injected, none should), or a read that showed its statements touched
	next    int                 // numbers its Sids
	state   map[string]document // with puts: each policy as it last read or wrote it

	guardedPuts, unguardedPuts int // whole documents written, naming the revision read or not
	stalePuts                  int // guarded ones refused: the policy had changed since the read
}

// Only the writer's goroutine touches its fields until run returns.

func newForeignWriter(w *world, seed uint64, puts bool) *foreignWriter {
	// No retries: what it records must be exactly what it did. Its AppID
	// tells the write log its requests from the operator's.
	own := lambda.NewFromConfig(w.awsConfig, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{}; o.AppID = foreignWriterApp })
	return &foreignWriter{w: w, client: own, rng: rand.New(rand.NewPCG(seed, seed)), puts: puts,
		present: expected{}, calls: callCounts{}, state: map[string]document{}}
}

// run writes once every interval: it adds a statement, or (when the
// function has some of its own, half the time) removes one; with puts, one
// write in three is a whole document instead. It stops by itself after
// maxOps writes, or after opsAfter more once settled is closed.
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
		switch mine := f.present[fn]; {
		case f.puts && f.rng.IntN(3) == 0:
			f.put(fn)
		case len(mine) > 0 && (len(mine) >= 4 || f.rng.IntN(2) == 0):
			f.remove(fn, slices.Sorted(maps.Keys(mine))[f.rng.IntN(len(mine))])
		default:
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

// put writes fn's whole policy (PutResourcePolicy): every statement it
// last read there, except its own, which it writes as it believes them,
// one taken out (when it has some, half the time) and a new one added that
// AddPermission could not always write (a Deny). Half the time it is
// careful: it reads the policy first (GetResourcePolicy), checks that its
// statements are as it left them, and names the revision it read. The
// other half it applies what it last read or wrote there, maybe seconds
// ago, after a moment's thought and without a revision, as a tool that
// keeps its own state does: that document replaces whatever was written
// since, the operator's statements included.
func (f *foreignWriter) put(fn string) {
	arn := aws.String(functionARN(fn))
	guarded := f.rng.IntN(2) == 0
	doc, known := f.state[fn]
	var revision *string
	if guarded || !known {
		f.calls[emulator.OpGetResourcePolicy]++
		read, err := f.client.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: arn})
		if err != nil {
			f.errors = append(f.errors, fmt.Errorf("reading the policy of %s: %w", fn, err))
			return
		}
		if doc, err = splitDocument(aws.ToString(read.Policy)); err != nil {
			f.errors = append(f.errors, fmt.Errorf("the policy of %s: %w", fn, err))
			return
		}
		f.check(fn, doc)
		revision = read.RevisionId
	}

	var drop string
	mine := f.present[fn]
	if len(mine) > 0 && f.rng.IntN(2) == 0 {
		drop = slices.Sorted(maps.Keys(mine))[f.rng.IntN(len(mine))]
	}
	f.next++
	sid := fmt.Sprintf("foreign-w%05d", f.next)
	statements := slices.DeleteFunc(slices.Clone(doc.statements), func(st sidStatement) bool { return isWritersOwn(st.sid) })
	for _, own := range slices.Sorted(maps.Keys(mine)) {
		if own != drop {
			statements = append(statements, sidStatement{sid: own, raw: mine[own]})
		}
	}
	statements = append(statements, sidStatement{sid: sid, raw: f.ownStatement(fn, sid)})
	text, err := doc.with(statements)
	if err != nil {
		f.errors = append(f.errors, err)
		return
	}
	input := &lambda.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String(text)}
	if guarded {
		input.RevisionId = revision
		f.guardedPuts++
	} else {
		f.unguardedPuts++
		time.Sleep(time.Duration(f.rng.IntN(300)) * time.Millisecond)
	}

	f.calls[emulator.OpPutResourcePolicy]++
	out, err := f.client.PutResourcePolicy(ctx, input)
	var stale *types.PreconditionFailedException
	switch {
	case guarded && errors.As(err, &stale):
		f.stalePuts++ // nothing changed
		return
	case err != nil:
		f.errors = append(f.errors, fmt.Errorf("putting the policy of %s: %w", fn, err))
		return
	}
	stored, err := splitDocument(aws.ToString(out.Policy))
	if err != nil {
		f.errors = append(f.errors, fmt.Errorf("the policy put on %s: %w", fn, err))
		return
	}
	f.state[fn] = stored
	// Its statements are now exactly those of the document it put.
	delete(f.present, fn)
	for _, st := range stored.statements {
		if isWritersOwn(st.sid) {
			f.present.add(fn, st.sid, st.raw)
		}
	}
	if _, ok := f.present[fn][sid]; !ok {
		f.errors = append(f.errors, fmt.Errorf("the policy put on %s lacks the new %s", fn, sid))
	}
}

// check compares a policy as read with what the writer believes: each of
// its statements there byte for byte, none it removed back, and the
// world's original foreign statement untouched. Between two of its own
// writes only the operator writes, so any difference is the operator's.
func (f *foreignWriter) check(fn string, doc document) {
	found := map[string]string{}
	for _, st := range doc.statements {
		found[st.sid] = st.raw
		if _, believed := f.present[fn][st.sid]; isWritersOwn(st.sid) && !believed {
			f.errors = append(f.errors, fmt.Errorf("the policy of %s holds %s, which the writer removed: %s", fn, st.sid, st.raw))
		}
	}
	for _, theirs := range []map[string]string{f.present[fn], f.w.foreign[fn]} {
		for _, sid := range slices.Sorted(maps.Keys(theirs)) {
			switch raw, ok := found[sid]; {
			case !ok:
				f.errors = append(f.errors, fmt.Errorf("the policy of %s lacks %s", fn, sid))
			case raw != theirs[sid]:
				f.errors = append(f.errors, fmt.Errorf("the policy of %s holds %s as %s, not as written: %s", fn, sid, raw, theirs[sid]))
			}
		}
	}
}

func isWritersOwn(sid string) bool { return strings.HasPrefix(sid, "foreign-w") }

// ownStatement is a statement of the writer's for a whole document: every
// other one lets an EventBridge rule invoke the function, as
// AddPermission writes it; the rest deny an account, which AddPermission
// cannot write.
func (f *foreignWriter) ownStatement(fn, sid string) string {
	type statement struct {
		Sid       string
		Effect    string
		Principal map[string]string
		Action    string
		Resource  string
		Condition map[string]map[string]string `json:",omitempty"`
	}
	st := statement{Sid: sid, Effect: "Allow", Principal: map[string]string{"Service": "events.amazonaws.com"},
		Action: "lambda:InvokeFunction", Resource: functionARN(fn),
		Condition: map[string]map[string]string{"ArnLike": {"AWS:SourceArn": "arn:aws:events:" + region + ":" + account + ":rule/" + sid}}}
	if f.next%2 == 0 {
		st.Effect, st.Principal, st.Condition = "Deny", map[string]string{"AWS": "arn:aws:iam::999999999999:root"}, nil
	}
	raw, err := marshalNoEscape(st)
	if err != nil {
		panic(err)
	}
	return raw
}

func (f *foreignWriter) presentCount() int {
	n := 0
	for _, statements := range f.present {
		n += len(statements)
	}
	return n
}

// figures sum up what the writer did, for a FIGURES line.
func (f *foreignWriter) figures() string {
	puts := ""
	if f.puts {
		puts = fmt.Sprintf(" puts=%d (guarded=%d stale=%d unguarded=%d)", f.guardedPuts+f.unguardedPuts, f.guardedPuts, f.stalePuts, f.unguardedPuts)
	}
	return fmt.Sprintf("writer[adds=%d removes=%d%s presentAtEnd=%d failed=%d]", f.calls[emulator.OpAddPermission],
		f.calls[emulator.OpRemovePermission], puts, f.presentCount(), len(f.errors))
}

func functionARN(fn string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + fn
}
