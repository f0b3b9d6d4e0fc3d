package harness

import (
	"context"
	"maps"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
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
	rest    *rest.Config
	cache   cache.Options
	shard   labels.Selector
	manager ctrl.Options // its leader election
	events  func(events.EventRecorder) events.EventRecorder
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

// Shard runs the operator as one shard, as --watch-label-selector does:
// its caches as controllers.ShardCache says, its Options.Shard selector.
func Shard(selector labels.Selector) OperatorOption {
	return func(c *operatorConfig) {
		c.shard = selector
		if c.cache.ByObject == nil {
			c.cache.ByObject = map[client.Object]cache.ByObject{}
		}
		maps.Copy(c.cache.ByObject, controllers.ShardCache(selector))
	}
}

// LeaderElection has the manager elect its leader with the Lease id in
// namespace, as --leader-elect does, releasing it when it stops.
func LeaderElection(id, namespace string) OperatorOption {
	return func(c *operatorConfig) {
		c.manager.LeaderElection, c.manager.LeaderElectionID, c.manager.LeaderElectionNamespace = true, id, namespace
		c.manager.LeaderElectionReleaseOnCancel = true
	}
}

// WatchEvents hands the operator's Events, as main.go records them, to
// wrap's recorder first.
func WatchEvents(wrap func(events.EventRecorder) events.EventRecorder) OperatorOption {
	return func(c *operatorConfig) { c.events = wrap }
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
	options := c.manager
	options.Scheme, options.Cache = s.Scheme, c.cache
	options.Metrics = metricsserver.Options{BindAddress: "0"}
	options.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	mgr, err := ctrl.NewManager(c.rest, options)
	if err != nil {
		return nil, err
	}
	if o.Recorder == nil {
		o.Recorder = mgr.GetEventRecorder(recorderName)
	}
	if c.events != nil {
		o.Recorder = c.events(o.Recorder)
	}
	if c.shard != nil {
		o.Shard = c.shard
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
