package controllers

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Condition types, as kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) reads
// them: Reconciling=True is InProgress, Stalled=True is Failed, and Ready=True
// at the current generation is Current.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Reasons on the conditions and on Events. Each says what a user sees.
const (
	ReasonSynced           = "Synced"           // the statement is in the policy as specified
	ReasonProgressing      = "Progressing"      // work has started
	ReasonInvalidSpec      = "InvalidSpec"      // Lambda would refuse the spec
	ReasonSidConflict      = "SidConflict"      // another object manages this Sid
	ReasonFunctionNotFound = "FunctionNotFound" // no such function, version or alias (yet)
	ReasonPolicyTooLarge   = "PolicyTooLarge"   // the policy would pass Lambda's 20 KB limit
	ReasonThrottled        = "Throttled"        // Lambda asked us to slow down
	ReasonAccessDenied     = "AccessDenied"     // the operator's AWS identity may not do this
	ReasonRetrying         = "Retrying"         // Lambda failed, was busy or could not be reached; retrying
	ReasonStaleRevision    = "StaleRevision"    // the policy kept changing under us; retrying
	ReasonDeleting         = "Deleting"         // removing the statement before the object goes
	ReasonDriftDetected    = "DriftDetected"    // managementPolicy Observe: the policy differs from the spec
	ReasonDryRun           = "DryRun"           // --dry-run: the write the spec needs was reported, not made
)

// stateError is a failure with the condition it shows as. Stalled ones need
// a person to act; the others clear by themselves and are retried.
type stateError struct {
	Reason  string
	Message string
	Stalled bool
	// RetryAfter, when set, replaces the controller's exponential backoff.
	RetryAfter time.Duration
	// ReadOnly marks a failure to read the policy, not to change it: a
	// statement that was in place is still in place as far as anyone knows.
	ReadOnly bool
	Err      error
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

// setConditions writes the three conditions for the outcome of a reconcile:
// nil means the statement is in place.
func setConditions(obj *lambdav1alpha1.LambdaPermission, outcome error) {
	conditions := &obj.Status.Conditions
	gen := obj.Generation
	if outcome == nil {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue,
			Reason: ReasonSynced, Message: "the statement is in the function's policy as specified", ObservedGeneration: gen})
		meta.RemoveStatusCondition(conditions, ConditionReconciling)
		meta.RemoveStatusCondition(conditions, ConditionStalled)
		return
	}
	var state *stateError
	if !errors.As(outcome, &state) {
		state = &stateError{Reason: ReasonRetrying, Err: outcome}
	}
	message := state.Message
	if message == "" {
		message = state.Error()
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse,
		Reason: state.Reason, Message: message, ObservedGeneration: gen})
	if state.Stalled {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionStalled, Status: metav1.ConditionTrue,
			Reason: state.Reason, Message: message, ObservedGeneration: gen})
		meta.RemoveStatusCondition(conditions, ConditionReconciling)
		return
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: ConditionReconciling, Status: metav1.ConditionTrue,
		Reason: state.Reason, Message: message, ObservedGeneration: gen})
	meta.RemoveStatusCondition(conditions, ConditionStalled)
}
