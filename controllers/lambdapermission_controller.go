// Package controllers holds the operator's four controllers, one thin
// adapter per kind (LambdaPermission, LambdaResourcePolicy,
// LambdaFunctionURLPermission, LambdaPermissionAccount), and Setup, which
// builds the policy engine once and hands it to them. The shared reconcile
// is kernel's, the policy engine is engine's; docs/architecture.md maps
// the packages.
package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

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

// sync puts the statement in place and records it in the status. It
// returns nil once the statement is in place.
func (a *permissions) sync(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) error {
	want, err := a.engine.DesiredStatement(ctx, obj)
	if err != nil {
		return err
	}
	obj.Status.StatementID = want.Permission.StatementID
	obj.Status.FunctionArn = want.Target.FunctionARN()
	if err := a.engine.CheckClaim(ctx, obj, want); err != nil {
		return err
	}
	recorded := engine.PolicyFacts{Size: int(obj.Status.PolicySize), Revision: obj.Status.PolicyRevisionID}
	inPlaceBefore, statementBefore := engine.StatementInPlace(obj), obj.Status.Statement
	placed, err := a.engine.PlaceStatement(ctx, obj, want)
	if err == nil {
		// Create before destroy: the statement the object wrote under
		// another Sid, function, version or alias goes only once the new
		// one is in place, so that the grant never lapses while it moves.
		err = a.engine.RemovePreviousStatement(ctx, obj, want)
	}
	fresh := recorded
	if placed.Policy.Known {
		fresh.Size = placed.Policy.Bytes
		obj.Status.PolicySizeLimit = policy.MaxPolicySize
	}
	if err == nil {
		fresh.Revision = placed.Revision
		obj.Status.Statement, obj.Status.Compacted = placed.Statement, placed.Compacted
	}
	_, syncRequested := kernel.SyncRequest(obj)
	statementChanged := err == nil && (!inPlaceBefore || placed.Statement != statementBefore)
	facts := engine.RecordedPolicyFacts(recorded, fresh, statementChanged, syncRequested)
	obj.Status.PolicySize, obj.Status.PolicyRevisionID = int32(facts.Size), facts.Revision
	if err != nil {
		return err
	}
	obj.Status.LastSyncTime = nil // deprecated: see its doc
	return nil
}

// statementRetention: deletionPolicy Retain and managementPolicy Observe
// leave the statement in the policy.
func statementRetention(obj *lambdav1alpha1.LambdaPermission) string {
	return kernel.Retention(obj.Spec.ManagementPolicy, obj.Spec.DeletionPolicy, "statement \""+obj.Status.StatementID+"\" left in the policy")
}
