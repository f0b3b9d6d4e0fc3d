package controllers

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// A LambdaResourcePolicy owns the policy of one function, version or alias;
// the LambdaPermissions on it are then written through it. targetIndex
// finds, for a policy, the objects of both kinds on it without listing
// every object.
const targetIndex = "lambda.permissions.dev/target"

// targetKey names a policy by region, function name and qualifier, computed
// from a spec alone, like claimKey: two accounts' same-named functions in one
// region share a key, which errs on the side of treating a policy as owned.
func targetKey(target policy.FunctionRef) string {
	return strings.Join([]string{target.Region, target.Name, target.Qualifier}, "|")
}

// specTarget is the function, version or alias a spec names, with the region
// and account it gives (either may still be empty).
func specTarget(functionName, qualifier, region string) (policy.FunctionRef, error) {
	target, err := policy.ResolveTarget(functionName, qualifier)
	if err != nil {
		return policy.FunctionRef{}, stalled(ReasonInvalidSpec, "%v", err)
	}
	if target.Region != "" && region != "" && target.Region != region {
		return policy.FunctionRef{}, stalled(ReasonInvalidSpec,
			"region: %q differs from the region %q in functionName; remove one", region, target.Region)
	}
	return target.WithDefaults(region, ""), nil
}

func (r *LambdaPermissionReconciler) permissionTargetKey(obj *lambdav1alpha1.LambdaPermission) string {
	target, err := r.target(obj)
	if err != nil {
		return ""
	}
	return targetKey(target)
}

func (r *LambdaPermissionReconciler) policyTargetKey(obj *lambdav1alpha1.LambdaResourcePolicy) string {
	target, err := specTarget(obj.Spec.FunctionName, obj.Spec.Qualifier, obj.Spec.Region)
	if err != nil {
		return ""
	}
	return targetKey(target.WithDefaults(r.DefaultRegion, ""))
}

// indexTargets registers targetIndex for both kinds.
func (r *LambdaPermissionReconciler) indexTargets(ctx context.Context, indexer client.FieldIndexer) error {
	err := indexer.IndexField(ctx, &lambdav1alpha1.LambdaPermission{}, targetIndex, func(o client.Object) []string {
		return nonEmpty(r.permissionTargetKey(o.(*lambdav1alpha1.LambdaPermission)))
	})
	if err != nil {
		return err
	}
	return indexer.IndexField(ctx, &lambdav1alpha1.LambdaResourcePolicy{}, targetIndex, func(o client.Object) []string {
		return nonEmpty(r.policyTargetKey(o.(*lambdav1alpha1.LambdaResourcePolicy)))
	})
}

func nonEmpty(key string) []string {
	if key == "" {
		return nil
	}
	return []string{key}
}

// policyOwner is the LambdaResourcePolicy that owns the policy named by key:
// the first created of those on it. Later ones are refused with
// PolicyOwnerConflict, so that neither flaps.
func (r *LambdaPermissionReconciler) policyOwner(ctx context.Context, key string) (*lambdav1alpha1.LambdaResourcePolicy, error) {
	if key == "" {
		return nil, nil
	}
	var list lambdav1alpha1.LambdaResourcePolicyList
	if err := r.List(ctx, &list, client.MatchingFields{targetIndex: key}); err != nil {
		return nil, err
	}
	var owner *lambdav1alpha1.LambdaResourcePolicy
	for i := range list.Items {
		if owner == nil || ownedEarlier(&list.Items[i], owner) {
			owner = &list.Items[i]
		}
	}
	return owner, nil
}

func ownedEarlier(a, b *lambdav1alpha1.LambdaResourcePolicy) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// permissionsOn lists the LambdaPermissions on the policy named by key.
func (r *LambdaPermissionReconciler) permissionsOn(ctx context.Context, key string) ([]lambdav1alpha1.LambdaPermission, error) {
	var list lambdav1alpha1.LambdaPermissionList
	if err := r.List(ctx, &list, client.MatchingFields{targetIndex: key}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// includedSids are the Sids that the LambdaPermissions on owner's policy
// declare and may keep there: those of objects whose namespace the account's
// access rules let grant on the function. An object's Sid counts from the
// moment it exists until it is gone (its finalizer removes its statement
// first), and so does the Sid it wrote before its spec moved it, so that
// the owner never takes out what an object is about to write or still holds.
func (r *LambdaPermissionReconciler) includedSids(ctx context.Context, owner *lambdav1alpha1.LambdaResourcePolicy, ownAccount string) (map[string]bool, error) {
	sids := map[string]bool{}
	if !owner.Includes() {
		return sids, nil
	}
	objs, err := r.permissionsOn(ctx, r.policyTargetKey(owner))
	if err != nil {
		return nil, err
	}
	var accounts lambdav1alpha1.LambdaPermissionAccountList
	if err := r.List(ctx, &accounts); err != nil {
		return nil, err
	}
	labelsOf := map[string]map[string]string{}
	for i := range objs {
		obj := &objs[i]
		if _, seen := labelsOf[obj.Namespace]; !seen {
			var ns corev1.Namespace
			if err := r.Get(ctx, client.ObjectKey{Name: obj.Namespace}, &ns); client.IgnoreNotFound(err) != nil {
				return nil, err
			}
			labelsOf[obj.Namespace] = ns.Labels
		}
		target, err := namedTarget(obj)
		if err != nil {
			continue
		}
		if _, err := decideAccess(accessRequest{Namespace: obj.Namespace, NamespaceLabels: labelsOf[obj.Namespace], Target: target,
			Accounts: accounts.Items, OwnAccount: ownAccount, Guardrails: r.Guardrails, OwnedPolicy: true}); err != nil {
			continue // its namespace may not grant here: nothing of it stays
		}
		sids[r.statementID(obj)] = true
		if obj.Status.StatementID != "" {
			sids[obj.Status.StatementID] = true
		}
		if written, ok := writtenStatement(obj); ok && targetKey(written.target) == targetKey(target.WithDefaults(r.DefaultRegion, "")) {
			sids[written.sid] = true
		}
	}
	return sids, nil
}

// permissionsOnPolicyOf wakes the LambdaPermissions on a LambdaResourcePolicy's
// policy when it comes, changes or goes: their write strategy, or whether
// they may write at all, follows it.
func (r *LambdaPermissionReconciler) permissionsOnPolicyOf(ctx context.Context, o client.Object) []reconcile.Request {
	owner, ok := o.(*lambdav1alpha1.LambdaResourcePolicy)
	if !ok {
		return nil
	}
	objs, err := r.permissionsOn(ctx, r.policyTargetKey(owner))
	if err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(objs))
	for i := range objs {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&objs[i])})
	}
	return requests
}

// declares reports whether owner's own statements include sid: on an owned
// policy the owner's statement wins, and a LambdaPermission claiming the Sid
// is refused (SidConflict) instead of fighting it.
func declares(owner *lambdav1alpha1.LambdaResourcePolicy, sid string) bool {
	for _, st := range owner.Spec.Policy.Statement {
		if st.Sid == sid {
			return true
		}
	}
	return false
}
