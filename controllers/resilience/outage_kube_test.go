//go:build integration

package resilience

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// The control plane fails under the operator while a team applies
// hundreds of LambdaPermissions: once a third of them are created,
// kube-apiserver is killed with SIGKILL, stays down a moment, and is
// started again on its address with its certificates; then, separately,
// etcd, with its data. The team's tool retries what failed (an object
// whose creation went through unconfirmed already exists: applied). Both
// write strategies run side by side through the same outage, each with its
// own operator process, emulator (AWS's quotas on) and namespace. For
// each: nothing is lost (every object Ready, its statement in place, none
// written twice) and nothing foreign touched; the operator's AWS calls
// while the API was down stay under its pacing; there is no storm of 429s
// once the API is back; and every object is Ready within one sync period
// of the API answering again.
func TestControlPlaneOutageDuringMassCreate(t *testing.T) {
	for _, c := range []harness.Component{harness.APIServer, harness.Etcd} {
		t.Run(string(c), func(t *testing.T) { controlPlaneOutage(t, c) })
	}
}

func controlPlaneOutage(t *testing.T, c harness.Component) {
	var sides []*outageSide
	var guards []func() error
	for _, v := range variants {
		s := newOutageSide(t, string(c), v)
		s.start(t)
		sides, guards = append(sides, s), append(guards, s.op.alive)
	}
	var all []*lambdav1alpha1.LambdaPermission // the team applies both namespaces' objects at once
	for i := range size.outageObjects {
		for _, s := range sides {
			all = append(all, s.objs[i])
		}
	}
	// In ten waves, 300 ms apart, as a pipeline applies a large change: the
	// kill lands once a third of the objects are created and both
	// operators are writing statements, with the rest still to come.
	var created, retries atomic.Int64
	applied := make(chan error, 1)
	go func() { applied <- createRetrying(batches(all, 10), 300*time.Millisecond, &created, &retries) }()
	waitUntil(t, "a third of the objects created, and both operators writing", size.wait, func() string {
		if n := created.Load(); n < int64(len(all)/3) {
			return fmt.Sprintf("%d created", n)
		}
		for _, s := range sides {
			if statementsAdded(s.w) == 0 {
				return s.name() + ": no statement written yet"
			}
		}
		return ""
	}, guards...)

	made, before := map[*outageSide]map[string]int{}, map[*outageSide]emulator.Stats{}
	for _, s := range sides {
		made[s], before[s] = s.callsMade(t), s.w.emu.TakeStats()
	}
	killed := time.Now()
	createdAtKill := created.Load()
	if err := suite.Kill(c); err != nil {
		t.Fatal(err)
	}
	time.Sleep(size.kubeDown) // the outage itself: the component stays down
	if err := suite.Restart(c); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the API answering again", size.wait, apiAnswers(sides[0].ns), guards...)
	back := time.Now()
	outage := map[*outageSide]outageFigures{}
	for _, s := range sides {
		received := s.w.emu.TakeStats()
		outage[s] = outageFigures{d: back.Sub(killed), made: minus(s.callsMade(t), made[s]), received: total(received.Calls), errors: received.Errors}
		before[s] = addStats(before[s], received)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	took := waitSidesReady(t, sides, back, size.outageSyncPeriod)

	for _, s := range sides {
		o := outage[s]
		o.recovery, o.ready = s.w.emu.Stats(), took[s]
		o.maxMade, o.why = pacedCalls(s, o.d)
		o.maxReceived = o.maxMade // Lambda works: each call is sent once
		adds := requireEachStatementWrittenOnce(t, s, addStats(before[s], o.recovery))
		o.extra = fmt.Sprintf("createdAtKill=%d/%d createRetries=%d statementsWritten=%d", createdAtKill, len(all), retries.Load(), adds)
		o.report(t, s)
	}
}

// createRetrying creates the waves of objects in order, pause apart, as a
// team's tool would, retrying each failure every 100 ms (the API being
// down) for up to size.wait; one that exists already was created by a try
// whose answer was lost. It counts the objects created and the tries that
// failed.
func createRetrying(waves [][]*lambdav1alpha1.LambdaPermission, pause time.Duration, created, retries *atomic.Int64) error {
	for i, wave := range waves {
		if i > 0 {
			time.Sleep(pause)
		}
		for _, obj := range wave {
			for started := time.Now(); ; time.Sleep(100 * time.Millisecond) {
				err := kube.Create(ctx, obj.DeepCopy())
				if err == nil || apierrors.IsAlreadyExists(err) {
					break
				}
				if time.Since(started) > size.wait {
					return fmt.Errorf("creating %s/%s: %w", obj.Namespace, obj.Name, err)
				}
				retries.Add(1)
			}
			created.Add(1)
		}
	}
	return nil
}

// apiAnswers is a check for waitUntil: "" once the API server answers a
// read from etcd (a GET of a namespace, which no cache serves).
func apiAnswers(namespace string) func() string {
	return func() string {
		if err := kube.Get(ctx, client.ObjectKey{Name: namespace}, &corev1.Namespace{}); err != nil {
			return err.Error()
		}
		return ""
	}
}

// requireEachStatementWrittenOnce checks that across the outage no
// statement was written twice, from Lambda's counters over the whole
// scenario, and returns how many were written. The operator may have
// written a statement and then failed to record it (the API down): it
// must find it in place after, and write nothing again. With Statements,
// one accepted AddPermission per object and no other answer than a 429;
// with Document, from the write log: each statement added by exactly one
// accepted write, and none cut (nothing kills the operator here).
func requireEachStatementWrittenOnce(t *testing.T, s *outageSide, stats emulator.Stats) int {
	t.Helper()
	if s.w.variant.strategy == writer.Document {
		requireNoDocumentWriteRepeated(t, s.w, true, len(s.objs), 0)
		return total(s.w.writes.summarize(s.w.ours).added)
	}
	refused := total(stats.Errors[emulator.OpAddPermission])
	if other := refused - stats.Errors[emulator.OpAddPermission]["TooManyRequestsException"]; other > 0 {
		t.Errorf("%s: AddPermission refused other than throttled (written twice?): %v", s.name(), stats.Errors[emulator.OpAddPermission])
	}
	accepted := stats.Calls[emulator.OpAddPermission] - refused
	if accepted != len(s.objs) {
		t.Errorf("%s: %d AddPermission calls accepted for %d objects", s.name(), accepted, len(s.objs))
	}
	if removes := stats.Calls[emulator.OpRemovePermission]; removes != 0 {
		t.Errorf("%s: %d RemovePermission calls while only adding", s.name(), removes)
	}
	return accepted
}

// addStats adds b's calls and errors to a's.
func addStats(a, b emulator.Stats) emulator.Stats {
	out := emulator.Stats{Calls: map[string]int{}, Errors: map[string]map[string]int{}}
	for _, s := range []emulator.Stats{a, b} {
		for op, n := range s.Calls {
			out.Calls[op] += n
		}
		for op, codes := range s.Errors {
			if out.Errors[op] == nil {
				out.Errors[op] = map[string]int{}
			}
			for code, n := range codes {
				out.Errors[op][code] += n
			}
		}
	}
	return out
}
