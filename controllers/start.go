package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// startWork holds obj's deletion with finalizer until the reconcile has
// cleaned up, and the first time it sees obj says at once in its status that
// work has started (what: the work), so that GitOps tools do not take an
// object without status for one that is done (kstatus does). observed and
// conditions are obj's status fields. It returns obj as stored, the base of
// the one status patch the reconcile makes at its end; a NotFound error
// means obj is gone.
func startWork[T client.Object](ctx context.Context, c client.Client, obj T, finalizer string,
	observed *int64, conditions *[]metav1.Condition, what string) (T, error) {
	if controllerutil.AddFinalizer(obj, finalizer) {
		if err := c.Update(ctx, obj); err != nil {
			return obj, err
		}
	}
	before := obj.DeepCopyObject().(T)
	if *observed != 0 {
		return before, nil
	}
	*observed = obj.GetGeneration()
	setConditions(conditions, obj.GetGeneration(), retrying(ReasonProgressing, nil, "%s", what), "", "")
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return obj, err
	}
	return obj.DeepCopyObject().(T), nil
}
