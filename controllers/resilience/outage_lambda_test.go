//go:build integration

package resilience

import (
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// lambdaOutage is one way Lambda can fail for a while.
type lambdaOutage struct {
	name       string
	begin, end func(w *world)
	// ceiling is the most AWS calls the operator of side s may make (made)
	// and Lambda may receive (received) in an outage of length d, and why.
	ceiling func(s *outageSide, d time.Duration) (made, received int, why string)
}

var (
	// Every request is answered 500 ServiceException (those that pass
	// AWS's quotas: the SDK's retries are not paced, so some get a 429).
	serviceErrors = lambdaOutage{name: "5xx",
		begin: func(w *world) {
			w.setFaults(emulator.Faults{Seed: 29, Operations: map[string]emulator.OperationFaults{
				emulator.AllOperations: {ServiceError: 1}}})
		},
		end: func(w *world) { w.setFaults(emulator.Faults{}) },
		ceiling: func(s *outageSide, d time.Duration) (int, int, string) {
			made, why := failingCalls(s, d)
			return made, made * sdkAttempts, fmt.Sprintf("%s; each sent at most %d times", why, sdkAttempts)
		}}
	// Nothing listens: every connection is refused, and Lambda receives
	// nothing.
	refusedConnections = lambdaOutage{name: "refused",
		begin: (*world).refuseConnections,
		end:   (*world).acceptConnections,
		ceiling: func(s *outageSide, d time.Duration) (int, int, string) {
			made, why := failingCalls(s, d)
			return made, 0, why
		}}
	// Every request is accepted and never answered: each HTTP request the
	// operator makes gives up after awslambda.DefaultRequestTimeout (30 s)
	// and is retried as a dropped connection is. Calls in flight when the
	// outage ends stay unanswered until then, as a connection that hung
	// does.
	timeouts = lambdaOutage{name: "timeouts",
		begin: func(w *world) {
			w.setFaults(emulator.Faults{Seed: 29, Operations: map[string]emulator.OperationFaults{
				emulator.AllOperations: {Latency: 10 * time.Minute}}})
		},
		end: func(w *world) { w.setFaults(emulator.Faults{}) },
		// A request never answered holds its worker, or its policy's
		// Document batch, for the request timeout: each worker and each
		// policy's batch has at most one request in flight per timeout.
		ceiling: func(s *outageSide, d time.Duration) (int, int, string) {
			slots, rounds := s.w.variant.workers+len(s.w.functions), int(d/awslambda.DefaultRequestTimeout)+1
			return slots * rounds, slots * rounds, fmt.Sprintf("hung: (%d workers + %d policies' batches) × %d rounds of %s",
				s.w.variant.workers, len(s.w.functions), rounds, awslambda.DefaultRequestTimeout)
		}}
)

// pacedCalls is the most AWS calls the operator can make in d whatever
// fails: it paces its GetPolicy calls and its writes (the Document
// strategy's batches take a write turn before they read) each at
// awslambda.DefaultLimits, the binary's defaults, with a burst of one.
// Two kinds of call are not paced but asked until answered once, then
// cached: the function's lookup (GetFunction, one per function) and the
// operator's own account (STS GetCallerIdentity, by every worker that
// finds it unknown); in these scenarios both are answered before the
// outage or, Lambda working, at the first try.
func pacedCalls(s *outageSide, d time.Duration) (int, string) {
	rate := awslambda.DefaultLimits.GetPolicy + awslambda.DefaultLimits.ControlPlane
	n := int(math.Ceil(d.Seconds()*rate)) + 2 + len(s.w.functions) + s.w.variant.workers
	return n, fmt.Sprintf("paced: %s × %.0f/s + 2 + %d lookups + %d STS", d.Round(100*time.Millisecond), rate, len(s.w.functions), s.w.variant.workers)
}

// failingCalls is the most AWS calls the operator can make in d when every
// call fails: what its pacing allows (pacedCalls), or, when fewer, what its
// backoff allows. Each object is reconciled at most reconcilesWithin(d)
// times, since nothing resets its backoff but a success (kernel.Backoff
// keeps counting through a 429's Retry-After and a write queued for its
// policy's batch), and a reconcile ends at its first call, which fails: a
// Statements reconcile's own call, or the Document batch its queued write
// joined, whose failure wakes it to count the failure.
func failingCalls(s *outageSide, d time.Duration) (int, string) {
	made, why := pacedCalls(s, d)
	n, r := len(s.objs), reconcilesWithin(d)
	if n*r < made {
		made, why = n*r, fmt.Sprintf("backoff: %d objects × %d reconciles in %s (from %s, doubling, ±20 %%), one call each", n, r, d.Round(100*time.Millisecond), retryBase)
	}
	return made, why
}

// refuseConnections closes the emulator's listener: every connection to
// its address is refused, as when Lambda's endpoint cannot be reached.
// Calls in flight are answered first.
func (w *world) refuseConnections() { w.server.Close() }

// acceptConnections serves the emulator again on the same address, so that
// the endpoint the operators were given works again.
func (w *world) acceptConnections() {
	addr := w.server.Listener.Addr().String()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		w.t.Fatalf("serving the emulator on %s again: %v", addr, err)
	}
	server := httptest.NewUnstartedServer(w.server.Config.Handler)
	_ = server.Listener.Close()
	server.Listener = l
	server.Start()
	w.t.Cleanup(server.Close)
	w.server = server
}

// Lambda fails for a while, in each way it can: every call answered with
// a 500, every connection refused, and (at full scale) every call
// accepted and never answered. Before, half the objects are Ready; during
// the outage the team applies the other half. Each way of failing runs
// with both write strategies, all six side by side through the same
// minutes, each against its own emulator with AWS's quotas on. For each:
// nothing is lost (every object Ready, its statement in its policy) and
// nothing foreign touched (the statement planted on each function before
// stays byte for byte); the operator's calls during the outage stay under
// a ceiling its pacing and backoff set; once Lambda is back there is no
// storm of 429s; and every object is Ready within one sync period of the
// end.
func TestLambdaOutages(t *testing.T) {
	outages := []lambdaOutage{serviceErrors, refusedConnections}
	if size.lambdaTimeouts {
		outages = append(outages, timeouts)
	}
	var sides []*outageSide
	kinds := map[*outageSide]lambdaOutage{}
	for _, o := range outages {
		for _, v := range variants {
			s := newOutageSide(t, "lambda-"+o.name, v)
			kinds[s] = o
			sides = append(sides, s)
		}
	}
	half := size.outageObjects / 2
	for _, s := range sides {
		s.start(t)
		createAll(t, s.objs[:half])
	}
	for _, s := range sides {
		waitUntil(t, s.name()+": the first half Ready", size.wait, func() string { return notAllReady(s.ns, half) }, s.op.alive)
	}

	made := map[*outageSide]map[string]int{}
	received := map[*outageSide]emulator.Stats{}
	started := time.Now() // the window holds every side's outage
	for _, s := range sides {
		made[s] = s.callsMade(t)
		s.w.emu.ResetStats()
		kinds[s].begin(s.w)
	}
	for _, s := range sides {
		createAll(t, s.objs[half:])
	}
	holdOutage(t, sides, started, size.lambdaOutage)
	for _, s := range sides {
		kinds[s].end(s.w)
		received[s] = s.w.emu.TakeStats()
		made[s] = minus(s.callsMade(t), made[s])
	}
	ended := time.Now()
	took := waitSidesReady(t, sides, ended, size.outageSyncPeriod)

	for _, s := range sides {
		outage := outageFigures{d: ended.Sub(started), made: made[s], received: total(received[s].Calls),
			errors: received[s].Errors, recovery: s.w.emu.Stats(), ready: took[s],
			extra: fmt.Sprintf("appliedDuringOutage=%d backoffAlone=%d", len(s.objs)-half, len(s.objs)*reconcilesWithin(ended.Sub(started)))}
		outage.maxMade, outage.maxReceived, outage.why = kinds[s].ceiling(s, outage.d)
		outage.report(t, s)
	}
}

// holdOutage lets the outage last d from started, while the operators
// stay alive.
func holdOutage(t *testing.T, sides []*outageSide, started time.Time, d time.Duration) {
	t.Helper()
	for time.Since(started) < d {
		for _, s := range sides {
			if err := s.op.alive(); err != nil {
				t.Fatalf("%s during the outage: %v", s.name(), err)
			}
		}
		time.Sleep(min(200*time.Millisecond, d-time.Since(started)))
	}
}
