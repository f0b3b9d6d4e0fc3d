package engine

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Settings are the operator's flags the engine follows.
type Settings struct {
	DefaultRegion string            // region of functions named without one
	SyncPeriod    time.Duration     // how often a policy in place is read again
	Guardrails    GuardrailSettings // operator-wide; LambdaPermissionAccounts may override
	DryRun        bool              // report intended writes instead of making them
	WriteStrategy writer.Strategy   // for accounts no LambdaPermissionAccount declares (default Statements)
	// Compaction is when grants are compacted where accounts do not say
	// (--compaction); the zero value is Off.
	Compaction lambdav1alpha1.Compaction
	// StatementIDPrefix starts every derived Sid (--statement-id-prefix),
	// so that clusters applying the same manifests keep apart.
	StatementIDPrefix string
	// Shard selects the objects this operator reconciles
	// (--watch-label-selector); nil: all. LambdaResourcePolicies are read
	// whoever's they are, so that a shard knows a policy another owns.
	Shard labels.Selector
	Now   func() time.Time // the clock (default time.Now)
}

// Config is what an Engine is built from.
type Config struct {
	Settings
	Lambda  awslambda.Provider
	Cluster Cluster
	Events  kernel.Recorder
	// OnQueued is told, besides the lambda_permission_policy_changes_queued
	// gauge, which key's change starts waiting for its policy's write and
	// which has been written: a test can wait for exactly its changes.
	OnQueued func(key WriteKey, waiting bool)
}

// Engine is the policy engine; see the package comment.
type Engine struct {
	Settings
	lambda    awslambda.Provider
	cluster   Cluster
	events    kernel.Recorder
	writers   *writer.Writers[WriteKey] // one per policy, shared by all objects in it
	functions functionCache
	wakes     map[Kind]chan event.GenericEvent
}

// Kind is a kind of object whose changes the engine writes.
type Kind int

const (
	PermissionKind     Kind = iota // LambdaPermission
	ResourcePolicyKind             // LambdaResourcePolicy
)

// WriteKey names one Write of an object's: whose object asks, and which of
// its writes. A queued Write wakes its object when done (Wakes).
type WriteKey struct {
	Kind   Kind
	Object types.NamespacedName
	// Removal, when set, is a statement the object takes out that is not
	// the one it keeps: one it wrote under another Sid or on another policy.
	Removal StatementRef
	// Deletion marks a LambdaResourcePolicy's last Write, which takes its
	// own statements out.
	Deletion bool
}

// StatementRef names a statement: its policy's resource ARN and its Sid.
type StatementRef struct {
	ResourceARN, Sid string
}

// turnWithin is how long a reconcile waits for its account's next write
// turn (writer.Writers.TurnWithin): hardly at all. A turn further off is
// kept for the object, which comes back for it a little before it;
// meanwhile the worker serves other objects, of other accounts too,
// instead of sleeping through one account's quota.
const turnWithin = 40 * time.Millisecond

// New builds the engine of an operator.
func New(c Config) *Engine {
	e := &Engine{Settings: c.Settings, lambda: c.Lambda, cluster: c.Cluster, events: c.Events,
		wakes: map[Kind]chan event.GenericEvent{
			PermissionKind:     make(chan event.GenericEvent, 1024),
			ResourcePolicyKind: make(chan event.GenericEvent, 1024),
		}}
	e.writers = &writer.Writers[WriteKey]{Now: e.Clock, Wake: e.wake, Sized: metrics.PolicySized, Read: metrics.PolicyRead,
		TurnWithin: turnWithin,
		Queued: func(key WriteKey, waiting bool) {
			metrics.ChangeQueued(waiting)
			if c.OnQueued != nil {
				c.OnQueued(key, waiting)
			}
		}}
	return e
}

// Wakes is where the objects of kind whose queued writes are done come
// out, for their controller to reconcile again.
func (e *Engine) Wakes(kind Kind) <-chan event.GenericEvent { return e.wakes[kind] }

func (e *Engine) wake(key WriteKey) {
	meta := metav1.ObjectMeta{Namespace: key.Object.Namespace, Name: key.Object.Name}
	switch key.Kind {
	case ResourcePolicyKind:
		e.wakes[key.Kind] <- event.GenericEvent{Object: &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: meta}}
	default:
		e.wakes[key.Kind] <- event.GenericEvent{Object: &lambdav1alpha1.LambdaPermission{ObjectMeta: meta}}
	}
}

// writerFor is the writer of target's policy, for by.
func (e *Engine) writerFor(by actor, target policy.FunctionRef) writer.Writer[WriteKey] {
	return e.writers.For(e.lambda.For(by.identity), target, by.strategy)
}

// actor is who acts on a policy, and how it writes.
type actor struct {
	identity   awslambda.Identity
	strategy   writer.Strategy
	compaction lambdav1alpha1.Compaction // the account's (or the operator's)
}

func (e *Engine) freshness(obj kernel.SyncRequester) writer.Freshness {
	return kernel.Freshness(obj, e.SyncPeriod, e.Clock())
}

func (e *Engine) defaultStrategy() writer.Strategy {
	if e.WriteStrategy == "" {
		return writer.Statements
	}
	return e.WriteStrategy
}

// Clock is the time now, by the engine's clock (Settings.Now, else the
// system's).
func (e *Engine) Clock() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}
