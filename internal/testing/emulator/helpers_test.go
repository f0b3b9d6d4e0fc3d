package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

const (
	testRegion  = "us-east-2"
	testAccount = "123456789012"
	testRole    = "arn:aws:iam::123456789012:role/lambda-role"
)

// fakeClock is an injectable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is one emulator behind httptest with a real SDK client.
type harness struct {
	t      *testing.T
	ctx    context.Context
	emu    *Server
	url    string
	client *lambda.Client
}

// newHarness starts an emulator. Defaults: testRegion, testAccount, a fake
// clock that never moves. SDK retries are off so every call is one request.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Region == "" {
		cfg.Region = testRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = testAccount
	}
	if cfg.Now == nil {
		cfg.Now = newFakeClock().Now
	}
	emu := New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client := lambda.New(lambda.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
	})
	return &harness{t: t, ctx: context.Background(), emu: emu, url: srv.URL, client: client}
}

func (h *harness) createFunction(name string) *lambda.CreateFunctionOutput {
	h.t.Helper()
	out, err := h.client.CreateFunction(h.ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String(testRole),
		Runtime:      types.RuntimePython312,
		Handler:      aws.String("index.handler"),
		Code:         &types.FunctionCode{ZipFile: []byte("PK\x03\x04 fake zip")},
	})
	if err != nil {
		h.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	return out
}

func (h *harness) publishVersion(name string) string {
	h.t.Helper()
	out, err := h.client.PublishVersion(h.ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		h.t.Fatalf("PublishVersion(%s): %v", name, err)
	}
	return aws.ToString(out.Version)
}

func (h *harness) createAlias(name, alias, version string) *lambda.CreateAliasOutput {
	h.t.Helper()
	out, err := h.client.CreateAlias(h.ctx, &lambda.CreateAliasInput{
		FunctionName: aws.String(name), Name: aws.String(alias), FunctionVersion: aws.String(version),
	})
	if err != nil {
		h.t.Fatalf("CreateAlias(%s, %s): %v", name, alias, err)
	}
	return out
}

// configRevision is the RevisionId GetFunction reports for a qualifier.
func (h *harness) configRevision(name, qualifier string) string {
	h.t.Helper()
	in := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := h.client.GetFunction(h.ctx, in)
	if err != nil {
		h.t.Fatalf("GetFunction(%s, %q): %v", name, qualifier, err)
	}
	return aws.ToString(out.Configuration.RevisionId)
}

// allow adds a plain S3 statement and returns the response Statement.
func (h *harness) allow(name, qualifier, sid string) string {
	h.t.Helper()
	out, err := h.client.AddPermission(h.ctx, s3Permission(name, qualifier, sid))
	if err != nil {
		h.t.Fatalf("AddPermission(%s, %q, %s): %v", name, qualifier, sid, err)
	}
	return aws.ToString(out.Statement)
}

func s3Permission(name, qualifier, sid string) *lambda.AddPermissionInput {
	in := &lambda.AddPermissionInput{
		FunctionName: aws.String(name),
		StatementId:  aws.String(sid),
		Action:       aws.String("lambda:InvokeFunction"),
		Principal:    aws.String("s3.amazonaws.com"),
	}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	return in
}

func (h *harness) remove(name, qualifier, sid, revisionID string) error {
	in := &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	if revisionID != "" {
		in.RevisionId = aws.String(revisionID)
	}
	_, err := h.client.RemovePermission(h.ctx, in)
	return err
}

func (h *harness) getPolicy(name, qualifier string) (*lambda.GetPolicyOutput, error) {
	in := &lambda.GetPolicyInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	return h.client.GetPolicy(h.ctx, in)
}

// mustPolicy returns GetPolicy's Policy and RevisionId or fails.
func (h *harness) mustPolicy(name, qualifier string) (policy, revisionID string) {
	h.t.Helper()
	out, err := h.getPolicy(name, qualifier)
	if err != nil {
		h.t.Fatalf("GetPolicy(%s, %q): %v", name, qualifier, err)
	}
	return aws.ToString(out.Policy), aws.ToString(out.RevisionId)
}

// sids lists the Sids of a policy document in order.
func sids(t *testing.T, policy string) []string {
	t.Helper()
	var doc struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, policy)
	}
	out := []string{}
	for _, s := range doc.Statement {
		out = append(out, s.Sid)
	}
	return out
}

// assertAPIError checks the error code, its Go type as the SDK decodes it,
// and the exact message.
func assertAPIError(t *testing.T, err error, code, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s %q, got success", code, message)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want smithy.APIError, got %T: %v", err, err)
	}
	if apiErr.ErrorCode() != code || apiErr.ErrorMessage() != message {
		t.Fatalf("got %s %q\nwant %s %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, message)
	}
	typed := map[string]func() bool{
		codeValidation: func() bool {
			var e *smithy.GenericAPIError // not modeled by the SDK
			return errors.As(err, &e)
		},
		codeAccessDenied: func() bool { // not modeled by the Lambda SDK either
			var e *smithy.GenericAPIError
			return errors.As(err, &e) && httpStatus(err) == http.StatusForbidden
		},
		codeExpiredToken: func() bool {
			var e *smithy.GenericAPIError
			return errors.As(err, &e) && httpStatus(err) == http.StatusForbidden
		},
		codeUnrecognizedClient: func() bool {
			var e *smithy.GenericAPIError
			return errors.As(err, &e) && httpStatus(err) == http.StatusForbidden
		},
		codeInvalidParameterValue: func() bool { var e *types.InvalidParameterValueException; return errors.As(err, &e) },
		codeResourceNotFound:      func() bool { var e *types.ResourceNotFoundException; return errors.As(err, &e) },
		codeResourceConflict:      func() bool { var e *types.ResourceConflictException; return errors.As(err, &e) },
		codePreconditionFailed:    func() bool { var e *types.PreconditionFailedException; return errors.As(err, &e) },
		codePolicyLengthExceeded:  func() bool { var e *types.PolicyLengthExceededException; return errors.As(err, &e) },
		codePublicPolicy: func() bool {
			var e *types.PublicPolicyException
			return errors.As(err, &e) && aws.ToString(e.Type) == "User" && httpStatus(err) == http.StatusBadRequest
		},
		codeService: func() bool {
			var e *types.ServiceException
			return errors.As(err, &e) && aws.ToString(e.Type) == "Service" && httpStatus(err) == http.StatusInternalServerError
		},
		codeTooManyRequests: func() bool {
			var e *types.TooManyRequestsException
			return errors.As(err, &e) && e.Reason == types.ThrottleReasonCallerRateLimitExceeded &&
				aws.ToString(e.RetryAfterSeconds) != "" && aws.ToString(e.Type) == "User"
		},
	}
	if check, ok := typed[code]; ok && !check() {
		t.Fatalf("%s decoded as %T (%+v)", code, apiErr, apiErr)
	}
}

// httpStatus is the HTTP status of an SDK error, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return 0
	}
	return re.HTTPStatusCode()
}

// retryAfter returns the RetryAfterSeconds of a throttling error.
func retryAfter(t *testing.T, err error) int {
	t.Helper()
	var e *types.TooManyRequestsException
	if !errors.As(err, &e) {
		t.Fatalf("want TooManyRequestsException, got %v", err)
	}
	n, convErr := strconv.Atoi(aws.ToString(e.RetryAfterSeconds))
	if convErr != nil {
		t.Fatalf("RetryAfterSeconds %q: %v", aws.ToString(e.RetryAfterSeconds), convErr)
	}
	return n
}

// encodeJSONString encodes like AWS: no HTML escaping.
func encodeJSONString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
