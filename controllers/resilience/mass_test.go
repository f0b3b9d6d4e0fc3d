//go:build integration

package resilience

import (
	"fmt"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// A team applies hundreds of LambdaPermissions at once while Lambda fails
// one request in five, in every way it can: 500s, throttles, "update in
// progress", connections dropped before and after the request was applied.
// Every object still becomes Ready, and every policy holds exactly the
// desired statements plus the foreign ones; it stays so while the operator
// checks every statement again, writing nothing. Then Lambda recovers and
// the team deletes everything: every object goes, no statement of ours is
// left behind, and the foreign statements are untouched. With either write
// strategy.
func TestMassConvergenceUnderFaults(t *testing.T) {
	forEachStrategy(t, massConvergenceUnderFaults)
}

func massConvergenceUnderFaults(t *testing.T, v variant) {
	w := newWorld(t, "mass", size.massFunctions, v)
	ns := w.namespace("mass")
	// The default sync period: under 20 % faults, a periodic re-read that
	// fails shows as not Ready for a moment, and with hundreds of objects
	// re-read every few seconds some always would be.
	startInProcessOperator(t, w, ns, 10*time.Minute)
	objs := w.permissions(ns, "m", size.massObjects)

	w.setFaults(twentyPercentFaults(20260101, 1))
	w.startPhase()
	createAll(t, objs)
	took := waitAllReady(t, ns, len(objs))
	mismatches := w.requireNoMismatches("after creation under faults", w.expect(objs))
	w.logFigures("create-under-20%-faults", len(objs), mismatches, nil, fmt.Sprintf("allReadyAfter=%s", took.Round(100*time.Millisecond)))

	// Still under faults, the operator checks every statement again, as
	// its periodic drift checks do: every object stays in place, and
	// finding its statement in place, the operator writes nothing.
	w.startPhase()
	for range size.massRechecks {
		forceResync(t, ns)
	}
	mismatches = w.requireNoMismatches("after re-checking everything under faults", w.expect(objs))
	if writes := policyWrites(w.emu.Stats().Calls); len(writes) > 0 {
		t.Errorf("writes while re-checking statements in place: %s", countsByKey(writes))
	}
	w.logFigures(fmt.Sprintf("%d-rechecks-under-20%%-faults", size.massRechecks), len(objs), mismatches, nil)

	w.setFaults(emulator.Faults{})
	w.startPhase()
	deleteAll(t, objs)
	took = waitAllGone(t, ns)
	mismatches = w.requireNoMismatches("after deleting everything", w.expect())
	w.logFigures("delete-after-recovery", len(objs), mismatches, nil, fmt.Sprintf("allGoneAfter=%s", took.Round(100*time.Millisecond)))
}

// policyWrites are the calls of every operation that changes a policy,
// where there were any.
func policyWrites(calls map[string]int) map[string]int {
	writes := map[string]int{}
	for _, op := range []string{emulator.OpAddPermission, emulator.OpRemovePermission, emulator.OpPutResourcePolicy, emulator.OpDeleteResourcePolicy} {
		if calls[op] > 0 {
			writes[op] = calls[op]
		}
	}
	return writes
}
