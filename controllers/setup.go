package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// SetupWithManager registers the controller and its claim index.
func (r *LambdaPermissionReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	r.Lambda = instrumented{next: r.Lambda} // every call counted and timed
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
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).
		Complete(r)
}

var deletionStarted = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
}
