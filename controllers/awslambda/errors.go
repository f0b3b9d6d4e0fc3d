package awslambda

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
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
	AccessDenied Kind = "AccessDenied"
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
