//go:build integration

package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// Shards: operators on one control plane, each started as
// --watch-label-selector starts it, with the tests' objects labelled
// managerLabel=shards so that the suite's operator leaves them alone.

// mainShard is the instance beside the shards: objects without the label.
const mainShard = ""

// shardSelector is the --watch-label-selector of shard (mainShard: the
// main instance's), within the tests' objects.
func shardSelector(t *testing.T, shard string) labels.Selector {
	t.Helper()
	selector := managerLabel + "=shards,"
	if shard == mainShard {
		selector += "!" + lambdav1alpha1.ShardLabel
	} else {
		selector += lambdav1alpha1.ShardLabel + "=" + shard
	}
	parsed, err := controllers.ParseShard(selector)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// inShard labels obj into shard.
func inShard[T client.Object](obj T, shard string) T {
	set := map[string]string{managerLabel: "shards"}
	if shard != mainShard {
		set[lambdav1alpha1.ShardLabel] = shard
	}
	obj.SetLabels(set)
	return obj
}

// shardOperator is one shard's operator as a test sees it: what it wrote
// Events about, and the Lambda calls it made.
type shardOperator struct {
	selector labels.Selector
	lease    string
	events   *eventedObjects
	lambda   *countingLambda
	queue    *changeQueue // its changes waiting for their policy's write (Document)
}

// startShard runs the operator of shard with the kinds given and the
// write strategy, electing its leader when lease is set.
func startShard(t *testing.T, shard string, strategy writer.Strategy, lease bool, kinds ...controllers.Kind) *shardOperator {
	t.Helper()
	s := &shardOperator{selector: shardSelector(t, shard), events: &eventedObjects{}, lambda: &countingLambda{Provider: lambdaAPI},
		queue: &changeQueue{waiting: map[engine.WriteKey]bool{}}}
	opts := []harness.OperatorOption{harness.Shard(s.selector), harness.KubeAPIRate(100, 200), harness.WatchEvents(s.events.wrap)}
	if lease {
		s.lease = controllers.LeaderElectionID(s.selector)
		opts = append(opts, harness.LeaderElection(s.lease, "default"))
	}
	suite.RunOperator(t, controllers.Options{Lambda: s.lambda, DefaultRegion: region, SyncPeriod: syncPeriod, WriteStrategy: strategy,
		MaxConcurrentReconciles: 2, Kinds: kinds, OnQueued: s.queue.told}, opts...)
	return s
}

// eventedObjects records the names of the objects an operator recorded
// Events about.
type eventedObjects struct {
	mu    sync.Mutex
	names map[string]bool
}

func (e *eventedObjects) wrap(r events.EventRecorder) events.EventRecorder {
	return recordingRecorder{EventRecorder: r, seen: e}
}

func (e *eventedObjects) Names() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var names []string
	for name := range e.names {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

type recordingRecorder struct {
	events.EventRecorder
	seen *eventedObjects
}

func (r recordingRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if obj, ok := regarding.(client.Object); ok {
		r.seen.mu.Lock()
		if r.seen.names == nil {
			r.seen.names = map[string]bool{}
		}
		r.seen.names[obj.GetName()] = true
		r.seen.mu.Unlock()
	}
	r.EventRecorder.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

// countingLambda counts what Lambda answered one operator's writes: the
// stale RevisionIds (412) and the Sids added meanwhile (409) that made it
// read and plan again, and the writes.
type countingLambda struct {
	awslambda.Provider
	mu                   sync.Mutex
	writes, stale, added int
}

func (l *countingLambda) For(id awslambda.Identity) awslambda.Lambda {
	return countingPort{Lambda: l.Provider.For(id), counts: l}
}

func (l *countingLambda) count(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	switch awslambda.KindOf(err) {
	case awslambda.StaleRevision:
		l.stale++
	case awslambda.StatementExists:
		l.added++
	}
}

// Take returns the counts since the last Take.
func (l *countingLambda) Take() (writes, stale, added int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	writes, stale, added = l.writes, l.stale, l.added
	l.writes, l.stale, l.added = 0, 0, 0
	return writes, stale, added
}

type countingPort struct {
	awslambda.Lambda
	counts *countingLambda
}

func (p countingPort) AddPermission(ctx context.Context, ref policy.FunctionRef, perm policy.Permission) (string, error) {
	stored, err := p.Lambda.AddPermission(ctx, ref, perm)
	p.counts.count(err)
	return stored, err
}

func (p countingPort) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error {
	err := p.Lambda.RemovePermission(ctx, ref, sid, revisionID)
	p.counts.count(err)
	return err
}

func (p countingPort) PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (awslambda.Policy, error) {
	stored, err := p.Lambda.PutResourcePolicy(ctx, ref, document, revisionID)
	p.counts.count(err)
	return stored, err
}

func (p countingPort) DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error {
	err := p.Lambda.DeleteResourcePolicy(ctx, ref, revisionID)
	p.counts.count(err)
	return err
}

// waitLeaseHeld waits until lease exists in the default namespace with a
// holder.
func waitLeaseHeld(t *testing.T, lease string) {
	t.Helper()
	eventually(t, "lease "+lease+" held", func() string {
		var l coordinationv1.Lease
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: lease}, &l); err != nil {
			return err.Error()
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
			return "no holder"
		}
		return ""
	})
}

// report logs what the shards' writes cost since the last report.
func report(t *testing.T, what string, shards map[string]*shardOperator) {
	t.Helper()
	for _, name := range []string{"a", "b"} {
		writes, stale, added := shards[name].lambda.Take()
		t.Logf("%s: shard %s made %d writes; %d found the RevisionId stale (412), %d found the Sid added (409)", what, name, writes, stale, added)
	}
}

// change is a change to a shard's objects: their statements (removal
// false) or the removal of their statements.
type change struct {
	shard   *shardOperator
	objs    []*lambdav1alpha1.LambdaPermission
	removal bool
}

// atOnce applies the changes to both shards' objects at once. With the
// Document strategy the shards' calls about fn wait until every change is
// queued, so that both shards read the policy at one revision and write it
// at the same moment: the worst case.
func atOnce(t *testing.T, strategy writer.Strategy, fn string, apply func(), changes ...change) {
	t.Helper()
	if strategy != writer.Document {
		apply()
		return
	}
	release := lambdaAPI.Hold(fn)
	defer release()
	apply()
	eventually(t, "every change queued", func() string {
		for _, c := range changes {
			if missing := c.shard.queue.notWaiting(c.objs, c.removal); missing > 0 {
				return fmt.Sprintf("%d of %s's %d changes not queued", missing, c.shard.selector, len(c.objs))
			}
		}
		return ""
	})
}
