package kernel

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// SetConditions writes Ready, Reconciling and Stalled for the outcome of a
// reconcile at generation, the same way for every kind: nil means done, and
// Ready is then True with readyReason and readyMessage; a stalled failure
// needs a person; any other is being retried.
func SetConditions(conditions *[]metav1.Condition, generation int64, outcome error, readyReason, readyMessage string) {
	state := StateOf(outcome)
	if state == nil {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: lambdav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: readyReason, Message: readyMessage, ObservedGeneration: generation})
		meta.RemoveStatusCondition(conditions, lambdav1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conditions, lambdav1alpha1.ConditionStalled)
		return
	}
	message := state.Message
	if message == "" {
		message = state.Error()
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: lambdav1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: state.Reason, Message: message, ObservedGeneration: generation})
	if state.Stalled {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: lambdav1alpha1.ConditionStalled, Status: metav1.ConditionTrue,
			Reason: state.Reason, Message: message, ObservedGeneration: generation})
		meta.RemoveStatusCondition(conditions, lambdav1alpha1.ConditionReconciling)
		return
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: lambdav1alpha1.ConditionReconciling, Status: metav1.ConditionTrue,
		Reason: state.Reason, Message: message, ObservedGeneration: generation})
	meta.RemoveStatusCondition(conditions, lambdav1alpha1.ConditionStalled)
}
