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
// Write holds from its read to its last write, and the view of the policy.
type sharedPolicy struct {
	now func() time.Time

	mu   sync.Mutex
	view *view // nil before the first read, and after the view was forgotten
}

// view is the policy as last read, with the operator's own writes since.
type view struct {
	policy awslambda.Policy
	readAt time.Time
	// revisionKnown is false once the operator has written since the read.
	revisionKnown bool
}

func (v *view) observed() Observed {
	o := Observed{Document: v.policy.Document}
	if v.revisionKnown {
		o.RevisionID = v.policy.RevisionID
	}
	return o
}

// lock takes the policy for one Write and returns the unlock function.
func (p *sharedPolicy) lock() func() {
	p.mu.Lock()
	return p.mu.Unlock
}

// observe returns the view, reading the policy from Lambda when the view is
// older than fresh allows, or when a known revision is needed and the view
// has none. The caller holds the lock.
func (p *sharedPolicy) observe(ctx context.Context, port awslambda.Lambda, target policy.FunctionRef, fresh Freshness, needRevision bool) (Observed, error) {
	if v := p.view; v != nil && p.now().Sub(v.readAt) < fresh.MaxAge && !v.readAt.Before(fresh.NotBefore) && (!needRevision || v.revisionKnown) {
		return v.observed(), nil
	}
	current, err := port.GetPolicy(ctx, target)
	if err != nil {
		return Observed{}, err
	}
	p.view = &view{policy: current, readAt: p.now(), revisionKnown: true}
	return p.view.observed(), nil
}

// added records a statement just added, as Lambda stored it.
func (p *sharedPolicy) added(raw string) {
	st, err := policy.ParseStatement(raw)
	if err != nil {
		p.forget()
		return
	}
	p.change(func(doc *policy.PolicyDocument) {
		doc.Statements = append(slices.Clone(doc.Statements), policy.StoredStatement{Statement: st, Raw: raw})
	})
}

// removed records a statement just removed, or found gone.
func (p *sharedPolicy) removed(sid string) {
	p.change(func(doc *policy.PolicyDocument) {
		doc.Statements = slices.DeleteFunc(slices.Clone(doc.Statements), func(st policy.StoredStatement) bool { return st.Sid == sid })
	})
}

// change applies one of the operator's own writes to the view. The revision
// is then unknown: Lambda's answer did not say it.
func (p *sharedPolicy) change(apply func(*policy.PolicyDocument)) {
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
func (p *sharedPolicy) forget() { p.view = nil }
