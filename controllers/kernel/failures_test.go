package kernel

import (
	"errors"
	"strings"
	"testing"
	"time"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Every kind of Lambda failure has a defined outcome: a condition reason,
// whether a person must act, and when the controller tries again.
func TestLambdaFailures(t *testing.T) {
	const syncPeriod = 10 * time.Minute
	for _, tt := range []struct {
		kind        awslambda.Kind
		retryAfter  time.Duration
		assumeRole  bool   // the failure was the AssumeRole behind a role's credentials
		role        string // the identity the call was made as
		externalID  bool
		wantReason  string
		wantStalled bool
		wantRequeue [2]time.Duration // bounds of RequeueAfter; zero: exponential backoff
		wantMessage string
	}{
		{kind: awslambda.NotFound, wantReason: lambdav1alpha1.ReasonFunctionNotFound, wantMessage: "create the function, version or alias"},
		{kind: awslambda.Throttled, retryAfter: 3 * time.Second, wantReason: lambdav1alpha1.ReasonThrottled, wantRequeue: [2]time.Duration{3 * time.Second, 3 * time.Second}},
		{kind: awslambda.Throttled, wantReason: lambdav1alpha1.ReasonThrottled, wantRequeue: [2]time.Duration{time.Second, time.Second}}, // no Retry-After: a second
		{kind: awslambda.PolicyTooLarge, wantReason: lambdav1alpha1.ReasonPolicyTooLarge, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}},
		{kind: awslambda.Invalid, wantReason: lambdav1alpha1.ReasonInvalidSpec, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "Lambda refused it"},
		{kind: awslambda.PublicPolicy, wantReason: lambdav1alpha1.ReasonPublicAccessBlocked, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "AWS says no; narrow the statement"},
		{kind: awslambda.AccessDenied, wantReason: lambdav1alpha1.ReasonAccessDenied, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "needs lambda:GetPolicy"},
		{kind: awslambda.StaleRevision, wantReason: lambdav1alpha1.ReasonStaleRevision},
		{kind: awslambda.StatementExists, wantReason: lambdav1alpha1.ReasonStaleRevision},
		{kind: awslambda.Conflict, wantReason: lambdav1alpha1.ReasonRetrying, wantRequeue: [2]time.Duration{time.Second, 3 * time.Second}, wantMessage: "retrying shortly"},
		{kind: awslambda.Unavailable, wantReason: lambdav1alpha1.ReasonRetrying},
		// Identities AWS refuses: a person must act, so stalled and looked
		// at again once per sync period, never a hot loop.
		{kind: awslambda.InvalidCredentials, wantReason: lambdav1alpha1.ReasonCredentialsInvalid, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "AWS refused the operator's own credentials"},
		{kind: awslambda.InvalidCredentials, role: "arn:aws:iam::210987654321:role/op", wantReason: lambdav1alpha1.ReasonCredentialsInvalid, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "session as arn:aws:iam::210987654321:role/op"},
		{kind: awslambda.AccessDenied, assumeRole: true, role: "arn:aws:iam::210987654321:role/op", wantReason: lambdav1alpha1.ReasonRoleTrustDenied, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "assume arn:aws:iam::210987654321:role/op (Code: AWS says no); the role's trust policy"},
		{kind: awslambda.AccessDenied, assumeRole: true, role: "arn:aws:iam::210987654321:role/op", externalID: true, wantReason: lambdav1alpha1.ReasonExternalIDDenied, wantStalled: true, wantRequeue: [2]time.Duration{9 * time.Minute, 11 * time.Minute}, wantMessage: "require sts:ExternalId equal to the LambdaPermissionAccount's spec.externalID"},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			err := &awslambda.Error{Operation: "AddPermission", Kind: tt.kind, Code: "Code", Message: "AWS says no", RetryAfter: tt.retryAfter,
				AssumeRole: tt.assumeRole, Role: tt.role, ExternalID: tt.externalID}
			state := LambdaFailure(err, "adding statement %q", "s3")
			if state.Reason != tt.wantReason || state.Stalled != tt.wantStalled || !strings.HasPrefix(state.Message, `adding statement "s3": `) ||
				!strings.Contains(state.Message, tt.wantMessage) {
				t.Errorf("got %s stalled=%v %q; want %s stalled=%v containing %q", state.Reason, state.Stalled, state.Message, tt.wantReason, tt.wantStalled, tt.wantMessage)
			}
			result, requeueErr := NextReconcile(state, syncPeriod)
			switch {
			case tt.wantRequeue == [2]time.Duration{}:
				if requeueErr == nil || result.RequeueAfter != 0 {
					t.Errorf("requeue %v, err %v; want the controller's backoff", result.RequeueAfter, requeueErr)
				}
			case requeueErr != nil || result.RequeueAfter < tt.wantRequeue[0] || result.RequeueAfter > tt.wantRequeue[1]:
				t.Errorf("requeue %v, err %v; want within %v", result.RequeueAfter, requeueErr, tt.wantRequeue)
			}
		})
	}
	t.Run("not a Lambda failure", func(t *testing.T) {
		state := LambdaFailure(errors.New("connection refused"), "reading")
		if state.Reason != lambdav1alpha1.ReasonRetrying || state.Stalled || !strings.Contains(state.Message, "connection refused") {
			t.Errorf("got %+v", state)
		}
	})
}

// A failed read is marked so that a check of a statement in place does not
// unready it; a failed write, or a stalled read, is not.
func TestPolicyFailures(t *testing.T) {
	throttled := &awslambda.Error{Operation: "GetPolicy", Kind: awslambda.Throttled}
	denied := &awslambda.Error{Operation: "GetPolicy", Kind: awslambda.AccessDenied}
	for _, tt := range []struct {
		name           string
		err            error
		wasInPlace     bool
		wantReason     string
		wantKeepsReady bool
	}{
		{"read throttled, in place: stays Ready", &writer.Error{Doing: "reading the policy of f", Read: true, Err: throttled}, true, lambdav1alpha1.ReasonThrottled, true},
		{"read throttled, not in place yet", &writer.Error{Doing: "reading the policy of f", Read: true, Err: throttled}, false, lambdav1alpha1.ReasonThrottled, false},
		{"write throttled, in place", &writer.Error{Doing: `adding statement "s3" to f`, Err: throttled}, true, lambdav1alpha1.ReasonThrottled, false},
		{"read denied, in place: a person must act", &writer.Error{Doing: "reading the policy of f", Read: true, Err: denied}, true, lambdav1alpha1.ReasonAccessDenied, false},
		{"not a writer failure", errors.New("boom"), true, lambdav1alpha1.ReasonRetrying, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := PolicyFailure(tt.err)
			if state.Reason != tt.wantReason || checkFailedInPlace(state, tt.wasInPlace) != tt.wantKeepsReady {
				t.Errorf("got %s, keeps Ready %v; want %s, %v", state.Reason, checkFailedInPlace(state, tt.wasInPlace), tt.wantReason, tt.wantKeepsReady)
			}
			var failure *writer.Error
			if errors.As(tt.err, &failure) && !strings.HasPrefix(state.Message, failure.Doing+": ") {
				t.Errorf("message %q does not say what failed (%q)", state.Message, failure.Doing)
			}
		})
	}
}

func TestNextReconcile(t *testing.T) {
	const syncPeriod = time.Minute
	for _, tt := range []struct {
		name        string
		state       *StateError
		wantBackoff bool
		min, max    time.Duration
	}{
		{"done: at the next sync, jittered", nil, false, 54 * time.Second, 66 * time.Second},
		{"stalled: looked at again at the sync period", Stalled(lambdav1alpha1.ReasonSidConflict, "x"), false, 54 * time.Second, 66 * time.Second},
		{"dry run: the plan stands until the next sync", &StateError{Reason: lambdav1alpha1.ReasonDryRun}, false, 54 * time.Second, 66 * time.Second},
		{"Retry-After is obeyed", &StateError{Reason: lambdav1alpha1.ReasonThrottled, RetryAfter: 7 * time.Second}, false, 7 * time.Second, 7 * time.Second},
		{"any other failure: backoff", Retrying(lambdav1alpha1.ReasonRetrying, nil, "x"), true, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			result, err := NextReconcile(tt.state, syncPeriod)
			if (err != nil) != tt.wantBackoff || result.RequeueAfter < tt.min || result.RequeueAfter > tt.max {
				t.Errorf("requeue %v, err %v; want backoff %v or within [%v, %v]", result.RequeueAfter, err, tt.wantBackoff, tt.min, tt.max)
			}
		})
	}
}
