package controllers

import (
	corev1 "k8s.io/api/core/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Headroom: how close each policy is to Lambda's size limit, shown before
// a write is refused for it (PolicyTooLarge). Every size comes from the
// policy writer's view, so none costs an AWS call.

// nearLimitPercent is the share of Lambda's limit past which a write
// warns (EventPolicyNearLimit).
const nearLimitPercent = 90

// crossesNearLimit reports whether a write that took a policy from before
// to after bytes crossed nearLimitPercent of limit. Only the crossing
// warns: a policy that stays full would otherwise warn at every write.
func crossesNearLimit(before, after, limit int) bool {
	threshold := limit * nearLimitPercent / 100
	return before <= threshold && after > threshold
}

// notePolicySize puts in obj's status the size of target's policy as the
// reconcile's Write left it (the status patch the reconcile makes anyway
// carries it), and warns when the Write's writes crossed nearLimitPercent.
func (r *LambdaPermissionReconciler) notePolicySize(obj *lambdav1alpha1.LambdaPermission, target policy.FunctionRef, applied writer.Applied) {
	if applied.SizeKnown {
		obj.Status.PolicySize, obj.Status.PolicySizeLimit = int32(applied.PolicySize), policy.MaxPolicySize
	}
	grew := applied.Resized
	if grew == nil || len(applied.Writes) == 0 || !crossesNearLimit(grew.Before, grew.After, policy.MaxPolicySize) {
		return
	}
	r.event(obj, corev1.EventTypeWarning, EventPolicyNearLimit, applied.Writes[len(applied.Writes)-1].Operation,
		"the policy of %s is now about %d of Lambda's %d bytes (over %d%%), and statements that do not fit are refused: "+
			"grant more per statement (a wildcard sourceArn covers many sources), remove statements, or split the function",
		target.ResourceARN(), grew.After, policy.MaxPolicySize, nearLimitPercent)
}
