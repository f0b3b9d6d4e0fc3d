// Package writer is the one place where a Lambda policy is changed. There is
// one Writer per policy (of a function, a version or an alias), shared by
// every object with a statement in it, whichever reconciler it belongs to.
//
// A Writer keeps the operator's view of its policy: read from Lambda when it
// is older than the caller allows, and kept current by the Writer's own
// writes in between, so that a thousand objects on one function cost one
// GetPolicy per sync period, not a thousand. A reconciler hands it a
// Planner, a pure function from the policy as observed to the statements to
// put and remove; the Writer runs it against the view and makes the writes
// under the policy's RevisionId. When the policy changed under a write (412,
// a Sid that appeared, a statement already gone), it reads again and plans
// again, a few times, instead of writing from a stale read.
//
// How writes are made is the Strategy. Statements, the first, makes one
// AddPermission or RemovePermission call per statement, and a replacement is
// a remove under the RevisionId followed by an add.
package writer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// maxTries bounds how often one Write tries its writes when other writers
// keep changing the policy between its read and its write.
const maxTries = 4

// Writer observes and changes one policy. K names who asks for a Write.
type Writer[K comparable] interface {
	// Write observes the policy as fresh allows, asks plan what to change,
	// and makes the changes, planning again from a fresh read when the
	// policy changed under a write. It returns every write made, also when
	// it fails part-way (WriteDecided also returns the decision they were
	// made from).
	//
	// A Writer may instead queue the plan and return ErrQueued; it then
	// calls Writers.Wake with key when the plan has been written, and the
	// next Write with key returns what was done. Key names who asks: an
	// object, or one of its removals.
	Write(ctx context.Context, key K, fresh Freshness, plan Planner) (Applied, error)
}

// ErrQueued says that a Write's plan waits for its policy's next write; its
// key is woken when the write is done.
var ErrQueued = errors.New("queued for the policy's next write")

// Strategy is how a Writer makes its writes.
type Strategy string

const (
	// Statements writes one statement per call with AddPermission and
	// RemovePermission: what every tool has always used, and the only way
	// that needs no more than lambda:AddPermission and lambda:RemovePermission.
	Statements Strategy = "Statements"
	// Document writes the whole policy with one PutResourcePolicy under its
	// RevisionId, for every change that objects on the policy need at about
	// the same time (SPEC §16).
	Document Strategy = "Document"
)

// Planner decides, from the policy as observed, what to write. It must be a
// pure function of what it is given and what it closes over: it may run
// more than once, against newer reads, before the writes are made.
type Planner func(Observed) Plan

// Decider is a Planner that also gives its own account of what it decided
// (N: why, what it found), for the caller to report from.
type Decider[N any] func(Observed) (Plan, N)

// WriteDecided is w.Write with a Decider: it returns, with what was
// written, the decision the writes were made from — the one of the last
// run, against the freshest read — or the zero N when no plan ran. For a
// queued plan that is in the Write after the key's wake-up.
func WriteDecided[K comparable, N any](ctx context.Context, w Writer[K], key K, fresh Freshness, decide Decider[N]) (Applied, N, error) {
	applied, err := w.Write(ctx, key, fresh, func(observed Observed) Plan {
		plan, note := decide(observed)
		plan.note = note
		return plan
	})
	note, _ := applied.note.(N)
	return applied, note, err
}

// Observed is the policy as the operator knows it.
type Observed struct {
	Document policy.PolicyDocument
	// RevisionID is the revision the document was read at. It is empty when
	// the function has no policy, and when the operator has written since
	// the read: AddPermission and RemovePermission do not return the new one.
	RevisionID string
	// Replacement is set when several statements the operator keeps in the
	// policy disappeared between two reads and are not all back yet.
	Replacement *Replacement
}

// Replacement is several statements the operator keeps disappearing at
// once: another writer replaced the whole policy (PutResourcePolicy:
// CloudFormation's AWS::Lambda::ResourcePolicy, Terraform's
// aws_lambda_resource_policy) or deleted it (DeleteResourcePolicy). One
// RemovePermission takes one statement, so one statement gone is ordinary
// drift, and is not reported here.
type Replacement struct {
	Lost    int      // how many kept statements disappeared together
	Missing []string // the Sids of those not back yet, sorted
}

// Lacks reports whether sid is one of the statements the replacement took
// that are not back yet.
func (r *Replacement) Lacks(sid string) bool { return r != nil && slices.Contains(r.Missing, sid) }

// Freshness says how old a view of a policy may be.
type Freshness struct {
	MaxAge    time.Duration // read again when the view is older than this
	NotBefore time.Time     // read again when the view was read before this (a user asked for a check)
}

// Plan is what one reconcile writes to one policy. The zero Plan writes
// nothing.
type Plan struct {
	Puts    []Put    // statements to add, or to replace
	Removes []Remove // statements to remove
	// Keep are the Sids of statements found in place that the operator
	// keeps there, and Release those it no longer keeps (found gone, or
	// changed by someone else): with the ones it puts and removes, they are
	// what a Replacement counts. Neither writes anything.
	Keep, Release []string
	// DropUnnamed takes out the statements without a Sid, which only a
	// whole-document write can (Document strategy; Statements ignores it).
	DropUnnamed bool
	// Grants are the plan's grants that may be compacted with others: the
	// ones it puts and the ones it finds in place (Document strategy).
	Grants []Grant
	// Drop takes grants out of the compacted statements that hold them
	// (Document strategy): an object's grant that it no longer wants.
	Drop []Grant
	// Compaction, when set, is how the policy compacts its grants.
	Compaction *Compaction
	// note is a Decider's own account of its decision, handed back by
	// WriteDecided: the writer does not read it.
	note any
}

// Empty reports whether the plan writes nothing.
func (p Plan) Empty() bool {
	return len(p.Puts) == 0 && len(p.Removes) == 0 && len(p.Drop) == 0 && !p.DropUnnamed
}

// Put puts one statement in the policy under its Sid.
type Put struct {
	Permission policy.Permission // the statement as AddPermission takes it
	Statement  policy.Statement  // and as Lambda stores it
	// Replaces is what the Sid holds now, when it holds anything: the write
	// is then a replacement, guarded by the revision it was seen at.
	Replaces *policy.StoredStatement
}

// Remove takes the statement Sid out of the policy.
type Remove struct {
	Sid string
}

// Applied lists the writes a Write made, in order, with the policy's size.
// Sizes are in Lambda's measure as estimated (policy.PolicyDocument.Size).
type Applied struct {
	Writes []Written
	note   any // the Decider's note of the plan they were made from (see WriteDecided)
	// PolicySize is the policy's size in the shared view when the Write
	// was done: after its writes, or as observed when it made none. It
	// costs no call. SizeKnown is false when there was no view: the policy
	// was never read, or a failed write dropped the view.
	PolicySize int
	SizeKnown  bool
	// Statements is how many statements the policy holds then (known with
	// the size).
	Statements int
	// RevisionID is the policy's revision after the Write, when known: a
	// whole-document write returns it; AddPermission and RemovePermission
	// do not.
	RevisionID string
	// Resized is set when the Write made writes and the view is known:
	// the size before them and after. In a Document batch it is the size
	// before and after this key's own part of the merged document, so that
	// a threshold is crossed by one key, not by every key of the batch.
	Resized *Resize
}

// Resize is a policy's size before and after one Write's writes.
type Resize struct {
	Before, After int
}

// Written is one write that Lambda accepted.
type Written struct {
	Operation string // the Lambda operation that made it: AddPermission, RemovePermission, PutResourcePolicy, DeleteResourcePolicy
	Sid       string
	Change    Change
	Stored    string // Added, Replaced: the statement as Lambda stored it
	Replacing bool   // Removed: to put a new statement under the same Sid
	// Compacted is set when the grant is written in a compacted statement
	// (Stored is then that statement), or was taken out of one.
	Compacted *policy.Holding
}

// Change is what a write did to a statement.
type Change string

const (
	Added    Change = "Added"
	Replaced Change = "Replaced" // in one write: the statement was never missing
	Removed  Change = "Removed"
)

// Error is a failed read or write of a policy.
type Error struct {
	Doing string // what failed, for a person: "adding statement "s3" to arn:…"
	// Read is true when the policy could not be read, so nothing was
	// written: whatever was in place is still in place as far as anyone knows.
	Read bool
	Err  error // the classified Lambda failure (*awslambda.Error)
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Doing, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Writers hands out the Writer of each policy. The Writers of one policy
// share its view and take turns, whichever identity's port they call
// through: Lambda is known to drop statements when AddPermission and
// RemovePermission calls on one function run in parallel (SPEC §8).
type Writers[K comparable] struct {
	Now func() time.Time // the clock that dates the views (default time.Now)
	// Wake is called with the key of a queued plan once it has been
	// written (see Writer.Write).
	Wake func(key K)
	// Queued is told when a key's plan starts waiting for a policy write
	// (waiting true) and when a write has taken it and the key has not been
	// queued again meanwhile (waiting false): once each, whatever the number
	// of plans the key queued in between.
	Queued func(key K, waiting bool)
	// Sized is told a policy's size after each Write that read, wrote or
	// planned against it (see Applied.PolicySize), and 0 once nothing of
	// the operator's is left to watch there: the policy (or the function)
	// is gone, or the Write took out the last statement the operator kept
	// in it. It is called with the policy's lock held: keep it quick.
	Sized func(target policy.FunctionRef, size int)
	// TurnWithin is how long a Statements Write may wait for its account's
	// next write turn (awslambda.Turns) before it declines it and fails
	// with Kind Paced: a reconcile then gives its worker back to objects of
	// other accounts instead of waiting for this one's quota. 0: as long as
	// the turn takes.
	TurnWithin time.Duration
	// Read is told when a policy was read from Lambda. It is called with
	// the policy's lock held: keep it quick.
	Read func(target policy.FunctionRef, at time.Time)

	mu       sync.Mutex
	policies map[string]*sharedPolicy[K] // by resource ARN, which names the account
}

// For returns the Writer of target's policy (target is complete: partition,
// region and account known), calling Lambda through port.
func (ws *Writers[K]) For(port awslambda.Lambda, target policy.FunctionRef, strategy Strategy) Writer[K] {
	shared := ws.policy(target)
	switch strategy {
	case Document:
		return &documentWriter[K]{shared: shared, port: port, target: target, wake: ws.wake, queued: ws.queued}
	default:
		return &statementsWriter[K]{shared: shared, port: port, target: target, turnWithin: ws.TurnWithin}
	}
}

func (ws *Writers[K]) policy(target policy.FunctionRef) *sharedPolicy[K] {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.policies == nil {
		ws.policies = map[string]*sharedPolicy[K]{}
	}
	p, ok := ws.policies[target.ResourceARN()]
	if !ok {
		p = &sharedPolicy[K]{now: ws.now, target: target, sized: ws.sized, read: ws.read}
		ws.policies[target.ResourceARN()] = p
	}
	return p
}

func (ws *Writers[K]) sized(target policy.FunctionRef, size int) {
	if ws.Sized != nil {
		ws.Sized(target, size)
	}
}

func (ws *Writers[K]) read(target policy.FunctionRef, at time.Time) {
	if ws.Read != nil {
		ws.Read(target, at)
	}
}

func (ws *Writers[K]) wake(key K) {
	if ws.Wake != nil {
		ws.Wake(key)
	}
}

func (ws *Writers[K]) queued(key K, waiting bool) {
	if ws.Queued != nil {
		ws.Queued(key, waiting)
	}
}

func (ws *Writers[K]) now() time.Time {
	if ws.Now != nil {
		return ws.Now()
	}
	return time.Now()
}
