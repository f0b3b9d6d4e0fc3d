package engine

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Claims: two LambdaPermissions naming one Sid on one policy. The first
// created keeps the statement; later ones are refused with SidConflict, so
// that neither flaps.

// Claimants lists the LambdaPermissions claiming the statement obj claims,
// obj among them.
func (e *Engine) Claimants(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) ([]lambdav1alpha1.LambdaPermission, error) {
	key, ok := e.claimKey(obj)
	if !ok {
		return nil, nil
	}
	return e.cluster.Claimants(ctx, key)
}

// claimOwner returns the object that manages obj's statement when it is not
// obj: the first created of all objects claiming it.
func (e *Engine) claimOwner(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (*lambdav1alpha1.LambdaPermission, error) {
	claimants, err := e.Claimants(ctx, obj)
	if err != nil {
		return nil, err
	}
	owner := obj
	for i := range claimants {
		if createdEarlier(&claimants[i], owner) {
			owner = &claimants[i]
		}
	}
	if owner.UID == obj.UID {
		return nil, nil
	}
	return owner, nil
}

// createdEarlier orders objects by creation, then namespace and name, so
// that the first of several is the same whoever asks.
func createdEarlier(a, b metav1.Object) bool {
	at, bt := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !at.Equal(&bt) {
		return at.Before(&bt)
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	return a.GetName() < b.GetName()
}
