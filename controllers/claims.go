package controllers

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// claimIndex indexes LambdaPermissions by the statement they claim, so that
// two objects naming the same Sid on the same function, version or alias are
// found without listing every object.
const claimIndex = "lambda.permissions.dev/claim"

// claimKey names the statement an object claims: region, function name,
// qualifier and Sid. It is computed from the spec alone, so the account is
// not part of it; objects for same-named functions in two accounts of one
// region would share a key, which errs on the side of refusing.
func (r *LambdaPermissionReconciler) claimKey(obj *lambdav1alpha1.LambdaPermission) string {
	target, err := r.target(obj)
	if err != nil {
		return ""
	}
	return strings.Join([]string{target.Region, target.Name, target.Qualifier, r.statementID(obj)}, "|")
}

func (r *LambdaPermissionReconciler) claimants(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) ([]lambdav1alpha1.LambdaPermission, error) {
	key := r.claimKey(obj)
	if key == "" {
		return nil, nil
	}
	var list lambdav1alpha1.LambdaPermissionList
	if err := r.List(ctx, &list, client.MatchingFields{claimIndex: key}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// claimOwner returns the object that manages obj's statement when it is not
// obj: the first created of all objects claiming it. The first one keeps it;
// later ones are refused with SidConflict, so neither flaps.
func (r *LambdaPermissionReconciler) claimOwner(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (*lambdav1alpha1.LambdaPermission, error) {
	claimants, err := r.claimants(ctx, obj)
	if err != nil {
		return nil, err
	}
	owner := obj
	for i := range claimants {
		if claimedEarlier(&claimants[i], owner) {
			owner = &claimants[i]
		}
	}
	if owner.UID == obj.UID {
		return nil, nil
	}
	return owner, nil
}

func claimedEarlier(a, b *lambdav1alpha1.LambdaPermission) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// otherClaimants wakes the other objects claiming the same statement when one
// of them is created, changed or deleted: a SidConflict may have cleared.
func (r *LambdaPermissionReconciler) otherClaimants(ctx context.Context, o client.Object) []reconcile.Request {
	obj, ok := o.(*lambdav1alpha1.LambdaPermission)
	if !ok {
		return nil
	}
	claimants, err := r.claimants(ctx, obj)
	if err != nil {
		return nil
	}
	var requests []reconcile.Request
	for _, c := range claimants {
		if c.UID != obj.UID {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
		}
	}
	return requests
}
