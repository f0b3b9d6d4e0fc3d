package engine

import (
	"fmt"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// The plans: what a reconcile writes to a policy, decided from the policy
// as observed and nothing else, so that every decision is a table test.
// A policy Writer runs them (again, against a fresh read, when the policy
// changed under a write) and makes the writes.

// mode is how far a reconcile may go.
type mode struct {
	Observe bool // managementPolicy Observe: read and report, never write
	DryRun  bool // the operator's --dry-run: report each write instead of making it
}

// statementPlan is what putting one object's statement in place takes.
type statementPlan struct {
	Writes   writer.Plan
	Existing *policy.StoredStatement // what the Sid holds now; nil when it is free
	// InPlace: the Sid already grants what the spec says, or a compacted
	// statement holds the grant (Held); nothing to write.
	InPlace bool
	// Held is the compacted statement that holds the grant, when it is in
	// place there.
	Held *policy.Holding
	// Revision is the policy's revision the plan was made at, when known.
	Revision string
	// Refusal: writes are needed and may not be made (Observe, dry run, or
	// a policy that would be too large). Nothing is written.
	Refusal *kernel.StateError
	// Drift is "missing" or "changed" when the statement was in place at
	// the last sync and no longer is, and "replaced" when it went with
	// others at once (writer.Replacement): the write corrects drift.
	Drift string
	// Lost is, for Drift "replaced", how many of the operator's
	// statements disappeared with this one.
	Lost int
}

// planStatement plans putting want in the policy observed. wasInPlace says
// the last sync, at this generation, found or put the statement in place.
func planStatement(observed writer.Observed, want Desired, m mode, wasInPlace bool) statementPlan {
	sid := want.Permission.StatementID
	plan := statementPlan{Revision: observed.RevisionID}
	existing, found := observed.Document.Find(sid)
	if found {
		plan.Existing = &existing
	}
	held, isHeld := observed.Document.Holds(want.Statement, want.Compaction.SidPrefix)
	drop := compactedDrops(observed.Document, want, isHeld)
	writable := !m.Observe && !m.DryRun
	switch {
	case len(drop) > 0:
	case found && policy.SameGrant(existing.Statement, want.Statement):
		plan.InPlace = true
		if writable {
			plan.Writes.Keep, plan.Writes.Grants = []string{sid}, grantsOf(want) // the operator keeps it there
		}
		return plan
	case !found && isHeld:
		plan.InPlace, plan.Held = true, &held
		if writable {
			plan.Writes.Keep, plan.Writes.Grants = []string{held.Statement.Sid}, grantsOf(want)
		}
		return plan
	}
	if plan.Refusal = refusal(want, plan.Existing, m); plan.Refusal != nil {
		return plan
	}
	switch {
	case isHeld:
	case !found && observed.Replacement.Lacks(sid):
		plan.Drift, plan.Lost = "replaced", observed.Replacement.Lost
	case wasInPlace && found:
		plan.Drift = "changed"
	case wasInPlace:
		plan.Drift = "missing"
	}
	if plan.Refusal = tooLarge(observed.Document, want, drop); plan.Refusal != nil {
		return plan
	}
	plan.Writes = writer.Plan{Drop: drop, Grants: grantsOf(want), Compaction: compactionFor(want)}
	if !found || !policy.SameGrant(existing.Statement, want.Statement) {
		plan.Writes.Puts = []writer.Put{{Permission: want.Permission, Statement: want.Statement, Replaces: plan.Existing}}
	}
	return plan
}

// tooLarge refuses a statement the policy cannot hold, before the write
// Lambda would refuse: compacted, when the policy's writer compacts.
func tooLarge(doc policy.PolicyDocument, want Desired, drop []writer.Grant) *kernel.StateError {
	sid, prefix := want.Permission.StatementID, want.Compaction.SidPrefix
	size := doc.SizeAfter([]string{sid}, want.Statement)
	if size <= policy.MaxPolicySize {
		return nil
	}
	// Compacted as if every grant in the policy were the operator's: the
	// writer knows which are, and Lambda refuses what still does not fit.
	after := doc.WithoutGrants(statementsOf(drop), prefix).With([]policy.Statement{want.Statement}, nil)
	compacted := after.Recompacted(func(string) bool { return true }, prefix).Size()
	if want.Compaction.On && compacted <= policy.MaxPolicySize {
		return nil
	}
	hint := "remove other statements or grant more per statement"
	if !want.Compaction.On && compacted < size {
		hint = fmt.Sprintf("compacted (grants that differ only in their source, account, principal or action written as one statement), the policy's statements and this one would take about %d bytes: "+
			"write the account's policies whole and compacted, with writeStrategy: Document and compaction.mode: Threshold or Always on its LambdaPermissionAccount "+
			"(for the operator's own account without one: --write-strategy=Document --compaction=Threshold)", compacted)
		if compacted > policy.MaxPolicySize {
			hint = fmt.Sprintf("even compacted it would be about %d bytes: remove other statements or grant more per statement", compacted)
		}
	}
	return kernel.Stalled(lambdav1alpha1.ReasonPolicyTooLarge,
		"adding statement %q would make the policy of %s about %d bytes, over Lambda's limit of %d; %s",
		sid, want.Target.ResourceARN(), size, policy.MaxPolicySize, hint)
}

// refusal stops a write that managementPolicy Observe or --dry-run forbids,
// and says what the write would have been.
func refusal(want Desired, existing *policy.StoredStatement, m mode) *kernel.StateError {
	sid, arn := want.Permission.StatementID, want.Target.ResourceARN()
	write := fmt.Sprintf("add statement %q to %s: %s", sid, arn, want.Statement.Render())
	if existing != nil {
		write = fmt.Sprintf("replace statement %q on %s (it differs in %v) with %s", sid, arn,
			policy.GrantDifferences(existing.Statement, want.Statement), want.Statement.Render())
	}
	switch {
	case m.Observe:
		state := "missing"
		if existing != nil {
			state = "different: " + existing.Raw
		}
		return kernel.Stalled(lambdav1alpha1.ReasonDriftDetected, "managementPolicy is Observe, so nothing was written: statement %q on %s is %s; the spec would %s",
			sid, arn, state, write)
	case m.DryRun:
		return kernel.DryRun("dry run: would " + write)
	}
	return nil
}

// removalPlan is what removing a statement an object wrote takes.
type removalPlan struct {
	Writes writer.Plan
	// LeftInPlace: the Sid holds a statement changed outside the operator
	// since; it is not ours to remove.
	LeftInPlace bool
	// Refused: a removal is needed and the mode forbids it.
	Refused bool
	// Compacted is the compacted statement that holds the grant; with
	// Writes empty and Refused false, the policy is written statement by
	// statement, which cannot change a list, and it is left in place.
	Compacted *policy.Holding
}

// planRemoval plans removing statement sid if it still grants what one of
// ours says. This operator never removes what it did not write.
func planRemoval(observed writer.Observed, sid string, ours []policy.Statement, m mode) removalPlan {
	existing, found := observed.Document.Find(sid)
	switch {
	case !found:
		return removalPlan{Writes: writer.Plan{Release: []string{sid}}}
	case !grantsAnyOf(existing.Statement, ours):
		return removalPlan{LeftInPlace: true, Writes: writer.Plan{Release: []string{sid}}}
	case m.Observe || m.DryRun:
		return removalPlan{Refused: true}
	}
	return removalPlan{Writes: writer.Plan{Removes: []writer.Remove{{Sid: sid}}}}
}

func grantsAnyOf(st policy.Statement, candidates []policy.Statement) bool {
	for _, c := range candidates {
		if policy.SameGrant(st, c) {
			return true
		}
	}
	return false
}
