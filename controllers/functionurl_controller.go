package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// requeueWhileChildrenGo is how soon a deleted function URL grant looks
// again at its LambdaPermissions while their statements are being removed.
const requeueWhileChildrenGo = 2 * time.Second

// functionURLKind names LambdaFunctionURLPermissions in the metrics.
const functionURLKind = "LambdaFunctionURLPermission"

// legacyURLFinalizer is the name FunctionURLFinalizer had before it had
// its own; objects that still carry it are moved to FunctionURLFinalizer.
const legacyURLFinalizer = lambdav1alpha1.PermissionFinalizer

// functionURLs keeps the two LambdaPermissions a function URL
// needs: lambda:InvokeFunctionUrl with the URL's auth type, and
// lambda:InvokeFunction for calls made through the URL (AWS, October 2025).
// Each is an ordinary LambdaPermission, so ownership, guardrails and
// cleanup are the same as for any statement.
type functionURLs struct {
	client.Client
	// StatementIDPrefix starts the Sids derived for objects that set no
	// spec.statementIdPrefix (--statement-id-prefix).
	StatementIDPrefix string
	// Shard selects this instance's objects (--watch-label-selector): the
	// two LambdaPermissions carry the labels it reads over from their
	// grant, so that they are in its shard. Live reads what a shard's cache
	// does not hold.
	Shard labels.Selector
	Live  client.Reader
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdafunctionurlpermissions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdafunctionurlpermissions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdafunctionurlpermissions/finalizers,verbs=update
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions,verbs=create;delete
//
// lambdafunctionurlpermissions/finalizers: the two LambdaPermissions carry a
// controller reference with blockOwnerDeletion, which the
// OwnerReferencesPermissionEnforcement admission plugin allows only to who
// may update the owner's finalizers.

// Reconcile creates or updates both LambdaPermissions and sums up their state.
func (r *functionURLs) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	url := &lambdav1alpha1.LambdaFunctionURLPermission{}
	if err := r.Get(ctx, req.NamespacedName, url); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.ForgetObject(functionURLKind, req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !url.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, url)
	}
	added := controllerutil.AddFinalizer(url, lambdav1alpha1.FunctionURLFinalizer)
	if controllerutil.RemoveFinalizer(url, legacyURLFinalizer) || added {
		if err := r.Update(ctx, url); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	before := url.DeepCopy()
	var children []*lambdav1alpha1.LambdaPermission
	var failure error
	for _, want := range translate.FunctionURLPermissions(url, r.StatementIDPrefix) {
		child := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: want.Name, Namespace: url.Namespace}}
		_, err := controllerutil.CreateOrUpdate(ctx, r.Client, child, func() error {
			sid := child.Spec.StatementID
			child.Spec = want.Spec
			if sid != "" {
				// statementId is immutable once set: a child keeps the Sid
				// it was created with when --statement-id-prefix changes
				// (or a newer version derives another), rather than being
				// refused or removed and added again, which would cut the
				// URL off for a moment.
				child.Spec.StatementID = sid
			}
			followShard(r.Shard, url, child)
			return controllerutil.SetControllerReference(url, child, r.Scheme())
		})
		if apierrors.IsAlreadyExists(err) && r.Shard != nil {
			// Not in this shard's cache: the grant moved here from
			// another shard, and its LambdaPermission follows it. Its
			// arrival in the cache wakes the grant again.
			return ctrl.Result{RequeueAfter: requeueWhileChildrenGo}, r.moveIntoShard(ctx, url, child.Name)
		}
		if apierrors.IsInvalid(err) {
			failure = kernel.Stalled(lambdav1alpha1.ReasonInvalidSpec, "%v", err)
			break
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		children = append(children, child)
	}
	url.Status.ObservedGeneration = url.Generation
	url.Status.Permissions = nil
	for _, c := range children {
		url.Status.Permissions = append(url.Status.Permissions, c.Name)
	}
	if failure == nil {
		failure = childrenState(children)
	}
	kernel.SetConditions(&url.Status.Conditions, url.Generation, failure, lambdav1alpha1.ReasonSynced, "both statements of the function URL are in place")
	if err := r.Status().Patch(ctx, url, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	metrics.ReportObject(functionURLKind, req.NamespacedName, url.Status.Conditions)
	return ctrl.Result{}, nil
}

// childrenState is nil when both statements are in place, else the worse
// of the two states.
func childrenState(children []*lambdav1alpha1.LambdaPermission) error {
	var waiting []string
	for _, c := range children {
		ready := meta.FindStatusCondition(c.Status.Conditions, lambdav1alpha1.ConditionReady)
		switch {
		case ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == c.Generation:
		case meta.IsStatusConditionTrue(c.Status.Conditions, lambdav1alpha1.ConditionStalled):
			return kernel.Stalled(ready.Reason, "LambdaPermission %s: %s", c.Name, ready.Message)
		case ready != nil:
			waiting = append(waiting, fmt.Sprintf("%s: %s", c.Name, ready.Message))
		default:
			waiting = append(waiting, c.Name+": not reconciled yet")
		}
	}
	if len(waiting) > 0 {
		return kernel.Retrying(lambdav1alpha1.ReasonProgressing, nil, "waiting for %s", strings.Join(waiting, "; "))
	}
	return nil
}

// moveIntoShard gives the grant's LambdaPermission name the labels of the
// grant's shard. A LambdaPermission of that name that is not the grant's
// is left alone.
func (r *functionURLs) moveIntoShard(ctx context.Context, url *lambdav1alpha1.LambdaFunctionURLPermission, name string) error {
	child := &lambdav1alpha1.LambdaPermission{}
	if err := r.Live.Get(ctx, client.ObjectKey{Namespace: url.Namespace, Name: name}, child); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(child, url) {
		return fmt.Errorf("LambdaPermission %s/%s exists and is not this function URL grant's", url.Namespace, name)
	}
	patch, err := shardLabelsPatch(r.Shard, url)
	if err != nil {
		return err
	}
	return client.IgnoreNotFound(r.Patch(ctx, child, patch))
}

// finalize deletes both LambdaPermissions and waits until they are gone (so
// their statements are removed or retained as they say) before letting go.
func (r *functionURLs) finalize(ctx context.Context, url *lambdav1alpha1.LambdaFunctionURLPermission) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(url, lambdav1alpha1.FunctionURLFinalizer) && !controllerutil.ContainsFinalizer(url, legacyURLFinalizer) {
		return ctrl.Result{}, nil
	}
	remaining := 0
	for _, want := range translate.FunctionURLPermissions(url, r.StatementIDPrefix) {
		child := &lambdav1alpha1.LambdaPermission{}
		err := r.Get(ctx, client.ObjectKey{Namespace: url.Namespace, Name: want.Name}, child)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		if !metav1.IsControlledBy(child, url) {
			continue // not ours: never delete what we did not create
		}
		remaining++
		if child.DeletionTimestamp.IsZero() {
			if err := r.Delete(ctx, child); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, err
			}
		}
	}
	if remaining > 0 {
		return ctrl.Result{RequeueAfter: requeueWhileChildrenGo}, nil
	}
	controllerutil.RemoveFinalizer(url, lambdav1alpha1.FunctionURLFinalizer)
	controllerutil.RemoveFinalizer(url, legacyURLFinalizer)
	metrics.ForgetObject(functionURLKind, client.ObjectKeyFromObject(url))
	return ctrl.Result{}, client.IgnoreNotFound(r.Update(ctx, url))
}

// setup registers the controller; a change to either LambdaPermission
// wakes its owner.
func (r *functionURLs) setup(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("lambdafunctionurlpermission").
		For(&lambdav1alpha1.LambdaFunctionURLPermission{}).
		Owns(&lambdav1alpha1.LambdaPermission{}).
		Complete(r)
}
