package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

type result struct {
	name          string
	strategy      string // the operator's --write-strategy
	workers       int    // the operator's --max-concurrent-reconciles
	n, f          int
	quota         float64       // requests per second per quota bucket; 0: none
	applied       time.Duration // until the last object was created
	started       time.Duration // until the last object's first status was seen
	wall          time.Duration // until the last statement was in place
	usage         usage         // the operator's Kubernetes writes and CPU
	calls         map[string]int
	throttled     int
	p50, p99      time.Duration
	peakRSS, rss  int64 // bytes
	latencySample int
}

// throughput creates n objects over f functions at once and measures how
// long until every statement is in place, then (latencyN > 0) applies
// objects one at a time on the idle system, then reads the peak memory.
func (b *bench) throughput(name, strategy string, workers, n, f int, quota float64, latencyN int) (result, error) {
	r := result{name: name, strategy: strategy, workers: workers, n: n, f: f, quota: quota}
	ctx := context.Background()
	quotas := map[string]float64{}
	if quota > 0 {
		quotas = map[string]float64{emulator.BucketGetPolicy: quota, emulator.BucketControlPlane: quota}
	}
	// A fresh emulator per run, with the run's quotas.
	b.emu = emulator.New(emulator.Config{Region: region, AccountID: account, Quotas: quotas})
	if b.emuServer != nil {
		b.emuServer.Close()
	}
	b.emuServer = httptest.NewServer(b.emu)
	b.emuURL = b.emuServer.URL
	b.lambda = lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(b.emuURL),
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", ""), Retryer: aws.NopRetryer{}})
	var functions []string
	for i := range f {
		fn := fmt.Sprintf("%s-fn-%03d", name, i)
		functions = append(functions, fn)
		for {
			_, err := b.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fn),
				Runtime: lambdatypes.RuntimePython312, Handler: aws.String("h"), Role: aws.String("arn:aws:iam::123456789012:role/r"),
				Code: &lambdatypes.FunctionCode{ZipFile: []byte("x")}})
			var throttled *lambdatypes.TooManyRequestsException
			if errors.As(err, &throttled) {
				time.Sleep(100 * time.Millisecond) // the functions share the quota the run measures
				continue
			}
			if err != nil {
				return r, err
			}
			break
		}
	}
	time.Sleep(2 * time.Second) // let the quota's bucket fill again before the clock starts
	b.emu.ResetStats()
	var began time.Time
	ns := name
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return r, err
	}
	m := b.mark(ctx)
	started, stopWatching, err := b.watchStarted(ns, n)
	if err != nil {
		return r, err
	}
	defer stopWatching()
	if b.backlog {
		// The objects wait for the operator: the clock starts with it.
		if err := b.create(ctx, ns, n, functions); err != nil {
			return r, err
		}
		began = time.Now()
	}
	if err := b.startOperator(quota, name, strategy, workers); err != nil {
		return r, err
	}
	defer b.stopOperator()
	if !b.backlog {
		m = b.mark(ctx) // from the operator's start: its start-up is not the run's
		began = time.Now()
		if err := b.create(ctx, ns, n, functions); err != nil {
			return r, err
		}
		r.applied = time.Since(began)
	}
	if err := b.waitInPlace(functions, n, 30*time.Minute); err != nil {
		return r, err
	}
	r.wall = time.Since(began)
	select {
	case at := <-started:
		r.started = at.Sub(began)
	case <-time.After(30 * time.Second): // "-" in the table
	}
	stopWatching()
	if err := b.waitReady(ctx, ns, n); err != nil {
		return r, err
	}
	time.Sleep(time.Second) // Events are sent in the background
	r.usage = b.usageSince(ctx, name, m, map[string]int{"lambdapermissions POST": n})
	stats := b.emu.Stats()
	r.calls = stats.Calls
	for op, errs := range stats.Errors {
		r.throttled += errs["TooManyRequestsException"]
		for code, count := range errs {
			if os.Getenv("BENCH_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "%s %s: %s %d\n", r.name, op, code, count)
			}
		}
	}

	if latencyN > 0 {
		var latencies []time.Duration
		for i := range latencyN {
			fn := functions[i%f]
			obj := object(ns, n+i, fn)
			applied := time.Now()
			if err := b.kube.Create(ctx, obj); err != nil {
				return r, err
			}
			for !b.hasStatement(fn, obj.Spec.StatementID) {
				if time.Since(applied) > time.Minute {
					return r, fmt.Errorf("statement %s not in place after a minute", obj.Spec.StatementID)
				}
				time.Sleep(2 * time.Millisecond)
			}
			latencies = append(latencies, time.Since(applied))
		}
		sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
		r.p50 = latencies[len(latencies)/2]
		r.p99 = latencies[min(len(latencies)-1, len(latencies)*99/100)]
		r.latencySample = latencyN
	}
	r.peakRSS, r.rss = memoryOf(b.operator.Process.Pid)
	return r, nil
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

// create creates n objects over functions, object i on function i % F,
// from b.clients clients at once: the run measures the operator, not one
// client's round trips (kubectl apply creates one object at a time).
func (b *bench) create(ctx context.Context, ns string, n int, functions []string) error {
	next := make(chan int)
	errs := make(chan error, b.clients)
	for range b.clients {
		go func() {
			var failed error
			for i := range next {
				if failed == nil {
					failed = b.kube.Create(ctx, object(ns, i, functions[i%len(functions)]))
				}
			}
			errs <- failed
		}()
	}
	for i := range n {
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
