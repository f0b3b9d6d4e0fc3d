package kernel

import (
	"errors"
	"fmt"
	"time"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// StateError is a failure with the condition it shows as. Stalled ones need
// a person to act; the others clear by themselves and are retried.
type StateError struct {
	Reason  string
	Message string
	Stalled bool
	// RetryAfter, when set, replaces the controller's exponential backoff.
	RetryAfter time.Duration
	// ReadFailed marks a failure to read the policy, not to change it: what
	// was in place is still in place as far as anyone knows.
	ReadFailed bool
	Err        error
}

func (e *StateError) Error() string {
	if e.Err != nil && e.Message == "" {
		return fmt.Sprintf("%s: %v", e.Reason, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Message)
}

func (e *StateError) Unwrap() error { return e.Err }

// Stalled is a failure that needs a person to act.
func Stalled(reason, format string, args ...any) *StateError {
	return &StateError{Reason: reason, Message: fmt.Sprintf(format, args...), Stalled: true}
}

// Retrying is a failure that clears by itself, caused by err (may be nil).
func Retrying(reason string, err error, format string, args ...any) *StateError {
	return &StateError{Reason: reason, Message: fmt.Sprintf(format, args...), Err: err}
}

// DryRun is the outcome of a reconcile that found a write to make and, run
// with --dry-run, reported it instead: message says what it would do.
func DryRun(message string) *StateError {
	return &StateError{Reason: lambdav1alpha1.ReasonDryRun, Message: message}
}

// StateOf is the state an outcome shows as: nil when done, and Retrying for
// a failure that is not a StateError (the Kubernetes API, say).
func StateOf(outcome error) *StateError {
	if outcome == nil {
		return nil
	}
	var state *StateError
	if errors.As(outcome, &state) {
		return state
	}
	return &StateError{Reason: lambdav1alpha1.ReasonRetrying, Message: outcome.Error(), Err: outcome}
}

// HasReason reports whether err is a StateError with reason.
func HasReason(err error, reason string) bool {
	var state *StateError
	return errors.As(err, &state) && state.Reason == reason
}

// IsStalled reports whether err is a StateError that needs a person.
func IsStalled(err error) bool {
	var state *StateError
	return errors.As(err, &state) && state.Stalled
}
