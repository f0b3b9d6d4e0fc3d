//go:build integration

package resilience

import (
	"bufio"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// What the outage scenarios' ceilings are made of: the operator's settings,
// mirrored here as leaseName mirrors main.go's.
const (
	// retryBase and retryCap are controllers/setup.go's: an object whose
	// reconcile fails is retried after retryBase, then twice as long each
	// time, up to retryCap, each delay drawn within ±20 %.
	retryBase = 100 * time.Millisecond
	retryCap  = 5 * time.Minute
	// sdkAttempts is awslambda.Retryer's MaxAttempts: a call that fails
	// with a 5xx, a refused connection or a dropped one is sent up to
	// three times; a throttle or a timeout once.
	sdkAttempts = 3
)

// awsQuotas are AWS's default request rate quotas (SPEC §8), turned on in
// the outage scenarios' emulators once their functions are set up. The
// operator binary paces itself at the same rates by default
// (awslambda.DefaultLimits), so a 429 would be its own doing.
var awsQuotas = map[string]float64{emulator.BucketGetPolicy: 15, emulator.BucketControlPlane: 15, emulator.BucketGetFunction: 100}

// outageSide is one write strategy's part in an outage scenario: a world
// of its own with AWS's quotas on, a namespace and its objects, and the
// operator binary run as a process at its defaults (AWS's rates, its
// strategy's workers), with the scenario's sync period and its metrics
// served. An outage scenario runs both strategies' sides through the same
// outage, side by side.
type outageSide struct {
	w       *world
	ns      string
	objs    []*lambdav1alpha1.LambdaPermission
	op      *operatorProcess
	metrics string // the operator's metrics endpoint
}

func newOutageSide(t *testing.T, name string, v variant) *outageSide {
	t.Helper()
	w := newWorld(t, name, size.outageFunctions, v)
	if err := w.emu.SetQuotas(awsQuotas); err != nil {
		t.Fatal(err)
	}
	s := &outageSide{w: w, ns: w.namespace(name), metrics: harness.FreeAddress(t)}
	s.objs = w.permissions(s.ns, "p", size.outageObjects)
	s.op = newOperatorProcess(t, w, "operator", "--watch-namespace="+s.ns,
		"--sync-period="+size.outageSyncPeriod.String(), "--metrics-bind-address="+s.metrics)
	return s
}

// lostItsPort waits until the operator serves its metrics or exits, and
// reports whether it exited because its metrics port was taken.
func (s *outageSide) lostItsPort(t *testing.T) bool {
	t.Helper()
	deadline := time.Now().Add(size.wait)
	for time.Now().Before(deadline) {
		if !s.op.running() {
			return strings.Contains(s.op.log(), "address already in use")
		}
		if resp, err := http.Get("http://" + s.metrics + "/metrics"); err == nil {
			_ = resp.Body.Close()
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// start starts the operator and waits until it serves its metrics: it
// is running, its counters readable. The metrics port was free when it
// was picked, but another process can take it first (any outgoing
// connection's ephemeral port): the operator then exits at once, "address
// already in use", and starts again on another port.
func (s *outageSide) start(t *testing.T) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s.op.start()
		if attempt == 3 || !s.lostItsPort(t) {
			break
		}
		s.metrics = harness.FreeAddress(t)
		s.op.setArg("--metrics-bind-address=", s.metrics)
	}
	waitUntil(t, s.name()+": the operator serving its metrics", size.wait, func() string {
		resp, err := http.Get("http://" + s.metrics + "/metrics")
		if err != nil {
			return err.Error()
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	}, s.op.alive)
}

// name names the side in messages: its world and strategy.
func (s *outageSide) name() string { return s.w.name + "/" + string(s.w.variant.strategy) }

// callsMade is the operator's AWS calls so far by operation, whatever their
// outcome, as its metrics count them (lambda_permission_aws_calls_total):
// one per call, however often the SDK sent it. Where Lambda refuses
// connections these are the only count there is.
func (s *outageSide) callsMade(t *testing.T) map[string]int {
	t.Helper()
	resp, err := http.Get("http://" + s.metrics + "/metrics")
	if err != nil {
		t.Fatalf("%s: reading the operator's metrics: %v", s.name(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	calls := map[string]int{}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for lines.Scan() {
		line, found := strings.CutPrefix(lines.Text(), "lambda_permission_aws_calls_total{")
		if !found {
			continue
		}
		_, rest, _ := strings.Cut(line, `operation="`)
		operation, _, _ := strings.Cut(rest, `"`)
		value, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%s: metrics line %q: %v", s.name(), lines.Text(), err)
		}
		calls[operation] += int(value)
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}

// waitSidesReady waits until every side's objects are all Ready, within
// deadline of since, and returns how long after since each side first was.
// The operators must stay alive throughout.
func waitSidesReady(t *testing.T, sides []*outageSide, since time.Time, deadline time.Duration) map[*outageSide]time.Duration {
	t.Helper()
	took := map[*outageSide]time.Duration{}
	var guards []func() error
	for _, s := range sides {
		guards = append(guards, s.op.alive)
	}
	waitUntil(t, "every object Ready", deadline-time.Since(since), func() string {
		var waiting []string
		for _, s := range sides {
			if _, done := took[s]; done {
				continue
			}
			if complaint := notAllReady(s.ns, len(s.objs)); complaint != "" {
				waiting = append(waiting, s.name()+": "+complaint)
				continue
			}
			took[s] = time.Since(since)
		}
		return strings.Join(waiting, "; ")
	}, guards...)
	return took
}

// reconcilesWithin is how many times the operator can reconcile one
// failing object in d: once, then once more after each backoff delay that
// still fits, each at least 0.8 of retryBase·2^n (capped at retryCap).
// That holds only while nothing makes controller-runtime forget the
// object's failures, as it does whenever a reconcile asks to come back
// later (RequeueAfter): after a 429's Retry-After, a write turn far off,
// or a Document write queued for its policy's batch, which a failed batch
// wakes at once. Where those can happen, pacedCalls is the ceiling.
func reconcilesWithin(d time.Duration) int {
	n, elapsed := 1, time.Duration(0)
	for delay := retryBase; ; delay = min(2*delay, retryCap) {
		elapsed += delay * 8 / 10
		if elapsed > d {
			return n
		}
		n++
	}
}

// minus is after's counts less before's.
func minus(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range after {
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// throttled counts the 429s among errors (operation → code → count).
func throttled(errors map[string]map[string]int) int {
	n := 0
	for _, codes := range errors {
		n += codes["TooManyRequestsException"]
	}
	return n
}

// byKey lists counts as [key=count …], for a FIGURES line.
func byKey(counts map[string]int) string { return "[" + countsByKey(counts) + "]" }

// errorCodes lists errors as operation/code=count, for a FIGURES line.
func errorCodes(errors map[string]map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(errors)) {
		for _, code := range slices.Sorted(maps.Keys(errors[op])) {
			parts = append(parts, fmt.Sprintf("%s/%s=%d", op, strings.TrimSuffix(code, "Exception"), errors[op][code]))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// outageFigures are one side's figures of an outage.
type outageFigures struct {
	d                    time.Duration
	made                 map[string]int            // AWS calls the operator made during the outage, by operation
	received             int                       // and those Lambda received
	maxMade, maxReceived int                       // their ceilings, before the calls in flight at the window's edges
	why                  string                    // the ceilings' reason
	errors               map[string]map[string]int // Lambda's answers during the outage, by operation and code
	recovery             emulator.Stats            // Lambda's counters from the end of the outage to every object Ready
	ready                time.Duration             // from the end of the outage to every object Ready
	extra                string                    // the scenario's own figures
}

// report checks the side's end state and figures, and prints them on one
// line.
func (o outageFigures) report(t *testing.T, s *outageSide) {
	t.Helper()
	mismatches := s.w.requireNoMismatches(s.name()+": after the outage", s.w.expect(s.objs))
	// The counts are taken at the window's edges, where calls may be in
	// flight: one per worker and per policy's batch at most.
	inFlight := s.w.variant.workers + len(s.w.functions)
	maxMade, maxReceived := o.maxMade+inFlight, o.maxReceived+inFlight
	if made := total(o.made); made > maxMade || o.received > maxReceived {
		t.Errorf("%s: %d AWS calls made and %d received during a %s outage, over the ceilings %d and %d (%s, + %d in flight)",
			s.name(), made, o.received, o.d.Round(time.Second), maxMade, maxReceived, o.why, inFlight)
	}
	// A storm would be hundreds. The operator paces its calls at AWS's
	// quotas, so only calls it had started before Lambda came back, and
	// whose unpaced SDK retries land after, can meet an empty bucket: at
	// most one per worker and per policy's batch.
	throttles := throttled(o.recovery.Errors)
	if throttles > inFlight {
		t.Errorf("%s: %d 429s after the outage, more than %d: %s", s.name(), throttles, inFlight, errorCodes(o.recovery.Errors))
	}
	t.Logf("OUTAGE %s: outage=%s objects=%d functions=%d workers=%d "+
		"callsDuringOutage[made=%d ceiling=%d received=%d ceiling=%d (%s, + %d in flight) made%s answers%s] "+
		"recovery[429s=%d bound=%d calls=%d allReadyAfter=%s bound=%s (sync period)] mismatches=%d %s",
		s.name(), o.d.Round(100*time.Millisecond), len(s.objs), len(s.w.functions), s.w.variant.workers,
		total(o.made), maxMade, o.received, maxReceived, o.why, inFlight, byKey(o.made), errorCodes(o.errors),
		throttles, inFlight, total(o.recovery.Calls), o.ready.Round(100*time.Millisecond), size.outageSyncPeriod, mismatches, o.extra)
}
