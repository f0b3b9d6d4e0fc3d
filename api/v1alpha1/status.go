package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The status every kind shares, read and written the same way for all four
// (as Flux's meta.ObjectWithConditions): the operator's reconcile kernel
// and the tests use these.

// GetConditions returns the status conditions.
func (in *LambdaPermission) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *LambdaPermission) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns the generation the status describes.
func (in *LambdaPermission) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *LambdaPermission) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetConditions returns the status conditions.
func (in *LambdaResourcePolicy) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *LambdaResourcePolicy) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns the generation the status describes.
func (in *LambdaResourcePolicy) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *LambdaResourcePolicy) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetConditions returns the status conditions.
func (in *LambdaFunctionURLPermission) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *LambdaFunctionURLPermission) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns the generation the status describes.
func (in *LambdaFunctionURLPermission) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration records the generation the status describes.
func (in *LambdaFunctionURLPermission) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetConditions returns the status conditions.
func (in *LambdaPermissionAccount) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *LambdaPermissionAccount) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns the generation the status describes.
func (in *LambdaPermissionAccount) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *LambdaPermissionAccount) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledSyncRequest returns the last sync request handled.
func (in *LambdaPermission) GetLastHandledSyncRequest() string {
	return in.Status.LastHandledSyncRequest
}

// SetLastHandledSyncRequest records the sync request handled.
func (in *LambdaPermission) SetLastHandledSyncRequest(request string) {
	in.Status.LastHandledSyncRequest = request
}

// GetLastHandledSyncRequest returns the last sync request handled.
func (in *LambdaResourcePolicy) GetLastHandledSyncRequest() string {
	return in.Status.LastHandledSyncRequest
}

// SetLastHandledSyncRequest records the sync request handled.
func (in *LambdaResourcePolicy) SetLastHandledSyncRequest(request string) {
	in.Status.LastHandledSyncRequest = request
}
