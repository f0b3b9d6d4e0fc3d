//go:build integration

package controllers_test

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

const (
	region     = "us-east-2"
	account    = "123456789012"
	syncPeriod = 5 * time.Second
)

// The suite runs the real controller in a manager against a real
// kube-apiserver and etcd (envtest) and the project's Lambda emulator over
// HTTP, reached through the SDK's standard configuration.
var (
	ctx       = context.Background()
	k8s       client.Client // reads straight from the API server, not a cache: a test sees what is stored now
	emu       *emulator.Server
	awsConfig aws.Config     // the operator's: its own account, through the emulator
	outside   *lambda.Client // another writer to the same policies: the console, Terraform, a colleague
	lambdaAPI *racingLambda  // what the controller calls; a test can run another writer just before a call

	restConfig *rest.Config
	testScheme *runtime.Scheme
	// suiteObjects selects the objects of the suite's operator, not those
	// of the tests' other operators (startOperator).
	suiteObjects labels.Selector
)

// managerLabel sends an object to a test's own manager instead of the suite's.
const managerLabel = "test.permissions.dev/manager"

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test suite:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	env, err := controlplane.New()
	if err != nil {
		return 0, err
	}
	cfg, err := env.Start()
	if err != nil {
		return 0, fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = env.Stop() }()

	emu = emulator.New(emulator.Config{Region: region, AccountID: account})
	server := httptest.NewServer(emu)
	defer server.Close()
	// The operator's own configuration path: the SDK's default chain.
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA": server.URL, "AWS_REGION": region,
		"AWS_ENDPOINT_URL_STS": server.URL,
		"AWS_ACCESS_KEY_ID":    "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		_ = os.Setenv(k, v)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return 0, err
	}
	awsConfig = awsCfg
	outside = lambda.NewFromConfig(awsCfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = lambdav1alpha1.AddToScheme(scheme)
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	restConfig, testScheme = cfg, scheme
	// Objects labelled for another manager (see startOperator) are not this one's.
	if suiteObjects, err = labels.Parse(managerLabel + " notin (dry-run,document,multi-cluster,prefix-change,url-prefix)"); err != nil {
		return 0, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&lambdav1alpha1.LambdaPermission{}:            {Label: suiteObjects},
			&lambdav1alpha1.LambdaFunctionURLPermission{}: {Label: suiteObjects},
		}}})
	if err != nil {
		return 0, err
	}
	// The operator's retryer and instrumentation, as main.go sets them;
	// limits above the tests' pace.
	operatorCfg := awsCfg.Copy()
	operatorCfg.Retryer = awslambda.Retryer
	lambdaAPI = &racingLambda{clients: awslambda.NewClients(awslambda.Config{AWS: operatorCfg,
		Limits: awslambda.Limits{GetPolicy: 200, ControlPlane: 200, GetFunction: 200}, Observe: metrics.ObserveAWSCall})}
	err = controllers.Setup(mgr, controllers.Options{Lambda: lambdaAPI, Recorder: mgr.GetEventRecorder("lambda-permission-operator"),
		DefaultRegion: region, SyncPeriod: syncPeriod, MaxConcurrentReconciles: 4})
	if err != nil {
		return 0, err
	}
	mgrCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- mgr.Start(mgrCtx) }()
	defer func() { stop(); <-done }()

	return m.Run(), nil
}

// zapLevel keeps the operator's log to errors; TEST_VERBOSE_OPERATOR=1 shows all.
func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE_OPERATOR") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// racingLambda is the controller's port to Lambda with one twist: a test can
// have another writer change the policy just before the controller's next
// RemovePermission, or AddPermission or PutResourcePolicy, on a function, to
// make real 412 and 409 answers happen at the worst moment.
type racingLambda struct {
	clients *awslambda.Clients
	// inFlight is held for reading by every call in progress, so that
	// Quiesced can run between calls.
	inFlight     sync.RWMutex
	mu           sync.Mutex
	callsTo      map[string]int            // calls the controller made about each function, by name
	writesTo     map[string]int            // its AddPermission, RemovePermission, PutResourcePolicy and DeleteResourcePolicy calls, by function name
	writesBy     map[string]map[string]int // the same by function name and operation
	beforeRemove map[string]func()
	beforeAdd    map[string]func()
	held         map[string]chan struct{} // calls about these functions wait until it is closed
}

func (l *racingLambda) For(id awslambda.Identity) awslambda.Lambda {
	return racingPort{Lambda: l.clients.For(id), hooks: l}
}

func (l *racingLambda) Caller(ctx context.Context, id awslambda.Identity) (string, string, error) {
	l.inFlight.RLock()
	defer l.inFlight.RUnlock()
	return l.clients.Caller(ctx, id)
}

// Quiesced runs f while no call of the operator to AWS is in progress: every
// call that reached AWS has also returned to the operator, and no new one
// starts until f returns.
func (l *racingLambda) Quiesced(f func()) {
	l.inFlight.Lock()
	defer l.inFlight.Unlock()
	f()
}

// Hold makes the operator's calls about functions wait until release is
// called: what it asks of them meanwhile piles up.
func (l *racingLambda) Hold(functions ...string) (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[string]chan struct{}{}
	}
	gate := make(chan struct{})
	for _, fn := range functions {
		l.held[fn] = gate
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			for _, fn := range functions {
				delete(l.held, fn)
			}
			l.mu.Unlock()
			close(gate)
		})
	}
}

func (l *racingLambda) waitIfHeld(function string) {
	l.mu.Lock()
	gate := l.held[function]
	l.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

// racingPort is one identity's port, running the armed hooks.
type racingPort struct {
	awslambda.Lambda
	hooks *racingLambda
}

func (l *racingLambda) BeforeNextRemove(function string, f func()) {
	l.arm(&l.beforeRemove, function, f)
}
func (l *racingLambda) BeforeNextAdd(function string, f func()) { l.arm(&l.beforeAdd, function, f) }

func (l *racingLambda) arm(hooks *map[string]func(), function string, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if *hooks == nil {
		*hooks = map[string]func(){}
	}
	(*hooks)[function] = f
}

// CallsTo counts the controller's calls about a function: any at all means
// it did not refuse before calling AWS.
func (l *racingLambda) CallsTo(function string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.callsTo[function]
}

// WritesTo counts the controller's AddPermission and RemovePermission calls
// on a function.
func (l *racingLambda) WritesTo(function string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writesTo[function]
}

// WritesByOperation counts the controller's writes to a function's
// policies by operation.
func (l *racingLambda) WritesByOperation(function string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.writesBy[function])
}

func (l *racingLambda) wrote(function, operation string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.writesTo == nil {
		l.writesTo, l.writesBy = map[string]int{}, map[string]map[string]int{}
	}
	l.writesTo[function]++
	if l.writesBy[function] == nil {
		l.writesBy[function] = map[string]int{}
	}
	l.writesBy[function][operation]++
}

// called counts a call about function and returns the hook armed for it, if any.
func (l *racingLambda) called(hooks map[string]func(), function string) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.callsTo == nil {
		l.callsTo = map[string]int{}
	}
	l.callsTo[function]++
	f := hooks[function]
	delete(hooks, function)
	return f
}

func (l racingPort) GetPolicy(ctx context.Context, ref policy.FunctionRef) (awslambda.Policy, error) {
	l.hooks.waitIfHeld(ref.Name)
	l.hooks.inFlight.RLock()
	defer l.hooks.inFlight.RUnlock()
	l.hooks.called(nil, ref.Name)
	return l.Lambda.GetPolicy(ctx, ref)
}

func (l racingPort) ResolveFunction(ctx context.Context, ref policy.FunctionRef) (policy.FunctionRef, error) {
	l.hooks.waitIfHeld(ref.Name)
	l.hooks.inFlight.RLock()
	defer l.hooks.inFlight.RUnlock()
	l.hooks.called(nil, ref.Name)
	return l.Lambda.ResolveFunction(ctx, ref)
}

func (l racingPort) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error {
	l.hooks.waitIfHeld(ref.Name)
	l.hooks.inFlight.RLock()
	defer l.hooks.inFlight.RUnlock()
	if f := l.hooks.called(l.hooks.beforeRemove, ref.Name); f != nil {
		f()
	}
	l.hooks.wrote(ref.Name, "RemovePermission")
	return l.Lambda.RemovePermission(ctx, ref, sid, revisionID)
}

func (l racingPort) PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (awslambda.Policy, error) {
	l.hooks.waitIfHeld(ref.Name)
	l.hooks.inFlight.RLock()
	defer l.hooks.inFlight.RUnlock()
	if f := l.hooks.called(l.hooks.beforeAdd, ref.Name); f != nil {
		f()
	}
	l.hooks.wrote(ref.Name, "PutResourcePolicy")
	return l.Lambda.PutResourcePolicy(ctx, ref, document, revisionID)
}

func (l racingPort) DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error {
	l.hooks.waitIfHeld(ref.Name)
	l.hooks.inFlight.RLock()
	defer l.hooks.inFlight.RUnlock()
	l.hooks.called(nil, ref.Name)
	l.hooks.wrote(ref.Name, "DeleteResourcePolicy")
	return l.Lambda.DeleteResourcePolicy(ctx, ref, revisionID)
}

func (l racingPort) AddPermission(ctx context.Context, ref policy.FunctionRef, p policy.Permission) (string, error) {
	l.hooks.waitIfHeld(ref.Name)
	l.hooks.inFlight.RLock()
	defer l.hooks.inFlight.RUnlock()
	if f := l.hooks.called(l.hooks.beforeAdd, ref.Name); f != nil {
		f()
	}
	l.hooks.wrote(ref.Name, "AddPermission")
	return l.Lambda.AddPermission(ctx, ref, p)
}
