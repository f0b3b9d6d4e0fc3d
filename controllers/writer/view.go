package writer

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// sharedPolicy is what all the Writers of one policy share: a lock that one
// Write holds from its read to its last write, the view of the policy, and
// what the operator keeps in it.
type sharedPolicy[K comparable] struct {
	now    func() time.Time
	target policy.FunctionRef                            // whose policy: the first Writer's target
	sized  func(target policy.FunctionRef, size int)     // Writers.Sized
	read   func(target policy.FunctionRef, at time.Time) // Writers.Read

	mu   sync.Mutex
	view *view // nil before the first read, and after the view was forgotten
	// kept are the Sids the operator keeps in this policy: put there by a
	// Write, or found in place by a plan that keeps them (Plan.Keep).
	kept map[string]bool
	// replacement is the last time several kept statements disappeared
	// together, until they are all back (or no longer kept).
	replacement *Replacement
	// grants are the objects' grants that may be compacted, by Sid, and
	// compaction how (see compaction.go).
	grants     map[string]policy.Statement
	compaction *Compaction
	// batches queue the Document strategy's Writes.
	batches batches[K]
	// turns are the write turns Statements Writes declined for their keys,
	// which come back for them (see statementsWriter.takeTurn).
	turns map[K]*awslambda.Turn
}

// staleTurn is how long past its time a kept turn is still used: one older
// is dropped (its key came back late, or never) and its slot lost, so that
// a late call cannot bunch with the next turns' above the quota. A call
// late by up to 0.6 s meets at most 0.6 s of later turns, which a quota
// bucket holding one second's requests (AWS's, as the emulator models it)
// absorbs. Shorter, the turns of objects that came back while every worker
// was busy went to waste: at 150/s with 8 workers, 1.45 × the floor
// against 1.12-1.33 × at 0.6 s, with no 429 either way.
const staleTurn = 600 * time.Millisecond

// keptTurn takes out the turn kept for key, if one is still good. The
// caller holds the lock.
func (p *sharedPolicy[K]) keptTurn(key K) (*awslambda.Turn, bool) {
	turn, ok := p.turns[key]
	delete(p.turns, key)
	return turn, ok && time.Since(turn.At) < staleTurn
}

// keepTurn keeps turn for key, and drops the kept turns gone stale. The
// caller holds the lock.
func (p *sharedPolicy[K]) keepTurn(key K, turn *awslambda.Turn) {
	if p.turns == nil {
		p.turns = map[K]*awslambda.Turn{}
	}
	for k, t := range p.turns {
		if time.Since(t.At) >= time.Minute { // keys that never came back
			delete(p.turns, k)
		}
	}
	p.turns[key] = turn
}

// view is the policy as last read, with the operator's own writes since.
type view struct {
	policy awslambda.Policy
	readAt time.Time
	// revisionKnown is false once the operator has written since the read.
	revisionKnown bool
	// bytes is the policy's size once measured (see size).
	bytes int
}

// size is the policy's size, measured once per view: every change makes a
// new view, and a check in place then costs no measure. The caller holds
// the lock.
func (v *view) size() int {
	if v.bytes == 0 {
		v.bytes = v.policy.Document.Size() // 0 again for no policy: cheap
	}
	return v.bytes
}

func (p *sharedPolicy[K]) observed() Observed {
	o := Observed{Document: p.view.policy.Document}
	if r := p.replacement; r != nil {
		o.Replacement = &Replacement{Lost: r.Lost, Missing: slices.Clone(r.Missing)}
	}
	if p.view.revisionKnown {
		o.RevisionID = p.view.policy.RevisionID
	}
	return o
}

// measure sets applied's sizes from the view at the end of a Write, and
// tells Writers.Sized. before is the size the Write's writes started from;
// keptBefore is how many statements the operator kept in the policy when
// the Write began. The caller holds the lock.
func (p *sharedPolicy[K]) measure(applied *Applied, before, keptBefore int) {
	if p.view == nil {
		return // unknown until the next read; the last size told stands
	}
	size := p.view.size()
	applied.PolicySize, applied.SizeKnown = size, true
	applied.Statements = len(p.view.policy.Document.Statements)
	if len(applied.Writes) > 0 && applied.Resized == nil {
		applied.Resized = &Resize{Before: before, After: size}
	}
	if keptBefore > 0 && len(p.kept) == 0 {
		size = 0 // the Write took out the operator's last statement: nothing left to watch
	}
	p.sized(p.target, size)
}

// lock takes the policy for one Write and returns the unlock function.
func (p *sharedPolicy[K]) lock() func() {
	p.mu.Lock()
	return p.mu.Unlock
}

// observe returns the view, reading the policy from Lambda when the view is
// older than fresh allows, or when a known revision is needed and the view
// has none. The caller holds the lock.
func (p *sharedPolicy[K]) observe(ctx context.Context, port awslambda.Lambda, target policy.FunctionRef, fresh Freshness, needRevision bool) (Observed, error) {
	if p.fresh(fresh, needRevision) {
		return p.observed(), nil
	}
	current, err := port.GetPolicy(ctx, target)
	if err != nil {
		return Observed{}, err
	}
	p.view = &view{policy: current, readAt: p.now(), revisionKnown: true}
	p.read(p.target, p.view.readAt)
	p.noticeReplacement()
	return p.observed(), nil
}

// fresh reports whether the view is fresh enough to plan with, without a
// read. The caller holds the lock.
func (p *sharedPolicy[K]) fresh(fresh Freshness, needRevision bool) bool {
	v := p.view
	return v != nil && p.now().Sub(v.readAt) < fresh.MaxAge && !v.readAt.Before(fresh.NotBefore) && (!needRevision || v.revisionKnown)
}

// noticeReplacement compares a fresh read with what the operator keeps.
// One statement gone is ordinary drift; several gone at once mean that
// another writer replaced the whole policy (PutResourcePolicy, which
// CloudFormation and Terraform now use) or deleted it.
func (p *sharedPolicy[K]) noticeReplacement() {
	var missing []string
	for sid := range p.kept {
		if _, found := p.view.policy.Document.Find(sid); !found {
			missing = append(missing, sid)
		}
	}
	slices.Sort(missing)
	switch {
	case p.replacement != nil && isSubset(missing, p.replacement.Missing):
		p.replacement.Missing = slices.DeleteFunc(p.replacement.Missing, func(sid string) bool { return !slices.Contains(missing, sid) })
	case len(missing) >= 2:
		p.replacement = &Replacement{Lost: len(missing), Missing: missing}
	default:
		p.replacement = nil
	}
	if p.replacement != nil && len(p.replacement.Missing) == 0 {
		p.replacement = nil
	}
}

func isSubset(sids, of []string) bool {
	for _, sid := range sids {
		if !slices.Contains(of, sid) {
			return false
		}
	}
	return true
}

// keep records Sids the operator keeps in the policy.
func (p *sharedPolicy[K]) keep(sids ...string) {
	if p.kept == nil {
		p.kept = map[string]bool{}
	}
	for _, sid := range sids {
		p.kept[sid] = true
	}
}

// settle records a statement the operator just put back in place (kept)
// or took out: either way it is no longer missing.
func (p *sharedPolicy[K]) settle(sid string, kept bool) {
	if kept {
		p.keep(sid)
	} else {
		delete(p.kept, sid)
		delete(p.grants, sid)
	}
	if r := p.replacement; r != nil {
		r.Missing = slices.DeleteFunc(slices.Clone(r.Missing), func(s string) bool { return s == sid })
		if len(r.Missing) == 0 {
			p.replacement = nil
		}
	}
}

// wrote records a whole document just written: Lambda's answer is the
// policy as it now is, at its new revision (an empty Policy after a
// delete), as good as a read.
func (p *sharedPolicy[K]) wrote(stored awslambda.Policy) {
	p.view = &view{policy: stored, readAt: p.now(), revisionKnown: true}
}

// added records a statement just added, as Lambda stored it.
func (p *sharedPolicy[K]) added(raw string) {
	st, err := policy.ParseStatement(raw)
	if err == nil {
		p.settle(st.Sid, true)
	}
	if err != nil {
		p.forget()
		return
	}
	p.change(func(doc *policy.PolicyDocument) {
		doc.Statements = append(slices.Clone(doc.Statements), policy.StoredStatement{Statement: st, Raw: raw})
	})
}

// removed records a statement just removed, or found gone.
func (p *sharedPolicy[K]) removed(sid string) {
	p.settle(sid, false)
	p.change(func(doc *policy.PolicyDocument) {
		doc.Statements = slices.DeleteFunc(slices.Clone(doc.Statements), func(st policy.StoredStatement) bool { return st.Sid == sid })
	})
}

// change applies one of the operator's own writes to the view. The revision
// is then unknown: Lambda's answer did not say it.
func (p *sharedPolicy[K]) change(apply func(*policy.PolicyDocument)) {
	if p.view == nil {
		return
	}
	doc := p.view.policy.Document
	apply(&doc)
	p.view = &view{policy: awslambda.Policy{Document: doc, RevisionID: p.view.policy.RevisionID}, readAt: p.view.readAt}
}

// forget drops the view, so that the next Write reads the policy: after
// Lambda said it changed, or after a write that failed and may still have
// happened.
func (p *sharedPolicy[K]) forget() { p.view = nil }
