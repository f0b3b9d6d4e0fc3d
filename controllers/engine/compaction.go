package engine

import (
	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Compaction (issue 25): on a policy written whole, the grants of
// LambdaPermissions that differ in one respect only are written as one
// statement listing them. An object then finds its grant in place by what
// it grants, wherever it is listed (policy.PolicyDocument.Holds), and the
// policy's writer compacts (writer.Compaction).

// compactedDrops are the grants of want's object to take out of compacted
// statements: the one it placed before its spec changed, and, when the
// policy no longer compacts, its grant held in a list (written alone
// instead). Only a whole-document write can change a list.
func compactedDrops(doc policy.PolicyDocument, want Desired, held bool) []writer.Grant {
	if want.Strategy != writer.Document {
		return nil
	}
	sid, prefix := want.Permission.StatementID, want.Compaction.SidPrefix
	var drops []writer.Grant
	if p := want.Previous; p != nil && !policy.SameGrant(*p, want.Statement) {
		if _, ok := doc.Holds(*p, prefix); ok {
			drops = append(drops, writer.Grant{Sid: sid, Statement: *p})
		}
	}
	if held && !want.Compaction.On {
		drops = append(drops, writer.Grant{Sid: sid, Statement: want.Statement})
	}
	return drops
}

// grantsOf is want's grant, for the writer to compact with others.
func grantsOf(want Desired) []writer.Grant {
	if want.Strategy != writer.Document || !want.Compaction.On {
		return nil
	}
	return []writer.Grant{{Sid: want.Permission.StatementID, Statement: want.Statement}}
}

// compactionFor is how want's policy compacts, for its writer.
func compactionFor(want Desired) *writer.Compaction {
	if want.Strategy != writer.Document {
		return nil
	}
	c := want.Compaction
	return &c
}

func statementsOf(grants []writer.Grant) []policy.Statement {
	out := make([]policy.Statement, len(grants))
	for i, g := range grants {
		out[i] = g.Statement
	}
	return out
}

// planCompactedRemoval is planRemoval for a grant that a compacted
// statement may hold: it leaves the list (only a whole-document write can
// change one; the Statements strategy leaves it in place).
func planCompactedRemoval(observed writer.Observed, sid string, ours []policy.Statement, m mode, c writer.Compaction, document bool) removalPlan {
	if _, found := observed.Document.Find(sid); found {
		return planRemoval(observed, sid, ours, m)
	}
	for _, g := range ours {
		h, held := observed.Document.Holds(g, c.SidPrefix)
		switch {
		case !held:
			continue
		case !document:
			return removalPlan{Compacted: &h, Writes: writer.Plan{Release: []string{sid}}}
		case m.Observe || m.DryRun:
			return removalPlan{Refused: true, Compacted: &h}
		}
		return removalPlan{Compacted: &h, Writes: writer.Plan{Drop: []writer.Grant{{Sid: sid, Statement: g}}, Release: []string{sid}, Compaction: &c}}
	}
	return planRemoval(observed, sid, ours, m)
}

// compactionOf is an account's compaction: its own, else the operator's.
func compactionOf(a *lambdav1alpha1.LambdaPermissionAccount, operators lambdav1alpha1.Compaction) lambdav1alpha1.Compaction {
	if a.Spec.Compaction != nil {
		return *a.Spec.Compaction
	}
	return operators
}

// writerCompaction is how the writer of a policy written with strategy
// compacts: only a whole document can list grants together.
func (e *Engine) writerCompaction(c lambdav1alpha1.Compaction, strategy writer.Strategy) writer.Compaction {
	out := writer.Compaction{SidPrefix: e.StatementIDPrefix}
	if strategy != writer.Document {
		return out
	}
	percent := int(c.ThresholdPercent)
	if percent == 0 {
		percent = lambdav1alpha1.DefaultCompactionThresholdPercent
	}
	switch c.Mode {
	case lambdav1alpha1.CompactionAlways:
		out.On = true
	case lambdav1alpha1.CompactionThreshold:
		out.On, out.Above = true, policy.MaxPolicySize*percent/100
	}
	return out
}

// compactedGrantOf is the grant a LambdaPermission placed in a compacted
// statement, read back from its status: the member of status.statement
// with its own value.
func compactedGrantOf(obj *lambdav1alpha1.LambdaPermission) (policy.Statement, bool) {
	c := obj.Status.Compacted
	if c == nil || obj.Status.Statement == "" {
		return policy.Statement{}, false
	}
	st, err := policy.ParseStatement(obj.Status.Statement)
	if err != nil {
		return policy.Statement{}, false
	}
	return policy.MemberOf(st, c.Value, obj.Status.StatementID)
}

// compactedStatus is status.compacted for a grant held by a compacted
// statement; nil for a grant written alone.
func compactedStatus(h *policy.Holding) *lambdav1alpha1.CompactedGrant {
	if h == nil || h.Statement.Sid == "" {
		return nil
	}
	return &lambdav1alpha1.CompactedGrant{StatementID: h.Statement.Sid, Dimension: string(h.Dimension), Value: h.Value}
}
