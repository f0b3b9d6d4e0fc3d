package harness

import (
	"context"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
)

// recorderName is the name the operator's events carry, as main.go's.
const recorderName = "lambda-permission-operator"

// OperatorOption changes the manager StartOperator runs.
type OperatorOption func(*operatorConfig)

type operatorConfig struct {
	rest  *rest.Config
	cache cache.Options
}

// Labelled has the manager's caches of the kinds of objs see only the
// objects selector selects: several operators in one cluster, each with
// objects of its own.
func Labelled(selector labels.Selector, objs ...client.Object) OperatorOption {
	return func(c *operatorConfig) {
		if c.cache.ByObject == nil {
			c.cache.ByObject = map[client.Object]cache.ByObject{}
		}
		for _, o := range objs {
			c.cache.ByObject[o] = cache.ByObject{Label: selector}
		}
	}
}

// WatchNamespace has the manager watch one namespace, as --watch-namespace.
func WatchNamespace(namespace string) OperatorOption {
	return func(c *operatorConfig) {
		c.cache.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
}

// KubeAPIRate sets the manager's request rate to the API server, as
// --kube-api-qps and --kube-api-burst.
func KubeAPIRate(qps float32, burst int) OperatorOption {
	return func(c *operatorConfig) { c.rest.QPS, c.rest.Burst = qps, burst }
}

// UserAgent names the manager's requests to the API server, and so the
// field manager of what it writes, where a test finds which of an
// object's fields the operator wrote (managedFields).
func UserAgent(name string) OperatorOption {
	return func(c *operatorConfig) { c.rest.UserAgent = name }
}

// StartOperator runs the operator's controllers with o in a manager of this
// process on the suite's API server, until stop is called or the suite
// stops: no metrics endpoint or probes, controller names not checked for
// uniqueness (a test runs several managers), and events recorded as
// main.go records them unless o.Recorder is set. stop returns what the
// manager's run returned.
func (s *Suite) StartOperator(ctx context.Context, o controllers.Options, opts ...OperatorOption) (stop func() error, err error) {
	c := operatorConfig{rest: rest.CopyConfig(s.Config)}
	for _, opt := range opts {
		opt(&c)
	}
	mgr, err := ctrl.NewManager(c.rest, ctrl.Options{
		Scheme:     s.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:      c.cache,
	})
	if err != nil {
		return nil, err
	}
	if o.Recorder == nil {
		o.Recorder = mgr.GetEventRecorder(recorderName)
	}
	if err := controllers.Setup(mgr, o); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(runCtx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	s.Cleanup(func() { _ = stop() })
	return stop, nil
}

// RunOperator is StartOperator for one test: the operator runs until stop
// is called or the test ends, and the manager's failure fails the test.
func (s *Suite) RunOperator(t testing.TB, o controllers.Options, opts ...OperatorOption) (stop func()) {
	t.Helper()
	stopOperator, err := s.StartOperator(context.Background(), o, opts...)
	if err != nil {
		t.Fatal(err)
	}
	stop = func() {
		if err := stopOperator(); err != nil {
			t.Errorf("the operator's manager: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}
