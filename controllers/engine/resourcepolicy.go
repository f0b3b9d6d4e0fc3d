package engine

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// A LambdaResourcePolicy's policy: what it declares (DeclaredPolicy),
// whether it owns the policy (CheckPolicyOwner), making the policy exactly
// that plus the included LambdaPermissions' statements in one write
// (WritePolicy), and taking its own statements out (RemoveOwnStatements).

// Declared is where a policy is and what its owner declares in it.
type Declared struct {
	Target     policy.FunctionRef // complete: partition, region, account
	Identity   awslambda.Identity // who acts on Target
	OwnAccount string             // the operator's own account (access rules of included objects)
	Statements []policy.Statement // the object's own, as they are written
}

// DeclaredPolicy computes, from the spec (and the function's account for a
// bare name), where the policy is, who may write it, and the statements the
// object declares, refusing before any write what Lambda or the account's
// guardrails would refuse.
func (e *Engine) DeclaredPolicy(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) (Declared, error) {
	named, err := resourcePolicyTarget(obj)
	if err != nil {
		return Declared{}, err
	}
	allowed, err := e.authorize(ctx, obj.Namespace, named, policy.Permission{}, true)
	if err != nil {
		return Declared{}, err
	}
	own, err := e.ownAccount(ctx)
	if err != nil {
		return Declared{}, err
	}
	target, err := e.resolve(ctx, allowed)
	if err != nil {
		return Declared{}, err
	}
	statements, err := translate.DeclaredStatements(obj.Spec.Policy, target)
	if err != nil {
		return Declared{}, kernel.Stalled(lambdav1alpha1.ReasonInvalidSpec, "%v", err)
	}
	if err := checkStatementGuardrails(statements, allowed.guardrails); err != nil {
		return Declared{}, err
	}
	return Declared{Target: target, Identity: allowed.identity, OwnAccount: own, Statements: statements}, nil
}

// CheckPolicyOwner refuses obj when another LambdaResourcePolicy, created
// first, owns the same policy.
func (e *Engine) CheckPolicyOwner(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy, want Declared) error {
	owner, err := e.otherOwner(ctx, obj, want)
	if err != nil || owner == nil {
		return err
	}
	return kernel.Stalled(lambdav1alpha1.ReasonPolicyOwnerConflict,
		"the policy of %s is owned by LambdaResourcePolicy %s/%s, created first; a policy has one owner: merge the two, or delete one",
		want.Target.ResourceARN(), owner.Namespace, owner.Name)
}

// otherOwner is the LambdaResourcePolicy that owns the policy want names
// when it is not obj.
func (e *Engine) otherOwner(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy, want Declared) (*lambdav1alpha1.LambdaResourcePolicy, error) {
	owner, err := e.policyOwner(ctx, policyKeyOf(want.Target))
	if err != nil || owner == nil || owner.UID == obj.UID {
		return nil, err
	}
	return owner, nil
}

// PolicyWrite is what making a policy as declared found and did.
type PolicyWrite struct {
	Policy   PolicySize // the policy as the Write left it, when known
	Revision string     // its revision then, when known
	Change   PolicyChange
	// Statements and Included count the policy as the plan leaves it (or,
	// refused, would leave it) and the included statements in it.
	Statements, Included int
	Wrote                bool // the Write wrote Change
	// Refused: writes were needed and not made (Observe, dry run, a policy
	// too large); Change says what they would have been.
	Refused bool
}

// WritePolicy makes the policy exactly what want declares, with the
// included LambdaPermissions' statements, in one write. It returns nil once
// the policy is as declared.
func (e *Engine) WritePolicy(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy, want Declared) (PolicyWrite, error) {
	m, wasInPlace := e.modeOf(obj.Spec.ManagementPolicy), PolicyInPlace(obj)
	applied, plan, err := e.writePolicy(ctx, obj, want, false, func(observed writer.Observed, included func(sid string) bool) policyPlan {
		return planPolicy(observed, want.Target, want.Statements, included, m)
	})
	if errors.Is(err, writer.ErrQueued) {
		return PolicyWrite{}, err
	}
	result := PolicyWrite{Policy: sizeOf(applied), Revision: plan.Revision, Change: plan.Change,
		Statements: plan.Statements, Included: plan.Included, Refused: err == nil && plan.Refusal != nil}
	switch {
	case err != nil:
		return result, kernel.PolicyFailure(err)
	case plan.Refusal != nil:
		return result, plan.Refusal
	}
	if applied.RevisionID != "" {
		result.Revision = applied.RevisionID
	}
	if applied.SizeKnown {
		// After a batch, the policy holds what every plan in it wrote: as
		// declared, it is this object's statements and included ones.
		result.Statements, result.Included = applied.Statements, max(applied.Statements-len(want.Statements), 0)
	}
	if len(applied.Writes) > 0 {
		result.Wrote = true
		e.recordPolicyWrite(obj, want.Target, applied, plan.Change, wasInPlace)
	}
	return result, nil
}

// recordPolicyWrite records a write of obj's policy: drift corrected when
// the policy was as declared before, and a policy grown near its limit.
func (e *Engine) recordPolicyWrite(obj *lambdav1alpha1.LambdaResourcePolicy, target policy.FunctionRef, applied writer.Applied, change PolicyChange, wasInPlace bool) {
	operation := applied.Writes[0].Operation
	if wasInPlace {
		metrics.DriftCorrected("policy")
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventDriftCorrected, operation,
			"the policy of %s was changed outside this operator; restored in one write: %s", target.ResourceARN(), change)
	} else {
		e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventPolicyWritten, operation, "wrote the policy of %s in one write: %s", target.ResourceARN(), change)
	}
	if after, operation, crossed := nearLimit(applied); crossed {
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventPolicyNearLimit, operation,
			"the policy of %s is now about %d bytes, over %d%% of Lambda's limit of %d", target.ResourceARN(), after, nearLimitPercent, policy.MaxPolicySize)
	}
}

// RemoveOwnStatements takes obj's statements out of its policy, in one
// write (DeleteResourcePolicy when nothing else is left). An object that
// never owned the policy wrote nothing; a function already gone, or a spec
// that cannot be read, holds nothing to remove.
func (e *Engine) RemoveOwnStatements(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) error {
	want, err := e.DeclaredPolicy(ctx, obj)
	switch {
	case kernel.HasReason(err, lambdav1alpha1.ReasonFunctionNotFound) || kernel.IsStalled(err):
		return nil
	case err != nil:
		return err
	}
	if owner, err := e.otherOwner(ctx, obj, want); err != nil || owner != nil {
		return err // never the owner: it wrote nothing
	}
	dryRun := e.DryRun
	applied, plan, err := e.writePolicy(ctx, obj, want, true, func(observed writer.Observed, included func(sid string) bool) policyPlan {
		return planPolicyRemoval(observed, want.Statements, included, dryRun)
	})
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	switch {
	case err != nil && awslambda.KindOf(err) == awslambda.NotFound:
		return nil
	case err != nil:
		return kernel.PolicyFailure(err)
	case plan.Refusal != nil && plan.Refusal.Reason == lambdav1alpha1.ReasonDryRun:
		e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.ReasonDryRun, "PutResourcePolicy", "%s in the policy of %s", plan.Refusal.Message, want.Target.ResourceARN())
	case plan.Refusal != nil:
		return plan.Refusal
	case len(applied.Writes) > 0:
		e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventPolicyDeleted, applied.Writes[0].Operation,
			"took this object's statements out of the policy of %s: %s", want.Target.ResourceARN(), plan.Change)
	}
	return nil
}

// writePolicy makes one Write of the policy want names (deletion: obj's
// last), with the plan that plan makes from the policy as observed and the
// Sids included in it. It returns what was applied and the plan it applied.
func (e *Engine) writePolicy(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy, want Declared, deletion bool,
	plan func(observed writer.Observed, included func(sid string) bool) policyPlan) (writer.Applied, policyPlan, error) {
	key := WriteKey{Kind: ResourcePolicyKind, Object: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}, Deletion: deletion}
	by := actor{identity: want.Identity, strategy: writer.Document}
	return writer.WriteDecided(ctx, e.writerFor(by, want.Target), key, e.freshness(obj), func(observed writer.Observed) (writer.Plan, policyPlan) {
		// The included Sids are read when the plan runs, not when the
		// reconcile began: a LambdaPermission whose statement is in this
		// write, or was in the one before, is already in the cache.
		included, err := e.includedSids(context.Background(), obj, want.OwnAccount)
		if err != nil {
			return writer.Plan{}, policyPlan{Refusal: kernel.Retrying(lambdav1alpha1.ReasonRetrying, err, "listing the LambdaPermissions on the policy: %v", err)}
		}
		// The operator's compacted statements hold included objects' grants.
		made := plan(observed, func(sid string) bool {
			return included[sid] || obj.Includes() && policy.IsCompacted(sid, e.StatementIDPrefix)
		})
		return made.Writes, made
	})
}

// PolicyInPlace reports whether obj's last sync, at its generation, found
// or made the policy as declared: a write now corrects drift.
func PolicyInPlace(obj *lambdav1alpha1.LambdaResourcePolicy) bool {
	ready := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == obj.Generation
}

// ChangeStatus is a change as the status shows it (pendingChange,
// lastChange), at a time.
func ChangeStatus(c PolicyChange, at metav1.Time) *lambdav1alpha1.PolicyChange {
	return &lambdav1alpha1.PolicyChange{Time: &at, Added: c.Added, Changed: c.Changed, Removed: c.Removed}
}
