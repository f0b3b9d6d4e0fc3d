package engine

import (
	"context"
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// A LambdaPermission's statement: where it belongs and what it says
// (DesiredStatement), whether it is the object's to write (CheckClaim), and
// putting it in place (PlaceStatement).

// Desired is where a statement belongs and what it says.
type Desired struct {
	Target     policy.FunctionRef // complete: partition, region, account
	Identity   awslambda.Identity // who acts on Target
	Strategy   writer.Strategy    // how Target's policy is written
	Permission policy.Permission
	Statement  policy.Statement
	// Compaction is how Target's policy compacts grants (off for the
	// Statements strategy); its Sid prefix names the operator's compacted
	// statements either way.
	Compaction writer.Compaction
	// Previous is the grant the object placed last, when a compacted
	// statement holds it and the spec now says otherwise: it leaves the
	// list in the write that puts the new one.
	Previous *policy.Statement
	account  lambdav1alpha1.Compaction
}

func (d Desired) actor() actor {
	return actor{identity: d.Identity, strategy: d.Strategy, compaction: d.account}
}

// DesiredStatement computes, from the spec alone (and the function's account
// for a bare name), the statement Lambda will store, refusing before any
// write what the spec, the policy's owner or the account's rules forbid.
func (e *Engine) DesiredStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (Desired, error) {
	perm := translate.PermissionOf(obj.Spec, e.StatementID(obj))
	// Admission checks the same rules; this catches objects stored before
	// a rule existed, before any AWS call.
	if err := perm.Validate(); err != nil {
		return Desired{}, kernel.Stalled(lambdav1alpha1.ReasonInvalidSpec, "%v", err)
	}
	named, err := permissionTarget(obj)
	if err != nil {
		return Desired{}, err
	}
	owner, err := e.ownerOf(ctx, obj)
	if err != nil {
		return Desired{}, err
	}
	if err := refusedByOwner(owner, owner == nil || e.inShard(owner), named.WithDefaults(e.DefaultRegion, ""), perm.StatementID); err != nil {
		return Desired{}, err
	}
	allowed, err := e.authorize(ctx, obj.Namespace, named, perm, owner != nil)
	if err != nil {
		return Desired{}, err
	}
	target, err := e.resolve(ctx, allowed)
	if err != nil {
		return Desired{}, err
	}
	return Desired{Target: target, Identity: allowed.identity, Strategy: allowed.strategy, Permission: perm, Statement: policy.DesiredStatement(target, perm),
		Compaction: e.writerCompaction(allowed.compaction, allowed.strategy), account: allowed.compaction}, nil
}

// refusedByOwner refuses a statement on a policy a LambdaResourcePolicy
// owns when the owner does not include LambdaPermissions, is another
// shard's (ownShard false: that shard cannot see this object, so its owner
// would take the statement out as undeclared), or declares the same Sid
// itself.
func refusedByOwner(owner *lambdav1alpha1.LambdaResourcePolicy, ownShard bool, target policy.FunctionRef, sid string) error {
	switch {
	case owner != nil && !owner.Includes():
		return kernel.Stalled(lambdav1alpha1.ReasonExcludedByPolicyOwner,
			"the policy of %s is owned by LambdaResourcePolicy %s/%s, which does not include LambdaPermissions (includePermissions: false); add the statement to it, or set includePermissions: true",
			target.ResourceARN(), owner.Namespace, owner.Name)
	case owner != nil && !ownShard:
		return kernel.Stalled(lambdav1alpha1.ReasonExcludedByPolicyOwner,
			"the policy of %s is owned by LambdaResourcePolicy %s/%s, which another shard of the operator reconciles: it includes only the LambdaPermissions of its shard; "+
				"label this object as the owner is labelled (%s), or move the statement into the owner",
			target.ResourceARN(), owner.Namespace, owner.Name, lambdav1alpha1.ShardLabel)
	case owner != nil && declares(owner, sid):
		return kernel.Stalled(lambdav1alpha1.ReasonSidConflict,
			"statement %q on %s is declared by LambdaResourcePolicy %s/%s, which owns the policy; choose another statementId, or declare the statement in one place",
			sid, target.ResourceARN(), owner.Namespace, owner.Name)
	}
	return nil
}

// CheckClaim refuses obj's statement when another LambdaPermission, created
// first, claims the same Sid on the same policy.
func (e *Engine) CheckClaim(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want Desired) error {
	owner, err := e.claimOwner(ctx, obj)
	if err != nil || owner == nil {
		return err
	}
	return kernel.Stalled(lambdav1alpha1.ReasonSidConflict,
		"statement %q on %s is managed by LambdaPermission %s/%s; choose another statementId",
		want.Permission.StatementID, want.Target.ResourceARN(), owner.Namespace, owner.Name)
}

// Placed is a statement in place: as Lambda stores it, and the policy's
// revision when the sync read it (empty right after a write: AddPermission
// does not return one, and a read-back would cost a call per object).
type Placed struct {
	Statement string
	Revision  string
	Policy    PolicySize // the policy's size as the Write left it (also when it failed)
	// Compacted is set when Statement is a compacted statement that lists
	// the grant with others'.
	Compacted *lambdav1alpha1.CompactedGrant
}

// PlaceStatement plans the statement against the policy as observed, has
// the policy's writer apply the plan, and reports what was written.
func (e *Engine) PlaceStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want Desired) (Placed, error) {
	m, inPlaceBefore := e.modeOf(obj.Spec.ManagementPolicy), StatementInPlace(obj)
	if previous, ok := compactedGrantOf(obj); ok {
		want.Previous = &previous
	}
	applied, plan, err := writer.WriteDecided(ctx, e.writerFor(want.actor(), want.Target), permissionKey(obj, StatementRef{}), e.freshness(obj),
		func(observed writer.Observed) (writer.Plan, statementPlan) {
			plan := planStatement(observed, want, m, inPlaceBefore)
			return plan.Writes, plan
		})
	if errors.Is(err, writer.ErrQueued) {
		return Placed{}, err
	}
	e.recordWrites(obj, want.Target, applied, plan.Existing, want.Statement)
	placed := Placed{Policy: sizeOf(applied)}
	if after, operation, crossed := nearLimit(applied); crossed {
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventPolicyNearLimit, operation,
			"the policy of %s is now about %d of Lambda's %d bytes (over %d%%), and statements that do not fit are refused: "+
				"grant more per statement (a wildcard sourceArn covers many sources), remove statements, or split the function",
			want.Target.ResourceARN(), after, policy.MaxPolicySize, nearLimitPercent)
	}
	switch {
	case err != nil:
		return placed, kernel.PolicyFailure(err)
	case plan.Refusal != nil:
		if plan.Refusal.Reason == lambdav1alpha1.ReasonDryRun {
			log.FromContext(ctx).Info(plan.Refusal.Message)
		}
		return placed, plan.Refusal
	case plan.InPlace:
		if obj.Status.Statement == "" && plan.Held != nil {
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventAdopted, "GetPolicy",
				"compacted statement %q on %s already grants what the spec says (its %s %s); adopted without a write", plan.Held.Statement.Sid, want.Target.ResourceARN(), plan.Held.Dimension, plan.Held.Value)
		} else if obj.Status.Statement == "" {
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventAdopted, "GetPolicy",
				"statement %q on %s already grants what the spec says; adopted without a write", want.Permission.StatementID, want.Target.ResourceARN())
		}
		placed.Revision = plan.Revision
		if plan.Held != nil {
			placed.Statement, placed.Compacted = plan.Held.Statement.Raw, compactedStatus(plan.Held)
		} else {
			placed.Statement = plan.Existing.Raw
		}
		return placed, nil
	}
	added := lastAdded(applied, want.Permission.StatementID)
	e.reportDrift(obj, plan, added.Operation, want)
	e.warnOnUnexpectedStatement(obj, added, want)
	placed.Statement, placed.Compacted = added.Stored, compactedStatus(added.Compacted)
	if added.Operation == "" && plan.Existing != nil {
		placed.Statement = plan.Existing.Raw // only a list changed: the grant was in place under its Sid
	}
	return placed, nil
}

// reportDrift counts and records the drift a write corrected, if any.
func (e *Engine) reportDrift(obj *lambdav1alpha1.LambdaPermission, plan statementPlan, operation string, want Desired) {
	if plan.Drift == "" {
		return
	}
	metrics.DriftCorrected(plan.Drift) // before the Event: whoever sees it sees the count
	switch plan.Drift {
	case "replaced":
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventPolicyReplaced, operation,
			"statement %q on %s was lost when the whole policy was replaced or deleted outside this operator (%d of its statements disappeared at once; each is restored by its object); restored. "+
				"If a whole-document tool did it (PutResourcePolicy or DeleteResourcePolicy: CloudFormation AWS::Lambda::ResourcePolicy, Terraform aws_lambda_resource_policy), "+
				"do not mix it with LambdaPermissions on one function, or keep this operator off the function with a LambdaPermissionAccount's access rules; "+
				"a function deleted and created again loses its policy the same way",
			want.Permission.StatementID, want.Target.ResourceARN(), plan.Lost)
	default:
		e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventDriftCorrected, operation,
			"statement %q on %s was %s outside this operator; restored", want.Permission.StatementID, want.Target.ResourceARN(), plan.Drift)
	}
}

// lastAdded is the write that put statement sid in place, with the
// statement as Lambda stored it.
func lastAdded(applied writer.Applied, sid string) writer.Written {
	for _, w := range slices.Backward(applied.Writes) {
		if (w.Change == writer.Added || w.Change == writer.Replaced) && w.Sid == sid {
			return w
		}
	}
	return writer.Written{}
}

// recordWrites makes an Event of each write to target's policy.
func (e *Engine) recordWrites(obj client.Object, target policy.FunctionRef, applied writer.Applied, replaced *policy.StoredStatement, want policy.Statement) {
	for _, w := range applied.Writes {
		switch {
		case w.Compacted != nil && w.Change == writer.Removed:
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventRemoved, w.Operation, "took the grant of statement %q out of its compacted statement on %s", w.Sid, target.ResourceARN())
		case w.Compacted != nil:
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventAdded, w.Operation, "added the grant of statement %q to %s, listed in compacted statement %q (its %s %s)",
				w.Sid, target.ResourceARN(), w.Compacted.Statement.Sid, w.Compacted.Dimension, w.Compacted.Value)
		case w.Change == writer.Added:
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventAdded, w.Operation, "added statement %q to %s", w.Sid, target.ResourceARN())
		case w.Change == writer.Replaced && replaced != nil:
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventReplaced, w.Operation, "replaced statement %q on %s in one write (it differed in %v)",
				w.Sid, target.ResourceARN(), policy.GrantDifferences(replaced.Statement, want))
		case w.Replacing && replaced != nil:
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventRemoved, w.Operation, "removed statement %q from %s to replace it (differed in %v)",
				w.Sid, target.ResourceARN(), policy.GrantDifferences(replaced.Statement, want))
		default:
			e.events.Event(obj, corev1.EventTypeNormal, lambdav1alpha1.EventRemoved, w.Operation, "removed statement %q from %s", w.Sid, target.ResourceARN())
		}
	}
}

// warnOnUnexpectedStatement reports a statement Lambda stored differently
// from the prediction: a bug in the policy package that would otherwise only
// show as a replacement at every sync.
func (e *Engine) warnOnUnexpectedStatement(obj *lambdav1alpha1.LambdaPermission, added writer.Written, want Desired) {
	got, err := policy.ParseStatement(added.Stored)
	if added.Operation == "" || err == nil && policy.SameGrant(got, want.Statement) {
		return // no statement was added: a list changed
	}
	if c := added.Compacted; c != nil && err == nil {
		if member, ok := policy.MemberOf(got, c.Value, want.Permission.StatementID); ok && policy.SameGrant(member, want.Statement) {
			return
		}
	}
	e.events.Event(obj, corev1.EventTypeWarning, lambdav1alpha1.EventUnexpectedStatement, added.Operation,
		"Lambda stored %s, not the predicted %s; please report this", added.Stored, want.Statement.Render())
}

// permissionKey names a Write of obj's: its own statement's (removal
// zero), or the removal of one it wrote elsewhere.
func permissionKey(obj *lambdav1alpha1.LambdaPermission, removal StatementRef) WriteKey {
	return WriteKey{Kind: PermissionKind, Object: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}, Removal: removal}
}

// modeOf is how far a reconcile under management may go.
func (e *Engine) modeOf(management lambdav1alpha1.ManagementPolicy) mode {
	return mode{Observe: management == lambdav1alpha1.ManagementPolicyObserve, DryRun: e.DryRun}
}

// StatementInPlace reports whether obj's last sync, at its generation,
// found or put its statement in place: a write now corrects drift.
func StatementInPlace(obj *lambdav1alpha1.LambdaPermission) bool {
	ready := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady)
	return obj.Status.Statement != "" && ready != nil && ready.Status == metav1.ConditionTrue &&
		ready.ObservedGeneration == obj.Generation
}
