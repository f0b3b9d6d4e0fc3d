//go:build integration

package resilience

import (
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

const (
	leaseName     = "lambda-permission-operator.permissions.dev" // main.go's LeaderElectionID
	leaseDuration = 4 * time.Second
	retryPeriod   = 1 * time.Second
	// A follower tries to acquire every retryPeriod plus up to 1.2 times as
	// much (client-go's jitter), and judges the lease expired leaseDuration
	// after it last saw it renewed, which it may see one try late. So it
	// takes over at most leaseDuration plus two of its longest tries after
	// the leader's last renewal; one second more covers a loaded machine.
	takeoverBound = leaseDuration + 2*(retryPeriod+retryPeriod*12/10) + time.Second
)

// Two replicas run with leader election, at AWS's default request rates.
// Objects arrive; when the leader has added a third of their statements
// it is SIGKILLed, mid-way, without releasing its lease. The other replica
// takes over within the lease duration and a margin, and finishes the
// work: every object Ready, every policy exactly as it should be, and no
// statement written twice.
//
// With Document the leader writes each policy's pending statements in one
// whole-document write, so objects applied at once would all be written
// in a few writes, before any kill. There the objects arrive in ten waves,
// 300 ms apart; the leader dies once it has added a third of the
// statements, while it gathers or writes a later wave, and the rest arrive
// while no one leads.
func TestLeaderFailoverMidWay(t *testing.T) {
	forEachStrategy(t, leaderFailoverMidWay)
}

func leaderFailoverMidWay(t *testing.T, v variant) {
	w := newWorld(t, "ha", size.haFunctions, v)
	ns := w.namespace("ha")
	args := []string{"--leader-elect", "--leader-elect-namespace=" + ns,
		"--leader-elect-lease-duration=" + leaseDuration.String(), "--leader-elect-renew-deadline=3s",
		"--leader-elect-retry-period=" + retryPeriod.String(), "--sync-period=1m", "--watch-namespace=" + ns}
	replicas := []*operatorProcess{newOperatorProcess(t, w, "replica-a", args...), newOperatorProcess(t, w, "replica-b", args...)}
	for _, r := range replicas {
		r.start()
	}
	leader, follower := whoLeads(t, replicas)
	firstHolder := leaseHolder(t, ns)
	objs := w.permissions(ns, "h", size.haObjects)

	w.startPhase()
	waves := [][]*lambdav1alpha1.LambdaPermission{objs}
	if v.strategy == writer.Document {
		waves = batches(objs, 10)
	}
	created := make(chan error, 1)
	go func() { created <- createWaves(waves, 300*time.Millisecond) }()
	waitUntil(t, "the leader adding a third of the statements", size.wait, func() string {
		if added := statementsAdded(w); added < len(objs)/3 {
			return fmt.Sprintf("%d added", added)
		}
		return ""
	}, leader.alive)
	killedAt := time.Now()
	leader.kill()
	addedByLeader := statementsAdded(w)
	if err := <-created; err != nil {
		t.Fatal(err)
	}

	takeover := waitForTakeover(t, ns, firstHolder, killedAt, follower)
	if !strings.Contains(follower.log(), "Successfully acquired lease") {
		t.Fatalf("the lease moved from %s, but %s does not say it acquired it", firstHolder, follower.name)
	}
	if takeover > takeoverBound {
		t.Errorf("%s took over %s after the leader's death, more than the lease duration %s and a margin (%s)",
			follower.name, takeover, leaseDuration, takeoverBound)
	}
	waitAllReady(t, ns, len(objs), follower.alive)
	mismatches := w.requireNoMismatches("after the failover", w.expect(objs))

	requireNoStatementWrittenTwice(t, w, v, len(objs), addedByLeader)
	w.logFigures("create-with-leader-SIGKILLed", len(objs), mismatches, nil,
		fmt.Sprintf("leader=%s addsByLeader=%d takeover=%s (bound %s)", leader.name, addedByLeader,
			takeover.Round(10*time.Millisecond), takeoverBound))

	w.startPhase()
	deleteAll(t, objs)
	waitAllGone(t, ns, follower.alive)
	mismatches = w.requireNoMismatches("after deletion by the new leader", w.expect())
	if v.strategy == writer.Document {
		requireNoDocumentWriteRepeated(t, w, false, len(objs), 0)
	} else if removes := w.emu.Stats().Calls[emulator.OpRemovePermission]; removes != len(objs) {
		t.Errorf("%d RemovePermission calls for %d objects", removes, len(objs))
	}
	w.logFigures("delete-by-new-leader", len(objs), mismatches, nil)
}

// requireNoStatementWrittenTwice checks the creation of objects objects
// across the failover. A SIGKILL cuts the leader's requests, but each one
// reached Lambda whole (and was applied) or not at all, within
// milliseconds; the follower only starts reconciling after the lease
// expired, seconds later, and reads each policy before it writes, so it
// adopts a statement the leader added but did not get to record. Hence
// exactly one AddPermission per object, and no 409. With Document, each
// statement added by exactly one accepted write.
func requireNoStatementWrittenTwice(t *testing.T, w *world, v variant, objects, addedByLeader int) {
	t.Helper()
	if v.strategy == writer.Document {
		requireNoDocumentWriteRepeated(t, w, true, objects, 1)
		return
	}
	stats := w.emu.Stats()
	if adds := stats.Calls[emulator.OpAddPermission]; adds != objects {
		t.Errorf("%d AddPermission calls for %d objects (%d by the killed leader): duplicated writes", adds, objects, addedByLeader)
	}
	if failed := stats.Errors[emulator.OpAddPermission]; len(failed) > 0 {
		t.Errorf("AddPermission failed: %v", failed)
	}
	if removes := stats.Calls[emulator.OpRemovePermission]; removes != 0 {
		t.Errorf("%d RemovePermission calls while only adding", removes)
	}
}

// createWaves creates the waves of objects one after the other, pause
// apart. It may run beside the test: it returns the first failure.
func createWaves(waves [][]*lambdav1alpha1.LambdaPermission, pause time.Duration) error {
	for i, wave := range waves {
		if i > 0 {
			time.Sleep(pause)
		}
		for _, obj := range wave {
			if err := kube.Create(ctx, obj); err != nil {
				return fmt.Errorf("creating %s/%s: %w", obj.Namespace, obj.Name, err)
			}
		}
	}
	return nil
}

// statementsAdded counts the statements the operator added in the phase so
// far: its AddPermission calls, or with Document the statements of ours its
// accepted whole-document writes added.
func statementsAdded(w *world) int {
	if w.variant.strategy == writer.Document {
		return total(w.writes.summarize(w.ours).added)
	}
	return w.emu.Stats().Calls[emulator.OpAddPermission]
}

// whoLeads waits until exactly one replica says it acquired the lease (the
// lease's holderIdentity is hostname_uuid, the same host for both, so the
// replicas' logs tell which process holds it), and returns it and the other.
func whoLeads(t *testing.T, replicas []*operatorProcess) (leader, follower *operatorProcess) {
	t.Helper()
	guards := []func() error{replicas[0].alive, replicas[1].alive}
	waitUntil(t, "a leader", size.wait, func() string {
		var leaders []*operatorProcess
		for _, r := range replicas {
			if strings.Contains(r.log(), "Successfully acquired lease") {
				leaders = append(leaders, r)
			}
		}
		switch len(leaders) {
		case 0:
			return "no replica leads"
		case 1:
			leader = leaders[0]
			return ""
		default:
			t.Fatalf("both replicas say they lead")
		}
		return ""
	}, guards...)
	if leader == replicas[0] {
		return replicas[0], replicas[1]
	}
	return replicas[1], replicas[0]
}

func leaseHolder(t *testing.T, namespace string) string {
	t.Helper()
	lease := &coordinationv1.Lease{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: leaseName}, lease); err != nil {
		t.Fatalf("reading the lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("the lease has no holder")
	}
	return *lease.Spec.HolderIdentity
}

// waitForTakeover waits until the lease has another holder and the follower
// has logged that it acquired it, and returns how long after the kill the
// new holder acquired it (the lease's acquireTime).
func waitForTakeover(t *testing.T, namespace, oldHolder string, killedAt time.Time, follower *operatorProcess) time.Duration {
	t.Helper()
	var took time.Duration
	waitUntil(t, "another replica taking the lease over", 3*takeoverBound, func() string {
		lease := &coordinationv1.Lease{}
		if err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: leaseName}, lease); err != nil {
			return err.Error()
		}
		holder := lease.Spec.HolderIdentity
		if holder == nil || *holder == oldHolder || *holder == "" {
			return "held by the dead leader"
		}
		took = time.Since(killedAt)
		if at := lease.Spec.AcquireTime; at != nil {
			took = at.Sub(killedAt)
		}
		// client-go logs the acquisition only after it has written the
		// lease, and the caller checks that line: wait for it too.
		if !strings.Contains(follower.log(), "Successfully acquired lease") {
			return fmt.Sprintf("the lease moved to %s, but %s has not logged acquiring it", *holder, follower.name)
		}
		return ""
	}, follower.alive)
	return took
}
