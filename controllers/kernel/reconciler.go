package kernel

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

const (
	// reconcileTimeout bounds the AWS calls of one reconcile.
	reconcileTimeout = 2 * time.Minute
	// queuedRecheck is when an object whose plan waits for its policy's
	// next write is looked at again if no wake-up came first.
	queuedRecheck = time.Minute
)

// Object is a kind the kernel reconciles: an API object with the status
// every kind shares (see api/v1alpha1/status.go).
type Object interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
}

// Kind is what one kind adds to the shared reconcile.
type Kind[T Object] struct {
	New       func() T // an empty object of the kind, to load into
	Finalizer string   // holds an object's deletion until Cleanup is done
	// Subject is what the kind keeps in place, in messages: "statement",
	// "policy".
	Subject      string
	ReadyMessage string // Ready's message once in place

	// Sync brings what obj's spec asks for in place and records in obj's
	// status what it found and did. It returns nil once it is in place,
	// writer.ErrQueued when a policy's next write took it, or the failure
	// (a *StateError says which condition it shows as).
	Sync func(ctx context.Context, obj T) error
	// Cleanup takes out what obj wrote, once it is being deleted and its
	// Retention is "".
	Cleanup func(ctx context.Context, obj T) error
	// Retention says, for an object being deleted, why what it wrote stays
	// (see the function Retention), or "" when Cleanup is to take it out.
	Retention func(obj T) string
	// InPlace reports whether obj's last sync, at its generation, found or
	// made what it asks for: a check that could not read the policy then
	// leaves it Ready (see checkFailedInPlace).
	InPlace func(obj T) bool
	// Settled, when set, is told after each report and release whether an
	// object's Subject is in place (a gauge of them).
	Settled func(key types.NamespacedName, inPlace bool)
}

// Reconciler is the reconcile every policy kind shares.
type Reconciler[T Object] struct {
	Client     client.Client
	Events     Recorder
	SyncPeriod time.Duration // how often an object in place is checked
	Kind       Kind[T]
}

// Reconcile brings one object in line with its spec: load it; being
// deleted, clean up and let go; else hold its deletion, say that work has
// started, sync, and report.
func (r *Reconciler[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()

	obj := r.Kind.New()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return r.finalize(ctx, obj)
	}
	before, err := startWork(ctx, r.Client, obj, r.Kind.Finalizer, "computing and writing the "+r.Kind.Subject)
	if err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	outcome := r.Kind.Sync(ctx, obj)
	return r.report(ctx, before, obj, outcome)
}

// finalize takes out what the object wrote unless it is retained, then
// releases the object. What is already gone does not hold the deletion.
func (r *Reconciler[T]) finalize(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, r.Kind.Finalizer) {
		return ctrl.Result{}, nil
	}
	if why := r.Kind.Retention(obj); why != "" {
		r.Events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventRetained, "Delete", "%s", why)
	} else if err := r.Kind.Cleanup(ctx, obj); err != nil {
		return r.report(ctx, obj.DeepCopyObject().(T), obj, err)
	}
	controllerutil.RemoveFinalizer(obj, r.Kind.Finalizer)
	r.settled(obj, false)
	return ctrl.Result{}, client.IgnoreNotFound(r.Client.Update(ctx, obj))
}

// report writes the status once from the outcome, emits an Event for a
// failure, and says when to come back (NextReconcile).
func (r *Reconciler[T]) report(ctx context.Context, before, obj T, outcome error) (ctrl.Result, error) {
	if errors.Is(outcome, writer.ErrQueued) {
		// The policy's next write takes the plan and wakes the object; its
		// status says what it said until then. The requeue is a safety net.
		return ctrl.Result{RequeueAfter: queuedRecheck}, nil
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	state := StateOf(outcome)
	if state != nil {
		// Counted before the status is written: whoever sees the status
		// sees the count.
		metrics.ReconcileFailed(state.Reason)
	}
	if checkFailedInPlace(state, r.Kind.InPlace(obj)) {
		r.Events.Event(obj, corev1.EventTypeNormal, state.Reason, "GetPolicy", "checking the %s: %s", r.Kind.Subject, state.Message)
		return NextReconcile(state, r.SyncPeriod)
	}
	conditions := obj.GetConditions()
	SetConditions(&conditions, obj.GetGeneration(), outcome, lambdav1alpha1.ReasonSynced, r.Kind.ReadyMessage)
	obj.SetConditions(conditions)
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.settled(obj, state == nil)
	if state != nil {
		eventType := corev1.EventTypeWarning
		if state.Reason == lambdav1alpha1.ReasonDryRun {
			eventType = corev1.EventTypeNormal
		}
		r.Events.Event(obj, eventType, state.Reason, "Reconcile", "%s", state.Message)
		if state.Stalled {
			log.FromContext(ctx).Info("stalled", "reason", state.Reason, "message", state.Message)
		}
	}
	return NextReconcile(state, r.SyncPeriod)
}

func (r *Reconciler[T]) settled(obj T, inPlace bool) {
	if r.Kind.Settled != nil {
		r.Kind.Settled(client.ObjectKeyFromObject(obj), inPlace)
	}
}

// Retention is why an object's deletion leaves what it wrote in place
// (kept: what that is), or "" when it is to be taken out.
func Retention(management lambdav1alpha1.ManagementPolicy, deletion lambdav1alpha1.DeletionPolicy, kept string) string {
	switch {
	case deletion == lambdav1alpha1.DeletionPolicyRetain:
		return "deletionPolicy is Retain: " + kept
	case management == lambdav1alpha1.ManagementPolicyObserve:
		return "managementPolicy is Observe: " + kept
	}
	return ""
}

// startWork holds obj's deletion with finalizer until the reconcile has
// cleaned up, and the first time it sees obj says at once in its status
// that work has started (what: the work), so that GitOps tools do not take
// an object without status for one that is done (kstatus does). It returns
// obj as stored, the base of the one status patch the reconcile makes at
// its end; a NotFound error means obj is gone.
func startWork[T Object](ctx context.Context, c client.Client, obj T, finalizer, what string) (T, error) {
	if controllerutil.AddFinalizer(obj, finalizer) {
		if err := c.Update(ctx, obj); err != nil {
			return obj, err
		}
	}
	before := obj.DeepCopyObject().(T)
	if obj.GetObservedGeneration() != 0 {
		return before, nil
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	conditions := obj.GetConditions()
	SetConditions(&conditions, obj.GetGeneration(), Retrying(lambdav1alpha1.ReasonProgressing, nil, "%s", what), "", "")
	obj.SetConditions(conditions)
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return obj, err
	}
	return obj.DeepCopyObject().(T), nil
}
