// Package controllers holds the operator's four controllers, one thin
// adapter per kind (LambdaPermission, LambdaResourcePolicy,
// LambdaFunctionURLPermission, LambdaPermissionAccount), and Setup, which
// builds the policy engine once and hands it to them. The shared reconcile
// is kernel's, the policy engine is engine's; docs/architecture.md maps
// the packages.
package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// permissions keeps each LambdaPermission's statement in its function's
// policy: compute the desired statement, place it (plan against the policy
// as observed, write), take out the one it moved from, report.
type permissions struct {
	client  client.Client
	engine  *engine.Engine
	managed metrics.ManagedStatements
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissionaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// No lambdapermissions/finalizers: the finalizer is set and removed by an
// update of the object itself. <kind>/finalizers is only checked (by the
// OwnerReferencesPermissionEnforcement admission plugin) for an owner
// reference with blockOwnerDeletion to an object of the kind, and nothing
// owns through a LambdaPermission. charts/rbac runs the operator with the
// chart's rules and without each in turn.

// Sync puts the statement in place and records it in the status. It
// returns nil once the statement is in place.
func (a *permissions) Sync(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) error {
	want, err := a.engine.DesiredStatement(ctx, obj)
	if err != nil {
		return err
	}
	obj.Status.StatementID = want.Permission.StatementID
	obj.Status.FunctionArn = want.Target.FunctionARN()
	if err := a.engine.CheckClaim(ctx, obj, want); err != nil {
		return err
	}
	placed, err := a.engine.PlaceStatement(ctx, obj, want)
	if placed.Policy.Known {
		obj.Status.PolicySize, obj.Status.PolicySizeLimit = int32(placed.Policy.Bytes), policy.MaxPolicySize
	}
	if err != nil {
		return err
	}
	// Create before destroy: the statement the object wrote under another
	// Sid, function, version or alias goes only once the new one is in
	// place, so that the grant never lapses while it moves.
	if err := a.engine.RemovePreviousStatement(ctx, obj, want); err != nil {
		return err
	}
	now := metav1.NewTime(a.engine.Clock())
	obj.Status.Statement = placed.Statement
	obj.Status.PolicyRevisionID = placed.Revision
	obj.Status.LastSyncTime = &now
	return nil
}

// Cleanup removes the statement the object wrote.
func (a *permissions) Cleanup(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) error {
	return a.engine.RemoveOwnStatement(ctx, obj)
}

// Retention: deletionPolicy Retain and managementPolicy Observe leave the
// statement in the policy.
func (a *permissions) Retention(obj *lambdav1alpha1.LambdaPermission) string {
	return kernel.Retention(obj.Spec.ManagementPolicy, obj.Spec.DeletionPolicy, "statement \""+obj.Status.StatementID+"\" left in the policy")
}

func (a *permissions) InPlace(obj *lambdav1alpha1.LambdaPermission) bool {
	return engine.StatementInPlace(obj)
}

// setup registers the controller. Status writes do not wake it (they would
// make every sync schedule another); spec, annotation and deletion changes
// do. A changed annotation is also how a user forces a sync.
func (a *permissions) setup(mgr ctrl.Manager, base kernel.Reconciler[*lambdav1alpha1.LambdaPermission], workers int) error {
	base.Kind = kernel.Kind[*lambdav1alpha1.LambdaPermission]{
		New:          func() *lambdav1alpha1.LambdaPermission { return &lambdav1alpha1.LambdaPermission{} },
		Finalizer:    lambdav1alpha1.PermissionFinalizer,
		Subject:      "statement",
		ReadyMessage: "the statement is in the function's policy as specified",
		Settled:      a.managed.Set,
	}
	base.Adapter = a
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdapermission").
		For(&lambdav1alpha1.LambdaPermission{}, builder.WithPredicates(specChanged)).
		Watches(&lambdav1alpha1.LambdaPermission{}, handler.EnqueueRequestsFromMapFunc(a.otherClaimants),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		// A changed account or namespace label may allow or refuse objects.
		Watches(&lambdav1alpha1.LambdaPermissionAccount{}, handler.EnqueueRequestsFromMapFunc(a.allObjects),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(a.objectsInNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		// A LambdaResourcePolicy that comes, changes or goes decides how
		// the statements on its policy are written, or whether they may be.
		Watches(&lambdav1alpha1.LambdaResourcePolicy{}, handler.EnqueueRequestsFromMapFunc(a.permissionsOnPolicyOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		// A queued write (the Document strategy) wakes its object when done.
		WatchesRawSource(source.Channel(a.engine.Wakes(engine.PermissionKind), &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, RateLimiter: kernel.NewJitteredBackoff(retryBase, retryCap)}).
		Complete(&base)
}

// otherClaimants wakes the other objects claiming the same statement when
// one of them is created, changed or deleted: a SidConflict may have cleared.
func (a *permissions) otherClaimants(ctx context.Context, o client.Object) []reconcile.Request {
	obj, ok := o.(*lambdav1alpha1.LambdaPermission)
	if !ok {
		return nil
	}
	claimants, err := a.engine.Claimants(ctx, obj)
	if err != nil {
		return nil
	}
	var requests []reconcile.Request
	for i := range claimants {
		if claimants[i].UID != obj.UID {
			requests = append(requests, requestFor(&claimants[i]))
		}
	}
	return requests
}

func (a *permissions) permissionsOnPolicyOf(ctx context.Context, o client.Object) []reconcile.Request {
	owner, ok := o.(*lambdav1alpha1.LambdaResourcePolicy)
	if !ok {
		return nil
	}
	objs, err := a.engine.PermissionsOnPolicyOf(ctx, owner)
	if err != nil {
		return nil
	}
	return requestsFor(objs)
}

func (a *permissions) allObjects(ctx context.Context, _ client.Object) []reconcile.Request {
	return a.requests(ctx)
}

func (a *permissions) objectsInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	return a.requests(ctx, client.InNamespace(ns.GetName()))
}

func (a *permissions) requests(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list lambdav1alpha1.LambdaPermissionList
	if err := a.client.List(ctx, &list, opts...); err != nil {
		return nil
	}
	return requestsFor(list.Items)
}
