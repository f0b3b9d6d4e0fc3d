//go:build integration && soak

package soak

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

const (
	// baseSid is a statement someone else wrote on each function before
	// the operator started (Terraform's): it must stay as it is.
	baseSid = "foreign-base"
	// writerPrefix starts the Sids of the statements the foreign writer
	// adds and removes while the soak runs.
	writerPrefix = "foreign-w"
	// writerInterval is how often the foreign writer writes, and
	// replaceOneIn how many of its writes are, on average, per replacement:
	// a whole policy put with PutResourcePolicy, holding only the foreign
	// statements (about one every 30 s).
	writerInterval = time.Second
	replaceOneIn   = 30
	// writerKeeps is the most statements of its own it keeps on a function.
	writerKeeps = 4
)

// foreignWriter is someone else writing to the same policies as the
// operator, through the SDK (no retries), under the same injected faults:
// when a call of its own fails it reads the policy to learn what happened.
// Before each write it checks that the policy holds its statements as it
// left them, and none it removed. Only its goroutine touches its fields
// until run returns.
type foreignWriter struct {
	rng       *rand.Rand
	functions []string
	base      map[string]string            // function → its baseSid statement, as stored
	present   map[string]map[string]string // function → Sid → statement of its own, as stored
	next      int

	adds, removes, replacements, unsure int
	problems                            []string // what it found touched
}

// newForeignWriter writes the base statement on each function.
func newForeignWriter(t *testing.T, functions []string, seed uint64) *foreignWriter {
	t.Helper()
	w := &foreignWriter{rng: rand.New(rand.NewPCG(seed, seed+1)), functions: functions, base: map[string]string{}, present: map[string]map[string]string{}}
	for _, fn := range functions {
		out, err := suite.Outside.AddPermission(ctx, foreignStatement(fn, baseSid))
		if err != nil {
			t.Fatalf("AddPermission %s on %s: %v", baseSid, fn, err)
		}
		w.base[fn] = aws.ToString(out.Statement)
		w.present[fn] = map[string]string{}
	}
	return w
}

func foreignStatement(fn, sid string) *lambda.AddPermissionInput {
	return &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:" + region + ":" + account + ":rule/" + sid)}
}

// run writes every writerInterval until ctx ends.
func (w *foreignWriter) run(ctx context.Context) {
	ticker := time.NewTicker(writerInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		fn := w.functions[w.rng.IntN(len(w.functions))]
		w.check(fn)
		switch mine := w.present[fn]; {
		case w.rng.IntN(replaceOneIn) == 0:
			w.replace(fn)
		case len(mine) >= writerKeeps || (len(mine) > 0 && w.rng.IntN(2) == 0):
			w.remove(fn, slices.Sorted(maps.Keys(mine))[w.rng.IntN(len(mine))])
		default:
			w.add(fn)
		}
	}
}

func (w *foreignWriter) add(fn string) {
	w.next++
	sid := fmt.Sprintf("%s%05d", writerPrefix, w.next)
	w.adds++
	out, err := suite.Outside.AddPermission(ctx, foreignStatement(fn, sid))
	if err != nil {
		w.learn(fn)
		return
	}
	w.present[fn][sid] = aws.ToString(out.Statement)
}

func (w *foreignWriter) remove(fn, sid string) {
	w.removes++
	if _, err := suite.Outside.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(sid)}); err != nil {
		w.learn(fn)
		return
	}
	delete(w.present[fn], sid)
}

// replace puts a whole policy on fn that holds the foreign statements and
// nothing else, without naming a revision, as a tool that owns "the"
// policy does: every statement of the operator's is gone until the
// operator notices and restores it.
func (w *foreignWriter) replace(fn string) {
	statements := []string{w.base[fn]}
	for _, sid := range slices.Sorted(maps.Keys(w.present[fn])) {
		statements = append(statements, w.present[fn][sid])
	}
	doc := `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`
	w.replacements++
	out, err := suite.Outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(functionARN(fn)), Policy: aws.String(doc)})
	if err != nil {
		w.learn(fn)
		return
	}
	w.adopt(fn, aws.ToString(out.Policy))
}

// learn reads fn's policy after a call of the writer's failed (the call
// may or may not have been applied: a dropped connection, a 500) and takes
// what it holds of the writer's statements as the writer's. It reads the
// emulator's state directly, past the injected faults.
func (w *foreignWriter) learn(fn string) {
	w.unsure++
	text, _, _ := suite.Emulator.Policy(fn, "")
	w.adopt(fn, text)
}

// adopt takes the foreign statements of a policy the writer itself just
// wrote (or may have) as its own.
func (w *foreignWriter) adopt(fn, text string) {
	doc, err := parse(text)
	if err != nil {
		w.problem("the policy of %s: %v", fn, err)
		return
	}
	w.present[fn] = map[string]string{}
	for _, st := range doc.Statements {
		switch {
		case st.Sid == baseSid:
			w.base[fn] = st.Raw
		case strings.HasPrefix(st.Sid, writerPrefix):
			w.present[fn][st.Sid] = st.Raw
		}
	}
}

// check reads fn's policy (the emulator's state) and notes every foreign
// statement missing or changed, and every statement of the writer's that
// it removed and is back. Only the writer writes them, so whatever
// differs, the operator did.
func (w *foreignWriter) check(fn string) {
	text, _, _ := suite.Emulator.Policy(fn, "")
	doc, err := parse(text)
	if err != nil {
		w.problem("the policy of %s: %v", fn, err)
		return
	}
	for _, p := range w.differences(fn, doc) {
		w.problem("%s", p)
	}
}

// differences are the ways doc differs from what the writer wrote on fn.
func (w *foreignWriter) differences(fn string, doc policy.PolicyDocument) []string {
	var found []string
	held := map[string]string{}
	for _, st := range doc.Statements {
		held[st.Sid] = st.Raw
		if _, mine := w.present[fn][st.Sid]; strings.HasPrefix(st.Sid, writerPrefix) && !mine {
			found = append(found, fmt.Sprintf("%s holds %s, which the foreign writer removed or never wrote: %s", fn, st.Sid, st.Raw))
		}
	}
	want := maps.Clone(w.present[fn])
	want[baseSid] = w.base[fn]
	for _, sid := range slices.Sorted(maps.Keys(want)) {
		switch raw, ok := held[sid]; {
		case !ok:
			found = append(found, fmt.Sprintf("%s lacks the foreign %s", fn, sid))
		case raw != want[sid]:
			found = append(found, fmt.Sprintf("%s holds the foreign %s as %s, not as written: %s", fn, sid, raw, want[sid]))
		}
	}
	return found
}

func (w *foreignWriter) problem(format string, args ...any) {
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
}

// report fails the test with what the writer found while it wrote.
func (w *foreignWriter) report(t *testing.T) {
	t.Helper()
	logf("foreign writer: %d adds, %d removes, %d replacements; %d failed by injection and read back; %d statements of its own at the end",
		w.adds, w.removes, w.replacements, w.unsure, w.statements())
	if len(w.problems) > 0 {
		t.Errorf("the foreign writer found its statements touched %d times:\n  %s", len(w.problems), strings.Join(w.problems[:min(20, len(w.problems))], "\n  "))
	}
}

func (w *foreignWriter) statements() int {
	n := 0
	for _, m := range w.present {
		n += len(m)
	}
	return n
}

// parse reads a policy; no policy at all is one without statements.
func parse(text string) (policy.PolicyDocument, error) {
	if text == "" {
		return policy.PolicyDocument{}, nil
	}
	return policy.ParsePolicy(text)
}

func functionARN(fn string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + fn
}
