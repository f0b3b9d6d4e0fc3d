package controllers

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// resourcePolicies makes each owned policy exactly what its
// LambdaResourcePolicy declares, with the included LambdaPermissions'
// statements: compute the declared statements, check the object owns the
// policy, write the policy in one whole-document write, report. The engine
// shares one writer per policy between both kinds, so that their statements
// on one policy go out in the same write.
type resourcePolicies struct {
	client client.Client
	engine *engine.Engine
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdaresourcepolicies,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdaresourcepolicies/status,verbs=get;update;patch

// sync makes the policy what obj declares, and records what it found and
// did in the status. It returns nil once the policy is as declared.
func (a *resourcePolicies) sync(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) error {
	want, err := a.engine.DeclaredPolicy(ctx, obj)
	if err != nil {
		return err
	}
	obj.Status.ResourceArn = want.Target.ResourceARN()
	if err := a.engine.CheckPolicyOwner(ctx, obj, want); err != nil {
		return err
	}
	written, err := a.engine.WritePolicy(ctx, obj, want)
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	recordPolicyStatus(&obj.Status, written, err, metav1.NewTime(a.engine.Clock()))
	return err
}

// recordPolicyStatus puts in the status what a write of the policy found
// and did (outcome: its error, nil when the policy is as declared).
func recordPolicyStatus(status *lambdav1alpha1.LambdaResourcePolicyStatus, written engine.PolicyWrite, outcome error, now metav1.Time) {
	if written.Policy.Known {
		status.PolicySize, status.PolicySizeLimit = int32(written.Policy.Bytes), policy.MaxPolicySize
		status.StatementCount = int32(written.Policy.Statements)
	}
	switch {
	case written.Refused:
		status.IncludedStatements = int32(written.Included)
		status.PendingChange = pendingChange(status.PendingChange, written.Change, now)
		return
	case outcome != nil:
		return
	}
	status.PendingChange = nil
	status.StatementCount, status.IncludedStatements = int32(written.Statements), int32(written.Included)
	status.PolicyRevisionID = written.Revision
	status.LastSyncTime = nil // deprecated: see its doc
	if written.Wrote {
		status.LastChange = engine.ChangeStatus(written.Change, now)
	}
}

// pendingChange is change as the status shows it, pending since now, or
// since the time the status gave the same change (was): a check that finds
// the same drift again writes nothing.
func pendingChange(was *lambdav1alpha1.PolicyChange, change engine.PolicyChange, now metav1.Time) *lambdav1alpha1.PolicyChange {
	if change.Empty() {
		return nil
	}
	pending := engine.ChangeStatus(change, now)
	if was != nil && was.Time != nil {
		since := *was.Time
		same := *was
		same.Time = pending.Time
		if equality.Semantic.DeepEqual(&same, pending) {
			pending.Time = &since
		}
	}
	return pending
}

// policyRetention: deletionPolicy Retain and managementPolicy Observe leave
// the policy as it is. Deleting it otherwise takes out its own statements;
// the included LambdaPermissions' stay: they are theirs.
func policyRetention(obj *lambdav1alpha1.LambdaResourcePolicy) string {
	return kernel.Retention(obj.Spec.ManagementPolicy, obj.Spec.DeletionPolicy, "the policy of "+obj.Status.ResourceArn+" is left as it is")
}
