// Package controllers holds the LambdaPermission controller.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Finalizer holds a LambdaPermission until its statement is removed.
const Finalizer = "lambda.permissions.dev/statement"

const (
	// maxAttempts bounds the re-read/re-diff loop when other writers change
	// the policy between our read and our write (412, or a Sid that appeared).
	maxAttempts = 4
	// reconcileTimeout bounds the AWS calls of one reconcile.
	reconcileTimeout = 2 * time.Minute
	// updateInProgressWait is how long to wait when Lambda says the function
	// is being updated (409 ResourceConflictException of that kind).
	updateInProgressWait = 2 * time.Second
)

// LambdaPermissionReconciler keeps each LambdaPermission's statement in its
// function's policy: compute the desired statement, read the policy, diff,
// write, report.
type LambdaPermissionReconciler struct {
	client.Client
	Lambda        awslambda.Provider
	Recorder      events.EventRecorder
	DefaultRegion string            // region of functions named without one
	SyncPeriod    time.Duration     // how often a Ready statement is checked for drift
	Guardrails    GuardrailSettings // operator-wide; LambdaPermissionAccounts may override
	DryRun        bool              // report intended writes instead of making them
	Now           func() time.Time

	targets   targetLocks
	views     policyViews
	functions functionCache
	managed   managedSet
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissions/finalizers,verbs=update
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdapermissionaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

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

	// 3. Hold deletion until the statement is removed.
	if controllerutil.AddFinalizer(obj, Finalizer) {
		if err := r.Update(ctx, obj); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	// 4. Say at once that work has started, so that GitOps tools do not
	// take an object without status for one that is done (kstatus does).
	before := obj.DeepCopy()
	if obj.Status.ObservedGeneration == 0 {
		obj.Status.ObservedGeneration = obj.Generation
		setConditions(obj, retrying(ReasonProgressing, nil, "computing and writing the statement"))
		if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		before = obj.DeepCopy()
	}

	// 5. Sync, then write the status once, from what the sync found.
	outcome := r.sync(ctx, obj)
	return r.report(ctx, before, obj, outcome)
}

// sync makes the policy hold the object's statement and records it in the
// status. It returns nil once the statement is in place.
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

	if err := r.removePreviousStatement(ctx, obj, want); err != nil {
		return err
	}

	stored, revision, err := r.converge(ctx, obj, want)
	if err != nil {
		return err
	}
	now := metav1.NewTime(r.now())
	obj.Status.Statement = stored
	obj.Status.PolicyRevisionID = revision
	obj.Status.LastSyncTime = &now
	return nil
}

// desired is where a statement belongs and what it says.
type desired struct {
	Target     policy.FunctionRef // complete: partition, region, account
	Identity   awslambda.Identity // who acts on Target
	Permission policy.Permission
	Statement  policy.Statement
}

// desiredStatement computes, from the spec alone (and the function's account
// for a bare name), the statement Lambda will store.
func (r *LambdaPermissionReconciler) desiredStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (desired, error) {
	perm := PermissionOf(obj.Spec, statementID(obj))
	// Admission checks the same rules; this catches objects stored before
	// a rule existed, before any AWS call.
	if err := perm.Validate(); err != nil {
		return desired{}, stalled(ReasonInvalidSpec, "%v", err)
	}
	named, err := namedTarget(obj)
	if err != nil {
		return desired{}, err
	}
	allowed, err := r.authorize(ctx, obj, named, perm)
	if err != nil {
		return desired{}, err
	}
	target := allowed.target.WithDefaults(r.DefaultRegion, "")
	if target.AccountID == "" {
		if target, err = r.functions.resolve(ctx, allowed.identity, r.Lambda.For(allowed.identity), target); err != nil {
			return desired{}, lambdaFailure(err, "looking up function %s in %s", target.Name, target.Region)
		}
	}
	return desired{Target: target, Identity: allowed.identity, Permission: perm, Statement: policy.DesiredStatement(target, perm)}, nil
}

// PermissionOf is the AddPermission request a spec asks for, under sid.
func PermissionOf(spec lambdav1alpha1.LambdaPermissionSpec, sid string) policy.Permission {
	perm := policy.Permission{
		StatementID:           sid,
		Action:                spec.Action,
		Principal:             spec.Principal,
		SourceArn:             spec.SourceArn,
		SourceAccount:         spec.SourceAccount,
		PrincipalOrgID:        spec.PrincipalOrgID,
		EventSourceToken:      spec.EventSourceToken,
		FunctionURLAuthType:   spec.FunctionURLAuthType,
		InvokedViaFunctionURL: spec.InvokedViaFunctionURL,
	}
	if perm.Action == "" {
		perm.Action = "lambda:InvokeFunction" // the API default, for objects stored without it
	}
	return perm
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

func statementID(obj *lambdav1alpha1.LambdaPermission) string {
	if obj.Spec.StatementID != "" {
		return obj.Spec.StatementID
	}
	return DerivedStatementID(obj.Namespace, obj.Name)
}

// converge reads the policy, compares, and writes until the policy holds the
// desired statement. It returns the statement as Lambda stores it and the
// policy revision it was read at (empty right after a write: AddPermission
// does not return one, and a read-back would cost a call per object).
func (r *LambdaPermissionReconciler) converge(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want desired) (string, string, error) {
	defer r.targets.lock(want.Target.ResourceARN())()
	lambda := r.Lambda.For(want.Identity)
	sid, target := want.Permission.StatementID, want.Target
	drift := "" // set when a statement that was in place is found missing or changed
	needRevision := false
	for attempt := 1; ; attempt++ {
		retry := attempt < maxAttempts
		current, revisionKnown, err := r.views.read(ctx, lambda, target, r.SyncPeriod, syncRequestedAt(obj), needRevision)
		if err != nil {
			return "", "", readFailure(lambdaFailure(err, "reading the policy of %s", target.ResourceARN()))
		}
		existing, found := current.Document.Find(sid)
		if found && policy.SameGrant(existing.Statement, want.Statement) {
			if obj.Status.Statement == "" {
				r.event(obj, corev1.EventTypeNormal, "Adopted", "GetPolicy",
					"statement %q on %s already grants what the spec says; adopted without a write", sid, target.ResourceARN())
			}
			return existing.Raw, knownRevision(current, revisionKnown), nil
		}
		if err := r.refuseWrite(obj, want, existing, found); err != nil {
			return "", "", err
		}
		if attempt == 1 && wasInPlace(obj) {
			drift = "missing"
			if found {
				drift = "changed"
			}
		}
		if size := current.Document.SizeAfter([]string{sid}, want.Statement); size > policy.MaxPolicySize {
			return "", "", stalled(ReasonPolicyTooLarge,
				"adding statement %q would make the policy of %s about %d bytes, over Lambda's limit of %d; remove other statements or grant more per statement",
				sid, target.ResourceARN(), size, policy.MaxPolicySize)
		}
		if found {
			// Lambda has no update: replace under the revision just read, so
			// a concurrent change makes the Remove fail instead of being lost.
			if !revisionKnown {
				needRevision = true
				continue
			}
			err := lambda.RemovePermission(ctx, target, sid, current.RevisionID)
			switch kind := awslambda.KindOf(err); {
			case err == nil:
				r.views.removed(target, sid)
				r.event(obj, corev1.EventTypeNormal, "Removed", "RemovePermission",
					"removed statement %q from %s to replace it (differed in %v)", sid, target.ResourceARN(),
					policy.GrantDifferences(existing.Statement, want.Statement))
			case (kind == awslambda.StaleRevision || kind == awslambda.NotFound) && retry:
				r.views.forget(target) // the policy changed: read it again
				continue
			default:
				r.views.forget(target) // a failed write may still have happened
				return "", "", lambdaFailure(err, "removing statement %q from %s", sid, target.ResourceARN())
			}
		}
		stored, err := lambda.AddPermission(ctx, target, want.Permission)
		switch kind := awslambda.KindOf(err); {
		case err == nil:
			r.views.added(target, stored)
			r.event(obj, corev1.EventTypeNormal, "Added", "AddPermission", "added statement %q to %s", sid, target.ResourceARN())
			if drift != "" {
				driftCorrections.WithLabelValues(drift).Inc()
				r.event(obj, corev1.EventTypeWarning, "DriftCorrected", "AddPermission",
					"statement %q on %s was %s outside this operator; restored", sid, target.ResourceARN(), drift)
			}
			r.warnOnUnexpectedStatement(obj, stored, want)
			return stored, "", nil
		case kind == awslambda.StatementExists && retry:
			r.views.forget(target) // another writer added this Sid since the read: converge to our content
			continue
		default:
			r.views.forget(target)
			return "", "", lambdaFailure(err, "adding statement %q to %s", sid, target.ResourceARN())
		}
	}
}

// knownRevision is the policy's RevisionId when the view has it.
func knownRevision(p awslambda.Policy, known bool) string {
	if !known {
		return ""
	}
	return p.RevisionID
}

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

// refuseWrite stops before a write that the object's managementPolicy
// (Observe) or the operator's --dry-run forbids, and says what the write
// would have been.
func (r *LambdaPermissionReconciler) refuseWrite(obj *lambdav1alpha1.LambdaPermission, want desired, existing policy.StoredStatement, found bool) error {
	plan := fmt.Sprintf("add statement %q to %s: %s", want.Permission.StatementID, want.Target.ResourceARN(), want.Statement.Render())
	if found {
		plan = fmt.Sprintf("replace statement %q on %s (it differs in %v) with %s", want.Permission.StatementID, want.Target.ResourceARN(),
			policy.GrantDifferences(existing.Statement, want.Statement), want.Statement.Render())
	}
	switch {
	case obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve:
		state := "missing"
		if found {
			state = "different: " + existing.Raw
		}
		return stalled(ReasonDriftDetected, "managementPolicy is Observe, so nothing was written: statement %q on %s is %s; the spec would %s",
			want.Permission.StatementID, want.Target.ResourceARN(), state, plan)
	case r.DryRun:
		log.FromContext(context.Background()).Info("dry run: would "+plan, "object", obj.Namespace+"/"+obj.Name)
		return &stateError{Reason: ReasonDryRun, Message: "dry run: would " + plan, RetryAfter: r.SyncPeriod}
	}
	return nil
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
func (r *LambdaPermissionReconciler) warnOnUnexpectedStatement(obj *lambdav1alpha1.LambdaPermission, stored string, want desired) {
	got, err := policy.ParseStatement(stored)
	if err == nil && policy.SameGrant(got, want.Statement) {
		return
	}
	r.event(obj, corev1.EventTypeWarning, "UnexpectedStatement", "AddPermission",
		"Lambda stored %s, not the predicted %s; please report this", stored, want.Statement.Render())
}

// removePreviousStatement removes the statement this object wrote under
// another Sid or on another function, version or alias, after its spec moved.
func (r *LambdaPermissionReconciler) removePreviousStatement(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, want desired) error {
	previous, ok := writtenStatement(obj)
	if !ok || (previous.target.ResourceARN() == want.Target.ResourceARN() && previous.sid == want.Permission.StatementID) {
		return nil
	}
	identity, err := r.identityFor(ctx, previous.target.AccountID)
	if err != nil {
		return err
	}
	return r.removeIfOurs(ctx, obj, identity, previous.target, previous.sid, previous.statement)
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

// removeIfOurs removes statement sid from target if it still grants what one
// of ours says. A statement changed since by someone else is left alone:
// this operator never removes what it did not write.
func (r *LambdaPermissionReconciler) removeIfOurs(ctx context.Context, obj *lambdav1alpha1.LambdaPermission, identity awslambda.Identity, target policy.FunctionRef, sid string, ours ...policy.Statement) error {
	defer r.targets.lock(target.ResourceARN())()
	lambda := r.Lambda.For(identity)
	for attempt := 1; ; attempt++ {
		current, revisionKnown, err := r.views.read(ctx, lambda, target, r.SyncPeriod, syncRequestedAt(obj), false)
		if err != nil {
			return lambdaFailure(err, "reading the policy of %s", target.ResourceARN())
		}
		existing, found := current.Document.Find(sid)
		if !found {
			return nil
		}
		if !grantsAnyOf(existing.Statement, ours) {
			r.event(obj, corev1.EventTypeWarning, "LeftInPlace", "RemovePermission",
				"statement %q on %s was changed outside this operator; left in place", sid, target.ResourceARN())
			return nil
		}
		if r.DryRun {
			r.event(obj, corev1.EventTypeNormal, ReasonDryRun, "RemovePermission", "dry run: would remove statement %q from %s", sid, target.ResourceARN())
			return nil
		}
		// Guarded by the revision when the view has it. Right after other
		// removals it does not (Lambda returns no new revision), and reading
		// the policy again before each would double the cost of deleting
		// many objects; the statement was seen to be ours in the view.
		err = lambda.RemovePermission(ctx, target, sid, knownRevision(current, revisionKnown))
		switch kind := awslambda.KindOf(err); {
		case err == nil:
			r.views.removed(target, sid)
			r.event(obj, corev1.EventTypeNormal, "Removed", "RemovePermission", "removed statement %q from %s", sid, target.ResourceARN())
			return nil
		case kind == awslambda.NotFound:
			r.views.removed(target, sid)
			return nil // the function, the policy or the statement is gone already
		case kind == awslambda.StaleRevision && attempt < maxAttempts:
			r.views.forget(target)
			continue
		default:
			r.views.forget(target)
			return lambdaFailure(err, "removing statement %q from %s", sid, target.ResourceARN())
		}
	}
}

func grantsAnyOf(st policy.Statement, candidates []policy.Statement) bool {
	for _, c := range candidates {
		if policy.SameGrant(st, c) {
			return true
		}
	}
	return false
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
		r.event(obj, corev1.EventTypeNormal, "Retained", "Delete", "deletionPolicy is Retain: statement %q left in the policy", obj.Status.StatementID)
	case obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve:
		r.event(obj, corev1.EventTypeNormal, "Retained", "Delete", "managementPolicy is Observe: statement %q left in the policy", obj.Status.StatementID)
	default:
		if err := r.removeOwnStatement(ctx, obj); err != nil {
			before := obj.DeepCopy()
			return r.report(ctx, before, obj, err)
		}
	}
	controllerutil.RemoveFinalizer(obj, Finalizer)
	r.managed.set(client.ObjectKeyFromObject(obj), false)
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
		return r.removeIfOurs(ctx, obj, want.Identity, want.Target, want.Permission.StatementID, want.Statement, written.statement)
	case err == nil:
		if err := r.removeIfOurs(ctx, obj, want.Identity, want.Target, want.Permission.StatementID, want.Statement); err != nil {
			return err
		}
	case !isFunctionNotFound(err) && !isStalled(err):
		return err
	}
	if !wasWritten {
		return nil
	}
	identity, err := r.identityFor(ctx, written.target.AccountID)
	if err != nil {
		return err
	}
	return r.removeIfOurs(ctx, obj, identity, written.target, written.sid, written.statement)
}

// readFailure marks a failed read of the policy (see stateError.ReadOnly).
func readFailure(err error) error {
	var state *stateError
	if errors.As(err, &state) && !state.Stalled {
		state.ReadOnly = true
	}
	return err
}

// report writes the status once, emits an Event for a failure, and says when
// to come back: after the sync period when in place, after Retry-After when
// throttled, with backoff when retrying, and slowly when stalled.
func (r *LambdaPermissionReconciler) report(ctx context.Context, before, obj *lambdav1alpha1.LambdaPermission, outcome error) (ctrl.Result, error) {
	obj.Status.ObservedGeneration = obj.Generation
	var state *stateError
	if errors.As(outcome, &state) && state.ReadOnly && wasInPlace(obj) {
		// A periodic check that could not read the policy (throttled, a 5xx)
		// found nothing wrong: the statement stays Ready rather than flap
		// with every failed check, and the check is retried.
		r.event(obj, corev1.EventTypeNormal, state.Reason, "GetPolicy", "checking the statement: %s", state.Message)
		countReconcileError(outcome)
		if state.RetryAfter > 0 {
			return ctrl.Result{RequeueAfter: state.RetryAfter}, nil
		}
		return ctrl.Result{}, outcome
	}
	setConditions(obj, outcome)
	if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.managed.set(client.ObjectKeyFromObject(obj), outcome == nil)
	if outcome != nil {
		countReconcileError(outcome)
	}
	if outcome == nil {
		return ctrl.Result{RequeueAfter: wait.Jitter(r.SyncPeriod, 0.1)}, nil
	}
	if state == nil {
		return ctrl.Result{}, outcome
	}
	eventType := corev1.EventTypeWarning
	if state.Reason == ReasonDryRun {
		eventType = corev1.EventTypeNormal
	}
	r.event(obj, eventType, state.Reason, "Reconcile", "%s", state.Message)
	switch {
	case state.RetryAfter > 0:
		return ctrl.Result{RequeueAfter: state.RetryAfter}, nil
	case state.Stalled:
		log.FromContext(ctx).Info("stalled", "reason", state.Reason, "message", state.Message)
		return ctrl.Result{RequeueAfter: wait.Jitter(r.SyncPeriod, 0.1)}, nil
	default:
		return ctrl.Result{}, outcome // exponential backoff
	}
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

// identityFor is who acts in accountID: the role of its
// LambdaPermissionAccount, or the operator itself.
func (r *LambdaPermissionReconciler) identityFor(ctx context.Context, accountID string) (awslambda.Identity, error) {
	var accounts lambdav1alpha1.LambdaPermissionAccountList
	if err := r.List(ctx, &accounts); err != nil {
		return awslambda.Identity{}, err
	}
	if a := findAccount(accounts.Items, accountID); a != nil {
		return identityOf(a), nil
	}
	return awslambda.Identity{}, nil
}

// lambdaFailure turns a failed Lambda call into the condition it shows as.
func lambdaFailure(err error, format string, args ...any) error {
	doing := fmt.Sprintf(format, args...)
	var lambdaErr *awslambda.Error
	if !errors.As(err, &lambdaErr) {
		return retrying(ReasonRetrying, err, "%s: %v", doing, err)
	}
	switch lambdaErr.Kind {
	case awslambda.NotFound:
		return retrying(ReasonFunctionNotFound, err,
			"%s: %s; create the function, version or alias, or correct functionName and qualifier", doing, lambdaErr.Message)
	case awslambda.Throttled:
		state := retrying(ReasonThrottled, err, "%s: throttled by Lambda; retrying", doing)
		state.RetryAfter = max(lambdaErr.RetryAfter, time.Second)
		return state
	case awslambda.PolicyTooLarge:
		return stalled(ReasonPolicyTooLarge, "%s: %s", doing, lambdaErr.Message)
	case awslambda.Invalid:
		return stalled(ReasonInvalidSpec, "%s: Lambda refused it: %s", doing, lambdaErr.Message)
	case awslambda.AccessDenied:
		return stalled(ReasonAccessDenied,
			"%s: %s; the operator's AWS identity needs lambda:GetPolicy, lambda:AddPermission, lambda:RemovePermission and lambda:GetFunction", doing, lambdaErr.Message)
	case awslambda.StaleRevision, awslambda.StatementExists:
		return retrying(ReasonStaleRevision, err, "%s: the policy kept changing during the update; retrying", doing)
	case awslambda.Conflict:
		// The other 409: the function itself is being updated. Unlike a
		// duplicate Sid, reading again will not help; wait a moment.
		state := retrying(ReasonRetrying, err, "%s: %s; retrying shortly", doing, lambdaErr.Message)
		state.RetryAfter = wait.Jitter(updateInProgressWait, 0.5)
		return state
	default:
		return retrying(ReasonRetrying, err, "%s: %v; retrying", doing, err)
	}
}

func isFunctionNotFound(err error) bool {
	var state *stateError
	return errors.As(err, &state) && state.Reason == ReasonFunctionNotFound
}

func isStalled(err error) bool {
	var state *stateError
	return errors.As(err, &state) && state.Stalled
}
