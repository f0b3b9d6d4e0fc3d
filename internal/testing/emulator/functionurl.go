package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CreateFunctionUrlConfig, GetFunctionUrlConfig and DeleteFunctionUrlConfig
// (§17.4). A URL belongs to the unqualified function or to one alias; never
// to $LATEST or a version.

// urlConfig is one stored function URL configuration.
type urlConfig struct {
	url          string
	functionArn  string
	authType     string
	cors         *corsConfig // nil when none was given
	invokeMode   string      // "" when none was given: BUFFERED
	creationTime string
}

// corsConfig is the Cors structure, stored and returned as given.
type corsConfig struct {
	AllowCredentials *bool    `json:"AllowCredentials,omitempty"`
	AllowHeaders     []string `json:"AllowHeaders,omitempty"`
	AllowMethods     []string `json:"AllowMethods,omitempty"`
	AllowOrigins     []string `json:"AllowOrigins,omitempty"`
	ExposeHeaders    []string `json:"ExposeHeaders,omitempty"`
	MaxAge           *int32   `json:"MaxAge,omitempty"`
}

// violations checks the model's list sizes and MaxAge range (§17.4); the
// elements' own lengths are not checked.
func (c *corsConfig) violations() []string {
	if c == nil {
		return nil
	}
	var out []string
	list := func(wireName string, values []string, maxItems int) {
		if len(values) > maxItems {
			out = append(out, fmt.Sprintf("Value '[%s]' at 'cors.%s' failed to satisfy constraint: Member must have length less than or equal to %d",
				strings.Join(values, ", "), wireName, maxItems))
		}
	}
	list("allowHeaders", c.AllowHeaders, 100)
	list("allowMethods", c.AllowMethods, 6)
	list("allowOrigins", c.AllowOrigins, 100)
	list("exposeHeaders", c.ExposeHeaders, 100)
	if c.MaxAge != nil {
		age := fmt.Sprint(*c.MaxAge)
		out = append(out, integerField{wireName: "cors.maxAge", value: &age, min: 0, max: 86400}.violations()...)
	}
	return out
}

// Not-found wording (§17.4, recorded): Create says the function does not
// exist, Get and Delete use the generic text, for a missing function, alias
// or URL alike.
const msgFunctionDoesNotExist = "Function does not exist"

// urlPathFields are the FunctionName label and Qualifier query of the three
// operations, in model order.
func urlPathFields(r *http.Request) (name string, qualifier *string, fields []constrained) {
	name = r.PathValue("FunctionName")
	qualifier = queryParam(r, "Qualifier")
	return name, qualifier, []constrained{
		shortFunctionNameField(name),
		field{wireName: "qualifier", value: qualifier, minLen: 1, maxLen: 128, pattern: &functionURLQualifierPattern},
	}
}

// urlFunction resolves a validated FunctionName and Qualifier to the
// function and the URL's qualifier ("" or an alias name): qualifier
// consistency, a version or $LATEST named in the FunctionName (refused
// like the Qualifier member), region, account, then the function, whose
// absence is reported with missing.
func (s *Server) urlFunction(c *call, name string, qualifier *string, missing string) (*function, string, *apiError) {
	ref, ok := parseFunctionName(name)
	if !ok {
		return nil, "", errInvalidParameter("Unsupported function name: " + name)
	}
	q, err := mergeQualifier(ref.qualifier, qualifier)
	if err != nil {
		return nil, "", err
	}
	if q != "" && !isAliasShaped(q) {
		return nil, "", validate(field{wireName: "qualifier", value: &q, pattern: &functionURLQualifierPattern})
	}
	account, err := s.resolveAccount(c, ref, q)
	if err != nil {
		return nil, "", err
	}
	fn := s.accounts[account][ref.name]
	if fn == nil {
		return nil, "", errNotFound(missing)
	}
	return fn, q, nil
}

// urlTarget runs urlFunction and then requires the alias to exist.
func (s *Server) urlTarget(c *call, name string, qualifier *string, missing string) (*function, string, *apiError) {
	fn, q, err := s.urlFunction(c, name, qualifier, missing)
	if err != nil {
		return nil, "", err
	}
	if q != "" && fn.aliases[q] == nil {
		return nil, "", errNotFound(missing)
	}
	return fn, q, nil
}

// functionFromURLPath resolves the function of a URL operation for an
// UpdateConflict fault, like functionFromPath.
func (s *Server) functionFromURLPath(c *call, r *http.Request, operation string) (*function, *apiError) {
	name, qualifier, fields := urlPathFields(r)
	if err := validate(fields...); err != nil {
		return nil, err
	}
	missing := msgResourceMissing
	if operation == OpCreateFunctionUrlConfig {
		missing = msgFunctionDoesNotExist
	}
	fn, _, err := s.urlFunction(c, name, qualifier, missing)
	return fn, err
}

// createFunctionURLInput is the CreateFunctionUrlConfig body.
type createFunctionURLInput struct {
	AuthType   *string
	Cors       *corsConfig
	InvokeMode *string
}

// createFunctionURLConfig: POST /2021-10-31/functions/{FunctionName}/url?Qualifier=
// (201 {FunctionUrl, FunctionArn, AuthType, Cors, CreationTime, InvokeMode}).
// Check order: validation, qualifier, region, account, function, alias,
// existing URL (409).
func (s *Server) createFunctionURLConfig(c *call, r *http.Request, body []byte) (*response, *apiError) {
	var in createFunctionURLInput
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	name, qualifier, fields := urlPathFields(r)
	// Members in model order: FunctionName, Qualifier, AuthType, Cors, InvokeMode.
	fields = append(fields,
		field{wireName: "authType", value: in.AuthType, required: true, enum: functionURL},
		in.Cors,
		field{wireName: "invokeMode", value: in.InvokeMode, enum: invokeModes},
	)
	if err := validate(fields...); err != nil {
		return nil, err
	}
	fn, q, err := s.urlTarget(c, name, qualifier, msgFunctionDoesNotExist)
	if err != nil {
		return nil, err
	}
	arn := s.qualifiedARN(fn.account, fn.name, q)
	if fn.urls[q] != nil {
		// Two spaces after "Error message:", as recorded.
		return nil, errConflict("Failed to create function url config for [functionArn = " + arn + "]. Error message:  FunctionUrlConfig exists for this Lambda function")
	}
	u := &urlConfig{
		// A new id each time: a re-created URL has a new address (§17.4).
		url:          "https://" + strings.ReplaceAll(uuid.NewString(), "-", "") + ".lambda-url." + s.cfg.Region + ".on.aws/",
		functionArn:  arn,
		authType:     *in.AuthType,
		cors:         in.Cors,
		invokeMode:   deref(in.InvokeMode),
		creationTime: urlTimestamp(s.cfg.Now()),
	}
	fn.urls[q] = u
	// Create echoes InvokeMode only when it was given (recorded, §17.4).
	members := u.members(false)
	if u.invokeMode != "" {
		members = append(members, stringMember("InvokeMode", u.invokeMode))
	}
	return &response{http.StatusCreated, jsonObject(members...)}, nil
}

// getFunctionURLConfig: GET /2021-10-31/functions/{FunctionName}/url?Qualifier=
// (200 {FunctionUrl, FunctionArn, AuthType, Cors, CreationTime,
// LastModifiedTime, InvokeMode}).
func (s *Server) getFunctionURLConfig(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	fn, q, err := s.urlFromPath(c, r)
	if err != nil {
		return nil, err
	}
	u := fn.urls[q]
	mode := u.invokeMode
	if mode == "" {
		mode = "BUFFERED" // the default, which Get reports (recorded)
	}
	return &response{http.StatusOK, jsonObject(append(u.members(true), stringMember("InvokeMode", mode))...)}, nil
}

// deleteFunctionURLConfig: DELETE /2021-10-31/functions/{FunctionName}/url?Qualifier=
// (204). Without a Qualifier only the unqualified function's URL goes; the
// aliases' URLs stay (recorded).
func (s *Server) deleteFunctionURLConfig(c *call, r *http.Request, _ []byte) (*response, *apiError) {
	fn, q, err := s.urlFromPath(c, r)
	if err != nil {
		return nil, err
	}
	delete(fn.urls, q)
	return &response{status: http.StatusNoContent}, nil
}

// urlFromPath resolves Get's and Delete's URL: a missing function, alias or
// URL is the generic 404.
func (s *Server) urlFromPath(c *call, r *http.Request) (*function, string, *apiError) {
	name, qualifier, fields := urlPathFields(r)
	if err := validate(fields...); err != nil {
		return nil, "", err
	}
	fn, q, err := s.urlTarget(c, name, qualifier, msgResourceMissing)
	if err != nil {
		return nil, "", err
	}
	if fn.urls[q] == nil {
		return nil, "", errNotFound(msgResourceMissing)
	}
	return fn, q, nil
}

// members renders the configuration in model member order, without
// InvokeMode. The configuration is never updated (UpdateFunctionUrlConfig
// is not served), so LastModifiedTime is CreationTime.
func (u *urlConfig) members(withLastModified bool) []member {
	out := []member{
		stringMember("FunctionUrl", u.url),
		stringMember("FunctionArn", u.functionArn),
		stringMember("AuthType", u.authType),
	}
	if u.cors != nil {
		cors, _ := jsonValue(u.cors) // a struct of strings and numbers cannot fail
		out = append(out, rawMember("Cors", string(cors)))
	}
	out = append(out, stringMember("CreationTime", u.creationTime))
	if withLastModified {
		out = append(out, stringMember("LastModifiedTime", u.creationTime))
	}
	return out
}

// urlTimestamp is ISO-8601 with microseconds in UTC, e.g.
// 2021-10-29T18:38:04.123456Z ([inferred] from AWS examples, §17.4).
func urlTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
