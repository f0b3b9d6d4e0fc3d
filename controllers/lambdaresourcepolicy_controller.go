package controllers

import (
	"context"
	"errors"

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
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// resourcePolicies makes each owned policy exactly what its
// LambdaResourcePolicy declares, with the included LambdaPermissions'
// statements: compute the declared statements, check the object owns the
// policy, write the policy in one whole-document write, report. The engine
// shares one writer per policy between both kinds, so that their statements
// on one policy go out in the same write.
type resourcePolicies struct {
	client client.Client
	engine *engine.Engine
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdaresourcepolicies,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdaresourcepolicies/status,verbs=get;update;patch

// Sync makes the policy what obj declares, and records what it found and
// did in the status. It returns nil once the policy is as declared.
func (a *resourcePolicies) Sync(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) error {
	want, err := a.engine.DeclaredPolicy(ctx, obj)
	if err != nil {
		return err
	}
	obj.Status.ResourceArn = want.Target.ResourceARN()
	if err := a.engine.CheckPolicyOwner(ctx, obj, want); err != nil {
		return err
	}
	written, err := a.engine.WritePolicy(ctx, obj, want)
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	recordPolicyStatus(&obj.Status, written, err, metav1.NewTime(a.engine.Clock()))
	return err
}

// recordPolicyStatus puts in the status what a write of the policy found
// and did (outcome: its error, nil when the policy is as declared).
func recordPolicyStatus(status *lambdav1alpha1.LambdaResourcePolicyStatus, written engine.PolicyWrite, outcome error, now metav1.Time) {
	if written.Policy.Known {
		status.PolicySize, status.PolicySizeLimit = int32(written.Policy.Bytes), policy.MaxPolicySize
		status.StatementCount = int32(written.Policy.Statements)
	}
	switch {
	case written.Refused:
		status.IncludedStatements = int32(written.Included)
		status.PendingChange = nil
		if !written.Change.Empty() {
			status.PendingChange = engine.PendingChange(written.Change, now)
		}
		return
	case outcome != nil:
		return
	}
	status.PendingChange = nil
	status.StatementCount, status.IncludedStatements = int32(written.Statements), int32(written.Included)
	status.PolicyRevisionID = written.Revision
	status.LastSyncTime = &now
	if written.Wrote {
		status.LastChange = engine.PendingChange(written.Change, now)
	}
}

// Cleanup takes out the statements the object wrote. The included
// LambdaPermissions' statements stay: they are theirs.
func (a *resourcePolicies) Cleanup(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) error {
	return a.engine.RemoveOwnStatements(ctx, obj)
}

// Retention: deletionPolicy Retain and managementPolicy Observe leave the
// policy as it is.
func (a *resourcePolicies) Retention(obj *lambdav1alpha1.LambdaResourcePolicy) string {
	return kernel.Retention(obj.Spec.ManagementPolicy, obj.Spec.DeletionPolicy, "the policy of "+obj.Status.ResourceArn+" is left as it is")
}

func (a *resourcePolicies) InPlace(obj *lambdav1alpha1.LambdaResourcePolicy) bool {
	return engine.PolicyInPlace(obj)
}

// setup registers the controller.
func (a *resourcePolicies) setup(mgr ctrl.Manager, base kernel.Reconciler[*lambdav1alpha1.LambdaResourcePolicy]) error {
	base.Kind = kernel.Kind[*lambdav1alpha1.LambdaResourcePolicy]{
		New:          func() *lambdav1alpha1.LambdaResourcePolicy { return &lambdav1alpha1.LambdaResourcePolicy{} },
		Finalizer:    lambdav1alpha1.ResourcePolicyFinalizer,
		Subject:      "policy",
		ReadyMessage: "the policy holds exactly the declared statements and the included LambdaPermissions'",
	}
	base.Adapter = a
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdaresourcepolicy").
		For(&lambdav1alpha1.LambdaResourcePolicy{}, builder.WithPredicates(specChanged)).
		// A LambdaPermission that comes or goes changes what the policy
		// includes, and one whose statement is written changes what it
		// holds (the owner's counts); an owner that goes may clear
		// another's conflict.
		Watches(&lambdav1alpha1.LambdaPermission{}, handler.EnqueueRequestsFromMapFunc(a.policiesOnPolicyOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted, statementWritten))).
		Watches(&lambdav1alpha1.LambdaResourcePolicy{}, handler.EnqueueRequestsFromMapFunc(a.policiesOnPolicyOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		Watches(&lambdav1alpha1.LambdaPermissionAccount{}, handler.EnqueueRequestsFromMapFunc(a.allPolicies),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(a.allPolicies),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(source.Channel(a.engine.Wakes(engine.ResourcePolicyKind), &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{RateLimiter: kernel.NewJitteredBackoff(retryBase, retryCap)}).
		Complete(&base)
}

// policiesOnPolicyOf is every LambdaResourcePolicy on the policy that a
// LambdaPermission or LambdaResourcePolicy is on.
func (a *resourcePolicies) policiesOnPolicyOf(ctx context.Context, o client.Object) []reconcile.Request {
	list, err := a.engine.ResourcePoliciesOnPolicyOf(ctx, o)
	if err != nil {
		return nil
	}
	return requestsFor(list)
}

func (a *resourcePolicies) allPolicies(ctx context.Context, _ client.Object) []reconcile.Request {
	var list lambdav1alpha1.LambdaResourcePolicyList
	if err := a.client.List(ctx, &list); err != nil {
		return nil
	}
	return requestsFor(list.Items)
}
