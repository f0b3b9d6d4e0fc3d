package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// policyTarget is the (function, qualifier) a policy operation acts on.
type policyTarget struct {
	policy   *resourcePolicy
	resource string // Resource of new statements: qualified ARN when a qualifier applies (§3.3)
	// configRevisionID is the $LATEST/version configuration RevisionId, or
	// the alias RevisionId: the only RevisionId accepted while no policy
	// exists (strict choice for §7's [unknown], see doc.go).
	configRevisionID string
}

// currentRevisionID is what a RevisionId precondition is compared with.
func (t *policyTarget) currentRevisionID() string {
	if t.policy.exists() {
		return t.policy.revisionID
	}
	return t.configRevisionID
}

type lookupFailure int

const (
	lookupOK lookupFailure = iota
	functionMissing
	versionMissing // a numeric version, or a qualifier that cannot be an alias (§4.6)
	aliasMissing
)

// lookupPolicy resolves a function name and merged qualifier. "$LATEST" is
// the unqualified policy ([unknown] in §6; AddPermission rejects it earlier).
func (s *Server) lookupPolicy(account, name, qualifier string) (*policyTarget, lookupFailure) {
	fn := s.accounts[account][name]
	if fn == nil {
		return nil, functionMissing
	}
	switch {
	case qualifier == "" || qualifier == "$LATEST":
		return &policyTarget{&fn.latest.policy, s.functionARN(account, name), fn.latest.config.RevisionId}, lookupOK
	case isVersionNumber(qualifier):
		if v := fn.versions[qualifier]; v != nil {
			return &policyTarget{&v.policy, s.qualifiedARN(account, name, qualifier), v.config.RevisionId}, lookupOK
		}
	case isAliasShaped(qualifier):
		if a := fn.aliases[qualifier]; a != nil {
			return &policyTarget{&a.policy, s.qualifiedARN(account, name, qualifier), a.config.RevisionId}, lookupOK
		}
		return nil, aliasMissing
	}
	return nil, versionMissing
}

// notFoundMessages holds one operation's 404 wording (§5, §10.11).
type notFoundMessages struct {
	function func(unqualifiedARN string) string
	version  func(qualifiedARN string) string
}

func prefixed(prefix string) func(string) string {
	return func(arn string) string { return prefix + arn }
}
func fixed(msg string) func(string) string { return func(string) string { return msg } }

var (
	addPermissionNotFound = notFoundMessages{
		function: prefixed("Function not found: "),
		version:  prefixed("Function not found: "),
	}
	removePermissionNotFound = notFoundMessages{
		function: prefixed("No policy found for: "),
		version:  prefixed("No policy found for: "), // [unknown]; see doc.go
	}
	getPolicyNotFound = notFoundMessages{
		function: fixed(msgResourceMissing),
		version:  fixed(msgResourceMissing),
	}
)

// resolvePolicyTarget runs the shared part of the three policy operations
// after request validation: qualifier consistency (§4.2), region (§4.7) and
// account (IAM, see doc.go), $LATEST (§4.3), then the function, version or
// alias (§4.4-4.6) in the caller's account.
func (s *Server) resolvePolicyTarget(c *call, functionName string, qualifierParam *string, forAdd bool, msgs notFoundMessages) (*policyTarget, *apiError) {
	ref, _ := parseFunctionName(functionName) // already validated
	qualifier, err := mergeQualifier(ref.qualifier, qualifierParam)
	if err != nil {
		return nil, err
	}
	account, err := s.resolveAccount(c, ref, qualifier)
	if err != nil {
		return nil, err
	}
	if forAdd && qualifier == "$LATEST" {
		return nil, errInvalidParameter(msgLatestNotSupported) // §4.3
	}
	return s.lookupPolicyTarget(account, ref.name, qualifier, msgs)
}

// lookupPolicyTarget resolves a function, version or alias of account,
// reporting a missing one with msgs.
func (s *Server) lookupPolicyTarget(account, name, qualifier string, msgs notFoundMessages) (*policyTarget, *apiError) {
	target, failure := s.lookupPolicy(account, name, qualifier)
	switch failure {
	case functionMissing:
		return nil, errNotFound(msgs.function(s.functionARN(account, name)))
	case versionMissing:
		return nil, errNotFound(msgs.version(s.qualifiedARN(account, name, qualifier)))
	case aliasMissing: // same wording for every policy operation (§4.5, §12, §16.4)
		return nil, errNotFound("Cannot find alias arn: " + s.qualifiedARN(account, name, qualifier))
	}
	return target, nil
}

// addPermissionInput is the AddPermission body. FunctionName and Qualifier
// travel in the path and query instead (§1).
type addPermissionInput struct {
	StatementId           *string
	Action                *string
	Principal             *string
	SourceArn             *string
	SourceAccount         *string
	EventSourceToken      *string
	RevisionId            *string
	PrincipalOrgID        *string
	FunctionUrlAuthType   *string
	InvokedViaFunctionUrl *bool
}

// addPermission: POST /2015-03-31/functions/{FunctionName}/policy?Qualifier=
// Check order (§5 precedence): validation, qualifier, resolution, principal,
// Sid conflict, RevisionId, public policy (§16.8), size. The statement is
// appended to whatever document the target has, PutResourcePolicy's
// included (§16.4).
func (s *Server) addPermission(c *call, r *http.Request, body []byte) (*response, *apiError) {
	var in addPermissionInput
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	functionName := r.PathValue("FunctionName")
	qualifier := queryParam(r, "Qualifier")
	// Members in model order (schemas.go), see doc.go.
	if err := validate(
		functionNameField(functionName),
		field{wireName: "statementId", value: in.StatementId, required: true, minLen: 1, maxLen: 100, pattern: &statementIDPattern},
		field{wireName: "action", value: in.Action, required: true, maxLen: 10000, pattern: &actionPattern},
		field{wireName: "principal", value: in.Principal, required: true, maxLen: 2048, pattern: &principalPattern},
		field{wireName: "sourceArn", value: in.SourceArn, maxLen: 10000, pattern: &sourceArnPattern},
		field{wireName: "functionUrlAuthType", value: in.FunctionUrlAuthType, enum: functionURL},
		field{wireName: "sourceAccount", value: in.SourceAccount, maxLen: 12, pattern: &sourceAccountPattern},
		field{wireName: "eventSourceToken", value: in.EventSourceToken, maxLen: 256, pattern: &eventSourceTokenPat},
		qualifierField(qualifier),
		field{wireName: "principalOrgID", value: in.PrincipalOrgID, minLen: 12, maxLen: 34, pattern: &principalOrgIDPat},
	); err != nil {
		return nil, err
	}
	target, err := s.resolvePolicyTarget(c, functionName, qualifier, true, addPermissionNotFound)
	if err != nil {
		return nil, err
	}
	principal, err := principalJSON(*in.Principal, partitionOf(s.cfg.Region))
	if err != nil {
		return nil, err
	}
	sid := *in.StatementId
	// [unknown] order of 409 vs 412: the conflict is reported first.
	if target.policy.indexOf(sid) >= 0 {
		return nil, errConflict(fmt.Sprintf(msgSidExists, sid))
	}
	if rev := deref(in.RevisionId); rev != "" && rev != target.currentRevisionID() {
		return nil, errPreconditionFailed(msgPolicyRevisionMismatch)
	}
	statement := buildStatement(permission{
		sid:                   sid,
		action:                *in.Action,
		sourceArn:             in.SourceArn,
		sourceAccount:         in.SourceAccount,
		eventSourceToken:      in.EventSourceToken,
		principalOrgID:        in.PrincipalOrgID,
		functionURLAuthType:   in.FunctionUrlAuthType,
		invokedViaFunctionURL: in.InvokedViaFunctionUrl,
	}, principal, target.resource)
	// The emulator-only BlockPublicPolicy switch judges the statement as it
	// would be stored (§16.8).
	if s.blockPublic[c.who.account] && isPublicStatementText(statement) {
		return nil, errPublicPolicy()
	}
	// §8: AWS's exact size metric is not reproducible; the byte length of
	// the compact resulting document is the best approximation.
	if size := len(target.policy.documentWith(statement)); size > policySizeLimit {
		return nil, errPolicyLength(size)
	}
	target.policy.add(sid, statement)
	// The response Statement is byte-identical to the stored one (§3.1).
	return &response{http.StatusCreated, jsonObject(stringMember("Statement", statement))}, nil
}

// removePermission: DELETE /2015-03-31/functions/{FunctionName}/policy/{StatementId}?Qualifier=&RevisionId=
func (s *Server) removePermission(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	functionName := r.PathValue("FunctionName")
	sid := r.PathValue("StatementId")
	qualifier := queryParam(r, "Qualifier")
	if err := validate(
		functionNameField(functionName),
		field{wireName: "statementId", value: &sid, required: true, minLen: 1, maxLen: 100, pattern: &namespacedStatementIDPattern},
		qualifierField(qualifier),
	); err != nil {
		return nil, err
	}
	target, err := s.resolvePolicyTarget(c, functionName, qualifier, false, removePermissionNotFound)
	if err != nil {
		return nil, err
	}
	if !target.policy.exists() {
		return nil, errNotFound(msgNoPolicy)
	}
	i := target.policy.indexOf(sid)
	if i < 0 {
		return nil, errNotFound(fmt.Sprintf(msgStatementMissing, sid))
	}
	// RevisionId travels in the query for RemovePermission (§7).
	if rev := deref(queryParam(r, "RevisionId")); rev != "" && rev != target.currentRevisionID() {
		return nil, errPreconditionFailed(msgPolicyRevisionMismatch)
	}
	target.policy.remove(i)
	return &response{status: http.StatusNoContent}, nil
}

// getPolicy: GET /2015-03-31/functions/{FunctionName}/policy?Qualifier=
func (s *Server) getPolicy(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	functionName := r.PathValue("FunctionName")
	qualifier := queryParam(r, "Qualifier")
	if err := validate(functionNameField(functionName), qualifierField(qualifier)); err != nil {
		return nil, err
	}
	target, err := s.resolvePolicyTarget(c, functionName, qualifier, false, getPolicyNotFound)
	if err != nil {
		return nil, err
	}
	if !target.policy.exists() {
		return nil, errNotFound(msgResourceMissing) // never an empty Statement list (§10.12)
	}
	return &response{http.StatusOK, jsonObject(
		stringMember("Policy", target.policy.document()),
		stringMember("RevisionId", target.policy.revisionID),
	)}, nil
}

// queryParam returns a query parameter, or nil when it is absent.
func queryParam(r *http.Request, name string) *string {
	values, ok := r.URL.Query()[name]
	if !ok || len(values) == 0 {
		return nil
	}
	return &values[0]
}

// decodeJSONBody decodes a request body; an empty body is an empty object.
func decodeJSONBody(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errInvalidRequestContent("Could not parse request body into json: " + err.Error())
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
