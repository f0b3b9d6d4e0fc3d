// Command bench is `make bench`: it runs the operator (bin/manager) against a
// real kube-apiserver and etcd and the Lambda emulator with AWS's quotas, and
// prints one table: objects N over functions F, the quota, wall time against
// its floor (N / quota), the calls made by operation, the latency from an
// object applied to its statement in place, and the manager's peak memory.
//
// A benchmark prints figures; it asserts nothing. Flags scale the runs.
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
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/hack/lambda-emulator/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/hack/testenv"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

type result struct {
	name          string
	n, f          int
	quota         float64 // requests per second per quota bucket; 0: none
	wall          time.Duration
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
		quotas     = flag.String("quotas", "15,150", "GetPolicy and control-plane quotas to run at, requests per second: AWS's 15, and scaled up")
		latencyN   = flag.Int("latency-objects", 50, "objects applied one at a time on an idle system")
		memoryN    = flag.Int("memory-objects", 10000, "objects in the memory run (0: skip it)")
		memoryF    = flag.Int("memory-functions", 200, "functions in the memory run (a policy holds about 100 statements)")
		manager    = flag.String("manager", "bin/manager", "the operator binary")
		concurrent = flag.Int("max-concurrent-reconciles", 8, "the operator's --max-concurrent-reconciles")
		memLimit   = flag.String("gomemlimit", "100MiB", "the operator's GOMEMLIMIT (the chart sets it to 80 % of the memory limit); off: none")
	)
	flag.Parse()
	b, err := start(*manager, *concurrent, *memLimit)
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
	for i, q := range strings.Split(*quotas, ",") {
		quota, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -quotas:", err)
			os.Exit(2)
		}
		run(b.throughput(fmt.Sprintf("throughput-%d", i+1), *n, *f, quota, *latencyN))
	}
	if *memoryN > 0 {
		run(b.throughput("memory", *memoryN, *memoryF, 0, 0))
	}
	printTable(results)
}

// bench holds the control plane, the emulator and the operator.
type bench struct {
	root, manager string
	concurrent    int
	memoryLimit   string // the operator's GOMEMLIMIT, as the chart sets it
	env           *envtest.Environment
	kube          client.Client
	kubeconfig    string
	emu           *emulator.Server
	emuURL        string
	emuServer     *httptest.Server
	lambda        *lambda.Client
	operator      *exec.Cmd
	dir           string
}

func start(manager string, concurrent int, memoryLimit string) (*bench, error) {
	b := &bench{root: testenv.RepoRoot(), concurrent: concurrent, memoryLimit: memoryLimit}
	b.manager = filepath.Join(b.root, manager)
	dir, err := os.MkdirTemp("", "lpo-bench-")
	if err != nil {
		return nil, err
	}
	b.dir = dir
	if b.env, err = testenv.New(); err != nil {
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
	if b.kube, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
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

// startOperator runs bin/manager limited to quota (0: unlimited).
func (b *bench) startOperator(quota float64, namespace string) error {
	probe, err := testenv.FreeLocalAddress()
	if err != nil {
		return err
	}
	rps := strconv.FormatFloat(quota, 'f', -1, 64)
	cmd := exec.Command(b.manager, "--metrics-bind-address=0", "--health-probe-bind-address="+probe,
		"--getpolicy-rps="+rps, "--control-plane-rps="+rps, "--getfunction-rps=0",
		"--max-concurrent-reconciles="+strconv.Itoa(b.concurrent), "--sync-period=10m", "--zap-log-level=error",
		"--watch-namespace="+namespace, // each run's objects are its own
		// Each statement costs about three Kubernetes writes: let them keep up
		// with the scaled-up AWS quota.
		"--kube-api-qps=1000", "--kube-api-burst=2000")
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
func (b *bench) throughput(name string, n, f int, quota float64, latencyN int) (result, error) {
	r := result{name: name, n: n, f: f, quota: quota}
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
	if err := b.startOperator(quota, name); err != nil {
		return r, err
	}
	defer b.stopOperator()

	ns := name
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return r, err
	}
	began := time.Now()
	for i := range n {
		if err := b.kube.Create(ctx, object(ns, i, functions[i%f])); err != nil {
			return r, err
		}
	}
	if err := b.waitInPlace(functions, n, 30*time.Minute); err != nil {
		return r, err
	}
	r.wall = time.Since(began)
	if err := b.waitReady(ctx, ns, n); err != nil {
		return r, err
	}
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
			if meta.IsStatusConditionTrue(o.Status.Conditions, "Ready") {
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

func printTable(results []result) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\tN\tF\tquota/s\twall\tfloor N/quota\tratio\tGetFunction\tGetPolicy\tAddPermission\tRemovePermission\t429s\tp50\tp99\tpeak RSS\t")
	for _, r := range results {
		floor, ratio, quota := "-", "-", "none"
		if r.quota > 0 {
			f := time.Duration(float64(r.n) / r.quota * float64(time.Second))
			floor, ratio, quota = f.Round(10*time.Millisecond).String(), fmt.Sprintf("%.2f", float64(r.wall)/float64(f)), fmt.Sprint(r.quota)
		}
		p50, p99 := "-", "-"
		if r.latencySample > 0 {
			p50, p99 = r.p50.Round(time.Millisecond).String(), r.p99.Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%.0f MiB\t\n", r.name, r.n, r.f, quota,
			r.wall.Round(10*time.Millisecond), floor, ratio, r.calls["GetFunction"], r.calls["GetPolicy"], r.calls["AddPermission"],
			r.calls["RemovePermission"], r.throttled, p50, p99, float64(r.peakRSS)/(1<<20))
	}
	_ = w.Flush()
}
