package awslambda

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is what a failed Lambda call means for the caller. The controller
// decides its condition, Event and requeue from the Kind alone.
type Kind string

const (
	// NotFound: the function, version or alias does not exist (404).
	NotFound Kind = "NotFound"
	// StatementExists: AddPermission found the Sid already in the policy
	// (409 "The statement id (…) provided already exists").
	StatementExists Kind = "StatementExists"
	// Conflict: any other 409, such as an update in progress on the function.
	Conflict Kind = "Conflict"
	// StaleRevision: the RevisionId sent is no longer the policy's (412).
	StaleRevision Kind = "StaleRevision"
	// Throttled: the account's request rate was exceeded (429).
	Throttled Kind = "Throttled"
	// PolicyTooLarge: the policy would exceed Lambda's 20 KB limit.
	PolicyTooLarge Kind = "PolicyTooLarge"
	// Invalid: Lambda refused the request's content (400); retrying the same
	// request cannot help.
	Invalid Kind = "Invalid"
	// PublicPolicy: the statement would grant public access and the
	// account's public-access block refuses it (400 PublicPolicyException).
	PublicPolicy Kind = "PublicPolicy"
	// AccessDenied: the operator's identity may not make the call (403).
	// With Error.AssumeRole, the call was the AssumeRole behind an
	// account's role: the role does not let the operator assume it.
	AccessDenied Kind = "AccessDenied"
	// InvalidCredentials: AWS refused the credentials the call was signed
	// with (expired, unknown, a signature that does not match), or the SDK
	// could not get any: the operator's identity (IRSA, Pod Identity,
	// AWS_* environment) needs fixing, not the object.
	InvalidCredentials Kind = "InvalidCredentials"
	// Unavailable: a 5xx or a transport failure; worth retrying.
	Unavailable Kind = "Unavailable"
	// Paced: the operator's own pacing (Limits) has no turn for the call
	// soon enough, so it was not made: try again after RetryAfter. Nothing
	// reached AWS.
	Paced Kind = "Paced"
)

// Error is a classified failure of one Lambda call.
type Error struct {
	Operation  string
	Kind       Kind
	Code       string        // AWS error code, e.g. ResourceConflictException
	Message    string        // AWS's message, verbatim
	RetryAfter time.Duration // from Retry-After on a 429, or when a Paced call's turn comes; zero otherwise
	// AssumeRole: the failure was the AssumeRole behind the credentials of
	// an account's role, not the call itself.
	AssumeRole bool
	// Role and ExternalID are the identity the call was made as (empty for
	// the operator's own), so that a failure can name what to fix.
	Role       string
	ExternalID bool
	Err        error
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("lambda %s: %v", e.Operation, e.Err)
	}
	return fmt.Sprintf("lambda %s: %s: %s", e.Operation, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of a classified error, or "" for any other error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Classify maps an SDK error of operation to an *Error with its Kind.
// Codes come first; the HTTP status decides for codes this version does
// not know.
func Classify(operation string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Operation: operation, Err: err}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code, e.Message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	if sts, found := credentialsFailure(err); found {
		classifyCredentialsFailure(e, sts)
		return e
	}
	if operation == "AssumeRole" {
		e.AssumeRole = true
	}
	if isCredentialsCode(e.Code) {
		e.Kind = InvalidCredentials
		return e
	}
	var (
		notFound  *types.ResourceNotFoundException
		conflict  *types.ResourceConflictException
		stale     *types.PreconditionFailedException
		throttled *types.TooManyRequestsException
		tooLarge  *types.PolicyLengthExceededException
		invalid   *types.InvalidParameterValueException
		public    *types.PublicPolicyException
	)
	switch {
	case errors.As(err, &notFound):
		e.Kind = NotFound
	case errors.As(err, &conflict):
		// Lambda answers 409 both for a duplicate Sid and for an update in
		// progress; only the message tells them apart.
		e.Kind = Conflict
		if strings.Contains(e.Message, "provided already exists") {
			e.Kind = StatementExists
		}
	case errors.As(err, &stale):
		e.Kind = StaleRevision
	case errors.As(err, &throttled):
		e.Kind = Throttled
		if throttled.RetryAfterSeconds != nil {
			if s, err := time.ParseDuration(*throttled.RetryAfterSeconds + "s"); err == nil {
				e.RetryAfter = s
			}
		}
	case errors.As(err, &tooLarge):
		e.Kind = PolicyTooLarge
	case errors.As(err, &public):
		e.Kind = PublicPolicy
	case errors.As(err, &invalid):
		e.Kind = Invalid
	default:
		e.Kind = kindOfStatus(err, e.Code)
	}
	return e
}

// isThrottleCode reports the error codes by which AWS services say a caller
// is throttled: those the SDK's retryer treats as throttles.
func isThrottleCode(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

func kindOfStatus(err error, code string) Kind {
	var respErr *smithyhttp.ResponseError
	status := 0
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	switch {
	// Before 400's Invalid: STS, and other awsQuery services, throttle with
	// 400 and a code (Throttling "Rate exceeded"), not with 429.
	case isThrottleCode(code), status == http.StatusTooManyRequests:
		return Throttled
	case code == "ValidationException", status == http.StatusBadRequest:
		return Invalid
	case code == "AccessDeniedException", status == http.StatusForbidden, status == http.StatusUnauthorized:
		return AccessDenied
	case status == http.StatusNotFound:
		return NotFound
	default:
		return Unavailable
	}
}

// credentialsCodes are the error codes by which AWS refuses the credentials
// a request was signed with, Lambda's and STS's spellings alike.
var credentialsCodes = []string{
	"ExpiredToken", "ExpiredTokenException",
	"InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId",
	"SignatureDoesNotMatch", "InvalidSignatureException",
	"IncompleteSignature", "IncompleteSignatureException",
	"MissingAuthenticationToken", "MissingAuthenticationTokenException",
}

func isCredentialsCode(code string) bool { return slices.Contains(credentialsCodes, code) }

// credentialsFailure reports whether err is a failure to get the call's
// credentials rather than of the call, and returns the STS call behind
// them when that is what failed (AssumeRole for an account's role,
// AssumeRoleWithWebIdentity for IRSA). The SDK wraps it as "get identity:"
// inside the call's own operation error.
func credentialsFailure(err error) (sts *smithy.OperationError, found bool) {
	outer := true
	for e := err; e != nil; e = errors.Unwrap(e) {
		if op, ok := e.(*smithy.OperationError); ok {
			if !outer && op.ServiceID == "STS" {
				return op, true
			}
			outer = false
		}
		var signing *v4.SigningError
		if errors.As(e, &signing) || strings.HasPrefix(e.Error(), "get identity: ") {
			found = true
		}
	}
	return nil, found
}

// classifyCredentialsFailure sets e's Kind for a call whose credentials
// could not be had: sts, when known, is the STS call that failed.
func classifyCredentialsFailure(e *Error, sts *smithy.OperationError) {
	e.Kind = InvalidCredentials
	if sts == nil {
		return
	}
	inner := Classify(sts.OperationName, sts.Err).(*Error)
	e.Code, e.Message = inner.Code, inner.Message
	switch {
	case sts.OperationName != "AssumeRole":
		// AssumeRoleWithWebIdentity and the like: the operator's own.
	case inner.Kind == AccessDenied, inner.Kind == Throttled, inner.Kind == Unavailable:
		e.Kind, e.AssumeRole, e.RetryAfter = inner.Kind, true, inner.RetryAfter
	}
}
