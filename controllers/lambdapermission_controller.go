// Package controllers holds the operator's four reconcilers
// (LambdaPermission, LambdaFunctionURLPermission, LambdaPermissionAccount,
// LambdaResourcePolicy) and the decisions they make: plans, conditions, requeues, access rules
// and guardrails. Decisions are pure functions; policies are changed only
// through the writer package, and Lambda is reached only through awslambda.
package controllers

import (
	"context"
	"errors"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Finalizer holds a LambdaPermission until its statement is removed.
const Finalizer = "lambda.permissions.dev/statement"

const (
	// reconcileTimeout bounds the AWS calls of one reconcile.
	reconcileTimeout = 2 * time.Minute
	// queuedRecheck is when an object whose plan waits for its policy's
	// next write is looked at again if no wake-up came first.
	queuedRecheck = time.Minute
)

// LambdaPermissionReconciler keeps each LambdaPermission's statement in its
// function's policy: compute the desired statement, plan it against the
// policy as observed, have the policy's writer apply the plan, report.
type LambdaPermissionReconciler struct {
	client.Client
	Lambda        awslambda.Provider
	Recorder      events.EventRecorder
	DefaultRegion string            // region of functions named without one
	SyncPeriod    time.Duration     // how often a Ready statement is checked for drift
	Guardrails    GuardrailSettings // operator-wide; LambdaPermissionAccounts may override
	DryRun        bool              // report intended writes instead of making them
	WriteStrategy writer.Strategy   // for accounts no LambdaPermissionAccount declares (default Statements)
	Now           func() time.Time  // the clock (default time.Now)
	// StatementIDPrefix starts every derived Sid (--statement-id-prefix),
	// so that clusters applying the same manifests keep apart.
	StatementIDPrefix string

	writers   writer.Writers // one per policy, shared by all objects in it
	functions functionCache
	managed   metrics.ManagedStatements
	onQueued  func(key string, waiting bool) // told besides the gauge (tests: see export_test.go)
	// policyWakes wakes LambdaResourcePolicies whose queued writes are done.
	policyWakes chan event.GenericEvent
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissionaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// No lambdapermissions/finalizers: the finalizer is set and removed by an
// update of the object itself. <kind>/finalizers is only checked (by the
// OwnerReferencesPermissionEnforcement admission plugin) for an owner
// reference with blockOwnerDeletion to an object of the kind, and nothing
// owns through a LambdaPermission. charts/rbac runs the operator with the
// chart's rules and without each in turn.

// Reconcile brings one LambdaPermission's statement in line with its spec.
func (r *LambdaPermissionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()

	// 1. Load the object.
	obj := &lambdav1alpha1.LambdaPermission{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	// 2. Being deleted: remove the statement (or retain it), then let go.
	if !obj.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, obj)
	}

	// 3. Hold deletion until the statement is removed, and say at once
	// that work has started.
	before, err := startWork(ctx, r.Client, obj, Finalizer,
		&obj.Status.ObservedGeneration, &obj.Status.Conditions, "computing and writing the statement")
	if err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	// 4. Put the statement in place, then write the status once, from
	// what that found.
	outcome := r.sync(ctx, obj)
	return r.report(ctx, before, obj, outcome)
}

// sync computes the desired statement, puts it in place (plan against the
// policy, apply) and records it in the status. It returns nil once the
// statement is in place.
func (r *LambdaPermissionReconciler) sync(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) error {
	want, err := r.desiredStatement(ctx, obj)
	if err != nil {
		return err
	}
	obj.Status.StatementID = want.Permission.StatementID
	obj.Status.FunctionArn = want.Target.FunctionARN()

	if owner, err := r.claimOwner(ctx, obj); err != nil {
		return err
	} else if owner != nil {
		return stalled(ReasonSidConflict,
			"statement %q on %s is managed by LambdaPermission %s/%s; choose another statementId",
			want.Permission.StatementID, want.Target.ResourceARN(), owner.Namespace, owner.Name)
	}

	inPlace, err := r.place(ctx, obj, want)
	if err != nil {
		return err
	}
	// Create before destroy: the statement the object wrote under another
	// Sid, function, version or alias goes only once the new one is in
	// place, so that the grant never lapses while it moves.
	if err := r.removePreviousStatement(ctx, obj, want); err != nil {
		return err
	}
	now := metav1.NewTime(r.now())
	obj.Status.Statement = inPlace.statement
	obj.Status.PolicyRevisionID = inPlace.revision
	obj.Status.LastSyncTime = &now
	return nil
}

// desired is where a statement belongs and what it says.
type desired struct {
	Target     policy.FunctionRef // complete: partition, region, account
	Identity   awslambda.Identity // who acts on Target
	Strategy   writer.Strategy    // how Target's policy is written
	Permission policy.Permission
	Statement  policy.Statement
}

// desiredStatement computes, from the spec alone (and the function's account
// for a bare name), the statement Lambda will store.
func (r *LambdaPermissionReconciler) desiredStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (desired, error) {
	perm := translate.PermissionOf(obj.Spec, r.statementID(obj))
	// Admission checks the same rules; this catches objects stored before
	// a rule existed, before any AWS call.
	if err := perm.Validate(); err != nil {
		return desired{}, stalled(ReasonInvalidSpec, "%v", err)
	}
	named, err := namedTarget(obj)
	if err != nil {
		return desired{}, err
	}
	owner, err := r.policyOwner(ctx, r.permissionTargetKey(obj))
	if err != nil {
		return desired{}, err
	}
	if owner != nil && !owner.Includes() {
		return desired{}, stalled(ReasonExcludedByPolicyOwner,
			"the policy of %s is owned by LambdaResourcePolicy %s/%s, which does not include LambdaPermissions (includePermissions: false); add the statement to it, or set includePermissions: true",
			named.WithDefaults(r.DefaultRegion, "").ResourceARN(), owner.Namespace, owner.Name)
	}
	if owner != nil && declares(owner, perm.StatementID) {
		return desired{}, stalled(ReasonSidConflict,
			"statement %q on %s is declared by LambdaResourcePolicy %s/%s, which owns the policy; choose another statementId, or declare the statement in one place",
			perm.StatementID, named.WithDefaults(r.DefaultRegion, "").ResourceARN(), owner.Namespace, owner.Name)
	}
	allowed, err := r.authorize(ctx, obj, named, perm, owner != nil)
	if err != nil {
		return desired{}, err
	}
	target := allowed.target.WithDefaults(r.DefaultRegion, "")
	if target.AccountID == "" {
		if target, err = r.functions.resolve(ctx, allowed.identity, r.Lambda.For(allowed.identity), target); err != nil {
			return desired{}, lambdaFailure(err, "looking up function %s in %s", target.Name, target.Region)
		}
	}
	return desired{Target: target, Identity: allowed.identity, Strategy: allowed.strategy, Permission: perm, Statement: policy.DesiredStatement(target, perm)}, nil
}

// namedTarget is the function, version or alias the spec names, with the
// region and account it gives (either may still be empty).
func namedTarget(obj *lambdav1alpha1.LambdaPermission) (policy.FunctionRef, error) {
	target, err := policy.ResolveTarget(obj.Spec.FunctionName, obj.Spec.Qualifier)
	if err != nil {
		return policy.FunctionRef{}, stalled(ReasonInvalidSpec, "%v", err)
	}
	if target.Region != "" && obj.Spec.Region != "" && target.Region != obj.Spec.Region {
		return policy.FunctionRef{}, stalled(ReasonInvalidSpec,
			"region: %q differs from the region %q in functionName; remove one", obj.Spec.Region, target.Region)
	}
	return target.WithDefaults(obj.Spec.Region, ""), nil
}

// target is namedTarget with the operator's default region, for keys that
// must be computed without AWS or account objects.
func (r *LambdaPermissionReconciler) target(obj *lambdav1alpha1.LambdaPermission) (policy.FunctionRef, error) {
	target, err := namedTarget(obj)
	if err != nil {
		return policy.FunctionRef{}, err
	}
	return target.WithDefaults(r.DefaultRegion, ""), nil
}

// statementID is the object's Sid: spec.statementId as written, or derived
// with the operator's prefix.
func (r *LambdaPermissionReconciler) statementID(obj *lambdav1alpha1.LambdaPermission) string {
	if obj.Spec.StatementID != "" {
		return obj.Spec.StatementID
	}
	return translate.PrefixedStatementID(r.StatementIDPrefix, obj.Namespace, obj.Name)
}

// placed is a statement in place: as Lambda stores it, and the policy's
// revision when the sync read it (empty right after a write: AddPermission
// does not return one, and a read-back would cost a call per object).
type placed struct {
	statement string
	revision  string
}

// place plans the statement against the policy as observed, has the
// policy's writer apply the plan, and reports what was written.
func (r *LambdaPermissionReconciler) place(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want desired) (placed, error) {
	m, inPlaceBefore := r.modeOf(obj), wasInPlace(obj)
	applied, err := r.writerFor(want.actor(), want.Target).Write(ctx, writeKey(obj, ""), r.freshness(obj), func(observed writer.Observed) writer.Plan {
		plan := planStatement(observed, want, m, inPlaceBefore)
		writes := plan.Writes
		writes.Note = plan
		return writes
	})
	if errors.Is(err, writer.ErrQueued) {
		return placed{}, err
	}
	plan, _ := applied.Note.(statementPlan) // the plan the writes were made from
	r.recordWrites(obj, want.Target, applied, plan.Existing, want.Statement)
	r.notePolicySize(obj, want.Target, applied)
	switch {
	case err != nil:
		return placed{}, policyFailure(err)
	case plan.Refusal != nil:
		if plan.Refusal.Reason == ReasonDryRun {
			log.FromContext(ctx).Info(plan.Refusal.Message)
		}
		return placed{}, plan.Refusal
	case plan.InPlace:
		if obj.Status.Statement == "" {
			r.event(obj, corev1.EventTypeNormal, EventAdopted, "GetPolicy",
				"statement %q on %s already grants what the spec says; adopted without a write", want.Permission.StatementID, want.Target.ResourceARN())
		}
		return placed{statement: plan.Existing.Raw, revision: plan.Revision}, nil
	}
	added := lastAdded(applied, want.Permission.StatementID)
	switch plan.Drift {
	case "":
	case "replaced":
		metrics.DriftCorrected(plan.Drift)
		r.event(obj, corev1.EventTypeWarning, EventPolicyReplaced, added.Operation,
			"statement %q on %s was lost when the whole policy was replaced or deleted outside this operator (%d of its statements disappeared at once; each is restored by its object); restored. "+
				"If a whole-document tool did it (PutResourcePolicy or DeleteResourcePolicy: CloudFormation AWS::Lambda::ResourcePolicy, Terraform aws_lambda_resource_policy), "+
				"do not mix it with LambdaPermissions on one function, or keep this operator off the function with a LambdaPermissionAccount's access rules; "+
				"a function deleted and created again loses its policy the same way",
			want.Permission.StatementID, want.Target.ResourceARN(), plan.Lost)
	default:
		metrics.DriftCorrected(plan.Drift)
		r.event(obj, corev1.EventTypeWarning, EventDriftCorrected, added.Operation,
			"statement %q on %s was %s outside this operator; restored", want.Permission.StatementID, want.Target.ResourceARN(), plan.Drift)
	}
	r.warnOnUnexpectedStatement(obj, added, want)
	return placed{statement: added.Stored}, nil
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
func (r *LambdaPermissionReconciler) recordWrites(obj *lambdav1alpha1.LambdaPermission, target policy.FunctionRef, applied writer.Applied, replaced *policy.StoredStatement, want policy.Statement) {
	for _, w := range applied.Writes {
		switch {
		case w.Change == writer.Added:
			r.event(obj, corev1.EventTypeNormal, EventAdded, w.Operation, "added statement %q to %s", w.Sid, target.ResourceARN())
		case w.Change == writer.Replaced && replaced != nil:
			r.event(obj, corev1.EventTypeNormal, EventReplaced, w.Operation, "replaced statement %q on %s in one write (it differed in %v)",
				w.Sid, target.ResourceARN(), policy.GrantDifferences(replaced.Statement, want))
		case w.Replacing && replaced != nil:
			r.event(obj, corev1.EventTypeNormal, EventRemoved, w.Operation, "removed statement %q from %s to replace it (differed in %v)",
				w.Sid, target.ResourceARN(), policy.GrantDifferences(replaced.Statement, want))
		default:
			r.event(obj, corev1.EventTypeNormal, EventRemoved, w.Operation, "removed statement %q from %s", w.Sid, target.ResourceARN())
		}
	}
}

// writeKey names a Write of obj's (what, when it is not the object's own
// statement), so that a queued write wakes the object (see wakeSource).
func writeKey(obj *lambdav1alpha1.LambdaPermission, what string) string {
	key := obj.Namespace + "/" + obj.Name
	if what != "" {
		key += "#" + what
	}
	return key
}

// modeOf is how far a reconcile of obj may go.
func (r *LambdaPermissionReconciler) modeOf(obj *lambdav1alpha1.LambdaPermission) mode {
	return mode{Observe: obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve, DryRun: r.DryRun}
}

// freshness is how old a view of the policy obj's reconcile may use: a sync
// period, unless the user asked for a check since.
func (r *LambdaPermissionReconciler) freshness(obj *lambdav1alpha1.LambdaPermission) writer.Freshness {
	return writer.Freshness{MaxAge: r.SyncPeriod, NotBefore: syncRequestedAt(obj)}
}

// writerFor is the writer of target's policy, for by.
func (r *LambdaPermissionReconciler) writerFor(by actor, target policy.FunctionRef) writer.Writer {
	return r.writers.For(r.Lambda.For(by.identity), target, by.strategy)
}

// actor is who acts on a policy, and how it writes.
type actor struct {
	identity awslambda.Identity
	strategy writer.Strategy
}

func (d desired) actor() actor { return actor{identity: d.Identity, strategy: d.Strategy} }

// SyncRequestedAnnotation, set to the current time (RFC 3339), makes the
// controller read the policy again instead of using its view, for a check
// at once rather than at the next sync period.
const SyncRequestedAnnotation = "lambda.permissions.dev/sync-requested"

func syncRequestedAt(obj *lambdav1alpha1.LambdaPermission) time.Time {
	at, err := time.Parse(time.RFC3339Nano, obj.Annotations[SyncRequestedAnnotation])
	if err != nil {
		return time.Time{}
	}
	return at
}

// wasInPlace reports whether the last sync, at this generation, found or put
// the statement in place: a write now corrects drift.
func wasInPlace(obj *lambdav1alpha1.LambdaPermission) bool {
	ready := meta.FindStatusCondition(obj.Status.Conditions, ConditionReady)
	return obj.Status.Statement != "" && ready != nil && ready.Status == metav1.ConditionTrue &&
		ready.ObservedGeneration == obj.Generation
}

// warnOnUnexpectedStatement reports a statement Lambda stored differently
// from the prediction: a bug in the policy package that would otherwise only
// show as a replacement at every sync.
func (r *LambdaPermissionReconciler) warnOnUnexpectedStatement(obj *lambdav1alpha1.LambdaPermission, added writer.Written, want desired) {
	got, err := policy.ParseStatement(added.Stored)
	if err == nil && policy.SameGrant(got, want.Statement) {
		return
	}
	r.event(obj, corev1.EventTypeWarning, EventUnexpectedStatement, added.Operation,
		"Lambda stored %s, not the predicted %s; please report this", added.Stored, want.Statement.Render())
}

// removePreviousStatement removes the statement this object wrote under
// another Sid or on another function, version or alias, after its spec moved.
func (r *LambdaPermissionReconciler) removePreviousStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want desired) error {
	previous, ok := writtenStatement(obj)
	if !ok || (previous.target.ResourceARN() == want.Target.ResourceARN() && previous.sid == want.Permission.StatementID) {
		return nil
	}
	by, err := r.actorIn(ctx, previous.target.AccountID)
	if err != nil {
		return err
	}
	return r.removeStatement(ctx, obj, by, previous.target, previous.sid, previous.statement)
}

// location is a statement this object wrote, read back from its status.
type location struct {
	target    policy.FunctionRef
	sid       string
	statement policy.Statement
}

func writtenStatement(obj *lambdav1alpha1.LambdaPermission) (location, bool) {
	if obj.Status.Statement == "" {
		return location{}, false
	}
	st, err := policy.ParseStatement(obj.Status.Statement)
	if err != nil || len(st.Resource) != 1 {
		return location{}, false
	}
	target, err := policy.ParseFunctionName(st.Resource[0])
	if err != nil || !target.Complete() {
		return location{}, false
	}
	return location{target: target, sid: st.Sid, statement: st}, true
}

// removeStatement removes statement sid from target if it still grants
// what one of ours says. A statement changed since by someone else is left
// alone: this operator never removes what it did not write.
func (r *LambdaPermissionReconciler) removeStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, by actor, target policy.FunctionRef, sid string, ours ...policy.Statement) error {
	m := r.modeOf(obj)
	if owner, err := r.policyOwner(ctx, targetKey(target)); err != nil {
		return err
	} else if owner != nil && declares(owner, sid) {
		return nil // the owner's statement now: not this object's to remove
	} else if owner != nil {
		by.strategy = writer.Document // written through the owner's policy writes
	}
	applied, err := r.writerFor(by, target).Write(ctx, writeKey(obj, "remove "+target.ResourceARN()+" "+sid), r.freshness(obj), func(observed writer.Observed) writer.Plan {
		plan := planRemoval(observed, sid, ours, m)
		writes := plan.Writes
		writes.Note = plan
		return writes
	})
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	plan, _ := applied.Note.(removalPlan)
	r.recordWrites(obj, target, applied, nil, policy.Statement{})
	switch {
	case err != nil:
		return policyFailure(err)
	case plan.LeftInPlace:
		r.event(obj, corev1.EventTypeWarning, EventLeftInPlace, "RemovePermission",
			"statement %q on %s was changed outside this operator; left in place", sid, target.ResourceARN())
	case plan.Refused && m.DryRun:
		r.event(obj, corev1.EventTypeNormal, ReasonDryRun, "RemovePermission", "dry run: would remove statement %q from %s", sid, target.ResourceARN())
	case plan.Refused:
		r.event(obj, corev1.EventTypeNormal, EventRetained, "RemovePermission",
			"managementPolicy is Observe: statement %q on %s left in place", sid, target.ResourceARN())
	}
	return nil
}

// finalize removes the object's statement unless its deletionPolicy is
// Retain, then releases the object. A function, policy or statement that is
// already gone does not hold the deletion.
func (r *LambdaPermissionReconciler) finalize(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, nil
	}
	switch {
	case obj.Spec.DeletionPolicy == lambdav1alpha1.DeletionPolicyRetain:
		r.event(obj, corev1.EventTypeNormal, EventRetained, "Delete", "deletionPolicy is Retain: statement %q left in the policy", obj.Status.StatementID)
	case obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve:
		r.event(obj, corev1.EventTypeNormal, EventRetained, "Delete", "managementPolicy is Observe: statement %q left in the policy", obj.Status.StatementID)
	default:
		if err := r.removeOwnStatement(ctx, obj); err != nil {
			before := obj.DeepCopy()
			return r.report(ctx, before, obj, err)
		}
	}
	controllerutil.RemoveFinalizer(obj, Finalizer)
	r.managed.Set(client.ObjectKeyFromObject(obj), false)
	return ctrl.Result{}, client.IgnoreNotFound(r.Update(ctx, obj))
}

// removeOwnStatement removes what this object wrote: the statement in its
// status, and the one its spec describes (in case it was written but the
// status was not, as after a crash), unless another object manages the Sid.
func (r *LambdaPermissionReconciler) removeOwnStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) error {
	if owner, err := r.claimOwner(ctx, obj); err != nil || owner != nil {
		return err // the statement is another object's
	}
	written, wasWritten := writtenStatement(obj)
	want, err := r.desiredStatement(ctx, obj)
	switch {
	case err == nil && wasWritten && written.target.ResourceARN() == want.Target.ResourceARN() && written.sid == want.Permission.StatementID:
		return r.removeStatement(ctx, obj, want.actor(), want.Target, want.Permission.StatementID, want.Statement, written.statement)
	case err == nil:
		if err := r.removeStatement(ctx, obj, want.actor(), want.Target, want.Permission.StatementID, want.Statement); err != nil {
			return err
		}
	case !isFunctionNotFound(err) && !isStalled(err):
		return err
	}
	if !wasWritten {
		return nil
	}
	by, err := r.actorIn(ctx, written.target.AccountID)
	if err != nil {
		return err
	}
	return r.removeStatement(ctx, obj, by, written.target, written.sid, written.statement)
}

// report writes the status once from the outcome, emits an Event for a
// failure, and says when to come back (nextReconcile).
func (r *LambdaPermissionReconciler) report(ctx context.Context, before, obj *lambdav1alpha1.LambdaPermission, outcome error) (ctrl.Result, error) {
	if errors.Is(outcome, writer.ErrQueued) {
		// The policy's next write takes the plan and wakes the object; its
		// status says what it said until then. The requeue is a safety net.
		return ctrl.Result{RequeueAfter: queuedRecheck}, nil
	}
	obj.Status.ObservedGeneration = obj.Generation
	state := stateOf(outcome)
	if state != nil {
		// Counted before the status is written: whoever sees the status
		// sees the count.
		metrics.ReconcileFailed(state.Reason)
	}
	if checkFailedInPlace(state, wasInPlace(obj)) {
		r.event(obj, corev1.EventTypeNormal, state.Reason, "GetPolicy", "checking the statement: %s", state.Message)
		return nextReconcile(state, r.SyncPeriod)
	}
	setConditions(&obj.Status.Conditions, obj.Generation, outcome, ReasonSynced, "the statement is in the function's policy as specified")
	if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.managed.Set(client.ObjectKeyFromObject(obj), state == nil)
	if state != nil {
		eventType := corev1.EventTypeWarning
		if state.Reason == ReasonDryRun {
			eventType = corev1.EventTypeNormal
		}
		r.event(obj, eventType, state.Reason, "Reconcile", "%s", state.Message)
		if state.Stalled {
			log.FromContext(ctx).Info("stalled", "reason", state.Reason, "message", state.Message)
		}
	}
	return nextReconcile(state, r.SyncPeriod)
}

func (r *LambdaPermissionReconciler) event(obj *lambdav1alpha1.LambdaPermission, eventType, reason, action, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, format, args...)
	}
}

func (r *LambdaPermissionReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// actorIn is who acts in accountID and how it writes: the role and write
// strategy of its LambdaPermissionAccount, or the operator itself with its
// default strategy.
func (r *LambdaPermissionReconciler) actorIn(ctx context.Context, accountID string) (actor, error) {
	var accounts lambdav1alpha1.LambdaPermissionAccountList
	if err := r.List(ctx, &accounts); err != nil {
		return actor{}, err
	}
	if a := findAccount(accounts.Items, accountID); a != nil {
		return actor{identity: identityOf(a), strategy: strategyOf(a)}, nil
	}
	return actor{strategy: r.defaultStrategy()}, nil
}

func (r *LambdaPermissionReconciler) defaultStrategy() writer.Strategy {
	if r.WriteStrategy == "" {
		return writer.Statements
	}
	return r.WriteStrategy
}

func isFunctionNotFound(err error) bool {
	var state *stateError
	return errors.As(err, &state) && state.Reason == ReasonFunctionNotFound
}

func isStalled(err error) bool {
	var state *stateError
	return errors.As(err, &state) && state.Stalled
}
