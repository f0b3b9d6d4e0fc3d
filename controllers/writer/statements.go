package writer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// statementsWriter is the Statements strategy: one AddPermission or
// RemovePermission call per statement.
type statementsWriter[K comparable] struct {
	shared     *sharedPolicy[K]
	port       awslambda.Lambda
	target     policy.FunctionRef
	turnWithin time.Duration // Writers.TurnWithin
}

// errChanged says that the policy changed since it was observed: plan again.
type errChanged struct{ err *Error }

func (e errChanged) Error() string { return e.err.Error() }

// errNeedRevision says that the plan replaces a statement and the view has
// no revision to guard the replacement with: read the policy and plan again.
var errNeedRevision = errors.New("a replacement needs the policy's revision")

// Write makes the plan's writes before it returns; the key holds a write
// turn it declined (Paced) until it comes back for it.
func (w *statementsWriter[K]) Write(ctx context.Context, key K, fresh Freshness, plan Planner) (applied Applied, err error) {
	defer w.shared.lock()()
	sizeBefore := 0 // of the policy the first writes were planned against
	defer func(keptBefore int) { w.shared.measure(&applied, sizeBefore, keptBefore) }(len(w.shared.kept))
	needRevision := false
	for tries := 1; ; {
		observed, err := w.shared.observe(ctx, w.port, w.target, fresh, needRevision)
		if err != nil {
			return applied, &Error{Doing: "reading the policy of " + w.target.ResourceARN(), Read: true, Err: err}
		}
		p := plan(observed)
		applied.note = p.note
		w.shared.accept(p)
		if p.Empty() {
			return applied, nil
		}
		if len(applied.Writes) == 0 {
			sizeBefore = observed.Document.Size()
		}
		err = w.apply(ctx, key, observed.RevisionID, p, &applied)
		var changed errChanged
		switch {
		case err == nil:
			return applied, nil
		case errors.Is(err, errNeedRevision):
			needRevision = true
		case errors.As(err, &changed) && tries < maxTries:
			tries++
			needRevision = false
		case errors.As(err, &changed):
			return applied, changed.err
		default:
			return applied, err
		}
	}
}

// takeTurn takes the account's next write turn for key's first write, when
// the port paces its writes and the turn comes within turnWithin; the
// writes after it wait for their own. A turn further off is kept for key,
// which is told to come back then (Paced): the turn is not given away, so
// keys that come back do not all contend again for the next one. Nothing
// was sent, and the view is as it was.
func (w *statementsWriter[K]) takeTurn(ctx context.Context, key K) (context.Context, error) {
	turns, ok := w.port.(awslambda.Turns)
	if !ok || w.turnWithin <= 0 {
		return ctx, nil
	}
	turn, kept := w.shared.keptTurn(key)
	if !kept {
		var err error
		if turn, err = turns.TakeWriteTurn(ctx, w.target, w.turnWithin); awslambda.KindOf(err) == awslambda.Paced {
			return ctx, w.comeBack(key, turn)
		} else if err != nil {
			return ctx, err
		}
	}
	if time.Until(turn.At) > w.turnWithin {
		return ctx, w.comeBack(key, turn) // back early
	}
	if err := turn.Wait(ctx); err != nil {
		return ctx, err
	}
	return awslambda.WithTurn(ctx, turn), nil
}

// comeBack keeps turn for key and says when key is to come back for it:
// half of turnWithin before it, so that the call, made after a short wait,
// is on time. A call made late would come right after the next turn's and
// bunch two calls inside AWS's bucket.
func (w *statementsWriter[K]) comeBack(key K, turn *awslambda.Turn) error {
	w.shared.keepTurn(key, turn)
	return awslambda.PacedError(turn, max(time.Until(turn.At)-w.turnWithin/2, time.Millisecond))
}

// apply makes the plan's writes: removals first, then each put. The
// revision guards the first write only; Lambda's answer does not give the
// next one.
func (w *statementsWriter[K]) apply(ctx context.Context, key K, revision string, p Plan, applied *Applied) error {
	arn := w.target.ResourceARN()
	ctx, err := w.takeTurn(ctx, key)
	if err != nil {
		return &Error{Doing: "waiting for the account's turn to write to " + arn, Err: err}
	}
	for _, rm := range p.Removes {
		// Guarded by the revision when the view has it. Right after other
		// removals it does not, and reading the policy again before each
		// would double the cost of deleting many objects; the plan saw the
		// statement in the view, which holds every write of ours.
		err := w.port.RemovePermission(ctx, w.target, rm.Sid, revision)
		revision = ""
		doing := fmt.Sprintf("removing statement %q from %s", rm.Sid, arn)
		switch kind := awslambda.KindOf(err); {
		case err == nil:
			w.shared.removed(rm.Sid)
			applied.Writes = append(applied.Writes, Written{Operation: "RemovePermission", Sid: rm.Sid, Change: Removed})
		case kind == awslambda.NotFound:
			w.shared.removed(rm.Sid) // the function, the policy or the statement is gone already
		case kind == awslambda.StaleRevision:
			w.shared.forget()
			return errChanged{&Error{Doing: doing, Err: err}}
		default:
			w.shared.forget() // a failed write may still have happened
			return &Error{Doing: doing, Err: err}
		}
	}
	for _, put := range p.Puts {
		sid := put.Permission.StatementID
		if put.Replaces != nil {
			// Lambda has no update: remove under the revision the plan was
			// made at, so that a concurrent change fails the call instead of
			// being lost, then add.
			if revision == "" {
				return errNeedRevision
			}
			err := w.port.RemovePermission(ctx, w.target, sid, revision)
			revision = ""
			doing := fmt.Sprintf("removing statement %q from %s to replace it", sid, arn)
			switch kind := awslambda.KindOf(err); {
			case err == nil:
				w.shared.removed(sid)
				applied.Writes = append(applied.Writes, Written{Operation: "RemovePermission", Sid: sid, Change: Removed, Replacing: true})
			case kind == awslambda.StaleRevision || kind == awslambda.NotFound:
				w.shared.forget()
				return errChanged{&Error{Doing: doing, Err: err}}
			default:
				w.shared.forget()
				return &Error{Doing: doing, Err: err}
			}
		}
		stored, err := w.port.AddPermission(ctx, w.target, put.Permission)
		revision = ""
		doing := fmt.Sprintf("adding statement %q to %s", sid, arn)
		switch kind := awslambda.KindOf(err); {
		case err == nil:
			w.shared.added(stored)
			applied.Writes = append(applied.Writes, Written{Operation: "AddPermission", Sid: sid, Change: Added, Stored: stored})
		case kind == awslambda.StatementExists:
			// Another writer added this Sid since the read: plan again, to
			// replace it with ours.
			w.shared.forget()
			return errChanged{&Error{Doing: doing, Err: err}}
		default:
			w.shared.forget()
			return &Error{Doing: doing, Err: err}
		}
	}
	return nil
}
