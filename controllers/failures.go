package controllers

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// updateInProgressWait is how long to wait when Lambda says the function is
// being updated (409 ResourceConflictException of that kind).
const updateInProgressWait = 2 * time.Second

// lambdaFailure is the state a failed Lambda call shows as: its condition
// reason, whether a person must act, and when to try again.
func lambdaFailure(err error, format string, args ...any) *stateError {
	doing := fmt.Sprintf(format, args...)
	var lambdaErr *awslambda.Error
	if !errors.As(err, &lambdaErr) {
		return retrying(ReasonRetrying, err, "%s: %v", doing, err)
	}
	switch lambdaErr.Kind {
	case awslambda.NotFound:
		return retrying(ReasonFunctionNotFound, err,
			"%s: %s; create the function, version or alias, or correct functionName and qualifier", doing, lambdaErr.Message)
	case awslambda.Throttled:
		state := retrying(ReasonThrottled, err, "%s: throttled by Lambda; retrying", doing)
		state.RetryAfter = max(lambdaErr.RetryAfter, time.Second)
		return state
	case awslambda.PolicyTooLarge:
		return stalled(ReasonPolicyTooLarge, "%s: %s", doing, lambdaErr.Message)
	case awslambda.Invalid:
		return stalled(ReasonInvalidSpec, "%s: Lambda refused it: %s", doing, lambdaErr.Message)
	case awslambda.PublicPolicy:
		// Retrying cannot help until someone acts: stalled, looked at again
		// once per sync period.
		return stalled(ReasonPublicAccessBlocked,
			"%s: %s; narrow the statement (sourceArn, sourceAccount, principalOrgID, or functionUrlAuthType AWS_IAM), or lift the account's public-access block", doing, lambdaErr.Message)
	case awslambda.AccessDenied:
		return stalled(ReasonAccessDenied,
			"%s: %s; the operator's AWS identity needs lambda:GetPolicy, lambda:AddPermission, lambda:RemovePermission and lambda:GetFunction, and for writeStrategy Document lambda:PutResourcePolicy and lambda:DeleteResourcePolicy", doing, lambdaErr.Message)
	case awslambda.StaleRevision, awslambda.StatementExists:
		return retrying(ReasonStaleRevision, err, "%s: the policy kept changing during the update; retrying", doing)
	case awslambda.Conflict:
		// The other 409: the function itself is being updated. Unlike a
		// duplicate Sid, reading again will not help; wait a moment.
		state := retrying(ReasonRetrying, err, "%s: %s; retrying shortly", doing, lambdaErr.Message)
		state.RetryAfter = wait.Jitter(updateInProgressWait, 0.5)
		return state
	default:
		return retrying(ReasonRetrying, err, "%s: %v; retrying", doing, err)
	}
}

// policyFailure is the state a failed policy Write shows as.
func policyFailure(err error) *stateError {
	var failure *writer.Error
	if !errors.As(err, &failure) {
		return stateOf(err)
	}
	state := lambdaFailure(failure.Err, "%s", failure.Doing)
	state.ReadFailed = failure.Read && !state.Stalled
	return state
}

// checkFailedInPlace reports whether a failed reconcile was only a check
// that could not read the policy (throttled, a 5xx) of a statement that was
// in place: nothing was found wrong, so it stays Ready rather than flap
// with every failed check, and the check is retried.
func checkFailedInPlace(state *stateError, wasInPlace bool) bool {
	return state != nil && state.ReadFailed && wasInPlace
}

// nextReconcile says when to come back after a reconcile: after the sync
// period when done, stalled or planned in a dry run (nothing changes until
// the spec or the world does, and a periodic look notices the world), after
// Retry-After when Lambda gave one, and with the controller's exponential
// backoff for any other failure.
func nextReconcile(state *stateError, syncPeriod time.Duration) (ctrl.Result, error) {
	switch {
	case state == nil, state.Stalled, state.Reason == ReasonDryRun:
		return ctrl.Result{RequeueAfter: wait.Jitter(syncPeriod, 0.1)}, nil
	case state.RetryAfter > 0:
		return ctrl.Result{RequeueAfter: state.RetryAfter}, nil
	default:
		return ctrl.Result{}, state
	}
}
