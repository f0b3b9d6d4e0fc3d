// Package kernel is the reconcile every policy kind shares, and the pieces
// every kind's controller uses: one error model (StateError: the condition a
// failure shows as, and when to come back), the kstatus conditions, the
// requeue decision, the retry backoff, Events, and how fresh a view of a
// policy a reconcile may use.
//
// A kind plugs into Reconciler with a Kind: what syncing one object does,
// what cleaning up after it does, and whether it was in place. The
// Reconciler does the rest in one order for every kind: load the object;
// when it is being deleted, clean up and release it; hold its deletion and
// say that work has started; sync; report (one status patch, an Event for
// a failure, and when to come back).
package kernel
