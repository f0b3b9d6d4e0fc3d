// Command bench is `make bench`: it runs the operator (bin/manager) against a
// real kube-apiserver and etcd and the Lambda emulator with AWS's quotas, and
// prints one table. Each throughput run creates N objects over F functions at
// once with one write strategy (the operator's --write-strategy: Statements
// at each of -quotas, Document at each of -document-quotas) and reports the
// operator's workers (--max-concurrent-reconciles), when the last object was
// created (applied), when the last object's reconcile started (started),
// when the last statement was in place (wall) against its floor, the calls
// made by operation, the latency from an object applied to its statement in
// place on an idle system, and the manager's peak memory. A memory run
// follows. Last, how much faster Document was than Statements at each quota
// both ran at.
//
// The floor is what the quota allows at best. Statements writes one
// statement per AddPermission, all on the control-plane bucket: N / quota.
// Document reads each policy once (GetPolicy, its own bucket) and writes it
// once (PutResourcePolicy, on the control-plane bucket): F / quota for the
// reads and as much for the writes, which overlap. When started comes close
// to wall, the run was held back by Kubernetes (each object costs about five
// API writes: its creation, the finalizer, two status patches, an Event),
// not by AWS.
//
// A benchmark prints figures; it asserts nothing. Flags scale the runs and
// choose what runs; BENCH_DEBUG=1 prints the errors and the API writes of
// each run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

type result struct {
	name          string
	strategy      string // the operator's --write-strategy
	workers       int    // the operator's --max-concurrent-reconciles
	n, f          int
	quota         float64       // requests per second per quota bucket; 0: none
	applied       time.Duration // until the last object was created
	started       time.Duration // until the last object's reconcile started
	wall          time.Duration // until the last statement was in place
	calls         map[string]int
	throttled     int
	p50, p99      time.Duration
	peakRSS, rss  int64 // bytes
	latencySample int
}

func main() {
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	var (
		n          = flag.Int("n", 1000, "objects in the throughput run")
		f          = flag.Int("f", 50, "functions in the throughput run")
		quotas     = flag.String("quotas", "15,150", "GetPolicy and control-plane quotas to run the Statements strategy at, requests per second: AWS's 15, and scaled up (empty: none)")
		docQuotas  = flag.String("document-quotas", "15", "quotas to run the Document strategy at (empty: none)")
		latencyN   = flag.Int("latency-objects", 50, "objects applied one at a time on an idle system")
		memoryN    = flag.Int("memory-objects", 10000, "objects in the memory run (0: skip it)")
		memoryF    = flag.Int("memory-functions", 200, "functions in the memory run (a policy holds about 100 statements)")
		manager    = flag.String("manager", "bin/manager", "the operator binary")
		concurrent = flag.String("max-concurrent-reconciles", "8", "the operator's --max-concurrent-reconciles in the Statements and memory runs; a list runs each")
		docWorkers = flag.String("document-max-concurrent-reconciles", "8", "the operator's --max-concurrent-reconciles in the Document runs (a queued write holds no worker); a list runs each")
		backlog    = flag.Bool("backlog", false, "create the objects before starting the operator, and time from its start (a backlog, as after an upgrade or an outage)")
		kubeQPS    = flag.Int("kube-api-qps", 1000, "the operator's --kube-api-qps (its burst twice that)")
		clients    = flag.Int("create-clients", 16, "objects the benchmark creates at once")
		memLimit   = flag.String("gomemlimit", "100MiB", "the operator's GOMEMLIMIT (the chart sets it to 80 % of the memory limit); off: none")
	)
	flag.Parse()
	type runAt struct {
		strategy string
		quota    float64
		workers  int
	}
	var runs []runAt
	statementsWorkers := workerCounts("-max-concurrent-reconciles", *concurrent)
	documentWorkers := workerCounts("-document-max-concurrent-reconciles", *docWorkers)
	documentQuotas := numbers("-document-quotas", *docQuotas, 0)
	// Each Document run comes right after the Statements run at its quota.
	for _, quota := range numbers("-quotas", *quotas, 0) {
		for _, w := range statementsWorkers {
			runs = append(runs, runAt{"Statements", quota, w})
		}
		if i := slices.Index(documentQuotas, quota); i >= 0 {
			for _, w := range documentWorkers {
				runs = append(runs, runAt{"Document", quota, w})
			}
			documentQuotas = slices.Delete(documentQuotas, i, i+1)
		}
	}
	for _, quota := range documentQuotas {
		for _, w := range documentWorkers {
			runs = append(runs, runAt{"Document", quota, w})
		}
	}
	if *clients < 1 || *kubeQPS < 1 {
		fmt.Fprintln(os.Stderr, "bench: -create-clients and -kube-api-qps: want at least 1")
		os.Exit(2)
	}
	b, err := start(*manager, *memLimit, *clients, *backlog, *kubeQPS)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer b.stop()

	var results []result
	run := func(r result, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", r.name, err)
			b.stop()
			os.Exit(1)
		}
		results = append(results, r)
	}
	for i, at := range runs {
		run(b.throughput(fmt.Sprintf("throughput-%d", i+1), at.strategy, at.workers, *n, *f, at.quota, *latencyN))
	}
	if *memoryN > 0 {
		run(b.throughput("memory", "Statements", statementsWorkers[0], *memoryN, *memoryF, 0, 0))
	}
	printTable(results)
	printComparison(results)
}

// numbers parses flag's comma-separated list of numbers, each at least
// least (an empty list is none), or exits.
func numbers(flag, list string, least float64) []float64 {
	var values []float64
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		value, err := strconv.ParseFloat(v, 64)
		if err != nil || value < least {
			fmt.Fprintf(os.Stderr, "bench: %s: %q: want numbers of at least %v, separated by commas\n", flag, v, least)
			os.Exit(2)
		}
		values = append(values, value)
	}
	return values
}

// workerCounts parses flag's comma-separated list of numbers of workers
// (at least one), or exits.
func workerCounts(flag, list string) []int {
	var counts []int
	for _, v := range numbers(flag, list, 1) {
		if v != float64(int(v)) {
			fmt.Fprintf(os.Stderr, "bench: %s: %v: want a whole number of workers\n", flag, v)
			os.Exit(2)
		}
		counts = append(counts, int(v))
	}
	if len(counts) == 0 {
		fmt.Fprintf(os.Stderr, "bench: %s: want at least one number of workers\n", flag)
		os.Exit(2)
	}
	return counts
}

// bench holds the control plane, the emulator and the operator.
type bench struct {
	root, manager string
	memoryLimit   string // the operator's GOMEMLIMIT, as the chart sets it
	clients       int    // objects created at once
	backlog       bool   // objects created before the operator starts
	kubeQPS       int    // the operator's --kube-api-qps
	env           *envtest.Environment
	kube          client.WithWatch
	apiMetrics    rest.Interface // the API server's /metrics
	kubeconfig    string
	emu           *emulator.Server
	emuURL        string
	emuServer     *httptest.Server
	lambda        *lambda.Client
	operator      *exec.Cmd
	dir           string
}

func start(manager, memoryLimit string, clients int, backlog bool, kubeQPS int) (*bench, error) {
	b := &bench{root: repo.Root(), memoryLimit: memoryLimit, clients: clients, backlog: backlog, kubeQPS: kubeQPS}
	b.manager = manager
	if !filepath.IsAbs(manager) {
		b.manager = filepath.Join(b.root, manager)
	}
	dir, err := os.MkdirTemp("", "lpo-bench-")
	if err != nil {
		return nil, err
	}
	b.dir = dir
	if b.env, err = controlplane.New(); err != nil {
		return nil, err
	}
	// A quiet API server: the benchmark measures the operator.
	b.env.ControlPlane.GetAPIServer().Configure().Set("max-requests-inflight", "2000").Set("max-mutating-requests-inflight", "1000")
	if _, err := b.env.Start(); err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	user, err := b.env.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	b.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(b.kubeconfig, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	cfg := user.Config()
	cfg.QPS, cfg.Burst = 1000, 2000 // the benchmark's own writes must not be the bottleneck
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = lambdav1alpha1.AddToScheme(scheme)
	if b.kube, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	b.apiMetrics = clientset.Discovery().RESTClient()
	return b, nil
}

func (b *bench) stop() {
	b.stopOperator()
	if b.emuServer != nil {
		b.emuServer.Close()
	}
	if b.env != nil {
		_ = b.env.Stop()
	}
	_ = os.RemoveAll(b.dir)
}

// startOperator runs bin/manager limited to quota (0: unlimited), writing
// with strategy, with workers objects reconciled at once.
func (b *bench) startOperator(quota float64, namespace, strategy string, workers int) error {
	probe, err := controlplane.FreeLocalAddress()
	if err != nil {
		return err
	}
	rps := strconv.FormatFloat(quota, 'f', -1, 64)
	cmd := exec.Command(b.manager, "--metrics-bind-address=0", "--health-probe-bind-address="+probe,
		"--getpolicy-rps="+rps, "--control-plane-rps="+rps, "--getfunction-rps=0",
		"--max-concurrent-reconciles="+strconv.Itoa(workers), "--write-strategy="+strategy,
		"--sync-period=10m", "--zap-log-level=error",
		"--watch-namespace="+namespace, // each run's objects are its own
		// Each statement costs about three Kubernetes writes: let them keep up
		// with the scaled-up AWS quota.
		"--kube-api-qps="+strconv.Itoa(b.kubeQPS), "--kube-api-burst="+strconv.Itoa(2*b.kubeQPS))
	log, err := os.Create(filepath.Join(b.dir, "operator.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "GOMEMLIMIT="+b.memoryLimit, "KUBECONFIG="+b.kubeconfig, "AWS_ENDPOINT_URL_LAMBDA="+b.emuURL,
		"AWS_ENDPOINT_URL_STS="+b.emuURL, "AWS_REGION="+region, "AWS_ACCESS_KEY_ID=bench",
		"AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	b.operator = cmd
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + probe + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the operator was not ready in 60s; see %s", log.Name())
}

func (b *bench) stopOperator() {
	if b.operator == nil {
		return
	}
	_ = b.operator.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.operator.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = b.operator.Process.Kill()
		<-done
	}
	b.operator = nil
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
	writesBefore := b.apiWrites(ctx)
	var began time.Time
	ns := name
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return r, err
	}
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
	stats := b.emu.Stats()
	r.calls = stats.Calls
	if os.Getenv("BENCH_DEBUG") != "" {
		after := b.apiWrites(ctx)
		var keys []string
		for k := range after {
			if after[k] > writesBefore[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(os.Stderr, "%s API writes %s: %d\n", name, k, after[k]-writesBefore[k])
		}
	}
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

// watchStarted reports, once each of the n objects in ns has said that its
// reconcile started (status observedGeneration, patched right before the
// AWS calls), when the last one did. When that comes close to the wall
// time, the run was held back by Kubernetes, not by AWS.
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
				if !ok || obj.Status.ObservedGeneration == 0 || seen[obj.Name] {
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

// apiWrites counts the writes the API server has served, by resource and
// verb (create, update, patch, delete), from its apiserver_request_total.
func (b *bench) apiWrites(ctx context.Context) map[string]int {
	counts := map[string]int{}
	raw, err := b.apiMetrics.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return counts
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		labels := map[string]string{}
		end := strings.LastIndex(line, "}")
		for _, kv := range strings.Split(line[len("apiserver_request_total{"):end], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
		default:
			continue
		}
		value, _ := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		key := labels["resource"]
		if labels["subresource"] != "" {
			key += "/" + labels["subresource"]
		}
		counts[key+" "+labels["verb"]] += int(value)
	}
	return counts
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

func (b *bench) hasStatement(function, sid string) bool {
	policy, _, ok := b.emu.Policy(function, "")
	return ok && strings.Contains(policy, `"Sid":"`+sid+`"`)
}

// waitInPlace waits until the functions' policies hold n statements.
func (b *bench) waitInPlace(functions []string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		total := 0
		for _, fn := range functions {
			policy, _, ok := b.emu.Policy(fn, "")
			if ok {
				total += strings.Count(policy, `"Sid":`)
			}
		}
		if total >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d statements in place after %s", total, n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReady waits until every object reports Ready.
func (b *bench) waitReady(ctx context.Context, ns string, n int) error {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var list lambdav1alpha1.LambdaPermissionList
		if err := b.kube.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		ready := 0
		for _, o := range list.Items {
			if meta.IsStatusConditionTrue(o.Status.Conditions, lambdav1alpha1.ConditionReady) {
				ready++
			}
		}
		if ready >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d objects Ready", ready, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// memoryOf reads a process's peak and current resident memory.
func memoryOf(pid int) (peak, now int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmHWM:":
			peak = kb * 1024
		case "VmRSS:":
			now = kb * 1024
		}
	}
	return peak, now
}

// floor is the shortest time r's quota allows for its writes.
func floor(r result) time.Duration {
	calls := r.n // Statements: one AddPermission per object
	if r.strategy == "Document" {
		calls = r.f // one GetPolicy and one PutResourcePolicy per function, in two buckets
	}
	return time.Duration(float64(calls) / r.quota * float64(time.Second))
}

func printTable(results []result) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\tstrategy\tworkers\tN\tF\tquota/s\tapplied\tstarted\twall\tfloor\tratio\tGetFunction\tGetPolicy\tAddPermission\tRemovePermission\tPutResourcePolicy\tDeleteResourcePolicy\t429s\tp50\tp99\tpeak RSS\t")
	for _, r := range results {
		fl, ratio, quota := "-", "-", "none"
		if r.quota > 0 {
			f := floor(r)
			fl, ratio, quota = f.Round(10*time.Millisecond).String(), fmt.Sprintf("%.2f", float64(r.wall)/float64(f)), fmt.Sprint(r.quota)
		}
		p50, p99 := "-", "-"
		if r.latencySample > 0 {
			p50, p99 = r.p50.Round(time.Millisecond).String(), r.p99.Round(time.Millisecond).String()
		}
		applied, started := "-", "-"
		if r.applied > 0 {
			applied = r.applied.Round(10 * time.Millisecond).String()
		}
		if r.started > 0 {
			started = r.started.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%.0f MiB\t\n", r.name, r.strategy, r.workers,
			r.n, r.f, quota, applied, started, r.wall.Round(10*time.Millisecond), fl, ratio, r.calls["GetFunction"], r.calls["GetPolicy"],
			r.calls["AddPermission"], r.calls["RemovePermission"], r.calls["PutResourcePolicy"], r.calls["DeleteResourcePolicy"],
			r.throttled, p50, p99, float64(r.peakRSS)/(1<<20))
	}
	_ = w.Flush()
	fmt.Println()
	fmt.Println("floor: Statements N/quota (one AddPermission per object); Document F/quota (one GetPolicy and one PutResourcePolicy per function, in two buckets).")
	fmt.Println("applied: the last object created; started: the last object's reconcile started (its first status patch, as a watch saw it); wall: the last statement in place.")
}

// printComparison says, at each quota that both strategies ran at, how much
// faster the fastest Document run was than the fastest Statements run.
func printComparison(results []result) {
	var quotas []float64
	best := map[float64]map[string]result{}
	for _, r := range results {
		if r.quota == 0 || r.n == 0 {
			continue
		}
		if best[r.quota] == nil {
			best[r.quota] = map[string]result{}
			quotas = append(quotas, r.quota)
		}
		if b, ok := best[r.quota][r.strategy]; !ok || r.wall < b.wall {
			best[r.quota][r.strategy] = r
		}
	}
	for _, q := range quotas {
		s, okS := best[q]["Statements"]
		d, okD := best[q]["Document"]
		if !okS || !okD || s.n != d.n || s.f != d.f {
			continue
		}
		at := fmt.Sprintf("at %v/s", q)
		if q == 15 {
			at = "at AWS's quotas"
		}
		speed := fmt.Sprintf("%.1f× faster", float64(s.wall)/float64(d.wall))
		if d.wall > s.wall {
			speed = fmt.Sprintf("%.1f× slower", float64(d.wall)/float64(s.wall))
		}
		fmt.Printf("Document is %s than Statements %s (%s with %d workers against %s with %d; %d policy writes against %d)\n", speed, at,
			d.wall.Round(10*time.Millisecond), d.workers, s.wall.Round(10*time.Millisecond), s.workers, writes(d), writes(s))
	}
}

// writes counts the policy writes a run made.
func writes(r result) int {
	return r.calls["AddPermission"] + r.calls["RemovePermission"] + r.calls["PutResourcePolicy"] + r.calls["DeleteResourcePolicy"]
}
