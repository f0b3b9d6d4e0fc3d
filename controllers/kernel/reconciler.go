package kernel

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
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

// Object is an API object with the status every kind shares (see api/v1alpha1/status.go).
type Object interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
}

// Reconciled is a kind the kernel's Reconciler runs: an Object whose
// policy a user can ask to check at once.
type Reconciled interface {
	Object
	SyncRequester
}

// Kind is what one kind adds to the shared reconcile.
type Kind[T Reconciled] struct {
	Name      string   // the kind's name, as metrics name it
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
type Reconciler[T Reconciled] struct {
	Client     client.Client
	Events     Recorder
	SyncPeriod time.Duration // how often an object in place is checked
	Kind       Kind[T]
	// Backoff, when set, is the controller's rate limiter: a deferred write
	// and a failure with a time to wait keep the object's failures counted
	// in it (see Backoff).
	Backoff *Backoff
}

// Reconcile brings one object in line with its spec: load it; being
// deleted, clean up and let go; else hold its deletion, sync, and report.
func (r *Reconciler[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()

	obj := r.Kind.New()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.ForgetObject(r.Kind.Name, req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return r.finalize(ctx, obj)
	}
	if err := r.holdDeletion(ctx, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	stored := obj.DeepCopyObject().(T)
	outcome := r.Kind.Sync(ctx, obj)
	return r.report(ctx, stored, obj, outcome)
}

// holdDeletion puts the kind's finalizer on obj, so that its deletion waits
// until Cleanup is done. Where the chart's admission policy is installed,
// the object was created with it and this writes nothing.
func (r *Reconciler[T]) holdDeletion(ctx context.Context, obj T) error {
	if !controllerutil.AddFinalizer(obj, r.Kind.Finalizer) {
		return nil
	}
	return r.Client.Update(ctx, obj)
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
	metrics.ForgetObject(r.Kind.Name, client.ObjectKeyFromObject(obj))
	return ctrl.Result{}, client.IgnoreNotFound(r.Client.Update(ctx, obj))
}

// report writes the status from the outcome when that changes it (base:
// the object as stored), emits an Event for a failure, and says when to
// come back (NextReconcile). A check that finds everything in place writes
// nothing: the status is as it was.
func (r *Reconciler[T]) report(ctx context.Context, base, obj T, outcome error) (ctrl.Result, error) {
	if later, deferred := deferredFor(outcome); deferred {
		// The outcome is not known yet: the status says what it said until
		// then. A new object has none: its CRD's default status (generation
		// not yet observed) reads as in progress meanwhile.
		r.hold(obj)
		return ctrl.Result{RequeueAfter: max(later, time.Millisecond)}, nil
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	state := StateOf(outcome)
	if state != nil {
		// Counted before the status is written: whoever sees the status
		// sees the count.
		metrics.ReconcileFailed(state.Reason)
	}
	if checkFailedInPlace(state, r.Kind.InPlace(obj)) {
		r.reportState(base)
		r.Events.Event(obj, corev1.EventTypeNormal, state.Reason, "GetPolicy", "checking the %s: %s", r.Kind.Subject, state.Message)
		return r.next(obj, state)
	}
	if request, pending := SyncRequest(obj); pending {
		obj.SetLastHandledSyncRequest(request)
	}
	conditions := obj.GetConditions()
	SetConditions(&conditions, obj.GetGeneration(), outcome, lambdav1alpha1.ReasonSynced, r.Kind.ReadyMessage)
	obj.SetConditions(conditions)
	if err := patchStatus(ctx, r.Client, base, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.settled(obj, state == nil)
	r.reportState(obj)
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
	return r.next(obj, state)
}

// next says when to come back (NextReconcile), and, for a failure that
// came with a time to wait, counts it in the backoff, so that it grows
// through an outage as any other failure does.
func (r *Reconciler[T]) next(obj T, state *StateError) (ctrl.Result, error) {
	result, err := NextReconcile(state, r.SyncPeriod)
	if err == nil && state != nil && !state.Stalled && state.RetryAfter > 0 && r.Backoff != nil {
		result.RequeueAfter = r.Backoff.Failed(requestFor(obj), result.RequeueAfter)
	}
	return result, err
}

// hold keeps obj's failures counted through a deferral: it has not
// succeeded yet.
func (r *Reconciler[T]) hold(obj T) {
	if r.Backoff != nil {
		r.Backoff.Hold(requestFor(obj))
	}
}

func requestFor(obj client.Object) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
}

// deferredFor reports whether outcome defers the reconcile instead of
// ending it, and when to come back: a plan queued for its policy's next
// write (the write wakes the object; the requeue is a safety net), or a
// write whose account has no turn soon (awslambda.Paced: come back when it
// does, and meanwhile let the worker serve other accounts).
func deferredFor(outcome error) (time.Duration, bool) {
	var lambdaErr *awslambda.Error
	switch {
	case errors.Is(outcome, writer.ErrQueued):
		return queuedRecheck, true
	case errors.As(outcome, &lambdaErr) && lambdaErr.Kind == awslambda.Paced:
		return lambdaErr.RetryAfter, true
	}
	return 0, false
}

// patchStatus writes obj's status where it differs from base's, and
// nothing when it does not: a steady state costs no API writes.
func patchStatus[T Object](ctx context.Context, c client.Client, base, obj T) error {
	if equality.Semantic.DeepEqual(base, obj) {
		return nil // the usual check: cheaper than computing an empty patch
	}
	patch := client.MergeFrom(base)
	data, err := patch.Data(obj)
	if err != nil {
		return err
	}
	if string(data) == "{}" {
		return nil
	}
	return c.Status().Patch(ctx, obj, patch)
}

// reportState records the state obj's status shows in the metrics.
func (r *Reconciler[T]) reportState(obj T) {
	metrics.ReportObject(r.Kind.Name, client.ObjectKeyFromObject(obj), obj.GetConditions())
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
