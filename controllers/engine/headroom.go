package engine

import (
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Headroom: how close each policy is to Lambda's size limit, shown before
// a write is refused for it (PolicyTooLarge). Every size comes from the
// policy writer's view, so none costs an AWS call.

// nearLimitPercent is the share of Lambda's limit past which a write
// warns (EventPolicyNearLimit).
const nearLimitPercent = 90

// PolicySize is a policy's size as a Write left it, when known.
type PolicySize struct {
	Bytes, Statements int
	Known             bool // false: there was no view (never read, or dropped after a failed write)
}

func sizeOf(applied writer.Applied) PolicySize {
	return PolicySize{Bytes: applied.PolicySize, Statements: applied.Statements, Known: applied.SizeKnown}
}

// crossesNearLimit reports whether a write that took a policy from before
// to after bytes crossed nearLimitPercent of limit. Only the crossing
// warns: a policy that stays full would otherwise warn at every write.
func crossesNearLimit(before, after, limit int) bool {
	threshold := limit * nearLimitPercent / 100
	return before <= threshold && after > threshold
}

// nearLimit reports whether a Write's writes took its policy past
// nearLimitPercent of Lambda's limit, with the size they left and the
// operation that did it.
func nearLimit(applied writer.Applied) (after int, operation string, crossed bool) {
	grew := applied.Resized
	if grew == nil || len(applied.Writes) == 0 || !crossesNearLimit(grew.Before, grew.After, policy.MaxPolicySize) {
		return 0, "", false
	}
	return grew.After, applied.Writes[len(applied.Writes)-1].Operation, true
}

// PolicyFacts are what an object's status says of the whole policy its
// statement is in: its size and its RevisionId.
type PolicyFacts struct {
	Size     int
	Revision string
}

// RecordedPolicyFacts are the policy facts an object's status is to show
// after a sync: the fresh ones when the object's own statement was written
// or first found in place (statementChanged) or a sync was requested; else
// the ones it recorded before. Every statement added to a policy changes
// its size and revision, and refreshing them in each object on it at every
// check would cost a status write per object on the policy for each
// change: N² writes as the policy fills. The gauge
// lambda_permission_policy_size_bytes has every policy's current size, the
// PolicyNearLimit Event marks the write that took it past 90 % of the
// limit, and `kubectl lperm audit` lists the policies near it.
func RecordedPolicyFacts(recorded, fresh PolicyFacts, statementChanged, syncRequested bool) PolicyFacts {
	if statementChanged || syncRequested {
		return fresh
	}
	return recorded
}
