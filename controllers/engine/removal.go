package engine

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Taking a LambdaPermission's statements out: the one it wrote before its
// spec moved it (RemovePreviousStatement), and all of its own when it is
// deleted (RemoveOwnStatement). The operator never removes what it did not
// write: a statement changed since by someone else is left in place.

// RemovePreviousStatement removes the statement obj wrote under another Sid
// or on another function, version or alias, after its spec moved. It runs
// once the new one is in place, so that the grant never lapses.
func (e *Engine) RemovePreviousStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want Desired) error {
	previous, ok := writtenStatement(obj)
	if !ok || (previous.target.ResourceARN() == want.Target.ResourceARN() && previous.sid == want.Permission.StatementID) {
		return nil
	}
	by, err := e.actorIn(ctx, previous.target.AccountID)
	if err != nil {
		return err
	}
	return e.removeStatement(ctx, obj, by, previous.target, previous.sid, previous.statement)
}

// RemoveOwnStatement removes what obj wrote: the statement in its status,
// and the one its spec describes (in case it was written but the status was
// not, as after a crash), unless another object manages the Sid. A
// function already gone, or a spec that cannot be read, holds nothing.
func (e *Engine) RemoveOwnStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) error {
	if owner, err := e.claimOwner(ctx, obj); err != nil || owner != nil {
		return err // the statement is another object's
	}
	written, wasWritten := writtenStatement(obj)
	want, err := e.DesiredStatement(ctx, obj)
	switch {
	case err == nil && wasWritten && written.target.ResourceARN() == want.Target.ResourceARN() && written.sid == want.Permission.StatementID:
		return e.removeStatement(ctx, obj, want.actor(), want.Target, want.Permission.StatementID, want.Statement, written.statement)
	case err == nil:
		if err := e.removeStatement(ctx, obj, want.actor(), want.Target, want.Permission.StatementID, want.Statement); err != nil {
			return err
		}
	case !kernel.HasReason(err, lambdav1alpha1.ReasonFunctionNotFound) && !kernel.IsStalled(err):
		return err
	}
	if !wasWritten {
		return nil
	}
	by, err := e.actorIn(ctx, written.target.AccountID)
	if err != nil {
		return err
	}
	return e.removeStatement(ctx, obj, by, written.target, written.sid, written.statement)
}

// removeStatement removes statement sid from target if it still grants
// what one of ours says.
func (e *Engine) removeStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, by actor, target policy.FunctionRef, sid string, ours ...policy.Statement) error {
	m := e.modeOf(obj.Spec.ManagementPolicy)
	if owner, err := e.policyOwner(ctx, policyKeyOf(target)); err != nil {
		return err
	} else if owner != nil && declares(owner, sid) {
		return nil // the owner's statement now: not this object's to remove
	} else if owner != nil {
		by.strategy = writer.Document // written through the owner's policy writes
	}
	key := permissionKey(obj, StatementRef{ResourceARN: target.ResourceARN(), Sid: sid})
	compaction, document := e.writerCompaction(by.compaction, by.strategy), by.strategy == writer.Document
	applied, plan, err := writer.WriteDecided(ctx, e.writerFor(by, target), key, e.freshness(obj),
		func(observed writer.Observed) (writer.Plan, removalPlan) {
			plan := planCompactedRemoval(observed, sid, ours, m, compaction, document)
			return plan.Writes, plan
		})
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	e.recordWrites(obj, target, applied, nil, policy.Statement{})
	switch {
	case err != nil:
		return kernel.PolicyFailure(err)
	case plan.Compacted != nil && !plan.Refused && plan.Writes.Empty():
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventLeftInPlace, "RemovePermission",
			"the grant of statement %q is listed in compacted statement %q on %s, which only a whole-document write can change, and this account's policies are written statement by statement; left in place: "+
				"set writeStrategy Document on its LambdaPermissionAccount to take it out", sid, plan.Compacted.Statement.Sid, target.ResourceARN())
	case plan.LeftInPlace:
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventLeftInPlace, "RemovePermission",
			"statement %q on %s was changed outside this operator; left in place", sid, target.ResourceARN())
	case plan.Refused && m.DryRun:
		e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.ReasonDryRun, "RemovePermission", "dry run: would remove statement %q from %s", sid, target.ResourceARN())
	case plan.Refused:
		e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventRetained, "RemovePermission",
			"managementPolicy is Observe: statement %q on %s left in place", sid, target.ResourceARN())
	}
	return nil
}

// actorIn is who acts in accountID and how it writes: the role and write
// strategy of its LambdaPermissionAccount, or the operator itself with its
// default strategy.
func (e *Engine) actorIn(ctx context.Context, accountID string) (actor, error) {
	accounts, err := e.cluster.Accounts(ctx)
	if err != nil {
		return actor{}, err
	}
	if a := findAccount(accounts, accountID); a != nil {
		return actor{identity: IdentityOf(a), strategy: strategyOf(a), compaction: compactionOf(a, e.Compaction)}, nil
	}
	return actor{strategy: e.defaultStrategy(), compaction: e.Compaction}, nil
}
