package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Kinds of rows in the table.
const (
	createRow   = "create"   // objects created at once
	deleteRow   = "delete"   // the objects of a create row deleted at once
	accountsRow = "accounts" // objects created at once over several accounts
)

type result struct {
	name          string
	kind          string // createRow, deleteRow, accountsRow
	strategy      string // the operator's --write-strategy
	workers       int    // the operator's --max-concurrent-reconciles
	n, f          int
	accounts      int           // the AWS accounts the functions are in, each with its own quota
	quota         float64       // requests per second per quota bucket; 0: none
	floor         time.Duration // the shortest the quota allows; 0: none
	applied       time.Duration // until the last object was created (or deleted)
	started       time.Duration // until the last object's first status was seen
	wall          time.Duration // until the last statement was in place (or gone)
	usage         usage         // the operator's Kubernetes writes and CPU
	calls         map[string]int
	throttled     int
	p50, p99      time.Duration
	peakRSS, rss  int64 // bytes
	latencySample int
}

// throughput creates n objects over f functions at once and measures how
// long until every statement is in place, then (latencyN > 0) applies
// objects one at a time on the idle system, then reads the peak memory,
// then (deleteName != "") deletes every object and measures that too.
func (b *bench) throughput(name, strategy string, workers, n, f int, quota float64, latencyN int, deleteName string) ([]result, error) {
	r := result{name: name, kind: createRow, strategy: strategy, workers: workers, n: n, f: f, accounts: 1, quota: quota}
	if quota > 0 {
		r.floor = floorOf(n, quota) // Statements: one AddPermission per object
		if strategy == "Document" {
			r.floor = floorOf(f, quota) // one GetPolicy and one PutResourcePolicy per function, in two buckets
		}
	}
	ctx := context.Background()
	// A fresh emulator per run, with the run's quotas.
	b.newEmulator(quotasAt(quota), nil)
	functions, err := b.createFunctions(ctx, b.lambda, name, f)
	if err != nil {
		return nil, err
	}
	ns := name
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return nil, err
	}
	run := operatorRun{namespace: ns, strategy: strategy, workers: workers, getPolicyRPS: quota, controlPlaneRPS: quota}
	if err := b.createAndWait(ctx, &r, run, ns, functions); err != nil {
		return nil, err
	}
	defer b.stopOperator()
	if latencyN > 0 {
		if err := b.latency(ctx, &r, ns, latencyN, functions); err != nil {
			return nil, err
		}
	}
	r.peakRSS, r.rss = memoryOf(b.operator.Process.Pid)
	results := []result{r}
	if deleteName != "" {
		d, err := b.deleteAll(ctx, deleteName, r, ns, functions)
		if err != nil {
			return nil, err
		}
		results = append(results, d)
	}
	return results, nil
}

// createAndWait starts the operator as run says unless one is running and
// creates r.n objects in ns over functions (the other way round with
// -backlog), and measures until every statement is in place and every
// object Ready. The operator is left running.
func (b *bench) createAndWait(ctx context.Context, r *result, run operatorRun, ns string, functions []string) error {
	time.Sleep(2 * time.Second) // let the quota's bucket fill again before the clock starts
	b.emu.ResetStats()
	started, stopWatching, err := b.watchStarted(ns, r.n)
	if err != nil {
		return err
	}
	defer stopWatching()
	var began time.Time
	m := b.mark(ctx)
	if b.backlog {
		// The objects wait for the operator: the clock starts with it.
		if err := b.create(ctx, ns, 0, r.n, functions); err != nil {
			return err
		}
		began = time.Now()
	}
	if b.operator == nil {
		if err := b.startOperator(run); err != nil {
			return err
		}
	}
	if !b.backlog {
		m = b.mark(ctx) // from the operator's start: its start-up is not the run's
		began = time.Now()
		if err := b.create(ctx, ns, 0, r.n, functions); err != nil {
			return err
		}
		r.applied = time.Since(began)
	}
	if err := b.waitInPlace(functions, r.n, 30*time.Minute); err != nil {
		return err
	}
	r.wall = time.Since(began)
	select {
	case at := <-started:
		r.started = at.Sub(began)
	case <-time.After(30 * time.Second): // "-" in the table
	}
	stopWatching()
	if err := b.waitReady(ctx, ns, r.n); err != nil {
		return err
	}
	time.Sleep(time.Second) // Events are sent in the background
	r.usage = b.usageSince(ctx, r.name, m, map[string]int{"lambdapermissions POST": r.n})
	r.calls, r.throttled = b.calls(r.name)
	return nil
}

// calls reads the emulator's calls by operation and the throttled ones,
// and under BENCH_DEBUG prints its errors.
func (b *bench) calls(name string) (map[string]int, int) {
	stats := b.emu.Stats()
	throttled := 0
	for op, errs := range stats.Errors {
		throttled += errs["TooManyRequestsException"]
		for code, count := range errs {
			if os.Getenv("BENCH_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "%s %s: %s %d\n", name, op, code, count)
			}
		}
	}
	return stats.Calls, throttled
}

// latency applies n objects one at a time on the idle system, each after
// the last one's statement is in place.
func (b *bench) latency(ctx context.Context, r *result, ns string, n int, functions []string) error {
	var latencies []time.Duration
	for i := range n {
		fn := functions[i%len(functions)]
		obj := object(ns, r.n+i, fn)
		applied := time.Now()
		if err := b.kube.Create(ctx, obj); err != nil {
			return err
		}
		for !b.hasStatement(fn, obj.Spec.StatementID) {
			if time.Since(applied) > time.Minute {
				return fmt.Errorf("statement %s not in place after a minute", obj.Spec.StatementID)
			}
			time.Sleep(2 * time.Millisecond)
		}
		latencies = append(latencies, time.Since(applied))
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r.p50 = latencies[len(latencies)/2]
	r.p99 = latencies[min(len(latencies)-1, len(latencies)*99/100)]
	r.latencySample = n
	return nil
}

// watchStarted reports, once each of the n objects in ns has had a status
// (any condition or observedGeneration: today the Reconciling patch right
// before the AWS calls, or the final one when that patch is left out),
// when the last one did. When that comes close to the wall time, the run
// was held back by Kubernetes, not by AWS.
func (b *bench) watchStarted(ns string, n int) (<-chan time.Time, func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	openWatch := func() (watch.Interface, error) {
		return b.kube.Watch(ctx, &lambdav1alpha1.LambdaPermissionList{}, client.InNamespace(ns))
	}
	watcher, err := openWatch()
	if err != nil {
		cancel()
		return nil, nil, err
	}
	started := make(chan time.Time, 1)
	go func() {
		seen := map[string]bool{}
		for {
			for event := range watcher.ResultChan() {
				obj, ok := event.Object.(*lambdav1alpha1.LambdaPermission)
				if !ok || (obj.Status.ObservedGeneration == 0 && len(obj.Status.Conditions) == 0) || seen[obj.Name] {
					continue
				}
				seen[obj.Name] = true
				if len(seen) == n {
					watcher.Stop()
					started <- time.Now()
					return
				}
			}
			// A loaded API server drops a watcher that falls behind: watch
			// again (it lists the objects as they are now).
			watcher.Stop()
			for {
				if ctx.Err() != nil {
					return
				}
				if watcher, err = openWatch(); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	return started, cancel, nil
}

// create creates objects from up to to in ns, object i on function i % F,
// from b.clients clients at once: the run measures the operator, not one
// client's round trips (kubectl apply creates one object at a time).
func (b *bench) create(ctx context.Context, ns string, from, to int, functions []string) error {
	return b.concurrently(from, to, func(i int) error {
		return b.kube.Create(ctx, object(ns, i, functions[i%len(functions)]))
	})
}

// concurrently calls do for each of from up to to, from b.clients
// goroutines, and returns the first error of each.
func (b *bench) concurrently(from, to int, do func(i int) error) error {
	next := make(chan int)
	errs := make(chan error, b.clients)
	for range b.clients {
		go func() {
			var failed error
			for i := range next {
				if failed == nil {
					failed = do(i)
				}
			}
			errs <- failed
		}()
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	var err error
	for range b.clients {
		err = errors.Join(err, <-errs)
	}
	return err
}

func namespace(name string) client.Object {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func object(ns string, i int, function string) *lambdav1alpha1.LambdaPermission {
	return &lambdav1alpha1.LambdaPermission{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("p-%05d", i)},
		Spec: lambdav1alpha1.LambdaPermissionSpec{
			FunctionName: function, StatementID: fmt.Sprintf("p-%05d", i),
			Action: "lambda:InvokeFunction", Principal: fmt.Sprintf("2%011d", i),
		},
	}
}

// floorOf is the time calls take at quota requests per second (0: no
// quota, no floor).
func floorOf(calls int, quota float64) time.Duration {
	if quota <= 0 {
		return 0
	}
	return time.Duration(float64(calls) / quota * float64(time.Second))
}
