package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Error codes as sent in the X-Amzn-ErrorType header (§5). The SDK takes the
// code from that header; the body's "Type":"User" is not a code.
const (
	codeValidation            = "ValidationException"
	codeInvalidParameterValue = "InvalidParameterValueException"
	codeInvalidRequestContent = "InvalidRequestContentException"
	codeResourceNotFound      = "ResourceNotFoundException"
	codeResourceConflict      = "ResourceConflictException"
	codePreconditionFailed    = "PreconditionFailedException"
	codePolicyLengthExceeded  = "PolicyLengthExceededException"
	codePublicPolicy          = "PublicPolicyException"
	codeTooManyRequests       = "TooManyRequestsException"
	codeUnknownOperation      = "UnknownOperationException"
	codeService               = "ServiceException"
	// Front-door (IAM) errors; the Lambda SDK models none of them, so it
	// decodes them as smithy.GenericAPIError.
	codeAccessDenied       = "AccessDeniedException"
	codeExpiredToken       = "ExpiredTokenException"
	codeUnrecognizedClient = "UnrecognizedClientException"
)

// Verbatim AWS messages (§4, §5).
const (
	msgQualifierMismatch  = "The derived qualifier from the function name does not match the specified qualifier."
	msgLatestNotSupported = "We currently do not support adding policies for $LATEST."
	msgInvalidPrincipal   = "The provided principal was invalid. Please check the principal and try again."
	msgResourceMissing    = "The resource you requested does not exist."
	msgNoPolicy           = "No policy is associated with the given resource."
	msgSidExists          = "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement."
	msgStatementMissing   = "Statement %s is not found in resource policy."
	// 2025+ wording for the policy operations (§5, §7): no trailing period.
	msgPolicyRevisionMismatch = "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id"
	// The same for PutResourcePolicy/DeleteResourcePolicy, naming their
	// reader (§16.7; AWS's text is [unknown]).
	msgResourcePolicyRevisionMismatch = "The Revision Id provided does not match the latest Revision Id. Call the GetResourcePolicy API to retrieve the latest Revision Id"
	// Older wording, still used for function/alias configuration revisions.
	msgConfigRevisionMismatch = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
	policySizeLimit           = 20480
)

// apiError is an AWS error response.
type apiError struct {
	status     int
	code       string
	message    string
	retryAfter int // seconds; TooManyRequestsException only
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// body renders the JSON body with the member casing AWS uses for each code
// (§5, §16.3): ResourceNotFoundException, PublicPolicyException and
// ServiceException say "Message", the others "message", ServiceException's "Type" is "Service", and
// ValidationException (not modeled) carries no "Type". The IAM errors carry
// no "Type" either; AccessDeniedException says "Message".
func (e *apiError) body() string {
	switch e.code {
	case codeValidation, codeUnknownOperation, codeExpiredToken, codeUnrecognizedClient, codeInvalidSignature:
		return jsonObject(stringMember("message", e.message))
	case codeAccessDenied:
		return jsonObject(stringMember("Message", e.message))
	case codeResourceNotFound, codePublicPolicy:
		return jsonObject(stringMember("Type", "User"), stringMember("Message", e.message))
	case codeService: // the model's member is "Message"; the fault is the service's
		return jsonObject(stringMember("Type", "Service"), stringMember("Message", e.message))
	case codeTooManyRequests:
		return jsonObject(stringMember("Reason", "CallerRateLimitExceeded"),
			stringMember("Type", "User"), stringMember("message", e.message))
	default:
		return jsonObject(stringMember("Type", "User"), stringMember("message", e.message))
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.code)
	if e.code == codeTooManyRequests {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(e.body()))
}

// errValidation formats Coral's request-validation message (§2, §5):
// "1 validation error detected: X" or "N validation errors detected: X; Y".
func errValidation(violations []string) *apiError {
	prefix := "1 validation error detected: "
	if len(violations) > 1 {
		prefix = fmt.Sprintf("%d validation errors detected: ", len(violations))
	}
	return &apiError{http.StatusBadRequest, codeValidation, prefix + strings.Join(violations, "; "), 0}
}

func errInvalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, codeInvalidParameterValue, msg, 0}
}

func errInvalidRequestContent(msg string) *apiError {
	return &apiError{http.StatusBadRequest, codeInvalidRequestContent, msg, 0}
}

func errNotFound(msg string) *apiError {
	return &apiError{http.StatusNotFound, codeResourceNotFound, msg, 0}
}

func errConflict(msg string) *apiError {
	return &apiError{http.StatusConflict, codeResourceConflict, msg, 0}
}

func errPreconditionFailed(msg string) *apiError {
	return &apiError{http.StatusPreconditionFailed, codePreconditionFailed, msg, 0}
}

func errPolicyLength(size int) *apiError {
	msg := fmt.Sprintf("The final policy size (%d) is bigger than the limit (%d).", size, policySizeLimit)
	return &apiError{http.StatusBadRequest, codePolicyLengthExceeded, msg, 0}
}

func errTooManyRequests(retryAfterSeconds int) *apiError {
	return &apiError{http.StatusTooManyRequests, codeTooManyRequests, "Rate exceeded", retryAfterSeconds}
}

func errUnknownOperation(method, path string) *apiError {
	return &apiError{http.StatusNotFound, codeUnknownOperation, "Unknown operation " + method + " " + path, 0}
}

// errAccessDenied is IAM's refusal of action on resource, e.g. an ARN in
// another account than the caller's.
func errAccessDenied(c *call, resource string) *apiError {
	msg := "User: " + c.who.arn + " is not authorized to perform: " + c.action + " on resource: " + resource +
		" because no resource-based policy allows the " + c.action + " action"
	return &apiError{http.StatusForbidden, codeAccessDenied, msg, 0}
}

func errExpiredToken() *apiError {
	return &apiError{http.StatusForbidden, codeExpiredToken, msgExpiredToken, 0}
}

func errUnrecognizedClient() *apiError {
	return &apiError{http.StatusForbidden, codeUnrecognizedClient, msgInvalidToken, 0}
}
