//go:build integration && soak

package soak

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// faults fail one Lambda or STS request in twenty, in every way the
// emulator can: 500s, throttles, "update in progress", connections dropped
// before and after the request was applied.
func faults(seed int64) emulator.Faults {
	return emulator.Faults{Seed: seed, RetryAfterSeconds: 1, Operations: map[string]emulator.OperationFaults{
		emulator.AllOperations: {ServiceError: 0.015, Throttle: 0.015, UpdateConflict: 0.01, Drop: 0.005, DropAfterApply: 0.005},
	}}
}

// TestSoak runs the operator binary for SOAK under churn, faults and a
// foreign writer, sampling it as it goes; then it stops the churn, clears
// the faults, checks that every object is Ready within a sync period and
// that the objects and the policies agree soon after, and that nothing
// grew past its bound.
func TestSoak(t *testing.T) {
	soak, seed := duration(t), seedFromEnv(t)
	every := interval(soak)
	// The test runs with go test -timeout 0 (its length is SOAK's): this
	// is its own, with room for the set-up and the end.
	watchdog := time.AfterFunc(soak+20*time.Minute, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("soak: still running %s after a soak of %s", soak+20*time.Minute, soak))
	})
	defer watchdog.Stop()

	c := newChurner(seed)
	c.setUp(t)
	w := newForeignWriter(t, c.functions, seed)
	op := startOperator(t)
	logf("soak: %s, sampled every %s; %d LambdaPermissions, %d function URL grants and %d LambdaResourcePolicies over %d functions in %d namespaces; "+
		"every %s %d deleted, %d created and %d changed; --sync-period=%s; seed %d", soak, every, permissions, urlGrants, len(c.lrps),
		len(c.allFunctions()), len(namespaces), tick, permissionsPerTick, permissionsPerTick, changesPerTick, syncPeriod, seed)
	c.populate(t)
	converge(t, "the first population", c, w, op, 5*time.Minute, 5*time.Minute)
	if t.Failed() {
		t.FailNow()
	}

	s := churnAndSample(t, c, w, op, soak, every, seed)
	// Once Lambda answers again, every object is Ready within a sync
	// period: the last changes of the churn take seconds, and a retry
	// backs off for at most a few (faults of 5 % seldom fail one object
	// twice in a row). The margin is for two cores shared with the API
	// server and etcd.
	//
	// Statements a replacement took out take longer: an object checks its
	// statement every sync period (jittered by up to 10 %) against a view
	// of the policy up to a sync period old (writer.Freshness.MaxAge), so
	// a replacement made as the churn stopped is seen by the first read
	// after the views from before it expire, and each object puts its
	// statement back at its first check after that: up to two sync periods
	// and a tenth. Meanwhile the objects say Ready.
	converge(t, "after the churn", c, w, op, syncPeriod*11/10+30*time.Second, syncPeriod*22/10+30*time.Second)
	w.report(t)
	summary(t, op, c, w)
	s.judge(t)
	if t.Failed() {
		dump := filepath.Join(os.TempDir(), fmt.Sprintf("soak-goroutines-%d.txt", op.Pid()))
		if os.WriteFile(dump, []byte(op.goroutineDump()), 0o644) == nil {
			t.Logf("the operator's goroutines, by stack: %s", dump)
		}
	}
}

// churnAndSample injects the faults, runs the churn and the foreign writer
// for soak, sampling the operator every interval, then stops them and
// clears the faults.
func churnAndSample(t *testing.T, c *churner, w *foreignWriter, op *operator, soak, every time.Duration, seed uint64) *sampler {
	t.Helper()
	if err := suite.Emulator.SetFaults(faults(int64(seed))); err != nil {
		t.Fatal(err)
	}
	s := newSampler(t, op, c)
	churn, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.run(churn, t) })
	wg.Go(func() { w.run(churn) })
	stopChurn := func() { stop(); wg.Wait() }
	t.Cleanup(stopChurn)
	s.take(t)
	for next := every; next <= soak; next += every {
		time.Sleep(time.Until(s.started.Add(next)))
		s.take(t)
	}
	stopChurn()
	if err := suite.Emulator.SetFaults(emulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// seedFromEnv is SOAK_SEED, 1 when unset: it seeds the churn, the foreign
// writer and the faults.
func seedFromEnv(t *testing.T) uint64 {
	t.Helper()
	v := os.Getenv("SOAK_SEED")
	if v == "" {
		return 1
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("SOAK_SEED=%q: %v", v, err)
	}
	return seed
}

// summary prints what the operator did, by its own metrics and the
// emulator's counts, and fails the test if it never repaired a policy the
// foreign writer replaced.
func summary(t *testing.T, op *operator, c *churner, w *foreignWriter) {
	t.Helper()
	metrics, err := op.scrape()
	if err != nil {
		t.Fatal(err)
	}
	var drift []string
	total := 0.0
	for _, kind := range []string{"missing", "changed", "replaced", "policy"} {
		n, _ := metricSum(metrics, "lambda_permission_drift_corrections_total", fmt.Sprintf(`drift=%q`, kind))
		total += n
		drift = append(drift, fmt.Sprintf("%s=%.0f", kind, n))
	}
	logf("churn: %d operations; the operator's drift corrections: %s", c.operations(), strings.Join(drift, " "))
	stats := suite.Emulator.Stats()
	var calls []string
	for _, op := range slices.Sorted(maps.Keys(stats.Calls)) {
		calls = append(calls, fmt.Sprintf("%s=%d", op, stats.Calls[op]))
	}
	logf("Lambda calls (the operator's and the foreign writer's): %s; faults injected: %d", strings.Join(calls, " "), injectedFaults())
	if w.replacements > 0 && total == 0 {
		t.Errorf("the foreign writer replaced %d policies, and the operator never counted a drift correction", w.replacements)
	}
}
