package kernel

import (
	"context"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// announceAfter is how long a new object may go without a status, counted
// from its creation (or from when this operator began to reconcile, if
// later), while its first reconcile works. kstatus reads an
// object without status as Current (see the README on Flux), so one whose
// outcome is not known by then says first that work has started. Most are
// known sooner, and a new object then costs one status write, not two:
// five seconds covers a Document batch waiting for its turn at AWS's
// default quota with fifty functions in the burst (README: Performance).
const announceAfter = 5 * time.Second

// announce starts the reconcile of obj. For a new object (no status yet) it
// says in the status that work has started, if the outcome is not known by
// announceAfter after the object's creation: at once when that is past. The
// function it returns stops it and gives the base of the final status
// patch: obj as loaded, or as announced.
func (r *Reconciler[T]) announce(ctx context.Context, obj T) (stop func() T) {
	base := obj.DeepCopyObject().(T)
	if obj.GetObservedGeneration() != 0 {
		return func() T { return base }
	}
	var mu sync.Mutex
	stopped := false
	announceNow := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		started := startedStatus(base, "computing and writing the "+r.Kind.Subject)
		// The patch is sent from a copy: the answer's metadata (a new
		// resourceVersion) must not become the base of the final patch,
		// which would then carry the loaded resourceVersion as a
		// precondition and conflict with this very write. A failed patch
		// is not retried: this reconcile's report writes the status anyway.
		if err := r.Client.Status().Patch(ctx, started.DeepCopyObject().(T), client.MergeFrom(base)); err == nil {
			base = started
		}
	}
	wait := untilAnnounced(base, r.began(), time.Now())
	if wait <= 0 {
		announceNow()
		return func() T { return base }
	}
	timer := time.AfterFunc(wait, announceNow)
	return func() T {
		timer.Stop()
		mu.Lock() // an announcement under way ends first
		defer mu.Unlock()
		stopped = true
		return base
	}
}

// untilAnnounced is how long from now a new object may still go without a
// status (≤ 0: no longer), or queuedRecheck for an object that has one.
// The time counts from the object's creation, or from began, when this
// operator began to reconcile, if that is later: objects created while no
// operator ran (a backlog after an install, an upgrade, an outage) went
// without status until then anyway, and announcing each at once would cost
// a status write per object before any of their work, which then waits.
func untilAnnounced(obj Object, began, now time.Time) time.Duration {
	if obj.GetObservedGeneration() != 0 {
		return queuedRecheck
	}
	from := obj.GetCreationTimestamp().Time
	if began.After(from) {
		from = began
	}
	return from.Add(announceAfter).Sub(now)
}

// began is when this Reconciler first reconciled: under leader election,
// when this replica began to lead, not when it started.
func (r *Reconciler[T]) began() time.Time {
	r.beganOnce.Do(func() { r.beganAt = time.Now() })
	return r.beganAt
}

// startedStatus is obj with the status that says work on its generation
// has started (what: the work): Reconciling, not yet Ready.
func startedStatus[T Object](obj T, what string) T {
	started := obj.DeepCopyObject().(T)
	started.SetObservedGeneration(started.GetGeneration())
	conditions := started.GetConditions()
	SetConditions(&conditions, started.GetGeneration(), Retrying(lambdav1alpha1.ReasonProgressing, nil, "%s", what), "", "")
	started.SetConditions(conditions)
	return started
}
