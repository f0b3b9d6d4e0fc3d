package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Retries of a failing object: exponential from retryBase to retryCap.
const (
	retryBase = 100 * time.Millisecond
	retryCap  = 5 * time.Minute
)

// Options configure the operator's controllers.
type Options struct {
	// Lambda reaches AWS; build it from a configuration given to
	// InstrumentAWS, so that every call is counted.
	Lambda                  awslambda.Provider
	Recorder                events.EventRecorder
	DefaultRegion           string            // region of functions named without one
	SyncPeriod              time.Duration     // how often a Ready statement is checked for drift
	Guardrails              GuardrailSettings // operator-wide; LambdaPermissionAccounts may override
	DryRun                  bool              // report intended writes instead of making them
	WriteStrategy           writer.Strategy   // for accounts no LambdaPermissionAccount declares (default Statements)
	MaxConcurrentReconciles int               // LambdaPermissions reconciled at once
	StatementIDPrefix       string            // starts every derived Sid (see ValidateStatementIDPrefix)
}

// Setup registers the three controllers with mgr: LambdaPermission,
// LambdaPermissionAccount and LambdaFunctionURLPermission.
func Setup(mgr ctrl.Manager, o Options) error {
	if err := translate.ValidateStatementIDPrefix(o.StatementIDPrefix); err != nil {
		return fmt.Errorf("statement-id prefix %w", err)
	}
	// Every informer the controllers use exists before the manager starts,
	// so that it waits for all of them to sync before any controller runs
	// (informers made later by a controller's own start are not waited for).
	for _, kind := range []client.Object{&lambdav1alpha1.LambdaPermission{}, &lambdav1alpha1.LambdaPermissionAccount{},
		&lambdav1alpha1.LambdaFunctionURLPermission{}, &lambdav1alpha1.LambdaResourcePolicy{}, &corev1.Namespace{}} {
		if _, err := mgr.GetCache().GetInformer(context.Background(), kind); err != nil {
			return fmt.Errorf("setting up the %T informer: %w", kind, err)
		}
	}
	permissions := &LambdaPermissionReconciler{Client: mgr.GetClient(), Lambda: o.Lambda, Recorder: o.Recorder,
		DefaultRegion: o.DefaultRegion, SyncPeriod: o.SyncPeriod, Guardrails: o.Guardrails, DryRun: o.DryRun, WriteStrategy: o.WriteStrategy,
		StatementIDPrefix: o.StatementIDPrefix}
	if err := permissions.SetupWithManager(mgr, o.MaxConcurrentReconciles); err != nil {
		return fmt.Errorf("setting up the LambdaPermission controller: %w", err)
	}
	if err := (&AccountReconciler{Client: mgr.GetClient(), AWS: o.Lambda}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the LambdaPermissionAccount controller: %w", err)
	}
	if err := (&FunctionURLReconciler{Client: mgr.GetClient(), StatementIDPrefix: o.StatementIDPrefix}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the LambdaFunctionURLPermission controller: %w", err)
	}
	policies := &LambdaResourcePolicyReconciler{Client: mgr.GetClient(), Permissions: permissions, Recorder: o.Recorder}
	if err := policies.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the LambdaResourcePolicy controller: %w", err)
	}
	return nil
}

// SetupWithManager registers the controller. Its Permissions must be set
// up with the same manager first: they share writers and indexes.
func (r *LambdaResourcePolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	p := r.Permissions
	specChanged := predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionStarted)
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdaresourcepolicy").
		For(&lambdav1alpha1.LambdaResourcePolicy{}, builder.WithPredicates(specChanged)).
		// A LambdaPermission that comes or goes changes what the policy
		// includes, and one whose statement is written changes what it
		// holds (the owner's counts); an owner that goes may clear
		// another's conflict.
		Watches(&lambdav1alpha1.LambdaPermission{}, handler.EnqueueRequestsFromMapFunc(r.policiesOnTargetOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted, statementWritten))).
		Watches(&lambdav1alpha1.LambdaResourcePolicy{}, handler.EnqueueRequestsFromMapFunc(r.policiesOnTargetOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		Watches(&lambdav1alpha1.LambdaPermissionAccount{}, handler.EnqueueRequestsFromMapFunc(r.allPolicies),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.allPolicies),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(source.Channel(p.policyWakes, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{RateLimiter: newJitteredBackoff(retryBase, retryCap)}).
		Complete(r)
}

// policiesOnTargetOf is every LambdaResourcePolicy on the policy that a
// LambdaPermission or LambdaResourcePolicy is on.
func (r *LambdaResourcePolicyReconciler) policiesOnTargetOf(ctx context.Context, o client.Object) []reconcile.Request {
	var key string
	switch obj := o.(type) {
	case *lambdav1alpha1.LambdaPermission:
		key = r.Permissions.permissionTargetKey(obj)
	case *lambdav1alpha1.LambdaResourcePolicy:
		key = r.Permissions.policyTargetKey(obj)
	}
	if key == "" {
		return nil
	}
	return r.policyRequests(ctx, client.MatchingFields{targetIndex: key})
}

func (r *LambdaResourcePolicyReconciler) allPolicies(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.policyRequests(ctx)
}

func (r *LambdaResourcePolicyReconciler) policyRequests(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list lambdav1alpha1.LambdaResourcePolicyList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return requests
}

// SetupWithManager registers the controller and its claim index.
func (r *LambdaPermissionReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	r.writers.Now = r.now
	wakes := make(chan event.GenericEvent, 1024)
	r.policyWakes = make(chan event.GenericEvent, 1024)
	r.writers.Wake = func(key string) {
		if strings.HasPrefix(key, policyKeyPrefix) {
			r.policyWakes <- wakeEvent(strings.TrimPrefix(key, policyKeyPrefix))
			return
		}
		wakes <- wakeEvent(key)
	}
	r.writers.Queued = func(key string, waiting bool) {
		metrics.ChangeQueued(waiting)
		if r.onQueued != nil {
			r.onQueued(key, waiting)
		}
	}
	r.writers.Sized = metrics.PolicySized
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &lambdav1alpha1.LambdaPermission{}, claimIndex,
		func(o client.Object) []string {
			if key := r.claimKey(o.(*lambdav1alpha1.LambdaPermission)); key != "" {
				return []string{key}
			}
			return nil
		}); err != nil {
		return err
	}
	if err := r.indexTargets(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	// Status writes do not wake the controller (they would make every sync
	// schedule another); spec, annotation and deletion changes do. A changed
	// annotation is also how a user forces a sync.
	specChanged := predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionStarted)
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdapermission").
		For(&lambdav1alpha1.LambdaPermission{}, builder.WithPredicates(specChanged)).
		Watches(&lambdav1alpha1.LambdaPermission{}, handler.EnqueueRequestsFromMapFunc(r.otherClaimants),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		// A changed account or namespace label may allow or refuse objects.
		Watches(&lambdav1alpha1.LambdaPermissionAccount{}, handler.EnqueueRequestsFromMapFunc(r.allObjects),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.objectsInNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		// A LambdaResourcePolicy that comes, changes or goes decides how
		// the statements on its policy are written, or whether they may be.
		Watches(&lambdav1alpha1.LambdaResourcePolicy{}, handler.EnqueueRequestsFromMapFunc(r.permissionsOnPolicyOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		// A queued write (the Document strategy) wakes its object when done.
		WatchesRawSource(source.Channel(wakes, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles,
			RateLimiter: newJitteredBackoff(retryBase, retryCap)}).
		Complete(r)
}

func (r *LambdaPermissionReconciler) allObjects(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.requestsFor(ctx)
}

func (r *LambdaPermissionReconciler) objectsInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.InNamespace(ns.GetName()))
}

func (r *LambdaPermissionReconciler) requestsFor(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list lambdav1alpha1.LambdaPermissionList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for _, o := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&o)})
	}
	return requests
}

// wakeEvent is the event that wakes the object a write key names (see
// writeKey).
func wakeEvent(key string) event.GenericEvent {
	object, _, _ := strings.Cut(key, "#")
	namespace, name, _ := strings.Cut(object, "/")
	return event.GenericEvent{Object: &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}}
}

var deletionStarted = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
}

// statementWritten passes an update in which a LambdaPermission's statement
// was written, changed or taken out (status.statement changed), so that the
// owner of its policy counts the policy's statements again rather than at
// its next sync. Its other status writes pass nothing.
var statementWritten = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*lambdav1alpha1.LambdaPermission)
		now, okNew := e.ObjectNew.(*lambdav1alpha1.LambdaPermission)
		return okOld && okNew && old.Status.Statement != now.Status.Statement
	},
}
