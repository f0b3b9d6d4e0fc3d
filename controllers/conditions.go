package controllers

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types, as kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) reads
// them: Reconciling=True is InProgress, Stalled=True is Failed, and Ready=True
// at the current generation is Current. All four kinds use them.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Reasons on the conditions and on Events. Each says what a user sees.
const (
	ReasonSynced                   = "Synced"                   // the statement is in the policy as specified
	ReasonProgressing              = "Progressing"              // work has started
	ReasonInvalidSpec              = "InvalidSpec"              // Lambda would refuse the spec
	ReasonSidConflict              = "SidConflict"              // another object manages this Sid
	ReasonFunctionNotFound         = "FunctionNotFound"         // no such function, version or alias (yet)
	ReasonPolicyTooLarge           = "PolicyTooLarge"           // the policy would pass Lambda's 20 KB limit
	ReasonThrottled                = "Throttled"                // Lambda asked us to slow down
	ReasonAccessDenied             = "AccessDenied"             // the operator's AWS identity may not do this
	ReasonRetrying                 = "Retrying"                 // Lambda failed, was busy or could not be reached; retrying
	ReasonStaleRevision            = "StaleRevision"            // the policy kept changing under us; retrying
	ReasonDriftDetected            = "DriftDetected"            // managementPolicy Observe: the policy differs from the spec
	ReasonDryRun                   = "DryRun"                   // --dry-run: the write the spec needs was reported, not made
	ReasonPublicAccessBlocked      = "PublicAccessBlocked"      // Lambda's public-access block refused the statement
	ReasonRequiresDocumentStrategy = "RequiresDocumentStrategy" // a Deny or conditions on an account written statement by statement
	ReasonPolicyOwnerConflict      = "PolicyOwnerConflict"      // another LambdaResourcePolicy owns the same policy
	ReasonExcludedByPolicyOwner    = "ExcludedByPolicyOwner"    // the policy's LambdaResourcePolicy does not include LambdaPermissions

	// Refusals made before any AWS call.
	ReasonAccountNotAllowed  = "AccountNotAllowed"
	ReasonFunctionNotAllowed = "FunctionNotAllowed"
	ReasonPublicAccessDenied = "PublicAccessDenied"
	ReasonSourceRequired     = "SourceRequired"

	// A LambdaPermissionAccount's identity.
	ReasonIdentityVerified = "IdentityVerified" // the operator acts as the account's identity, in that account
	ReasonIdentityFailed   = "IdentityFailed"   // the identity could not be used (AssumeRole or STS failed)
	ReasonWrongAccount     = "WrongAccount"     // the identity belongs to another account
)

// Reasons of the Events that record what was done to a policy.
const (
	EventAdded               = "Added"               // a statement was added
	EventRemoved             = "Removed"             // a statement was removed
	EventReplaced            = "Replaced"            // a statement was replaced in one write, never missing
	EventAdopted             = "Adopted"             // a statement already in place was taken over without a write
	EventDriftCorrected      = "DriftCorrected"      // a statement removed or changed outside was restored
	EventPolicyReplaced      = "PolicyReplaced"      // a statement lost when another writer replaced or deleted the whole policy was restored
	EventLeftInPlace         = "LeftInPlace"         // a statement changed outside was not removed
	EventRetained            = "Retained"            // deletionPolicy Retain or Observe: the statement stays
	EventUnexpectedStatement = "UnexpectedStatement" // Lambda stored other than predicted: a bug to report
	EventPolicyNearLimit     = "PolicyNearLimit"     // a write took the policy past 90 % of Lambda's 20 KB limit
	EventPolicyWritten       = "PolicyWritten"       // a LambdaResourcePolicy wrote its policy (Sids added, changed, removed)
	EventPolicyDeleted       = "PolicyDeleted"       // a LambdaResourcePolicy took out its statements on deletion
)

// stateError is a failure with the condition it shows as. Stalled ones need
// a person to act; the others clear by themselves and are retried.
type stateError struct {
	Reason  string
	Message string
	Stalled bool
	// RetryAfter, when set, replaces the controller's exponential backoff.
	RetryAfter time.Duration
	// ReadFailed marks a failure to read the policy, not to change it: a
	// statement that was in place is still in place as far as anyone knows.
	ReadFailed bool
	Err        error
}

func (e *stateError) Error() string {
	if e.Err != nil && e.Message == "" {
		return fmt.Sprintf("%s: %v", e.Reason, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Message)
}

func (e *stateError) Unwrap() error { return e.Err }

func stalled(reason, format string, args ...any) *stateError {
	return &stateError{Reason: reason, Message: fmt.Sprintf(format, args...), Stalled: true}
}

func retrying(reason string, err error, format string, args ...any) *stateError {
	return &stateError{Reason: reason, Message: fmt.Sprintf(format, args...), Err: err}
}

// stateOf is the state an outcome shows as: nil when done, and Retrying for
// a failure that is not a stateError (the Kubernetes API, say).
func stateOf(outcome error) *stateError {
	if outcome == nil {
		return nil
	}
	var state *stateError
	if errors.As(outcome, &state) {
		return state
	}
	return &stateError{Reason: ReasonRetrying, Message: outcome.Error(), Err: outcome}
}

// setConditions writes Ready, Reconciling and Stalled for the outcome of a
// reconcile at generation, the same way for every kind: nil means done, and
// Ready is then True with readyReason and readyMessage; a stalled failure
// needs a person; any other is being retried.
func setConditions(conditions *[]metav1.Condition, generation int64, outcome error, readyReason, readyMessage string) {
	state := stateOf(outcome)
	if state == nil {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue,
			Reason: readyReason, Message: readyMessage, ObservedGeneration: generation})
		meta.RemoveStatusCondition(conditions, ConditionReconciling)
		meta.RemoveStatusCondition(conditions, ConditionStalled)
		return
	}
	message := state.Message
	if message == "" {
		message = state.Error()
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse,
		Reason: state.Reason, Message: message, ObservedGeneration: generation})
	if state.Stalled {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionStalled, Status: metav1.ConditionTrue,
			Reason: state.Reason, Message: message, ObservedGeneration: generation})
		meta.RemoveStatusCondition(conditions, ConditionReconciling)
		return
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionReconciling, Status: metav1.ConditionTrue,
		Reason: state.Reason, Message: message, ObservedGeneration: generation})
	meta.RemoveStatusCondition(conditions, ConditionStalled)
}
