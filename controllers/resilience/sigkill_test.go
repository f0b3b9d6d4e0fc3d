//go:build integration

package resilience

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// The operator's node keeps dying. While a team applies a few hundred
// LambdaPermissions in waves, the operator process is SIGKILLed at a random
// moment of its work on each wave, and started again: every object still
// becomes Ready, and the policies hold exactly what they should, no
// statement lost, none written twice. Then the team deletes everything, in
// waves, with the operator killed as often: every object goes (no finalizer
// stuck), and no statement of ours is left behind. With either write
// strategy; with Document a kill lands among whole-document writes, each
// carrying several objects' statements.
func TestSIGKILLDuringMassCreationAndDeletion(t *testing.T) {
	forEachStrategy(t, sigkillDuringMassCreationAndDeletion)
}

func sigkillDuringMassCreationAndDeletion(t *testing.T, v variant) {
	w := newWorld(t, "sigkill", size.killFunctions, v)
	ns := w.namespace("sigkill")
	op := newOperatorProcess(t, w, "operator", "--sync-period=5s", "--watch-namespace="+ns,
		"--getpolicy-rps=100", "--control-plane-rps=100", "--getfunction-rps=100")
	objs := w.permissions(ns, "k", size.killObjects)
	rng := rand.New(rand.NewPCG(9, 9))

	w.setFaults(emulator.Faults{Seed: 9, Operations: map[string]emulator.OperationFaults{
		emulator.AllOperations: {Latency: 20 * time.Millisecond, LatencyJitter: 20 * time.Millisecond}}})
	w.startPhase()
	op.start()
	lives := killDuring(t, w, op, rng, objs, createAll, notReadyIn(ns))
	took := waitAllReady(t, ns, len(objs), op.alive)
	mismatches := w.requireNoMismatches("after creation with SIGKILLs", w.expect(objs))
	cut := requireNoWriteRepeated(t, w, true, len(objs))
	w.logFigures(fmt.Sprintf("create-with-%d-SIGKILLs", size.kills), len(objs), mismatches, nil,
		fmt.Sprintf("allReadyAfterLastRestart=%s writesCutByKills=%d", took.Round(100*time.Millisecond), cut), lives.String())

	w.startPhase()
	lives = killDuring(t, w, op, rng, objs, deleteAll, deletingIn(ns))
	took = waitAllGone(t, ns, op.alive)
	mismatches = w.requireNoMismatches("after deletion with SIGKILLs", w.expect())
	cut = requireNoWriteRepeated(t, w, false, len(objs))
	w.logFigures(fmt.Sprintf("delete-with-%d-SIGKILLs", size.kills), len(objs), mismatches, nil,
		fmt.Sprintf("allGoneAfterLastRestart=%s writesCutByKills=%d", took.Round(100*time.Millisecond), cut), lives.String())
}

// requireNoWriteRepeated checks that no statement was written twice across
// the kills, in a phase that only adds (creating) or only removes, and
// returns how many writes the kills cut.
func requireNoWriteRepeated(t *testing.T, w *world, creating bool, objects int) (cut int) {
	t.Helper()
	if w.variant.strategy == writer.Document {
		return requireNoDocumentWriteRepeated(t, w, creating, objects, size.kills)
	}
	if creating {
		return requireNoStatementWriteRepeated(t, w, emulator.OpAddPermission, objects)
	}
	return requireNoStatementWriteRepeated(t, w, emulator.OpRemovePermission, objects)
}

// requireNoStatementWriteRepeated checks that no write of operation was
// made twice across the kills, and returns how many the kills cut. A restarted
// operator reads each policy before it writes, so it must adopt a
// statement an earlier life added (or accept as gone one it removed)
// without a second call: a repeated AddPermission would be refused with
// 409, a repeated RemovePermission with 404, and the emulator counts
// those. The phase's only writes are of this operation, each applied one
// changes one statement, and the policies ended exactly right; so of the
// calls counted, objects were applied and the rest were cut: requests the
// emulator had received and was still delaying when the SIGKILL closed
// their connection, which it then dropped unapplied. A kill cuts at most
// one request per worker (--max-concurrent-reconciles, 4 by default).
// A kill can also cut a request while its body is being sent; the emulator
// then reads a truncated body and answers InvalidRequestContentException to
// a client that is gone. That is a cut request too, not a repeated write.
func requireNoStatementWriteRepeated(t *testing.T, w *world, operation string, objects int) (cut int) {
	t.Helper()
	stats := w.emu.Stats()
	refused := map[string]int{}
	for code, n := range stats.Errors[operation] {
		if code != "InvalidRequestContentException" {
			refused[code] = n
		}
	}
	if len(refused) > 0 {
		t.Errorf("%s refused after restarts (a write repeated?): %v", operation, refused)
	}
	cut = stats.Calls[operation] - objects
	if cut < 0 || cut > size.kills*w.variant.workers {
		t.Errorf("%d %s calls for %d objects and %d kills: %d unexplained", stats.Calls[operation], operation, objects, size.kills, cut)
	}
	return cut
}

// requireNoDocumentWriteRepeated is requireNoStatementWriteRepeated for the
// Document strategy, judged from the write log: a whole document rewrites
// every statement, so the calls alone cannot tell. A restarted operator
// reads each policy before it writes, so it must adopt the statements an
// earlier life's accepted write put in place (or accept as gone those it
// took out): across the phase every statement of ours is added (or
// removed) by exactly one accepted write, none is rewritten, and no
// accepted write changes nothing (requireNoMismatches checks that last,
// for every phase). Lambda refuses nothing: with no one else writing, a
// stale revision would mean a write from an outdated view. (Except the
// SDK's retry of a write Lambda had accepted, when the operator's client
// lost the answer: Lambda refuses the repeat under the old revision, and
// the writer reads again. Those are logged, not counted.) The rest were
// cut: never answered, the emulator having dropped them unapplied when the
// kill closed their connection, or refused as truncated. The operator has
// at most one whole-document write in flight per policy, so each of the
// kills cuts at most one per function.
func requireNoDocumentWriteRepeated(t *testing.T, w *world, creating bool, objects, kills int) (cut int) {
	t.Helper()
	s := w.writes.summarize(w.ours)
	refused := map[string]int{}
	for code, n := range s.refused {
		if code != "InvalidRequestContentException" {
			refused[code] = n
		}
	}
	if len(refused) > 0 {
		t.Errorf("whole-document writes refused after restarts (from an outdated view?): %v\n  %s", refused, strings.Join(s.refusals, "\n  "))
	}
	for _, retried := range s.retriedAccepted {
		t.Logf("the SDK repeated a write Lambda had accepted: %s", retried)
	}
	done, undone := s.added, s.removed
	verb := "added"
	if !creating {
		done, undone, verb = s.removed, s.added, "removed"
	}
	if n := total(done); n != objects {
		t.Errorf("%d statements %s by accepted writes for %d objects", n, verb, objects)
	}
	if twice := repeated(done); len(twice) > 0 {
		t.Errorf("statements %s more than once: %v", verb, twice)
	}
	if total(undone) > 0 || total(s.changed) > 0 {
		t.Errorf("while only %s: %d statements the other way, %d rewritten", verb, total(undone), total(s.changed))
	}
	cut = s.unanswered + s.refused["InvalidRequestContentException"]
	if cut > kills*len(w.functions) {
		t.Errorf("%d whole-document writes cut by %d kills on %d functions: more than one per function and kill", cut, kills, len(w.functions))
	}
	return cut
}

// killedLife is what one life of the operator did before its SIGKILL.
type killedLife struct {
	lasted  time.Duration
	writes  int // AddPermission and RemovePermission calls it made; with Document, statements its accepted writes changed
	pending int // objects whose work was not done when it died
}

type killedLives []killedLife

func (l killedLives) String() string {
	var parts []string
	for _, life := range l {
		parts = append(parts, fmt.Sprintf("%s/%dw/%dp", life.lasted.Round(100*time.Millisecond), life.writes, life.pending))
	}
	return "killedLives(lasted/writes/pending)=[" + strings.Join(parts, " ") + "]"
}

// killDuring applies apply to objs in size.kills+1 waves. After each wave
// but the last it kills the running operator with SIGKILL at a random
// moment of its work on the wave: right after its k-th write, k drawn
// between 1 and the wave's size (the emulator is watched every
// millisecond, and its calls take 0-40 ms, as AWS's take tens of them, so
// the kill lands among requests in flight), and starts it again. pending
// counts the objects whose work is not done.
func killDuring(t *testing.T, w *world, op *operatorProcess, rng *rand.Rand, objs []*lambdav1alpha1.LambdaPermission,
	apply func(*testing.T, []*lambdav1alpha1.LambdaPermission), pending func() int) killedLives {
	t.Helper()
	var lives killedLives
	born, writesAtBirth := time.Now(), writes(w)
	for i, wave := range batches(objs, size.kills+1) {
		apply(t, wave)
		if i == size.kills {
			break
		}
		k := 1 + rng.IntN(max(1, len(wave)-1))
		deadline := time.Now().Add(size.wait)
		for writes(w)-writesAtBirth < k {
			if err := op.alive(); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("life %d of the operator made only %d of %d writes in %s", op.lives, writes(w)-writesAtBirth, k, size.wait)
			}
			time.Sleep(time.Millisecond)
		}
		op.kill()
		lives = append(lives, killedLife{lasted: time.Since(born), writes: writes(w) - writesAtBirth, pending: pending()})
		born, writesAtBirth = time.Now(), writes(w)
		op.start()
	}
	return lives
}

// writes counts the operator's writes in the phase so far: its
// AddPermission and RemovePermission calls, or with Document the statements
// of ours that its accepted whole-document writes changed.
func writes(w *world) int {
	if w.variant.strategy == writer.Document {
		s := w.writes.summarize(w.ours)
		return total(s.added) + total(s.removed) + total(s.changed)
	}
	calls := w.emu.Stats().Calls
	return calls[emulator.OpAddPermission] + calls[emulator.OpRemovePermission]
}

// notReadyIn counts the objects in namespace that are not Ready.
func notReadyIn(namespace string) func() int {
	return func() int {
		var list lambdav1alpha1.LambdaPermissionList
		if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return -1
		}
		n := 0
		for _, obj := range list.Items {
			if !meta.IsStatusConditionTrue(obj.Status.Conditions, lambdav1alpha1.ConditionReady) {
				n++
			}
		}
		return n
	}
}

// deletingIn counts the objects in namespace that are being deleted: their
// finalizer is still waiting for the statement to be removed.
func deletingIn(namespace string) func() int {
	return func() int {
		var list lambdav1alpha1.LambdaPermissionList
		if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return -1
		}
		n := 0
		for _, obj := range list.Items {
			if !obj.DeletionTimestamp.IsZero() {
				n++
			}
		}
		return n
	}
}
