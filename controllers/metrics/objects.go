package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// objectLabels are lambda_permission_objects' labels. The object's
// namespace is object_namespace, not namespace: Prometheus gives the target's
// own namespace that name when it scrapes through Kubernetes discovery.
var objectLabels = []string{"kind", "object_namespace", "object_name", "ready", "stalled", "reason"}

var objects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "lambda_permission_objects",
	Help: "The operator's objects by kind, namespace, name, Ready status (True, False, Unknown before the first report), whether Stalled (a person must act) and the Ready condition's reason: 1 per object. With --metrics-object-names=false object_name is empty and the value counts the objects of the namespace in that state.",
}, objectLabels)

func init() { ctrlmetrics.Registry.MustRegister(objects) }

// The states the objects last reported, for lambda_permission_objects.
var states = newObjectStates(objects, true)

// SetObjectNames chooses whether lambda_permission_objects has a series per
// object (names: true, the default) or per namespace and state, counting.
// Call it before the controllers start.
func SetObjectNames(names bool) { states.setNames(names) }

// ReportObject records the state an object's conditions show.
func ReportObject(kind string, key types.NamespacedName, conditions []metav1.Condition) {
	states.report(objectKey{kind, key}, stateOf(conditions))
}

// ForgetObject drops an object that is gone.
func ForgetObject(kind string, key types.NamespacedName) { states.forget(objectKey{kind, key}) }

type objectKey struct {
	kind string
	types.NamespacedName
}

// objectState is what lambda_permission_objects says of an object besides
// who it is.
type objectState struct{ ready, stalled, reason string }

func stateOf(conditions []metav1.Condition) objectState {
	s := objectState{ready: string(metav1.ConditionUnknown), stalled: "false"}
	if c := meta.FindStatusCondition(conditions, lambdav1alpha1.ConditionReady); c != nil {
		s.ready, s.reason = string(c.Status), c.Reason
	}
	if meta.IsStatusConditionTrue(conditions, lambdav1alpha1.ConditionStalled) {
		s.stalled = "true"
	}
	return s
}

// objectStates keeps each object's last state and, per series, how many
// objects it counts, so that a series goes when its last object leaves it.
type objectStates struct {
	mu     sync.Mutex
	gauge  *prometheus.GaugeVec
	names  bool
	state  map[objectKey]objectState
	counts map[[6]string]int
}

func newObjectStates(gauge *prometheus.GaugeVec, names bool) *objectStates {
	return &objectStates{gauge: gauge, names: names, state: map[objectKey]objectState{}, counts: map[[6]string]int{}}
}

func (s *objectStates) setNames(names bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names = names
}

func (s *objectStates) report(key objectKey, state objectState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.state[key]; ok {
		if old == state {
			return
		}
		s.move(s.series(key, old), -1)
	}
	s.state[key] = state
	s.move(s.series(key, state), +1)
}

func (s *objectStates) forget(key objectKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.state[key]; ok {
		delete(s.state, key)
		s.move(s.series(key, old), -1)
	}
}

func (s *objectStates) series(key objectKey, state objectState) [6]string {
	name := key.Name
	if !s.names {
		name = ""
	}
	return [6]string{key.kind, key.Namespace, name, state.ready, state.stalled, state.reason}
}

// move counts one object more (+1) or fewer (-1) in series labels.
func (s *objectStates) move(labels [6]string, by int) {
	n := s.counts[labels] + by
	if n <= 0 {
		delete(s.counts, labels)
		s.gauge.DeleteLabelValues(labels[:]...)
		return
	}
	s.counts[labels] = n
	s.gauge.WithLabelValues(labels[:]...).Set(float64(n))
}
