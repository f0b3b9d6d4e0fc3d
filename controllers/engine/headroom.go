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
