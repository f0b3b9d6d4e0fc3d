package engine

import (
	"fmt"
	"strings"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// policyPlan is what making a policy exactly what a LambdaResourcePolicy
// declares takes: its own statements put in place, and every statement that
// neither it nor an included LambdaPermission declares taken out, in one
// write.
type policyPlan struct {
	Writes writer.Plan
	Change PolicyChange
	// Statements and Included count the policy as the plan leaves it (or,
	// refused, would leave it) and the included statements in it.
	Statements, Included int
	// Revision is the policy's revision the plan was made at, when known.
	Revision string
	// Refusal: writes are needed and may not be made (Observe, dry run, or a
	// policy that would be too large). Nothing is written; Change says what
	// the writes would have been.
	Refusal *kernel.StateError
	// Unnamed counts statements without a Sid (another whole-document
	// writer may leave some): nothing declares them, so they go too.
	Unnamed int
}

// PolicyChange lists Sids by what a write does to them.
type PolicyChange struct {
	Added, Changed, Removed []string
}

// Empty reports whether the change changes nothing.
func (c PolicyChange) Empty() bool {
	return len(c.Added) == 0 && len(c.Changed) == 0 && len(c.Removed) == 0
}

func (c PolicyChange) String() string {
	var parts []string
	for _, p := range []struct {
		verb string
		sids []string
	}{{"add", c.Added}, {"change", c.Changed}, {"remove", c.Removed}} {
		if len(p.sids) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p.verb, quoted(p.sids)))
		}
	}
	return strings.Join(parts, "; ")
}

func quoted(sids []string) string {
	q := make([]string, len(sids))
	for i, sid := range sids {
		q[i] = fmt.Sprintf("%q", sid)
	}
	return strings.Join(q, ", ")
}

// planPolicy plans making the observed policy exactly own plus the
// statements whose Sids included declares (an included LambdaPermission
// writes its own; this plan only leaves it alone). A statement of its own
// that grants what is declared is kept as Lambda stored it, however it is
// spelled.
func planPolicy(observed writer.Observed, target policy.FunctionRef, own []policy.Statement, included func(sid string) bool, m mode) policyPlan {
	plan := policyPlan{Revision: observed.RevisionID}
	declared := map[string]bool{}
	var puts []writer.Put
	for _, st := range own {
		declared[st.Sid] = true
		existing, found := observed.Document.Find(st.Sid)
		switch {
		case !found:
			plan.Change.Added = append(plan.Change.Added, st.Sid)
			puts = append(puts, writer.Put{Permission: policy.Permission{StatementID: st.Sid}, Statement: st})
		case !policy.SameGrant(existing.Statement, st):
			plan.Change.Changed = append(plan.Change.Changed, st.Sid)
			puts = append(puts, writer.Put{Permission: policy.Permission{StatementID: st.Sid}, Statement: st, Replaces: &existing})
		case !m.Observe && !m.DryRun:
			plan.Writes.Keep = append(plan.Writes.Keep, st.Sid) // the operator keeps it there
		}
	}
	var removes []writer.Remove
	for i, st := range observed.Document.Statements {
		switch {
		case st.Sid == "":
			plan.Unnamed++
			plan.Change.Removed = append(plan.Change.Removed, fmt.Sprintf("#%d", i))
		case declared[st.Sid]:
		case included(st.Sid):
			plan.Included++
		default:
			plan.Change.Removed = append(plan.Change.Removed, st.Sid)
			removes = append(removes, writer.Remove{Sid: st.Sid})
		}
	}
	removedSids := make([]string, len(removes))
	for i, rm := range removes {
		removedSids[i] = rm.Sid
	}
	plan.Statements = len(observed.Document.Statements) - len(removes) - plan.Unnamed + len(plan.Change.Added)
	if plan.Change.Empty() {
		return plan
	}
	arn := target.ResourceARN()
	switch {
	case m.Observe:
		plan.Refusal = kernel.Stalled(lambdav1alpha1.ReasonDriftDetected, "managementPolicy is Observe, so nothing was written: the policy of %s differs from the spec; Manage would %s (status.pendingChange)", arn, plan.Change)
		return plan
	case m.DryRun:
		plan.Refusal = kernel.DryRun(fmt.Sprintf("dry run: would %s in the policy of %s", plan.Change, arn))
		return plan
	}
	var rendered []policy.Statement
	for _, put := range puts {
		rendered = append(rendered, put.Statement)
	}
	after := observed.Document.With(rendered, removedSids).WithoutUnnamed()
	if size := after.Size(); size > policy.MaxPolicySize {
		plan.Refusal = kernel.Stalled(lambdav1alpha1.ReasonPolicyTooLarge,
			"the policy of %s would be about %d bytes, over Lambda's limit of %d; declare fewer or shorter statements, or grant more per statement",
			arn, size, policy.MaxPolicySize)
		return plan
	}
	plan.Writes.Puts, plan.Writes.Removes = puts, removes
	plan.Writes.DropUnnamed = plan.Unnamed > 0
	return plan
}

// planPolicyRemoval plans taking the owner's own statements out of the
// policy when it is deleted. A Sid an included LambdaPermission also
// declares stays: the statement is that object's now.
func planPolicyRemoval(observed writer.Observed, own []policy.Statement, included func(sid string) bool, dryRun bool) policyPlan {
	plan := policyPlan{Revision: observed.RevisionID}
	for _, st := range own {
		if _, found := observed.Document.Find(st.Sid); found && !included(st.Sid) {
			plan.Change.Removed = append(plan.Change.Removed, st.Sid)
			plan.Writes.Removes = append(plan.Writes.Removes, writer.Remove{Sid: st.Sid})
		}
	}
	if dryRun && len(plan.Writes.Removes) > 0 {
		plan.Writes.Removes = nil
		plan.Refusal = kernel.DryRun(fmt.Sprintf("dry run: would %s", plan.Change))
	}
	return plan
}
