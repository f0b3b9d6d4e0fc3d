package controllers

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// policyViews is the operator's shared view of every policy it manages.
// All the objects on one function, version or alias are reconciled against
// one view of its policy: it is read from Lambda when it is older than a
// sync period (or asked to be read again), and kept current in between by
// the operator's own writes. So a thousand objects on one function cost one
// GetPolicy per sync period, not a thousand, and creating or deleting them
// costs one write each and a read.
//
// The view's RevisionId is known only right after a read: AddPermission and
// RemovePermission do not return the new one.
type policyViews struct {
	mu    sync.Mutex
	views map[string]*policyView // by resource ARN (which names the account)
}

type policyView struct {
	policy awslambda.Policy
	readAt time.Time
	// revisionKnown is false once the operator has written since the read.
	revisionKnown bool
}

// read returns the view of target's policy, reading it from Lambda when the
// view is older than maxAge, was read before notBefore, or when a known
// revision is needed and the view has none. The caller holds target's lock.
func (v *policyViews) read(ctx context.Context, lambda awslambda.Lambda, target policy.FunctionRef, maxAge time.Duration, notBefore time.Time, needRevision bool) (awslambda.Policy, bool, error) {
	key := target.ResourceARN()
	v.mu.Lock()
	view, ok := v.views[key]
	v.mu.Unlock()
	if ok && time.Since(view.readAt) < maxAge && !view.readAt.Before(notBefore) && (!needRevision || view.revisionKnown) {
		return view.policy, view.revisionKnown, nil
	}
	current, err := lambda.GetPolicy(ctx, target)
	if err != nil {
		return awslambda.Policy{}, false, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.views == nil {
		v.views = map[string]*policyView{}
	}
	v.views[key] = &policyView{policy: current, readAt: time.Now(), revisionKnown: true}
	return current, true, nil
}

// added records a statement the operator just added.
func (v *policyViews) added(target policy.FunctionRef, raw string) {
	st, err := policy.ParseStatement(raw)
	if err != nil {
		v.forget(target)
		return
	}
	v.update(target, func(doc *policy.PolicyDocument) {
		doc.Statements = append(doc.Statements, policy.StoredStatement{Statement: st, Raw: raw})
	})
}

// removed records a statement the operator just removed.
func (v *policyViews) removed(target policy.FunctionRef, sid string) {
	v.update(target, func(doc *policy.PolicyDocument) {
		doc.Statements = slices.DeleteFunc(slices.Clone(doc.Statements), func(st policy.StoredStatement) bool { return st.Sid == sid })
	})
}

func (v *policyViews) update(target policy.FunctionRef, change func(*policy.PolicyDocument)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	view, ok := v.views[target.ResourceARN()]
	if !ok {
		return
	}
	doc := view.policy.Document
	change(&doc)
	v.views[target.ResourceARN()] = &policyView{
		policy: awslambda.Policy{Document: doc, RevisionID: view.policy.RevisionID},
		readAt: view.readAt,
	}
}

// forget drops the view, so that the next use reads the policy again: after
// Lambda said it changed (412, a Sid that appeared, a 404).
func (v *policyViews) forget(target policy.FunctionRef) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.views, target.ResourceARN())
}
