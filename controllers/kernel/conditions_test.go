package kernel

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// kstatusOf is what GitOps tools (Argo CD, Flux, kpt) compute for obj.
func kstatusOf(t *testing.T, obj runtime.Object, kind string) status.Status {
	t.Helper()
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(lambdav1alpha1.GroupVersion.WithKind(kind))
	result, err := status.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	return result.Status
}

// The four kinds show the outcome of a reconcile with the same conditions,
// so kstatus and the Argo CD check read them alike, and each condition
// moves as the outcome does.
func TestConditionsOfTheFourKinds(t *testing.T) {
	outcomes := []struct {
		name        string
		outcome     error
		wantReady   metav1.ConditionStatus
		wantReason  string
		wantKstatus status.Status
	}{
		{"retrying", Retrying(lambdav1alpha1.ReasonThrottled, nil, "throttled"), metav1.ConditionFalse, lambdav1alpha1.ReasonThrottled, status.InProgressStatus},
		{"stalled", Stalled(lambdav1alpha1.ReasonSidConflict, "taken"), metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict, status.FailedStatus},
		{"done", nil, metav1.ConditionTrue, "", status.CurrentStatus},
		{"a plain error is retried", errors.New("the API server is away"), metav1.ConditionFalse, lambdav1alpha1.ReasonRetrying, status.InProgressStatus},
		{"stalled again", Stalled(lambdav1alpha1.ReasonInvalidSpec, "bad"), metav1.ConditionFalse, lambdav1alpha1.ReasonInvalidSpec, status.FailedStatus},
		{"done again", nil, metav1.ConditionTrue, "", status.CurrentStatus},
	}
	type kind struct {
		name        string
		obj         Object
		readyReason string
	}
	kinds := []kind{
		{"LambdaPermission", &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Generation: 3}}, lambdav1alpha1.ReasonSynced},
		{"LambdaFunctionURLPermission", &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Generation: 3}}, lambdav1alpha1.ReasonSynced},
		{"LambdaPermissionAccount", &lambdav1alpha1.LambdaPermissionAccount{ObjectMeta: metav1.ObjectMeta{Generation: 3}}, lambdav1alpha1.ReasonIdentityVerified},
		{"LambdaResourcePolicy", &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Generation: 3}}, lambdav1alpha1.ReasonSynced},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for _, o := range outcomes {
				k.obj.SetObservedGeneration(3)
				conditions := k.obj.GetConditions()
				SetConditions(&conditions, 3, o.outcome, k.readyReason, "in place")
				k.obj.SetConditions(conditions)
				ready := meta.FindStatusCondition(k.obj.GetConditions(), lambdav1alpha1.ConditionReady)
				wantReason := o.wantReason
				if wantReason == "" {
					wantReason = k.readyReason
				}
				if ready == nil || ready.Status != o.wantReady || ready.Reason != wantReason || ready.ObservedGeneration != 3 {
					t.Errorf("%s: Ready = %+v, want %s/%s at generation 3", o.name, ready, o.wantReady, wantReason)
				}
				stalledCondition := meta.IsStatusConditionTrue(k.obj.GetConditions(), lambdav1alpha1.ConditionStalled)
				reconciling := meta.IsStatusConditionTrue(k.obj.GetConditions(), lambdav1alpha1.ConditionReconciling)
				if stalledCondition != (o.wantKstatus == status.FailedStatus) || reconciling != (o.wantKstatus == status.InProgressStatus) {
					t.Errorf("%s: Stalled %v, Reconciling %v", o.name, stalledCondition, reconciling)
				}
				if got := kstatusOf(t, k.obj, k.name); got != o.wantKstatus {
					t.Errorf("%s: kstatus %s, want %s", o.name, got, o.wantKstatus)
				}
			}
		})
	}
}
