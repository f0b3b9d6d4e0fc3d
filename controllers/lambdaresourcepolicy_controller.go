package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// PolicyFinalizer holds a LambdaResourcePolicy until the statements it wrote
// are taken out of the policy.
const PolicyFinalizer = "lambda.permissions.dev/policy"

// policyKeyPrefix starts the write keys of LambdaResourcePolicies, so that a
// queued write wakes the right controller (see writeKey).
const policyKeyPrefix = "lrp:"

// LambdaResourcePolicyReconciler makes each owned policy exactly what its
// LambdaResourcePolicy declares, with the included LambdaPermissions'
// statements: compute the declared statements, plan against the policy as
// observed, have the policy's writer make one whole-document write, report.
// It shares the LambdaPermission reconciler's policy writers, so that the
// statements of both kinds on one policy go out in the same write.
type LambdaResourcePolicyReconciler struct {
	client.Client
	Permissions *LambdaPermissionReconciler // its writers, function cache and settings
	Recorder    events.EventRecorder
}

// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdaresourcepolicies,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lambda.permissions.dev,resources=lambdaresourcepolicies/status,verbs=get;update;patch

// Reconcile brings one function's (version's, alias's) policy in line with
// its LambdaResourcePolicy.
func (r *LambdaResourcePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()

	obj := &lambdav1alpha1.LambdaResourcePolicy{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, obj)
	}
	before, err := startWork(ctx, r.Client, obj, PolicyFinalizer,
		&obj.Status.ObservedGeneration, &obj.Status.Conditions, "computing and writing the policy")
	if err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	outcome := r.sync(ctx, obj)
	return r.report(ctx, before, obj, outcome)
}

// declaredPolicy is where a policy is and what its owner declares in it.
type declaredPolicy struct {
	Target     policy.FunctionRef // complete: partition, region, account
	Identity   awslambda.Identity // who acts on Target
	OwnAccount string             // the operator's own account (access rules of included objects)
	Statements []policy.Statement // the object's own, as they are written
}

// sync makes the policy what obj declares, and records what it found and
// did in the status. It returns nil once the policy is as declared.
func (r *LambdaResourcePolicyReconciler) sync(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) error {
	want, err := r.declared(ctx, obj)
	if err != nil {
		return err
	}
	obj.Status.ResourceArn = want.Target.ResourceARN()
	if owner, err := r.Permissions.policyOwner(ctx, r.Permissions.policyTargetKey(obj)); err != nil {
		return err
	} else if owner != nil && owner.UID != obj.UID {
		return stalled(ReasonPolicyOwnerConflict,
			"the policy of %s is owned by LambdaResourcePolicy %s/%s, created first; a policy has one owner: merge the two, or delete one",
			want.Target.ResourceARN(), owner.Namespace, owner.Name)
	}

	m := mode{Observe: obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve, DryRun: r.Permissions.DryRun}
	wasInPlace := policyWasInPlace(obj)
	applied, plan, err := r.writePolicy(ctx, obj, want, policyWriteKey(obj, ""), func(observed writer.Observed, included func(sid string) bool) policyPlan {
		return planPolicy(observed, want.Target, want.Statements, included, m)
	})
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	now := metav1.NewTime(r.Permissions.now())
	if applied.SizeKnown {
		obj.Status.PolicySize, obj.Status.PolicySizeLimit = int32(applied.PolicySize), policy.MaxPolicySize
		obj.Status.StatementCount = int32(applied.Statements)
	}
	switch {
	case err != nil:
		return policyFailure(err)
	case plan.Refusal != nil:
		obj.Status.IncludedStatements = int32(plan.Included)
		obj.Status.PendingChange = nil
		if !plan.Change.empty() {
			obj.Status.PendingChange = changeStatus(plan.Change, now)
		}
		return plan.Refusal
	}
	obj.Status.PendingChange = nil
	obj.Status.StatementCount, obj.Status.IncludedStatements = int32(plan.Statements), int32(plan.Included)
	if applied.SizeKnown {
		// After a batch, the policy holds what every plan in it wrote: as
		// declared, it is this object's statements and included ones.
		obj.Status.StatementCount = int32(applied.Statements)
		obj.Status.IncludedStatements = int32(max(applied.Statements-len(want.Statements), 0))
	}
	obj.Status.PolicyRevisionID = plan.Revision
	if applied.RevisionID != "" {
		obj.Status.PolicyRevisionID = applied.RevisionID
	}
	obj.Status.LastSyncTime = &now
	if len(applied.Writes) > 0 {
		obj.Status.LastChange = changeStatus(plan.Change, now)
		operation := applied.Writes[0].Operation
		if wasInPlace {
			metrics.DriftCorrected("policy")
			r.event(obj, corev1.EventTypeWarning, EventDriftCorrected, operation,
				"the policy of %s was changed outside this operator; restored in one write: %s", want.Target.ResourceARN(), plan.Change)
		} else {
			r.event(obj, corev1.EventTypeNormal, EventPolicyWritten, operation, "wrote the policy of %s in one write: %s", want.Target.ResourceARN(), plan.Change)
		}
		if applied.Resized != nil && crossesNearLimit(applied.Resized.Before, applied.Resized.After, policy.MaxPolicySize) {
			r.event(obj, corev1.EventTypeWarning, EventPolicyNearLimit, operation,
				"the policy of %s is now about %d bytes, over 90%% of Lambda's limit of %d", want.Target.ResourceARN(), applied.Resized.After, policy.MaxPolicySize)
		}
	}
	return nil
}

func changeStatus(c policyChange, at metav1.Time) *lambdav1alpha1.PolicyChange {
	return &lambdav1alpha1.PolicyChange{Time: &at, Added: c.Added, Changed: c.Changed, Removed: c.Removed}
}

// declared computes, from the spec (and the function's account for a bare
// name), where the policy is, who may write it, and the statements the
// object declares, refusing before any write what Lambda or the account's
// guardrails would refuse.
func (r *LambdaResourcePolicyReconciler) declared(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) (declaredPolicy, error) {
	p := r.Permissions
	named, err := specTarget(obj.Spec.FunctionName, obj.Spec.Qualifier, obj.Spec.Region)
	if err != nil {
		return declaredPolicy{}, err
	}
	var accounts lambdav1alpha1.LambdaPermissionAccountList
	if err := r.List(ctx, &accounts); err != nil {
		return declaredPolicy{}, err
	}
	own, _, err := p.Lambda.Caller(ctx, awslambda.Identity{})
	if err != nil {
		return declaredPolicy{}, lambdaFailure(err, "finding the operator's own AWS account")
	}
	var ns corev1.Namespace
	if err := r.Get(ctx, client.ObjectKey{Name: obj.Namespace}, &ns); err != nil {
		return declaredPolicy{}, err
	}
	allowed, err := decideAccess(accessRequest{Namespace: obj.Namespace, NamespaceLabels: ns.Labels, Target: named,
		Accounts: accounts.Items, OwnAccount: own, Guardrails: p.Guardrails, DefaultStrategy: p.defaultStrategy(), OwnedPolicy: true})
	if err != nil {
		return declaredPolicy{}, err
	}
	target := allowed.target.WithDefaults(p.DefaultRegion, "")
	if target.AccountID == "" {
		if target, err = p.functions.resolve(ctx, allowed.identity, p.Lambda.For(allowed.identity), target); err != nil {
			return declaredPolicy{}, lambdaFailure(err, "looking up function %s in %s", target.Name, target.Region)
		}
	}
	statements, err := translate.DeclaredStatements(obj.Spec.Policy, target)
	if err != nil {
		return declaredPolicy{}, stalled(ReasonInvalidSpec, "%v", err)
	}
	if err := checkStatementGuardrails(statements, allowed.guardrails); err != nil {
		return declaredPolicy{}, err
	}
	return declaredPolicy{Target: target, Identity: allowed.identity, OwnAccount: own, Statements: statements}, nil
}

// checkStatementGuardrails applies the account's guardrails to each Allow
// statement, as to a LambdaPermission's.
func checkStatementGuardrails(statements []policy.Statement, g GuardrailSettings) error {
	for _, st := range statements {
		switch {
		case st.IsPublic() && !g.AllowPublicAccess:
			return stalled(ReasonPublicAccessDenied,
				"statement %q allows principal * with no condition that narrows it, so anyone may call the function; "+
					"narrow it (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, lambda:FunctionUrlAuthType AWS_IAM), or have a cluster admin set allowPublicAccess", st.Sid)
		case st.IsServiceWithoutSource() && !g.AllowServiceWithoutSource:
			return stalled(ReasonSourceRequired,
				"statement %q allows a service principal without an aws:SourceArn or aws:SourceAccount condition, so resources in any account can make the service call the function; "+
					"add one, or have a cluster admin set allowServiceWithoutSource", st.Sid)
		}
	}
	return nil
}

// finalize takes out the statements the object wrote unless its
// deletionPolicy is Retain (or it only observed), then releases it. The
// included LambdaPermissions' statements stay: they are theirs.
func (r *LambdaResourcePolicyReconciler) finalize(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, PolicyFinalizer) {
		return ctrl.Result{}, nil
	}
	switch {
	case obj.Spec.DeletionPolicy == lambdav1alpha1.DeletionPolicyRetain:
		r.event(obj, corev1.EventTypeNormal, EventRetained, "Delete", "deletionPolicy is Retain: the policy of %s is left as it is", obj.Status.ResourceArn)
	case obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve:
		r.event(obj, corev1.EventTypeNormal, EventRetained, "Delete", "managementPolicy is Observe: the policy of %s is left as it is", obj.Status.ResourceArn)
	default:
		if err := r.removeOwnStatements(ctx, obj); err != nil {
			return r.report(ctx, obj.DeepCopy(), obj, err)
		}
	}
	controllerutil.RemoveFinalizer(obj, PolicyFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Update(ctx, obj))
}

// removeOwnStatements takes the object's statements out of its policy, in
// one write (DeleteResourcePolicy when nothing else is left). An object
// that never owned the policy wrote nothing; a function already gone, or a
// spec that cannot be read, holds nothing to remove.
func (r *LambdaResourcePolicyReconciler) removeOwnStatements(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) error {
	want, err := r.declared(ctx, obj)
	switch {
	case isFunctionNotFound(err) || isStalled(err):
		return nil
	case err != nil:
		return err
	}
	if owner, err := r.Permissions.policyOwner(ctx, r.Permissions.policyTargetKey(obj)); err != nil || (owner != nil && owner.UID != obj.UID) {
		return err
	}
	dryRun := r.Permissions.DryRun
	applied, plan, err := r.writePolicy(ctx, obj, want, policyWriteKey(obj, "delete"), func(observed writer.Observed, included func(sid string) bool) policyPlan {
		return planPolicyRemoval(observed, want.Statements, included, dryRun)
	})
	if errors.Is(err, writer.ErrQueued) {
		return err
	}
	switch {
	case err != nil && awslambda.KindOf(err) == awslambda.NotFound:
		return nil
	case err != nil:
		return policyFailure(err)
	case plan.Refusal != nil && plan.Refusal.Reason == ReasonDryRun:
		r.event(obj, corev1.EventTypeNormal, ReasonDryRun, "PutResourcePolicy", "%s in the policy of %s", plan.Refusal.Message, want.Target.ResourceARN())
	case plan.Refusal != nil:
		return plan.Refusal
	case len(applied.Writes) > 0:
		r.event(obj, corev1.EventTypeNormal, EventPolicyDeleted, applied.Writes[0].Operation,
			"took this object's statements out of the policy of %s: %s", want.Target.ResourceARN(), plan.Change)
	}
	return nil
}

// report writes the status once from the outcome, emits an Event for a
// failure, and says when to come back.
func (r *LambdaResourcePolicyReconciler) report(ctx context.Context, before, obj *lambdav1alpha1.LambdaResourcePolicy, outcome error) (ctrl.Result, error) {
	if errors.Is(outcome, writer.ErrQueued) {
		return ctrl.Result{RequeueAfter: queuedRecheck}, nil
	}
	obj.Status.ObservedGeneration = obj.Generation
	state := stateOf(outcome)
	if state != nil {
		metrics.ReconcileFailed(state.Reason)
	}
	if checkFailedInPlace(state, policyWasInPlace(obj)) {
		r.event(obj, corev1.EventTypeNormal, state.Reason, "GetPolicy", "checking the policy: %s", state.Message)
		return nextReconcile(state, r.Permissions.SyncPeriod)
	}
	setConditions(&obj.Status.Conditions, obj.Generation, outcome, ReasonSynced, "the policy holds exactly the declared statements and the included LambdaPermissions'")
	if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if state != nil {
		eventType := corev1.EventTypeWarning
		if state.Reason == ReasonDryRun {
			eventType = corev1.EventTypeNormal
		}
		r.event(obj, eventType, state.Reason, "Reconcile", "%s", state.Message)
	}
	return nextReconcile(state, r.Permissions.SyncPeriod)
}

// writePolicy makes one Write of the policy want names, under key, with the
// plan that plan makes from the policy as observed and the Sids included in
// it. It returns what was applied and the plan it applied.
func (r *LambdaResourcePolicyReconciler) writePolicy(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy, want declaredPolicy, key string,
	plan func(observed writer.Observed, included func(sid string) bool) policyPlan) (writer.Applied, policyPlan, error) {
	applied, err := r.writerFor(want).Write(ctx, key, r.freshness(obj), func(observed writer.Observed) writer.Plan {
		// The included Sids are read when the plan runs, not when the
		// reconcile began: a LambdaPermission whose statement is in this
		// write, or was in the one before, is already in the cache.
		included, err := r.Permissions.includedSids(context.Background(), obj, want.OwnAccount)
		if err != nil {
			return writer.Plan{Note: policyPlan{Refusal: retrying(ReasonRetrying, err, "listing the LambdaPermissions on the policy: %v", err)}}
		}
		made := plan(observed, func(sid string) bool { return included[sid] })
		writes := made.Writes
		writes.Note = made
		return writes
	})
	made, _ := applied.Note.(policyPlan)
	return applied, made, err
}

func (r *LambdaResourcePolicyReconciler) writerFor(want declaredPolicy) writer.Writer {
	p := r.Permissions
	return p.writers.For(p.Lambda.For(want.Identity), want.Target, writer.Document)
}

// freshness is how old a view of the policy obj's reconcile may use: a sync
// period, unless the user asked for a check since.
func (r *LambdaResourcePolicyReconciler) freshness(obj *lambdav1alpha1.LambdaResourcePolicy) writer.Freshness {
	at, _ := time.Parse(time.RFC3339Nano, obj.Annotations[SyncRequestedAnnotation])
	return writer.Freshness{MaxAge: r.Permissions.SyncPeriod, NotBefore: at}
}

// policyWriteKey names a Write of obj's (what: "delete" for its removal).
func policyWriteKey(obj *lambdav1alpha1.LambdaResourcePolicy, what string) string {
	key := policyKeyPrefix + obj.Namespace + "/" + obj.Name
	if what != "" {
		key += "#" + what
	}
	return key
}

// policyWasInPlace reports whether the last sync, at this generation, found
// or made the policy as declared: a write now corrects drift.
func policyWasInPlace(obj *lambdav1alpha1.LambdaResourcePolicy) bool {
	for _, c := range obj.Status.Conditions {
		if c.Type == ConditionReady {
			return c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation && obj.Status.LastSyncTime != nil
		}
	}
	return false
}

func (r *LambdaResourcePolicyReconciler) event(obj *lambdav1alpha1.LambdaResourcePolicy, eventType, reason, action, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, format, args...)
	}
}
