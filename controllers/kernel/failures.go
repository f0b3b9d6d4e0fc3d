package kernel

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// updateInProgressWait is how long to wait when Lambda says the function is
// being updated (409 ResourceConflictException of that kind).
const updateInProgressWait = 2 * time.Second

// LambdaFailure is the state a failed Lambda call shows as: its condition
// reason, whether a person must act, and when to try again.
func LambdaFailure(err error, format string, args ...any) *StateError {
	doing := fmt.Sprintf(format, args...)
	var lambdaErr *awslambda.Error
	if !errors.As(err, &lambdaErr) {
		return Retrying(lambdav1alpha1.ReasonRetrying, err, "%s: %v", doing, err)
	}
	if state := IdentityFailure(err, doing); state != nil {
		return state
	}
	switch lambdaErr.Kind {
	case awslambda.NotFound:
		return Retrying(lambdav1alpha1.ReasonFunctionNotFound, err,
			"%s: %s; create the function, version or alias, or correct functionName and qualifier", doing, lambdaErr.Message)
	case awslambda.Throttled:
		state := Retrying(lambdav1alpha1.ReasonThrottled, err, "%s: throttled by Lambda; retrying", doing)
		state.RetryAfter = max(lambdaErr.RetryAfter, time.Second)
		return state
	case awslambda.PolicyTooLarge:
		return Stalled(lambdav1alpha1.ReasonPolicyTooLarge, "%s: %s", doing, lambdaErr.Message)
	case awslambda.Invalid:
		return Stalled(lambdav1alpha1.ReasonInvalidSpec, "%s: Lambda refused it: %s", doing, lambdaErr.Message)
	case awslambda.PublicPolicy:
		// Retrying cannot help until someone acts: stalled, looked at again
		// once per sync period.
		return Stalled(lambdav1alpha1.ReasonPublicAccessBlocked,
			"%s: %s; narrow the statement (sourceArn, sourceAccount, principalOrgID, or functionUrlAuthType AWS_IAM), or lift the account's public-access block", doing, lambdaErr.Message)
	case awslambda.AccessDenied:
		return Stalled(lambdav1alpha1.ReasonAccessDenied,
			"%s: %s; the operator's AWS identity needs lambda:GetPolicy, lambda:AddPermission, lambda:RemovePermission and lambda:GetFunction, and for writeStrategy Document lambda:PutResourcePolicy and lambda:DeleteResourcePolicy", doing, lambdaErr.Message)
	case awslambda.StaleRevision, awslambda.StatementExists:
		return Retrying(lambdav1alpha1.ReasonStaleRevision, err, "%s: the policy kept changing during the update; retrying", doing)
	case awslambda.Conflict:
		// The other 409: the function itself is being updated. Unlike a
		// duplicate Sid, reading again will not help; wait a moment.
		state := Retrying(lambdav1alpha1.ReasonRetrying, err, "%s: %s; retrying shortly", doing, lambdaErr.Message)
		state.RetryAfter = wait.Jitter(updateInProgressWait, 0.5)
		return state
	default:
		return Retrying(lambdav1alpha1.ReasonRetrying, err, "%s: %v; retrying", doing, err)
	}
}

// IdentityFailure is the state of a call whose identity AWS refused, or
// nil for any other failure: the operator's own credentials
// (CredentialsInvalid), or the AssumeRole of an account's role
// (RoleTrustDenied; ExternalIDDenied when it was sent with an external id,
// since AWS answers a wrong external id and a missing trust alike). A
// person must act: stalled, looked at again once per sync period, so
// thousands of objects do not hammer STS.
func IdentityFailure(err error, doing string) *StateError {
	var e *awslambda.Error
	if !errors.As(err, &e) {
		return nil
	}
	refused := e.Message
	if e.Code != "" {
		refused = e.Code + ": " + e.Message
	}
	switch {
	case e.Kind == awslambda.InvalidCredentials && e.Role != "" && !e.AssumeRole:
		return Stalled(lambdav1alpha1.ReasonCredentialsInvalid,
			"%s: AWS refused the credentials of the session as %s (%s); they come from AssumeRole with the operator's own, which the SDK renews: check the operator's identity and clock", doing, e.Role, refused)
	case e.Kind == awslambda.InvalidCredentials:
		return Stalled(lambdav1alpha1.ReasonCredentialsInvalid,
			"%s: AWS refused the operator's own credentials, or it found none (%s); fix the operator's AWS identity: the IRSA role annotation on its ServiceAccount, its EKS Pod Identity association, or its AWS_* environment", doing, refused)
	case e.Kind == awslambda.AccessDenied && e.AssumeRole && e.ExternalID:
		return Stalled(lambdav1alpha1.ReasonExternalIDDenied,
			"%s: AWS refused to let the operator assume %s with the account's externalID (%s); make the role's trust policy require sts:ExternalId equal to the LambdaPermissionAccount's spec.externalID, and check that it trusts the operator's role (AWS does not say which)", doing, e.Role, refused)
	case e.Kind == awslambda.AccessDenied && e.AssumeRole:
		return Stalled(lambdav1alpha1.ReasonRoleTrustDenied,
			"%s: AWS refused to let the operator assume %s (%s); the role's trust policy must allow sts:AssumeRole by the operator's role, and the operator's role needs sts:AssumeRole on it", doing, e.Role, refused)
	}
	return nil
}

// PolicyFailure is the state a failed policy Write shows as.
func PolicyFailure(err error) *StateError {
	var failure *writer.Error
	if !errors.As(err, &failure) {
		return StateOf(err)
	}
	state := LambdaFailure(failure.Err, "%s", failure.Doing)
	state.ReadFailed = failure.Read && !state.Stalled
	return state
}

// checkFailedInPlace reports whether a failed reconcile was only a check
// that could not read the policy (throttled, a 5xx) of a statement that was
// in place: nothing was found wrong, so it stays Ready rather than flap
// with every failed check, and the check is retried.
func checkFailedInPlace(state *StateError, wasInPlace bool) bool {
	return state != nil && state.ReadFailed && wasInPlace
}

// NextReconcile says when to come back after a reconcile: after the sync
// period when done, stalled or planned in a dry run (nothing changes until
// the spec or the world does, and a periodic look notices the world), after
// Retry-After when Lambda gave one, and with the controller's exponential
// backoff for any other failure.
func NextReconcile(state *StateError, syncPeriod time.Duration) (ctrl.Result, error) {
	switch {
	case state == nil, state.Stalled, state.Reason == lambdav1alpha1.ReasonDryRun:
		return ctrl.Result{RequeueAfter: wait.Jitter(syncPeriod, 0.1)}, nil
	case state.RetryAfter > 0:
		return ctrl.Result{RequeueAfter: state.RetryAfter}, nil
	default:
		return ctrl.Result{}, state
	}
}
