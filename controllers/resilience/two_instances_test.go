//go:build integration

package resilience

import (
	"testing"
	"time"
)

// Two clusters, each with its own operator, grant access to the same
// functions with statements of their own (different Sids), while Lambda
// fails one request in ten. Both converge; neither removes or rewrites the
// other's statements, although each reads and writes the same policies.
// Then one cluster deletes all its objects: only its statements go, and
// the other, checking all of its statements again, finds them in place.
// With either write strategy (both instances using it): with Document each
// instance writes whole documents under the policy's revision, which the
// other's writes keep moving.
func TestTwoOperatorInstancesShareFunctions(t *testing.T) {
	forEachStrategy(t, twoOperatorInstancesShareFunctions)
}

func twoOperatorInstancesShareFunctions(t *testing.T, v variant) {
	w := newWorld(t, "pair", size.pairFunctions, v)
	east, west := w.namespace("east"), w.namespace("west")
	// No periodic re-reads: under faults, a failed re-read shows briefly
	// as not Ready, and with hundreds of objects some always would be. The
	// test forces one round of re-reads instead, below.
	startInProcessOperator(t, w, east, 10*time.Minute)
	startInProcessOperator(t, w, west, 10*time.Minute)
	eastObjs := w.permissions(east, "east", size.pairObjects)
	westObjs := w.permissions(west, "west", size.pairObjects)

	w.setFaults(twentyPercentFaults(31, 0.5))
	w.startPhase()
	createAll(t, interleave(eastObjs, westObjs))
	waitAllReady(t, east, len(eastObjs))
	waitAllReady(t, west, len(westObjs))
	mismatches := w.requireNoMismatches("both instances converged", w.expect(eastObjs, westObjs))
	w.logFigures("both-converge-under-10%-faults", len(eastObjs)+len(westObjs), mismatches, nil)

	w.startPhase()
	deleteAll(t, eastObjs)
	waitAllGone(t, east)
	// The west instance re-reads every policy once more, after east's
	// removals: it finds its statements and keeps east's hands off them.
	forceResync(t, west)
	mismatches = w.requireNoMismatches("east deleted everything", w.expect(westObjs))
	w.logFigures("east-deletes-all-under-10%-faults", len(eastObjs), mismatches, nil)

	w.startPhase()
	deleteAll(t, westObjs)
	waitAllGone(t, west)
	mismatches = w.requireNoMismatches("west deleted everything too", w.expect())
	w.logFigures("west-deletes-all-under-10%-faults", len(westObjs), mismatches, nil)
}

// interleave alternates the elements of a and b, so that both instances
// work on the same functions at the same time.
func interleave[T any](a, b []T) []T {
	out := make([]T, 0, len(a)+len(b))
	for i := range max(len(a), len(b)) {
		if i < len(a) {
			out = append(out, a[i])
		}
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}
