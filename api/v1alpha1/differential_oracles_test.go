//go:build integration

package v1alpha1_test

// The three judges of the differential admission test and the last word:
// the kube-apiserver (the CRDs' schemas and CEL rules, and the admission
// policies of config/admission) by server-side dry-run; the Go validation
// the operator applies (controllers/translate and controllers/policy);
// and Lambda, the emulator of internal/testing/emulator, given the calls
// the spec leads to through aws-sdk-go-v2.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// ---- The API server ----

// apiVerdict is the API server's answer to a dry-run create.
type apiVerdict struct {
	Admitted bool
	Message  string         // why it was refused
	Causes   []apiCause     // each reason, as the refusal lists them
	Warnings []string       // admission warnings (the guardrails)
	Spec     map[string]any // the spec as admitted: defaults applied
}

// apiCause is one reason of a refusal: the field and what is wrong with
// it (a ValidatingAdmissionPolicy's refusal is one cause, without field).
type apiCause struct{ Field, Message string }

// apiServer sends dry-run creates; each worker has its own, so that the
// warnings it collects are its requests'.
type apiServer struct {
	c    client.Client
	warn *warnings
}

func newAPIServer() (*apiServer, error) {
	w := &warnings{}
	cfg := rest.CopyConfig(restConfig)
	cfg.WarningHandler = w
	cfg.QPS, cfg.Burst = 500, 1000
	c, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
	return &apiServer{c: c, warn: w}, err
}

// admit dry-runs the creation of an object of kind with spec. An error is
// the API server failing (not a refusal): the caller retries it.
func (a *apiServer) admit(ctx context.Context, kind, name string, spec map[string]any) (apiVerdict, error) {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": runtime.DeepCopyJSON(spec)}}
	u.SetAPIVersion(v1alpha1.GroupVersion.String())
	u.SetKind(kind)
	u.SetName(name)
	if kind != kindAccount {
		u.SetNamespace(namespace)
	}
	a.warn.take()
	err := a.c.Create(ctx, u, client.DryRunAll)
	v := apiVerdict{Warnings: a.warn.take()}
	var status apierrors.APIStatus
	switch {
	case err == nil:
		v.Admitted = true
		v.Spec, _ = u.Object["spec"].(map[string]any)
		return v, nil
	case errors.As(err, &status) && status.Status().Code >= 400 && status.Status().Code < 500 &&
		status.Status().Code != http.StatusTooManyRequests && status.Status().Code != http.StatusConflict:
		v.Message = err.Error()
		if d := status.Status().Details; d != nil {
			for _, c := range d.Causes {
				if !strings.Contains(c.Message, "some validation rules were not checked") {
					v.Causes = append(v.Causes, apiCause{Field: c.Field, Message: c.Message})
				}
			}
		}
		if len(v.Causes) == 0 {
			v.Causes = []apiCause{{Message: status.Status().Message}}
		}
		// The API server lists them in no fixed order.
		slices.SortFunc(v.Causes, func(a, b apiCause) int {
			return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Message, b.Message))
		})
		return v, nil
	}
	return v, err
}

// ---- The Go validation ----

// goVerdict is what the operator's own code makes of a spec before any AWS
// call: the spec refused (Err, the object Stalled with InvalidSpec), the
// grant refused by the default guardrails (Guardrail: PublicAccessDenied
// or SourceRequired), or a Deny or conditions that only the Document
// write strategy can write.
type goVerdict struct {
	Err           error
	Guardrail     string
	NeedsDocument bool
}

// goPermission is engine.DesiredStatement's checks of a LambdaPermission
// (translate.PermissionOf, policy.Permission.Validate, translate.Target)
// and the default guardrails (engine.checkGuardrails).
func goPermission(spec v1alpha1.LambdaPermissionSpec, name string) (goVerdict, policy.Permission, policy.FunctionRef) {
	perm := translate.PermissionOf(spec, sidOf(spec, name))
	target, targetErr := translate.Target(spec.FunctionName, spec.Qualifier, spec.Region)
	v := goVerdict{Err: errors.Join(perm.Validate(), targetErr), NeedsDocument: perm.NeedsDocument()}
	switch {
	case perm.IsPublic():
		v.Guardrail = v1alpha1.ReasonPublicAccessDenied
	case perm.IsServiceWithoutSource():
		v.Guardrail = v1alpha1.ReasonSourceRequired
	}
	if targetErr != nil {
		return v, perm, policy.FunctionRef{}
	}
	return v, perm, target.WithDefaults(dfRegion, dfAccount)
}

// sidOf is the Sid the operator uses: statementId, or one derived from the
// object's namespace and name (no --statement-id-prefix).
func sidOf(spec v1alpha1.LambdaPermissionSpec, name string) string {
	if spec.StatementID != "" {
		return spec.StatementID
	}
	return translate.DerivedStatementID(namespace, name)
}

// goResourcePolicy is engine.DeclaredPolicy's checks: the target, the
// statements as translate.DeclaredStatements reads them, and the default
// guardrails on each (engine.checkStatementGuardrails).
func goResourcePolicy(spec v1alpha1.LambdaResourcePolicySpec) (goVerdict, []policy.Statement, policy.FunctionRef) {
	target, err := translate.Target(spec.FunctionName, spec.Qualifier, spec.Region)
	if err != nil {
		return goVerdict{Err: err}, nil, policy.FunctionRef{}
	}
	target = target.WithDefaults(dfRegion, dfAccount)
	statements, err := translate.DeclaredStatements(spec.Policy, target)
	v := goVerdict{Err: err}
	for _, st := range statements {
		switch {
		case v.Guardrail != "":
		case st.IsPublic():
			v.Guardrail = v1alpha1.ReasonPublicAccessDenied
		case st.IsServiceWithoutSource():
			v.Guardrail = v1alpha1.ReasonSourceRequired
		}
	}
	return v, statements, target
}

// goAccount is what the operator makes of an account's access rules: a
// selector it cannot read, or a function pattern path.Match calls
// malformed, grants nothing, and the account says so (Stalled,
// InvalidSpec) with engine.AccessRuleErrors's words.
func goAccount(spec v1alpha1.LambdaPermissionAccountSpec) goVerdict {
	return goVerdict{Err: engine.AccessRuleErrors(&v1alpha1.LambdaPermissionAccount{Spec: spec})}
}

// ---- Lambda ----

// Outcomes of the calls a spec leads to.
const (
	lambdaAccepted = "accepted"
	lambdaRefused  = "refused"  // a 400: the request's content (or a 403 of STS, or the wrong account)
	lambdaNotFound = "notfound" // no such function, version, alias or role: the account's state, not the request
	lambdaNoCall   = "nocall"   // nothing to call (an empty policy is deleted, not put)
)

// lambdaVerdict is Lambda's answer to the calls a spec leads to: the first
// that failed, or accepted.
type lambdaVerdict struct {
	Outcome string
	Op      string
	Message string
	// Unpredicted is, when Lambda accepted, a statement it stored that
	// grants otherwise than the operator predicts (policy.DesiredStatement):
	// the operator would then find it drifted at every sync.
	Unpredicted string
}

func (v lambdaVerdict) String() string {
	if v.Outcome == lambdaAccepted || v.Outcome == lambdaNoCall {
		return v.Outcome
	}
	return fmt.Sprintf("%s by %s: %s", v.Outcome, v.Op, v.Message)
}

// lambdaEndpoint is one worker's emulator endpoint: each case gets a new
// emulator behind it, in the region and account its spec names.
type lambdaEndpoint struct {
	srv     *httptest.Server
	current atomic.Pointer[emulator.Server]
}

func newLambdaEndpoint() *lambdaEndpoint {
	e := &lambdaEndpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.current.Load().ServeHTTP(w, r) }))
	return e
}

// lambdaEnv is one case's emulator and clients.
type lambdaEnv struct {
	emu     *emulator.Server
	account string // the default account: of bare names, and of the caller
	lambda  *lambda.Client
	sts     *sts.Client
	cfg     aws.Config
}

// env starts a fresh emulator in region whose default account is account.
func (e *lambdaEndpoint) env(region, account string) *lambdaEnv {
	emu := emulator.New(emulator.Config{Region: region, AccountID: account})
	e.current.Store(emu)
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String(e.srv.URL), HTTPClient: e.srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} }}
	return &lambdaEnv{emu: emu, account: account, lambda: lambda.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg), cfg: cfg}
}

// versionQualifier: a version the harness publishes (1 to 20).
var versionQualifier = regexp.MustCompile(`^([1-9]|1[0-9]|20)$`)

// aliasShaped: what CreateAlias takes as a name (SPEC §4.5), unless all
// digits.
var (
	aliasShaped = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	allDigits   = regexp.MustCompile(`^[0-9]+$`)
)

// createTarget creates function name and, for qualifier, the version or
// alias, where Lambda can hold one; what cannot exist is left out, and
// the calls on it answer 404. It reports whether the target exists.
func (l *lambdaEnv) createTarget(ctx context.Context, name, qualifier string) bool {
	if name == "" {
		return false
	}
	if _, err := l.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name),
		Role: aws.String("arn:aws:iam::" + l.account + ":role/lambda"), Runtime: lambdatypes.RuntimeProvidedal2023,
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("zip")}}); err != nil {
		return false
	}
	switch {
	case qualifier == "" || qualifier == "$LATEST":
		return true
	case versionQualifier.MatchString(qualifier):
		var n int
		_, _ = fmt.Sscan(qualifier, &n)
		for range n {
			_, _ = l.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
		}
		return true
	case aliasShaped.MatchString(qualifier) && !allDigits.MatchString(qualifier):
		_, _ = l.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
		_, err := l.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String(qualifier), FunctionVersion: aws.String("1")})
		return err == nil
	}
	return false
}

// judge turns a call's error into a verdict; an error that is not Lambda
// answering (the emulator unreachable) is returned for the test to fail.
func judge(op string, err error) (lambdaVerdict, error) {
	if err == nil {
		return lambdaVerdict{Outcome: lambdaAccepted, Op: op}, nil
	}
	var httpErr *smithyhttp.ResponseError
	if errors.As(err, &httpErr) && httpErr.HTTPStatusCode() >= 300 && httpErr.HTTPStatusCode() < 400 {
		// Go's ServeMux redirects a path with a "." or ".." segment (a
		// function named so); Lambda would look the function up, and no
		// function can have that name.
		return lambdaVerdict{Outcome: lambdaNotFound, Op: op, Message: "the emulator's router redirects the path: " + err.Error()}, nil
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return lambdaVerdict{}, fmt.Errorf("%s: %w", op, err)
	}
	v := lambdaVerdict{Outcome: lambdaRefused, Op: op, Message: apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()}
	switch apiErr.ErrorCode() {
	case "ResourceNotFoundException":
		v.Outcome = lambdaNotFound
	case "ValidationException", "InvalidParameterValueException", "PolicyLengthExceededException", "PublicPolicyException",
		"ValidationError", "AccessDenied", "AccessDeniedException":
	default:
		return lambdaVerdict{}, fmt.Errorf("%s: unexpected %w", op, err)
	}
	return v, nil
}

// addPermission is the AddPermission awslambda.Client.AddPermission sends
// for perm on target: the function's ARN, the members that are set.
func addPermissionInput(functionName, qualifier string, p policy.Permission) *lambda.AddPermissionInput {
	in := &lambda.AddPermissionInput{
		FunctionName: aws.String(functionName), Qualifier: optionalString(qualifier),
		StatementId: aws.String(p.StatementID), Action: aws.String(p.Action), Principal: aws.String(p.Principal),
		SourceArn: optionalString(p.SourceArn), SourceAccount: optionalString(p.SourceAccount),
		PrincipalOrgID: optionalString(p.PrincipalOrgID), EventSourceToken: optionalString(p.EventSourceToken),
		FunctionUrlAuthType: lambdatypes.FunctionUrlAuthType(p.FunctionURLAuthType),
	}
	if p.InvokedViaFunctionURL {
		in.InvokedViaFunctionUrl = aws.Bool(true)
	}
	return in
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// addPermission sends p; when want is set, the statement Lambda stored must
// grant what it says.
func (l *lambdaEnv) addPermission(ctx context.Context, functionName, qualifier string, p policy.Permission, want *policy.Statement) (lambdaVerdict, error) {
	out, err := l.lambda.AddPermission(ctx, addPermissionInput(functionName, qualifier, p))
	v, err := judge("AddPermission", err)
	if err != nil || v.Outcome != lambdaAccepted || want == nil {
		return v, err
	}
	if got, err := policy.ParseStatement(aws.ToString(out.Statement)); err != nil || !policy.SameGrant(got, *want) {
		v.Unpredicted = fmt.Sprintf("Lambda stored %s, the operator predicts %s", aws.ToString(out.Statement), want.Render())
	}
	return v, nil
}

// putPolicy is the PutResourcePolicy of a policy holding statements alone,
// as the operator's writer sends it for a resource without a policy.
func (l *lambdaEnv) putPolicy(ctx context.Context, target policy.FunctionRef, document string) (lambdaVerdict, error) {
	_, err := l.lambda.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(target.ResourceARN()), Policy: aws.String(document)})
	return judge("PutResourcePolicy", err)
}

// getPolicy asks Lambda about a function name and qualifier alone: what
// the spec names, when the operator cannot make anything of it. exists
// says whether the harness could create the function: GetPolicy's 404 is
// then "no policy yet", the name being fine.
func (l *lambdaEnv) getPolicy(ctx context.Context, functionName, qualifier string, exists bool) (lambdaVerdict, error) {
	_, err := l.lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(functionName), Qualifier: optionalString(qualifier)})
	v, err := judge("GetPolicy", err)
	if v.Outcome == lambdaNotFound && exists && strings.Contains(v.Message, "The resource you requested does not exist") {
		v.Outcome = lambdaNoCall
	}
	return v, err
}

func documentOf(statements ...policy.Statement) string {
	return policy.PolicyDocument{}.With(statements, nil).Text()
}

// namedFunction is Lambda's FunctionName pattern (SPEC §2) with its parts
// named: where a name the operator refuses would lead a caller of Lambda.
var namedFunction = regexp.MustCompile(`^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:(?P<arnRegion>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(?P<arnAccount>\d{12}):` +
	`|(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(?P<account>\d{12}):)?)` +
	`(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$`)

var regionPattern = regexp.MustCompile(`^(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-[0-9]$`)

// rawTarget is where Lambda would look for functionName (with the spec's
// region): its region, account, name and qualifier, as Lambda's pattern
// splits it; name is empty when functionName fails the pattern.
func rawTarget(functionName, qualifier, region string) (r, account, name, q string) {
	m := namedFunction.FindStringSubmatch(functionName)
	group := func(g string) string {
		if m == nil {
			return ""
		}
		return m[namedFunction.SubexpIndex(g)]
	}
	r, account = group("region"), group("account")
	if group("arnRegion") != "" {
		r, account = group("arnRegion"), group("arnAccount")
	}
	if r == "" {
		r = region
	}
	if r == "" {
		r = dfRegion
	}
	if account == "" {
		account = dfAccount
	}
	q = group("qualifier")
	if qualifier != "" {
		q = qualifier
	}
	return r, account, group("name"), q
}

// noEndpoint is Lambda's verdict on a region without an endpoint: the
// call cannot be made.
func noEndpoint(region string) lambdaVerdict {
	return lambdaVerdict{Outcome: lambdaRefused, Op: "endpoint", Message: fmt.Sprintf("no Lambda endpoint in region %q", region)}
}
