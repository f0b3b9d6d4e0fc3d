package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
)

// accountRecheck is how often a failing account's identity is tried again.
const accountRecheck = 5 * time.Minute

// accountKind names LambdaPermissionAccounts in the metrics.
const accountKind = "LambdaPermissionAccount"

// accounts reports whether the operator can act as each
// LambdaPermissionAccount's identity, and in the right account.
type accounts struct {
	client.Client
	AWS awslambda.Provider
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissionaccounts/status,verbs=get;update;patch

// Reconcile asks STS who the account's identity is and records the answer.
func (r *accounts) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	account := &lambdav1alpha1.LambdaPermissionAccount{}
	if err := r.Get(ctx, req.NamespacedName, account); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.ForgetObject(accountKind, req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := account.DeepCopy()
	outcome := readableRules(account)
	if outcome == nil {
		callerAccount, arn, err := r.AWS.Caller(ctx, engine.IdentityOf(account))
		outcome = identityOutcome(account.Spec.AccountID, callerAccount, arn, err)
		account.Status.CallerArn = arn
	}
	account.Status.ObservedGeneration = account.Generation
	kernel.SetConditions(&account.Status.Conditions, account.Generation, outcome, lambdav1alpha1.ReasonIdentityVerified, "acting as "+account.Status.CallerArn)
	if err := r.Status().Patch(ctx, account, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	metrics.ReportObject(accountKind, req.NamespacedName, account.Status.Conditions)
	if outcome != nil {
		return ctrl.Result{RequeueAfter: accountRecheck}, nil
	}
	return ctrl.Result{}, nil
}

// readableRules is nil when every part of the account's access rules can be
// read, or why not: a rule the operator cannot read grants nothing, which
// the admin must hear of rather than see grants refused.
func readableRules(account *lambdav1alpha1.LambdaPermissionAccount) error {
	if err := engine.AccessRuleErrors(account); err != nil {
		return kernel.Stalled(lambdav1alpha1.ReasonInvalidSpec, "%v; a rule that cannot be read grants nothing", err)
	}
	return nil
}

// identityOutcome says whether the operator can act in the account it
// declares: nil, or why not. A failing identity needs a person (kstatus:
// Failed, Argo CD: Degraded).
func identityOutcome(accountID, callerAccount, arn string, err error) error {
	switch {
	case err != nil:
		if state := kernel.IdentityFailure(err, "acting as this account's identity"); state != nil {
			return state
		}
		return kernel.Stalled(lambdav1alpha1.ReasonIdentityFailed, "cannot act as this account's identity: %v", err)
	case callerAccount != accountID:
		return kernel.Stalled(lambdav1alpha1.ReasonWrongAccount, "the identity %s belongs to account %s, not %s; set roleArn to a role in %s", arn, callerAccount, accountID, accountID)
	}
	return nil
}

// setup registers the controller, for the accounts of shard: every shard
// reads every account, and one reports on each.
func (r *accounts) setup(mgr ctrl.Manager, shard labels.Selector) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdapermissionaccount").
		For(&lambdav1alpha1.LambdaPermissionAccount{}).
		Complete(inShard(r.Client, shard, func() *lambdav1alpha1.LambdaPermissionAccount { return &lambdav1alpha1.LambdaPermissionAccount{} }, r))
}
