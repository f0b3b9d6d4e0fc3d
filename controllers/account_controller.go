package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
)

// accountRecheck is how often a failing account's identity is tried again.
const accountRecheck = 5 * time.Minute

// AccountReconciler reports whether the operator can act as each
// LambdaPermissionAccount's identity, and in the right account.
type AccountReconciler struct {
	client.Client
	AWS awslambda.Provider
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissionaccounts/status,verbs=get;update;patch

// Reconcile asks STS who the account's identity is and records the answer.
func (r *AccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	account := &lambdav1alpha1.LambdaPermissionAccount{}
	if err := r.Get(ctx, req.NamespacedName, account); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := account.DeepCopy()
	identity := awslambda.Identity{RoleARN: account.Spec.RoleARN, ExternalID: account.Spec.ExternalID, SessionName: account.Spec.SessionName}
	ready := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: "IdentityVerified", ObservedGeneration: account.Generation}
	callerAccount, arn, err := r.AWS.Caller(ctx, identity)
	switch {
	case err != nil:
		ready.Status, ready.Reason = metav1.ConditionFalse, "IdentityFailed"
		ready.Message = "cannot act as this account's identity: " + err.Error()
	case callerAccount != account.Spec.AccountID:
		ready.Status, ready.Reason = metav1.ConditionFalse, "WrongAccount"
		ready.Message = "the identity " + arn + " belongs to account " + callerAccount + ", not " + account.Spec.AccountID + "; set roleArn to a role in " + account.Spec.AccountID
	default:
		ready.Message = "acting as " + arn
	}
	account.Status.CallerArn = arn
	account.Status.ObservedGeneration = account.Generation
	meta.SetStatusCondition(&account.Status.Conditions, ready)
	// A failing identity needs a person (kstatus: Failed, Argo CD: Degraded).
	if ready.Status == metav1.ConditionTrue {
		meta.RemoveStatusCondition(&account.Status.Conditions, ConditionStalled)
	} else {
		stalledCondition := ready
		stalledCondition.Type, stalledCondition.Status = ConditionStalled, metav1.ConditionTrue
		meta.SetStatusCondition(&account.Status.Conditions, stalledCondition)
	}
	if err := r.Status().Patch(ctx, account, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ready.Status != metav1.ConditionTrue {
		return ctrl.Result{RequeueAfter: accountRecheck}, nil
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller.
func (r *AccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdapermissionaccount").
		For(&lambdav1alpha1.LambdaPermissionAccount{}).
		Complete(r)
}
