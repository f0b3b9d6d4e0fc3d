package controllers

// OnQueued has f told, besides the lambda_permission_policy_changes_queued
// gauge, which key's change starts waiting for its policy's write and which
// has been written: a test can wait for exactly the changes it made.
// Call it before SetupWithManager.
func (r *LambdaPermissionReconciler) OnQueued(f func(key string, waiting bool)) {
	r.onQueued = f
}
