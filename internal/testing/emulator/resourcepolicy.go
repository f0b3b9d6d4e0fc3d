package emulator

import (
	"fmt"
	"net/http"
	"regexp"
)

// The 2026 whole-document operations PutResourcePolicy, GetResourcePolicy
// and DeleteResourcePolicy (§16). They act on the same document as
// AddPermission, RemovePermission and GetPolicy (§16.4).

// resourceArnParts splits a ResourceArn that passed policyResourceArnPattern:
// region, account, function name and the qualifier after the one ":"
// (which may be an oddity the model admits, such as "$LATESTx").
var resourceArnParts = regexp.MustCompile(`^arn:[^:]*:lambda:([^:]+):(\d{12}):function:([^:]+)(?::(.+))?$`)

func parseResourceArn(arn string) functionRef {
	m := resourceArnParts.FindStringSubmatch(arn)
	if m == nil {
		return functionRef{}
	}
	return functionRef{region: m[1], account: m[2], name: m[3], qualifier: m[4]}
}

// resourcePolicyNotFound: a missing function, version or alias is reported
// as AddPermission reports it (§16.4); a missing policy separately.
var resourcePolicyNotFound = addPermissionNotFound

// resolveResourceArn runs the checks after request validation (§16.2):
// region (404, §4.7) and account (403, as every operation), the
// $LATEST/$LATEST.PUBLISHED refusal (§16.2, AddPermission's IPVE), then the
// function, version or alias in the caller's account.
func (s *Server) resolveResourceArn(c *call, arn string) (*policyTarget, string, *apiError) {
	ref := parseResourceArn(arn)
	account, err := s.resolveAccount(c, ref, ref.qualifier)
	if err != nil {
		return nil, "", err
	}
	if ref.qualifier == "$LATEST" || ref.qualifier == "$LATEST.PUBLISHED" {
		return nil, "", errInvalidParameter(fmt.Sprintf("We currently do not support adding policies for %s.", ref.qualifier))
	}
	target, err := s.lookupPolicyTarget(account, ref.name, ref.qualifier, resourcePolicyNotFound)
	if err != nil {
		return nil, "", err
	}
	return target, ref.qualifier, nil
}

// functionFromResourceArn resolves the {ResourceArn} label's function for an
// UpdateConflict fault, like functionFromPath: validation, region, account,
// function.
func (s *Server) functionFromResourceArn(c *call, r *http.Request) (*function, *apiError) {
	arn := r.PathValue("ResourceArn")
	if err := validate(resourceArnField(arn)); err != nil {
		return nil, err
	}
	ref := parseResourceArn(arn)
	account, err := s.resolveAccount(c, ref, ref.qualifier)
	if err != nil {
		return nil, err
	}
	fn := s.accounts[account][ref.name]
	if fn == nil {
		return nil, errNotFound(resourcePolicyNotFound.function(s.functionARN(account, ref.name)))
	}
	return fn, nil
}

// putResourcePolicyInput is the PutResourcePolicy body; ResourceArn travels
// in the path (§16.1).
type putResourcePolicyInput struct {
	Policy     *string
	RevisionId *string
}

// putResourcePolicy: PUT /2026-07-09/resource-policy/{ResourceArn}
// Check order (§16.2): validation, resolution, RevisionId, document,
// public policy, size. Replaces the whole document, whoever wrote it.
func (s *Server) putResourcePolicy(c *call, r *http.Request, body []byte) (*response, *apiError) {
	var in putResourcePolicyInput
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	arn := r.PathValue("ResourceArn")
	// Members in model order (schemas.go): ResourceArn, Policy, RevisionId.
	if err := validate(resourceArnField(arn), resourcePolicyField(in.Policy), revisionIDField(in.RevisionId)); err != nil {
		return nil, err
	}
	target, qualifier, err := s.resolveResourceArn(c, arn)
	if err != nil {
		return nil, err
	}
	// A RevisionId must name the current document; with no document, none
	// matches (§16.7).
	if in.RevisionId != nil && (!target.policy.exists() || *in.RevisionId != target.policy.revisionID) {
		return nil, errPreconditionFailed(msgResourcePolicyRevisionMismatch)
	}
	doc, err := parsePolicyDocument(*in.Policy, target.resource, qualifier == "")
	if err != nil {
		return nil, err
	}
	if s.blockPublic[c.who.account] {
		for _, st := range doc.nodes {
			if isPublicStatement(st) {
				return nil, errPublicPolicy()
			}
		}
	}
	// The compact stored form is what counts (§16.10): whitespace is free,
	// multi-byte characters count as their UTF-8 bytes.
	if size := len(doc.text()); size > policySizeLimit {
		return nil, errPolicyLength(size)
	}
	target.policy.replace(doc)
	return resourcePolicyResponse(target.policy), nil
}

// getResourcePolicy: GET /2026-07-09/resource-policy/{ResourceArn}
// Returns the stored document, as GetPolicy does (§16.5).
func (s *Server) getResourcePolicy(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	arn := r.PathValue("ResourceArn")
	if err := validate(resourceArnField(arn)); err != nil {
		return nil, err
	}
	target, _, err := s.resolveResourceArn(c, arn)
	if err != nil {
		return nil, err
	}
	if !target.policy.exists() {
		return nil, errNotFound(msgResourceMissing) // recorded (§16.3)
	}
	return resourcePolicyResponse(target.policy), nil
}

// deleteResourcePolicy: DELETE /2026-07-09/resource-policy/{ResourceArn}?RevisionId=
// A missing policy is a 404 before any RevisionId check (§16.7).
func (s *Server) deleteResourcePolicy(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	arn := r.PathValue("ResourceArn")
	revisionID := queryParam(r, "RevisionId")
	if err := validate(resourceArnField(arn), revisionIDField(revisionID)); err != nil {
		return nil, err
	}
	target, _, err := s.resolveResourceArn(c, arn)
	if err != nil {
		return nil, err
	}
	if !target.policy.exists() {
		return nil, errNotFound(msgResourceMissing)
	}
	if revisionID != nil && *revisionID != target.policy.revisionID {
		return nil, errPreconditionFailed(msgResourcePolicyRevisionMismatch)
	}
	target.policy.clear()
	return &response{status: http.StatusNoContent}, nil
}

// resourcePolicyResponse is the {"Policy":...,"RevisionId":...} of Put and
// Get; Put's equals the next Get's (§16.5).
func resourcePolicyResponse(p *resourcePolicy) *response {
	return &response{http.StatusOK, jsonObject(
		stringMember("Policy", p.document()),
		stringMember("RevisionId", p.revisionID),
	)}
}
