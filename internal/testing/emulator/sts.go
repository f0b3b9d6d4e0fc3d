package emulator

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// The STS endpoint (awsQuery protocol, version 2011-06-15) shares the
// server: POST / with a form body Action=...&Version=... (GET with a query
// string works too). Only AssumeRole and GetCallerIdentity are emulated.

const (
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// STS error codes (awsQuery <Code>).
const (
	stsCodeAccessDenied   = "AccessDenied"
	stsCodeValidation     = "ValidationError"
	stsCodeExpiredToken   = "ExpiredToken"
	stsCodeInvalidToken   = "InvalidClientTokenId"
	stsCodeInvalidAction  = "InvalidAction"
	stsCodeMalformedInput = "MalformedInput"
	// Injected faults (Config.Faults) use AWS's common query-protocol errors.
	stsCodeInternalFailure = "InternalFailure"
	stsCodeThrottling      = "Throttling"
)

const (
	msgExpiredToken = "The security token included in the request is expired"
	msgInvalidToken = "The security token included in the request is invalid."
	// AWS's wording of the common InternalFailure error.
	msgInternalFailure = "The request processing has failed because of an unknown error, exception or failure."
)

// stsError is an awsQuery error response.
type stsError struct {
	status  int
	code    string
	message string
}

var (
	roleSessionNamePattern = wholeMatch(`[\w+=,.@-]*`)
	externalIDPattern      = wholeMatch(`[\w+=,.@:\/-]*`)
	// Any ARN; one that is not even that is "Request ARN is invalid".
	anyARN = regexp.MustCompile(`^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+$`)
)

// serveSTS handles every request to "/". Without an Action it is not an STS
// call and gets the Lambda unknown-operation error.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeError(w, errInvalidRequestContent("Could not read request body: "+err.Error()))
			return
		}
		form, err := url.ParseQuery(string(body))
		if err == nil {
			for k, v := range form {
				params[k] = v
			}
		}
	}
	action := params.Get("Action")
	if action == "" {
		writeError(w, errUnknownOperation(r.Method, r.URL.Path))
		return
	}
	requestID := uuid.NewString()
	w.Header().Set("X-Amzn-RequestId", requestID)
	handlers := map[string]func(*identity, url.Values) (any, *stsError){
		"AssumeRole":        s.assumeRole,
		"GetCallerIdentity": s.getCallerIdentity,
	}
	handler, ok := handlers[action]
	if !ok || params.Get("Version") != stsVersion {
		writeSTSError(w, requestID, &stsError{http.StatusBadRequest, stsCodeInvalidAction,
			"Could not find operation " + action + " for version " + params.Get("Version")})
		return
	}
	who, failure := s.identify(r)
	s.stats.recordCall(who.account, action)
	fail := func(e *stsError) {
		s.stats.recordError(who.account, action, e.code)
		writeSTSError(w, requestID, e)
	}
	switch failure {
	case authExpired:
		fail(&stsError{http.StatusForbidden, stsCodeExpiredToken, msgExpiredToken})
		return
	case authInvalidToken:
		fail(&stsError{http.StatusForbidden, stsCodeInvalidToken, msgInvalidToken})
		return
	case authBadSignature:
		fail(&stsError{http.StatusForbidden, stsCodeSignatureDenied, msgSignatureMismatch})
		return
	}
	fault := s.faults.decide(action)
	if !s.delay(r, action, fault) {
		return
	}
	switch fault.kind {
	case FaultServiceError:
		s.stats.recordFault(action, fault.kind)
		fail(&stsError{http.StatusInternalServerError, stsCodeInternalFailure, msgInternalFailure})
		return
	case FaultThrottle:
		s.stats.recordFault(action, fault.kind)
		fail(&stsError{http.StatusBadRequest, stsCodeThrottling, "Rate exceeded"})
		return
	case FaultDrop:
		s.stats.recordFault(action, fault.kind)
		dropConnection(w)
		return
	}
	result, stsErr := handler(who, params)
	if fault.kind == FaultDropAfterApply {
		s.stats.recordFault(action, fault.kind)
		dropConnection(w)
		return
	}
	if stsErr != nil {
		fail(stsErr)
		return
	}
	body, err := xml.Marshal(stsResponse{
		XMLName:  xml.Name{Space: stsNamespace, Local: action + "Response"},
		Result:   result,
		Metadata: stsMetadata{RequestID: requestID},
	})
	if err != nil {
		fail(&stsError{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(body)
}

// getCallerIdentity answers who signed the request.
func (s *Server) getCallerIdentity(who *identity, _ url.Values) (any, *stsError) {
	return getCallerIdentityResult{Arn: who.arn, UserID: who.userID, Account: who.account}, nil
}

// assumeRole issues credentials for a registered role. Check order:
// request validation, the ARN's shape, the role and its trust policy
// (unknown role, untrusted account and wrong ExternalId all look the same:
// AccessDenied), then the session-duration limits.
func (s *Server) assumeRole(who *identity, params url.Values) (any, *stsError) {
	roleARN, sessionName := optional(params, "RoleArn"), optional(params, "RoleSessionName")
	externalID, durationText := optional(params, "ExternalId"), optional(params, "DurationSeconds")
	violations := []string{}
	violations = append(violations, field{wireName: "roleArn", value: roleARN, required: true, minLen: 20, maxLen: 2048}.violations()...)
	violations = append(violations, field{wireName: "roleSessionName", value: sessionName, required: true, minLen: 2, maxLen: 64, pattern: &roleSessionNamePattern}.violations()...)
	duration := defaultSession
	if durationText != nil {
		seconds, err := strconv.ParseInt(*durationText, 10, 32)
		if err != nil {
			return nil, &stsError{http.StatusBadRequest, stsCodeMalformedInput, "Invalid value for DurationSeconds: " + *durationText}
		}
		switch {
		case seconds < int64(minRoleSession/time.Second):
			violations = append(violations, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", seconds, minRoleSession/time.Second))
		case seconds > int64(maxRoleSession/time.Second):
			violations = append(violations, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", seconds, maxRoleSession/time.Second))
		}
		duration = time.Duration(seconds) * time.Second
	}
	violations = append(violations, field{wireName: "externalId", value: externalID, minLen: 2, maxLen: 1224, pattern: &externalIDPattern}.violations()...)
	if len(violations) > 0 {
		return nil, &stsError{http.StatusBadRequest, stsCodeValidation, errValidation(violations).message}
	}
	if !anyARN.MatchString(*roleARN) {
		return nil, &stsError{http.StatusBadRequest, stsCodeValidation, "Request ARN is invalid"}
	}

	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	role, known := s.iam.roles[*roleARN]
	if !known || !role.trusts(who.account) || (role.ExternalID != "" && deref(externalID) != role.ExternalID) {
		return nil, &stsError{http.StatusForbidden, stsCodeAccessDenied,
			"User: " + who.arn + " is not authorized to perform: sts:AssumeRole on resource: " + *roleARN}
	}
	if durationText != nil {
		if who.session != nil && duration > maxChainedSession {
			return nil, &stsError{http.StatusBadRequest, stsCodeValidation,
				"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."}
		}
		if duration > role.maxSession() {
			return nil, &stsError{http.StatusBadRequest, stsCodeValidation,
				"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}
		}
	}
	roleID := uniqueID("AROA", "role:"+role.ARN)
	sess := &session{
		secret:        randomString(40, true),
		token:         "FwoGZXIvYXdzE" + randomString(300, true),
		expires:       s.cfg.Now().UTC().Truncate(time.Second).Add(duration),
		account:       role.account(),
		arn:           "arn:" + role.partition() + ":sts::" + role.account() + ":assumed-role/" + role.name() + "/" + *sessionName,
		assumedRoleID: roleID + ":" + *sessionName,
	}
	for sess.accessKeyID == "" || s.iam.sessions[sess.accessKeyID] != nil || s.iam.keys[sess.accessKeyID] != "" {
		sess.accessKeyID = "ASIA" + randomString(16, false)
	}
	s.iam.sessions[sess.accessKeyID] = sess
	return assumeRoleResult{
		AssumedRoleUser: assumedRoleUser{Arn: sess.arn, AssumedRoleID: sess.assumedRoleID},
		Credentials: stsCredentials{
			AccessKeyID:     sess.accessKeyID,
			SecretAccessKey: sess.secret,
			SessionToken:    sess.token,
			Expiration:      sess.expires.Format(time.RFC3339),
		},
	}, nil
}

// optional returns a form parameter, or nil when it is absent.
func optional(params url.Values, name string) *string {
	if values, ok := params[name]; ok && len(values) > 0 {
		return &values[0]
	}
	return nil
}

// XML shapes; element names and order as in AWS's API reference examples.
type stsResponse struct {
	XMLName  xml.Name
	Result   any         // its XMLName names it ACTIONResult
	Metadata stsMetadata `xml:"ResponseMetadata"`
}

type stsMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

type assumeRoleResult struct {
	XMLName         xml.Name        `xml:"AssumeRoleResult"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials     stsCredentials  `xml:"Credentials"`
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type stsErrorResponse struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// writeSTSError writes <ErrorResponse><Error><Type>Sender</Type>... with
// the given status; server faults say Receiver.
func writeSTSError(w http.ResponseWriter, requestID string, e *stsError) {
	errType := "Sender"
	if e.status >= 500 {
		errType = "Receiver"
	}
	body, _ := xml.Marshal(stsErrorResponse{Type: errType, Code: e.code, Message: e.message, RequestID: requestID})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}
