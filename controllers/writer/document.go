package writer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// batchTimeout bounds a batch: its wait for its turn, its reads and writes.
const batchTimeout = time.Minute

// documentWriter is the Document strategy: the plans of every object that
// needs a write on one policy at about the same time are merged into one
// document, written with one PutResourcePolicy under the RevisionId it was
// read at. A replacement is one write, so the statement is never missing;
// and the document can hold what AddPermission cannot (Deny, any condition).
//
// A Write that needs the policy read or written does not wait for it: its
// plan is queued, Write returns ErrQueued, and the batch wakes its key
// (Writers.Wake) when it is done; the next Write with that key returns
// what the batch did. So a reconcile never holds a worker while a batch
// gathers, and a few workers feed batches of any size.
type documentWriter[K comparable] struct {
	shared *sharedPolicy[K]
	port   awslambda.Lambda
	target policy.FunctionRef
	wake   func(key K)
	queued func(key K, waiting bool)
}

func (w *documentWriter[K]) Write(ctx context.Context, key K, fresh Freshness, plan Planner) (Applied, error) {
	b := &w.shared.batches
	b.mu.Lock()
	if r, ok := b.finished[key]; ok {
		delete(b.finished, key)
		b.mu.Unlock()
		return r.applied, r.err
	}
	for _, queued := range b.pending {
		if queued.key == key {
			// Not yet in a batch: the key's latest plan is the one to write.
			queued.fresh, queued.plan = fresh, plan
			b.mu.Unlock()
			return Applied{}, ErrQueued
		}
	}
	b.mu.Unlock()

	// A check that finds nothing to write needs no batch when the view is
	// fresh enough: the periodic sync of a policy in place stays immediate.
	if applied, done := w.planInPlace(fresh, plan); done {
		return applied, nil
	}

	b.mu.Lock()
	b.pending = append(b.pending, &pendingWrite[K]{key: key, fresh: fresh, plan: plan})
	waitedAlready := b.writing[key] // its earlier plan is in the batch being written
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if !waitedAlready {
		w.queued(key, true)
	}
	if start {
		go w.runBatches()
	}
	return Applied{}, ErrQueued
}

// planInPlace runs plan against the view when the view is fresh enough and
// no batch is being written, and reports whether that settled it: nothing
// to write. It never waits for a batch.
func (w *documentWriter[K]) planInPlace(fresh Freshness, plan Planner) (Applied, bool) {
	if !w.shared.mu.TryLock() {
		return Applied{}, false
	}
	defer w.shared.mu.Unlock()
	if !w.shared.fresh(fresh, false) {
		return Applied{}, false
	}
	p := plan(w.shared.observed())
	if !p.Empty() {
		return Applied{}, false
	}
	keptBefore := len(w.shared.kept)
	w.shared.accept(p)
	applied := Applied{note: p.note}
	w.shared.measure(&applied, 0, keptBefore)
	return applied, true
}

// writeBatch merges the plans of a batch into one document, writes it, and
// records for each key what became of its plan.
func (w *documentWriter[K]) writeBatch(ctx context.Context, batch []*pendingWrite[K]) {
	defer w.shared.lock()()
	keptBefore := len(w.shared.kept)

	results := map[*pendingWrite[K]]error{}
	err := w.writeTogether(ctx, strictest(batch), batch)
	var writing []*pendingWrite[K]
	for _, req := range batch {
		if !req.planned.Empty() {
			writing = append(writing, req)
		}
	}
	if refusedContent(err) && len(writing) > 1 {
		// Lambda refused what one statement says: that object's failure
		// must not hold back the others, so each is written alone.
		for _, req := range writing {
			results[req] = w.writeTogether(ctx, Freshness{}, []*pendingWrite[K]{req})
		}
	} else {
		for _, req := range batch {
			results[req] = err
		}
	}

	var sized Applied // the policy's size after the batch, the same for every key
	w.shared.measure(&sized, 0, keptBefore)
	b := &w.shared.batches
	b.mu.Lock()
	if b.finished == nil {
		b.finished = map[K]finished{}
	}
	now := time.Now()
	for key, r := range b.finished {
		if now.Sub(r.at) > forgetFinishedAfter {
			delete(b.finished, key)
		}
	}
	for _, req := range batch {
		r := finished{applied: req.applied, at: now}
		// A failure concerns a plan that had something to write, or any plan
		// when the policy could not even be read.
		if err := results[req]; err != nil && (!req.planned.Empty() || isRead(err)) {
			r.err = err
		}
		r.applied.note = req.planned.note
		r.applied.PolicySize, r.applied.SizeKnown, r.applied.Statements = sized.PolicySize, sized.SizeKnown, sized.Statements
		if v := w.shared.view; v != nil && v.revisionKnown {
			r.applied.RevisionID = v.policy.RevisionID
		}
		if earlier, unasked := b.finished[req.key]; unasked && r.err == nil && req.planned.Empty() && len(earlier.applied.Writes) > 0 {
			// The key's earlier plan was written, and queued again while that
			// write was under way, this plan found it in place. The earlier
			// result says what was written: the key asks for that, as of now.
			earlier.applied.PolicySize, earlier.applied.SizeKnown, earlier.applied.Statements = r.applied.PolicySize, r.applied.SizeKnown, r.applied.Statements
			earlier.applied.RevisionID, earlier.at = r.applied.RevisionID, now
			r = earlier
		}
		b.finished[req.key] = r
	}
	b.mu.Unlock()
}

// writeTogether merges the plans of reqs into one document and writes it
// under the revision it was read at, reading and merging again when the
// policy changed under the write.
func (w *documentWriter[K]) writeTogether(ctx context.Context, fresh Freshness, reqs []*pendingWrite[K]) error {
	needRevision := false
	for tries := 1; ; {
		observed, err := w.shared.observe(ctx, w.port, w.target, fresh, needRevision)
		if err != nil {
			return &Error{Doing: "reading the policy of " + w.target.ResourceARN(), Read: true, Err: err}
		}
		merged, changed := w.merge(observed, reqs)
		if !changed || merged.Text() == observed.Document.Text() {
			return nil // e.g. a grant left its list, which another object's same grant keeps
		}
		if len(observed.Document.Statements) > 0 && observed.RevisionID == "" {
			needRevision = true // written by AddPermission since the read: read again
			continue
		}
		err = w.put(ctx, observed.RevisionID, merged, reqs)
		var stale errChanged
		switch {
		case errors.As(err, &stale) && tries < maxTries:
			tries++
			fresh = Freshness{} // a fresh read, and plan again from it
		case errors.As(err, &stale):
			return stale.err
		default:
			return err
		}
	}
}

// refusedContent reports whether Lambda refused a document for what it
// says (a statement it finds invalid, public or too large), not for who
// asked or when.
func refusedContent(err error) bool {
	switch awslambda.KindOf(err) {
	case awslambda.Invalid, awslambda.PolicyTooLarge, awslambda.PublicPolicy:
		return true
	}
	return false
}

// merge runs each plan against the document as the plans before it left
// it, so that each sees the others' changes (a size check counts them all),
// and reports whether anything is to be written.
func (w *documentWriter[K]) merge(observed Observed, batch []*pendingWrite[K]) (policy.PolicyDocument, bool) {
	doc := observed.Document
	size := doc.Size()
	changed := false
	for _, req := range batch {
		view := observed
		view.Document = doc
		p := req.plan(view)
		req.planned = p
		req.applied = Applied{}
		w.shared.accept(p)
		if p.Empty() {
			continue
		}
		changed = true
		var puts []policy.Statement
		var removes []string
		for _, put := range p.Puts {
			puts = append(puts, put.Statement)
		}
		for _, rm := range p.Removes {
			removes = append(removes, rm.Sid)
		}
		doc = w.shared.drop(doc, p.Drop).With(puts, removes)
		if p.DropUnnamed {
			doc = doc.WithoutUnnamed()
		}
		doc = w.shared.compact(doc)
		req.resize = Resize{Before: size, After: doc.Size()}
		size = req.resize.After
	}
	return doc, changed
}

// put writes the merged document under revision (none when the function
// has no policy yet: Lambda has no create-only precondition), or deletes
// the policy when nothing is left in it, and records in each Write what it
// did.
func (w *documentWriter[K]) put(ctx context.Context, revision string, merged policy.PolicyDocument, batch []*pendingWrite[K]) error {
	arn := w.target.ResourceARN()
	operation := "PutResourcePolicy"
	var stored awslambda.Policy
	var err error
	if len(merged.Statements) == 0 {
		operation = "DeleteResourcePolicy"
		err = w.port.DeleteResourcePolicy(ctx, w.target, revision)
	} else {
		stored, err = w.port.PutResourcePolicy(ctx, w.target, merged.Text(), revision)
	}
	doing := fmt.Sprintf("writing the policy of %s (%d statements) with %s", arn, len(merged.Statements), operation)
	switch kind := awslambda.KindOf(err); {
	case err == nil:
	case kind == awslambda.StaleRevision || (kind == awslambda.NotFound && operation == "DeleteResourcePolicy" && revision != ""):
		w.shared.forget()
		return errChanged{&Error{Doing: doing, Err: err}}
	default:
		w.shared.forget() // a failed write may still have happened
		return &Error{Doing: doing, Err: err}
	}
	w.shared.wrote(stored)
	for _, req := range batch {
		if !req.planned.Empty() {
			resize := req.resize
			req.applied.Resized = &resize
		}
		for _, put := range req.planned.Puts {
			sid := put.Permission.StatementID
			change := Added
			if put.Replaces != nil {
				change = Replaced
			}
			st, held := w.shared.where(stored.Document, put)
			req.applied.Writes = append(req.applied.Writes, Written{Operation: operation, Sid: sid, Change: change, Stored: st.Raw, Compacted: held})
			w.shared.settle(st.Sid, true)
		}
		for _, rm := range req.planned.Removes {
			req.applied.Writes = append(req.applied.Writes, Written{Operation: operation, Sid: rm.Sid, Change: Removed})
			w.shared.settle(rm.Sid, false)
		}
		for _, g := range req.planned.Drop {
			req.applied.Writes = append(req.applied.Writes, Written{Operation: operation, Sid: g.Sid, Change: Removed, Compacted: &policy.Holding{}})
		}
	}
	return nil
}

func isRead(err error) bool {
	var failure *Error
	return errors.As(err, &failure) && failure.Read
}
