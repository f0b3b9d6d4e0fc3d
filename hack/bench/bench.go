package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// bench holds the control plane, the emulator and the operator.
type bench struct {
	root, manager string
	memoryLimit   string // the operator's GOMEMLIMIT, as the chart sets it
	clients       int    // objects created or deleted at once
	backlog       bool   // objects created before the operator starts
	kubeQPS       int    // the operator's --kube-api-qps
	env           *envtest.Environment
	kube          client.WithWatch
	apiMetrics    rest.Interface // the API server's /metrics
	kubeconfig    string
	emu           *emulator.Server
	emuURL        string
	emuServer     *httptest.Server
	lambda        *lambda.Client // the operator's own account
	operator      *exec.Cmd
	operatorAddr  string // the operator's metrics endpoint, host:port
	stopProfile   context.CancelFunc
	dir           string
	stopped       sync.Once
}

func start(manager, memoryLimit string, clients int, backlog bool, kubeQPS int, admission bool) (*bench, error) {
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
	// The growth table keeps tens of thousands of objects and their
	// history: more than etcd's default 2 GiB of backend would hold.
	b.env.ControlPlane.Etcd = &envtest.Etcd{}
	b.env.ControlPlane.Etcd.Configure().Set("quota-backend-bytes", strconv.Itoa(8<<30))
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
	if admission {
		b.installAdmission(context.Background())
	}
	return b, nil
}

// installAdmission creates the admission policies of config/admission, as
// the kustomize install and the chart ship them: whatever they cost or
// save the API server and the operator is part of what is measured. One
// the API server does not serve is left out, and said so.
func (b *bench) installAdmission(ctx context.Context) {
	files, _ := filepath.Glob(filepath.Join(b.root, "config", "admission", "*.yaml"))
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "kustomize") {
			continue
		}
		objs, err := repo.Objects(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: admission:", err)
			continue
		}
		for _, obj := range objs {
			if obj.GetKind() == "Kustomization" {
				continue
			}
			if err := b.kube.Create(ctx, obj); err != nil {
				fmt.Fprintf(os.Stderr, "bench: admission: %s %s from %s left out: %v\n", obj.GetKind(), obj.GetName(), filepath.Base(file), err)
			}
		}
	}
	b.waitAdmission(ctx)
}

// waitAdmission waits until the API server applies the policies just
// created: a dry-run create of an object is admitted and comes back with
// the finalizer the finalizer policy adds. Until the API server has synced
// the new kinds, its admission refuses the objects ("Resource kind … not
// found"), and the first run would measure that.
func (b *bench) waitAdmission(ctx context.Context) {
	deadline := time.Now().Add(time.Minute)
	for {
		probe := object("default", 0, "admission-probe")
		err := b.kube.Create(ctx, probe, client.DryRunAll)
		if err == nil && slices.Contains(probe.Finalizers, lambdav1alpha1.PermissionFinalizer) {
			return
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "bench: admission: the policies are not in effect after a minute (finalizers %v, %v)\n", probe.Finalizers, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop stops the operator, the emulator and the control plane, once.
func (b *bench) stop() {
	b.stopped.Do(func() {
		b.stopOperator()
		if b.emuServer != nil {
			b.emuServer.Close()
		}
		if b.env != nil {
			_ = b.env.Stop()
		}
		if os.Getenv("BENCH_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, "bench: the operator's log and the kubeconfig are kept in", b.dir)
			return
		}
		_ = os.RemoveAll(b.dir)
	})
}

// newEmulator starts a fresh emulator with quotas (per bucket, for each
// account) and roles, and a client of the operator's own account.
func (b *bench) newEmulator(quotas map[string]float64, roles []emulator.Role) {
	b.emu = emulator.New(emulator.Config{Region: region, AccountID: account, Quotas: quotas, Roles: roles})
	if b.emuServer != nil {
		b.emuServer.Close()
	}
	var handler http.Handler = b.emu
	if name := os.Getenv("BENCH_TIMELINE"); name != "" {
		// Appended to: each run's emulator adds its calls after the last's.
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			panic(err)
		}
		handler = emulator.LogRequests(b.emu, f)
	}
	b.emuServer = httptest.NewServer(handler)
	b.emuURL = b.emuServer.URL
	b.lambda = b.lambdaAs("bench", "bench")
}

// lambdaAs is a Lambda client of the emulator with a long-term key.
func (b *bench) lambdaAs(key, secret string) *lambda.Client {
	return lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(b.emuURL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), Retryer: aws.NopRetryer{}})
}

// quotasAt are AWS's GetPolicy and control-plane quotas at quota requests
// per second (0: none).
func quotasAt(quota float64) map[string]float64 {
	if quota == 0 {
		return map[string]float64{}
	}
	return map[string]float64{emulator.BucketGetPolicy: quota, emulator.BucketControlPlane: quota}
}

// createFunctions creates f functions named prefix-fn-NNN with c (in c's
// account) and returns their names.
func (b *bench) createFunctions(ctx context.Context, c *lambda.Client, prefix string, f int) ([]string, error) {
	var names []string
	for i := range f {
		fn := fmt.Sprintf("%s-fn-%03d", prefix, i)
		for {
			_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fn),
				Runtime: lambdatypes.RuntimePython312, Handler: aws.String("h"), Role: aws.String("arn:aws:iam::" + account + ":role/r"),
				Code: &lambdatypes.FunctionCode{ZipFile: []byte("x")}})
			var throttled *lambdatypes.TooManyRequestsException
			if errors.As(err, &throttled) {
				time.Sleep(100 * time.Millisecond) // the functions share the quota the run measures
				continue
			}
			if err != nil {
				return nil, err
			}
			names = append(names, fn)
			break
		}
	}
	return names, nil
}

// operatorRun is how one run starts the operator.
type operatorRun struct {
	namespace, strategy string // the objects it watches, its --write-strategy
	compaction          string // its --compaction; empty: the flag left out (Off)
	workers             int    // its --max-concurrent-reconciles
	getPolicyRPS        float64
	controlPlaneRPS     float64       // 0: unlimited
	syncPeriod          time.Duration // 0: 10m, the default
}

// startOperator runs bin/manager as o says, and waits until it is ready.
func (b *bench) startOperator(o operatorRun) error {
	probe, err := controlplane.FreeLocalAddress()
	if err != nil {
		return err
	}
	if b.operatorAddr, err = controlplane.FreeLocalAddress(); err != nil {
		return err
	}
	if o.syncPeriod == 0 {
		o.syncPeriod = 10 * time.Minute
	}
	rps := func(quota float64) string { return strconv.FormatFloat(quota, 'f', -1, 64) }
	cmd := exec.Command(b.manager, "--metrics-bind-address="+b.operatorAddr, "--health-probe-bind-address="+probe,
		"--getpolicy-rps="+rps(o.getPolicyRPS), "--control-plane-rps="+rps(o.controlPlaneRPS), "--getfunction-rps=0",
		"--max-concurrent-reconciles="+strconv.Itoa(o.workers), "--write-strategy="+o.strategy,
		"--sync-period="+o.syncPeriod.String(), "--zap-log-level=error",
		"--watch-namespace="+o.namespace, // each run's objects are its own
		// Each statement costs about three Kubernetes writes: let them keep up
		// with the scaled-up AWS quota.
		"--kube-api-qps="+strconv.Itoa(b.kubeQPS), "--kube-api-burst="+strconv.Itoa(2*b.kubeQPS))
	if o.compaction != "" {
		cmd.Args = append(cmd.Args, "--compaction="+o.compaction)
	}
	profileDir, pprofAddr := os.Getenv("BENCH_PROFILE"), ""
	if profileDir != "" {
		if pprofAddr, err = controlplane.FreeLocalAddress(); err != nil {
			return err
		}
		cmd.Args = append(cmd.Args, "--pprof-bind-address="+pprofAddr)
	}
	log, err := os.OpenFile(filepath.Join(b.dir, "operator-"+o.namespace+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
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
				if profileDir != "" {
					var ctx context.Context
					ctx, b.stopProfile = context.WithCancel(context.Background())
					go profileOperator(ctx, pprofAddr, profileDir, fmt.Sprintf("%s-%d", o.namespace, cmd.Process.Pid))
				}
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
	if b.stopProfile != nil {
		b.stopProfile()
		b.stopProfile = nil
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
