package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
)

// The function, version and alias operations exist to set up the targets of
// the policy operations. Their error wording outside SPEC §4-5 is
// best-effort.

// createFunctionInput holds the CreateFunction members the emulator keeps.
type createFunctionInput struct {
	FunctionName  *string
	Runtime       string
	Role          *string
	Handler       string
	Description   string
	Timeout       *int32
	MemorySize    *int32
	Publish       bool
	PackageType   string
	Architectures []string
	Code          *struct {
		ZipFile []byte // base64 on the wire; the emulator only hashes it
	}
}

// createFunction: POST /2015-03-31/functions (201 FunctionConfiguration).
func (s *Server) createFunction(c *call, _ *http.Request, body []byte) (*response, *apiError) {
	var in createFunctionInput
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	if err := validate(
		field{wireName: "functionName", value: in.FunctionName, required: true, minLen: 1, maxLen: 140, pattern: &namespacedFunctionNamePattern},
		field{wireName: "role", value: in.Role, required: true},
	); err != nil {
		return nil, err
	}
	ref, _ := parseFunctionName(*in.FunctionName)
	account, err := s.resolveAccount(c, ref, "")
	if err != nil {
		return nil, err
	}
	if ref.qualifier != "" || len(ref.name) > 64 {
		return nil, errInvalidParameter("Unsupported function name: " + *in.FunctionName)
	}
	functions := s.functionsOf(account)
	if functions[ref.name] != nil {
		return nil, errConflict("Function already exist: " + ref.name)
	}
	fn := &function{account: account, name: ref.name, versions: map[string]*functionVersion{}, nextVersion: 1,
		aliases: map[string]*functionAlias{}, urls: map[string]*urlConfig{}}
	var zip []byte
	if in.Code != nil {
		zip = in.Code.ZipFile
	}
	sum := sha256.Sum256(zip)
	fn.codeSize, fn.codeSha256 = int64(len(zip)), base64.StdEncoding.EncodeToString(sum[:])
	fn.latest = &functionVersion{config: functionConfiguration{
		FunctionName:     ref.name,
		FunctionArn:      s.functionARN(account, ref.name),
		Runtime:          in.Runtime,
		Role:             *in.Role,
		Handler:          in.Handler,
		CodeSize:         fn.codeSize,
		CodeSha256:       fn.codeSha256,
		Description:      in.Description,
		Timeout:          valueOr(in.Timeout, 3),
		MemorySize:       valueOr(in.MemorySize, 128),
		LastModified:     lastModified(s.cfg.Now()),
		Version:          "$LATEST",
		RevisionId:       newRevisionID(),
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      stringOr(in.PackageType, "Zip"),
		Architectures:    in.Architectures,
	}}
	if len(fn.latest.config.Architectures) == 0 {
		fn.latest.config.Architectures = []string{"x86_64"}
	}
	functions[ref.name] = fn
	config := fn.latest.config
	if in.Publish {
		config = s.publish(fn, in.Description).config
	}
	return jsonResponse(http.StatusCreated, config)
}

// functionFromPath resolves the {FunctionName} label of the function,
// version and alias operations. It returns the qualifier merged with the
// Qualifier query parameter.
func (s *Server) functionFromPath(c *call, r *http.Request, withQualifier bool) (*function, string, *apiError) {
	name := r.PathValue("FunctionName")
	var qualifier *string
	if withQualifier {
		qualifier = queryParam(r, "Qualifier")
	}
	if err := validate(functionNameField(name), qualifierField(qualifier)); err != nil {
		return nil, "", err
	}
	return s.functionNamed(c, name, qualifier)
}

// functionNamed resolves a validated FunctionName and Qualifier: qualifier
// consistency, region, account, then the function in the caller's account.
func (s *Server) functionNamed(c *call, name string, qualifier *string) (*function, string, *apiError) {
	ref, ok := parseFunctionName(name)
	if !ok {
		// The FunctionName shape (§17.2) admits "arn:aws:lambda:function:f",
		// which names no region or account.
		return nil, "", errInvalidParameter("Unsupported function name: " + name)
	}
	q, err := mergeQualifier(ref.qualifier, qualifier)
	if err != nil {
		return nil, "", err
	}
	account, err := s.resolveAccount(c, ref, q)
	if err != nil {
		return nil, "", err
	}
	fn := s.accounts[account][ref.name]
	if fn == nil {
		return nil, "", errNotFound("Function not found: " + s.functionARN(account, ref.name))
	}
	return fn, q, nil
}

// getFunction: GET /2015-03-31/functions/{FunctionName}?Qualifier=
// returns {"Configuration":{...},"Code":{...}}.
func (s *Server) getFunction(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	fn, qualifier, err := s.functionFromPath(c, r, true)
	if err != nil {
		return nil, err
	}
	var config functionConfiguration
	switch {
	case qualifier == "":
		config = fn.latest.config
	case qualifier == "$LATEST":
		config = fn.latest.config
		config.FunctionArn = s.qualifiedARN(fn.account, fn.name, qualifier)
	case fn.versions[qualifier] != nil:
		config = fn.versions[qualifier].config
	case fn.aliases[qualifier] != nil:
		alias := fn.aliases[qualifier].config
		config = s.versionConfig(fn, alias.FunctionVersion)
		config.FunctionArn = alias.AliasArn
	default:
		return nil, errNotFound("Function not found: " + s.qualifiedARN(fn.account, fn.name, qualifier))
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"Configuration": config,
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "http://lambda-emulator.invalid/code/" + fn.name},
	})
}

// versionConfig returns the configuration of "$LATEST" or a version number.
func (s *Server) versionConfig(fn *function, version string) functionConfiguration {
	if v := fn.versions[version]; v != nil {
		return v.config
	}
	return fn.latest.config
}

// deleteFunction: DELETE /2015-03-31/functions/{FunctionName}?Qualifier=
// Without a qualifier it deletes the function with every version, alias,
// policy and function URL; with a version number only that version and its
// policy. AWS
// answers 204 (the SDK accepts any 2xx and reports it as StatusCode).
func (s *Server) deleteFunction(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	fn, qualifier, err := s.functionFromPath(c, r, true)
	if err != nil {
		return nil, err
	}
	switch {
	case qualifier == "":
		delete(s.accounts[fn.account], fn.name)
	case qualifier == "$LATEST":
		return nil, errInvalidParameter("$LATEST version cannot be deleted without deleting the function.")
	case fn.versions[qualifier] != nil:
		delete(fn.versions, qualifier)
	case isAliasShaped(qualifier):
		return nil, errInvalidParameter("Deletion of aliases is not supported by DeleteFunction; use DeleteAlias.")
	default:
		return nil, errNotFound("Function not found: " + s.qualifiedARN(fn.account, fn.name, qualifier))
	}
	return &response{status: http.StatusNoContent}, nil
}

// publishVersionInput is the PublishVersion body.
type publishVersionInput struct {
	Description *string
	RevisionId  *string
}

// publishVersion: POST /2015-03-31/functions/{FunctionName}/versions (201).
// Unlike AWS, it always publishes a new version, even without changes.
func (s *Server) publishVersion(c *call, r *http.Request, body []byte) (*response, *apiError) {
	var in publishVersionInput
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	fn, _, err := s.functionFromPath(c, r, false)
	if err != nil {
		return nil, err
	}
	if rev := deref(in.RevisionId); rev != "" && rev != fn.latest.config.RevisionId {
		return nil, errPreconditionFailed(msgConfigRevisionMismatch)
	}
	description := fn.latest.config.Description
	if in.Description != nil {
		description = *in.Description
	}
	return jsonResponse(http.StatusCreated, s.publish(fn, description).config)
}

// publish snapshots $LATEST as the next version. The version starts with an
// empty policy (§6). $LATEST's configuration RevisionId changes but its
// policy RevisionId does not (§7, 2025+).
func (s *Server) publish(fn *function, description string) *functionVersion {
	number := strconv.Itoa(fn.nextVersion)
	fn.nextVersion++
	config := fn.latest.config
	config.Version = number
	config.FunctionArn = s.qualifiedARN(fn.account, fn.name, number)
	config.Description = description
	config.RevisionId = newRevisionID()
	v := &functionVersion{config: config}
	fn.versions[number] = v
	fn.latest.config.RevisionId = newRevisionID()
	return v
}

// createAliasInput is the CreateAlias body.
type createAliasInput struct {
	Name            *string
	FunctionVersion *string
	Description     string
}

// createAlias: POST /2015-03-31/functions/{FunctionName}/aliases (201).
// The alias gets its own RevisionId and an empty policy (§6).
func (s *Server) createAlias(c *call, r *http.Request, body []byte) (*response, *apiError) {
	var in createAliasInput
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	if err := validate(
		field{wireName: "name", value: in.Name, required: true, minLen: 1, maxLen: 128, pattern: &aliasPattern},
		field{wireName: "functionVersion", value: in.FunctionVersion, required: true, minLen: 1, maxLen: 1024, pattern: &versionPattern},
	); err != nil {
		return nil, err
	}
	fn, _, err := s.functionFromPath(c, r, false)
	if err != nil {
		return nil, err
	}
	version := *in.FunctionVersion
	if version != "$LATEST" && fn.versions[version] == nil {
		return nil, errNotFound("Function not found: " + s.qualifiedARN(fn.account, fn.name, version))
	}
	aliasARN := s.qualifiedARN(fn.account, fn.name, *in.Name)
	if fn.aliases[*in.Name] != nil {
		return nil, errConflict("Alias already exists: " + aliasARN)
	}
	alias := &functionAlias{config: aliasConfiguration{
		AliasArn:        aliasARN,
		Name:            *in.Name,
		FunctionVersion: version,
		Description:     in.Description,
		RevisionId:      newRevisionID(),
	}}
	fn.aliases[*in.Name] = alias
	return jsonResponse(http.StatusCreated, alias.config)
}

// aliasFromPath resolves /functions/{FunctionName}/aliases/{Name}.
func (s *Server) aliasFromPath(c *call, r *http.Request) (*function, *functionAlias, *apiError) {
	name := r.PathValue("Name")
	if err := validate(field{wireName: "name", value: &name, required: true, minLen: 1, maxLen: 128, pattern: &aliasPattern}); err != nil {
		return nil, nil, err
	}
	fn, _, err := s.functionFromPath(c, r, false)
	if err != nil {
		return nil, nil, err
	}
	alias := fn.aliases[name]
	if alias == nil {
		return nil, nil, errNotFound("Cannot find alias arn: " + s.qualifiedARN(fn.account, fn.name, name))
	}
	return fn, alias, nil
}

// getAlias: GET /2015-03-31/functions/{FunctionName}/aliases/{Name} (200).
func (s *Server) getAlias(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	_, alias, err := s.aliasFromPath(c, r)
	if err != nil {
		return nil, err
	}
	return jsonResponse(http.StatusOK, alias.config)
}

// deleteAlias: DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}
// (204); the alias's policy and function URL go with it. A missing alias is
// a 404 here.
func (s *Server) deleteAlias(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	fn, alias, err := s.aliasFromPath(c, r)
	if err != nil {
		return nil, err
	}
	delete(fn.aliases, alias.config.Name)
	delete(fn.urls, alias.config.Name) // the alias's function URL goes with it (§17.4)
	return &response{status: http.StatusNoContent}, nil
}

func jsonResponse(status int, v any) (*response, *apiError) {
	body, err := jsonValue(v)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, codeService, err.Error(), 0}
	}
	return &response{status, string(body)}, nil
}

func valueOr(p *int32, fallback int32) int32 {
	if p == nil {
		return fallback
	}
	return *p
}

func stringOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
