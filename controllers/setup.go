package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Retries of a failing object: exponential from retryBase to retryCap.
const (
	retryBase = 100 * time.Millisecond
	retryCap  = 5 * time.Minute
)

// Kind names one of the operator's controllers.
type Kind string

const (
	LambdaPermissionKind            Kind = "LambdaPermission"
	LambdaResourcePolicyKind        Kind = "LambdaResourcePolicy"
	LambdaFunctionURLPermissionKind Kind = "LambdaFunctionURLPermission"
	LambdaPermissionAccountKind     Kind = "LambdaPermissionAccount"
)

// AllKinds are the controllers Setup runs when Options.Kinds is empty.
var AllKinds = []Kind{LambdaPermissionKind, LambdaResourcePolicyKind, LambdaFunctionURLPermissionKind, LambdaPermissionAccountKind}

// Options configure the operator's controllers.
type Options struct {
	// Lambda reaches AWS: awslambda.NewClients with the observer of
	// metrics.AWSCallObserver, so that every call is counted.
	Lambda                  awslambda.Provider
	Recorder                events.EventRecorder
	DefaultRegion           string                    // region of functions named without one
	SyncPeriod              time.Duration             // how often a Ready statement is checked for drift
	Guardrails              engine.GuardrailSettings  // operator-wide; LambdaPermissionAccounts may override
	DryRun                  bool                      // report intended writes instead of making them
	WriteStrategy           writer.Strategy           // for accounts no LambdaPermissionAccount declares (default Statements)
	Compaction              lambdav1alpha1.Compaction // for accounts that set none (--compaction); zero: Off
	MaxConcurrentReconciles int                       // LambdaPermissions reconciled at once
	StatementIDPrefix       string                    // starts every derived Sid (see translate.ValidateStatementIDPrefix)
	// Shard selects the objects this instance reconciles
	// (--watch-label-selector, ParseShard); nil: all. The manager's cache
	// must hold what ShardCache says.
	Shard labels.Selector
	// Kinds are the controllers to run (default AllKinds): an operator
	// for one kind beside another's, as tests run them.
	Kinds []Kind
	// OnQueued is told, besides the lambda_permission_policy_changes_queued
	// gauge, when a change starts waiting for its policy's write and when
	// it has been written (tests wait for exactly their changes).
	OnQueued func(key engine.WriteKey, waiting bool)
}

// Setup builds the policy engine and registers the controllers with mgr.
func Setup(mgr ctrl.Manager, o Options) error {
	if err := translate.ValidateStatementIDPrefix(o.StatementIDPrefix); err != nil {
		return fmt.Errorf("statement-id prefix %w", err)
	}
	// Every informer the controllers use exists before the manager starts,
	// so that it waits for all of them to sync before any controller runs
	// (informers made later by a controller's own start are not waited for).
	for _, kind := range []client.Object{&lambdav1alpha1.LambdaPermission{}, &lambdav1alpha1.LambdaPermissionAccount{},
		&lambdav1alpha1.LambdaFunctionURLPermission{}, &lambdav1alpha1.LambdaResourcePolicy{}, &corev1.Namespace{}} {
		if _, err := mgr.GetCache().GetInformer(context.Background(), kind); err != nil {
			return fmt.Errorf("setting up the %T informer: %w", kind, err)
		}
	}
	events := kernel.Recorder{EventRecorder: o.Recorder}
	policies := engine.New(engine.Config{
		Settings: engine.Settings{DefaultRegion: o.DefaultRegion, SyncPeriod: o.SyncPeriod, Guardrails: o.Guardrails,
			DryRun: o.DryRun, WriteStrategy: o.WriteStrategy, Compaction: o.Compaction, StatementIDPrefix: o.StatementIDPrefix, Shard: o.Shard},
		Lambda: o.Lambda, Cluster: engine.CacheCluster{Reader: mgr.GetClient()}, Events: events, OnQueued: o.OnQueued,
	})
	if err := policies.IndexFields(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("indexing the policies' objects: %w", err)
	}
	c := mgr.GetClient()
	setups := map[Kind]func() error{
		LambdaPermissionKind: func() error {
			return (&permissions{client: c, engine: policies}).setup(mgr,
				&kernel.Reconciler[*lambdav1alpha1.LambdaPermission]{Client: c, Events: events, SyncPeriod: o.SyncPeriod}, o.MaxConcurrentReconciles)
		},
		LambdaResourcePolicyKind: func() error {
			return (&resourcePolicies{client: c, engine: policies}).setup(mgr,
				&kernel.Reconciler[*lambdav1alpha1.LambdaResourcePolicy]{Client: c, Events: events, SyncPeriod: o.SyncPeriod}, o.Shard)
		},
		LambdaFunctionURLPermissionKind: func() error {
			return (&functionURLs{Client: c, StatementIDPrefix: o.StatementIDPrefix, Shard: o.Shard, Live: mgr.GetAPIReader()}).setup(mgr)
		},
		LambdaPermissionAccountKind: func() error { return (&accounts{Client: c, AWS: o.Lambda}).setup(mgr, o.Shard) },
	}
	for _, kind := range AllKinds {
		if len(o.Kinds) > 0 && !slices.Contains(o.Kinds, kind) {
			continue
		}
		if err := setups[kind](); err != nil {
			return fmt.Errorf("setting up the %s controller: %w", kind, err)
		}
	}
	return mgr.Add(metrics.Leadership{Shard: shardName(o.Shard), Elected: mgr.Elected()})
}

// shardName is shard's selector, empty for the instance of all objects.
func shardName(shard labels.Selector) string {
	if shard == nil {
		return ""
	}
	return shard.String()
}

// policyController is the builder of a policy kind's controller: r's
// reconcile of the kind's objects, woken by their spec, annotation and
// deletion changes and by their queued writes (wakes), retried with the
// jittered backoff (which r counts deferrals and throttles in), workers at
// a time (0: one).
func policyController[T kernel.Reconciled](mgr ctrl.Manager, name string, r *kernel.Reconciler[T], wakes <-chan event.GenericEvent, workers int) *builder.Builder {
	r.Backoff = kernel.NewJitteredBackoff(retryBase, retryCap)
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(r.Kind.New(), builder.WithPredicates(specChanged)).
		WatchesRawSource(source.Channel(wakes, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, RateLimiter: r.Backoff})
}

// watchAccess wakes a kind's objects when what decides their access
// changes: a LambdaPermissionAccount (all of them), a namespace's labels
// (those inNamespace names).
func watchAccess(b *builder.Builder, all, inNamespace handler.MapFunc) *builder.Builder {
	return b.Watches(&lambdav1alpha1.LambdaPermissionAccount{}, handler.EnqueueRequestsFromMapFunc(all),
		builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(inNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{}))
}

// specChanged passes what a reconcile must follow: spec, annotation and
// deletion changes, and label changes (an object that moves into this
// shard). Status writes do not pass (they would make every sync schedule
// another).
var specChanged = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}, deletionStarted)

// ownerChanged passes the changes of a LambdaResourcePolicy that decide
// how, and whether, the objects on its policy may write: it came or went,
// its spec changed, or it moved to another shard.
var ownerChanged = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, deletionStarted)

var deletionStarted = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
}

// statementWritten passes an update in which a LambdaPermission's statement
// was written, changed or taken out (status.statement changed), so that the
// owner of its policy counts the policy's statements again rather than at
// its next sync. Its other status writes pass nothing.
var statementWritten = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*lambdav1alpha1.LambdaPermission)
		now, okNew := e.ObjectNew.(*lambdav1alpha1.LambdaPermission)
		return okOld && okNew && old.Status.Statement != now.Status.Statement
	},
}

func requestFor(obj client.Object) reconcile.Request {
	return reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
}

// requestsFor are the requests to reconcile each of items.
func requestsFor[T any, P interface {
	*T
	client.Object
}](items []T) []reconcile.Request {
	requests := make([]reconcile.Request, 0, len(items))
	for i := range items {
		requests = append(requests, requestFor(P(&items[i])))
	}
	return requests
}

// What wakes each policy kind's controller.

// setup registers the controller, reconciling with r.
func (a *permissions) setup(mgr ctrl.Manager, r *kernel.Reconciler[*lambdav1alpha1.LambdaPermission], workers int) error {
	r.Kind = kernel.Kind[*lambdav1alpha1.LambdaPermission]{Name: "LambdaPermission", New: func() *lambdav1alpha1.LambdaPermission { return &lambdav1alpha1.LambdaPermission{} },
		Finalizer: lambdav1alpha1.PermissionFinalizer, Subject: "statement", ReadyMessage: "the statement is in the function's policy as specified",
		Sync: a.sync, Cleanup: a.engine.RemoveOwnStatement, Retention: statementRetention, InPlace: engine.StatementInPlace, Settled: a.managed.Set}
	b := policyController(mgr, "lambdapermission", r, a.engine.Wakes(engine.PermissionKind), workers).
		Watches(&lambdav1alpha1.LambdaPermission{}, handler.EnqueueRequestsFromMapFunc(a.otherClaimants),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		// A LambdaResourcePolicy that comes, changes or goes decides how
		// the statements on its policy are written, or whether they may be.
		Watches(&lambdav1alpha1.LambdaResourcePolicy{}, handler.EnqueueRequestsFromMapFunc(a.permissionsOnPolicyOf),
			builder.WithPredicates(ownerChanged))
	return watchAccess(b, a.allObjects, a.objectsInNamespace).Complete(r)
}

// otherClaimants wakes the other objects claiming the same statement when
// one of them is created, changed or deleted: a SidConflict may have cleared.
func (a *permissions) otherClaimants(ctx context.Context, o client.Object) []reconcile.Request {
	obj, ok := o.(*lambdav1alpha1.LambdaPermission)
	if !ok {
		return nil
	}
	claimants, err := a.engine.Claimants(ctx, obj)
	if err != nil {
		return nil
	}
	var requests []reconcile.Request
	for i := range claimants {
		if claimants[i].UID != obj.UID {
			requests = append(requests, requestFor(&claimants[i]))
		}
	}
	return requests
}

func (a *permissions) permissionsOnPolicyOf(ctx context.Context, o client.Object) []reconcile.Request {
	owner, ok := o.(*lambdav1alpha1.LambdaResourcePolicy)
	if !ok {
		return nil
	}
	objs, err := a.engine.PermissionsOnPolicyOf(ctx, owner)
	if err != nil {
		return nil
	}
	return requestsFor(objs)
}

func (a *permissions) allObjects(ctx context.Context, _ client.Object) []reconcile.Request {
	return a.requests(ctx)
}

func (a *permissions) objectsInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	return a.requests(ctx, client.InNamespace(ns.GetName()))
}

func (a *permissions) requests(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list lambdav1alpha1.LambdaPermissionList
	if err := a.client.List(ctx, &list, opts...); err != nil {
		return nil
	}
	return requestsFor(list.Items)
}

// setup registers the controller, reconciling with r the objects of shard.
func (a *resourcePolicies) setup(mgr ctrl.Manager, r *kernel.Reconciler[*lambdav1alpha1.LambdaResourcePolicy], shard labels.Selector) error {
	r.Kind = kernel.Kind[*lambdav1alpha1.LambdaResourcePolicy]{Name: "LambdaResourcePolicy", New: func() *lambdav1alpha1.LambdaResourcePolicy { return &lambdav1alpha1.LambdaResourcePolicy{} },
		Finalizer: lambdav1alpha1.ResourcePolicyFinalizer, Subject: "policy", ReadyMessage: "the policy holds exactly the declared statements and the included LambdaPermissions'",
		Sync: a.sync, Cleanup: a.engine.RemoveOwnStatements, Retention: policyRetention, InPlace: engine.PolicyInPlace}
	// A LambdaPermission that comes or goes changes what the policy
	// includes, and one whose statement is written changes what it holds
	// (the owner's counts); an owner that goes may clear another's
	// conflict.
	b := policyController(mgr, "lambdaresourcepolicy", r, a.engine.Wakes(engine.ResourcePolicyKind), 0).
		Watches(&lambdav1alpha1.LambdaPermission{}, handler.EnqueueRequestsFromMapFunc(a.policiesOnPolicyOf),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted, statementWritten))).
		Watches(&lambdav1alpha1.LambdaResourcePolicy{}, handler.EnqueueRequestsFromMapFunc(a.policiesOnPolicyOf),
			builder.WithPredicates(ownerChanged))
	return watchAccess(b, a.allPolicies, a.allPolicies).Complete(inShard(a.client, shard, r.Kind.New, r))
}

// policiesOnPolicyOf is every LambdaResourcePolicy on the policy that a
// LambdaPermission or LambdaResourcePolicy is on.
func (a *resourcePolicies) policiesOnPolicyOf(ctx context.Context, o client.Object) []reconcile.Request {
	list, err := a.engine.ResourcePoliciesOnPolicyOf(ctx, o)
	if err != nil {
		return nil
	}
	return requestsFor(list)
}

func (a *resourcePolicies) allPolicies(ctx context.Context, _ client.Object) []reconcile.Request {
	var list lambdav1alpha1.LambdaResourcePolicyList
	if err := a.client.List(ctx, &list); err != nil {
		return nil
	}
	return requestsFor(list.Items)
}
