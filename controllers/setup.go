package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Retries of a failing object: exponential from retryBase to retryCap.
const (
	retryBase = 100 * time.Millisecond
	retryCap  = 5 * time.Minute
)

// SetupWithManager registers the controller and its claim index.
func (r *LambdaPermissionReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	r.Lambda = instrumentedProvider{next: r.Lambda} // every call counted and timed
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &lambdav1alpha1.LambdaPermission{}, claimIndex,
		func(o client.Object) []string {
			if key := r.claimKey(o.(*lambdav1alpha1.LambdaPermission)); key != "" {
				return []string{key}
			}
			return nil
		}); err != nil {
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

var deletionStarted = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
}
