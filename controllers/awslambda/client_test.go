package awslambda_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

var ctx = context.Background()

// newPort starts an emulator and returns the port pointed at it, plus a raw
// SDK client for setting up functions.
func newPort(t *testing.T, cfg emulator.Config) (*awslambda.Client, *lambda.Client, *emulator.Server) {
	t.Helper()
	cfg.Region, cfg.AccountID = region, account
	emu := emulator.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	awsCfg := aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	return awslambda.New(awslambda.Config{AWS: awsCfg}), lambda.NewFromConfig(awsCfg), emu
}

func createFunction(t *testing.T, api *lambda.Client, name string) {
	t.Helper()
	if _, err := api.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Handler: aws.String("h"), Role: aws.String("arn:aws:iam::123456789012:role/r"), Code: &types.FunctionCode{ZipFile: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
}

func TestResolveFunctionFillsTheAccount(t *testing.T) {
	port, api, _ := newPort(t, emulator.Config{})
	createFunction(t, api, "f")
	got, err := port.ResolveFunction(ctx, policy.FunctionRef{Region: region, Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	want := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	if got != want {
		t.Errorf("ResolveFunction = %+v, want %+v", got, want)
	}
	_, err = port.ResolveFunction(ctx, policy.FunctionRef{Region: region, Name: "missing"})
	if awslambda.KindOf(err) != awslambda.NotFound {
		t.Errorf("missing function: %v, want NotFound", err)
	}
}

// The port and the emulator build statements with separate code; for a
// spread of permissions the statement Lambda returns must be exactly what
// the policy package predicts, and GetPolicy must read it back.
func TestAddPermissionStoresThePredictedStatement(t *testing.T) {
	port, api, _ := newPort(t, emulator.Config{})
	createFunction(t, api, "f")
	target := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	permissions := []policy.Permission{
		{Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::b/*", SourceAccount: account},
		{Action: "lambda:InvokeFunction", Principal: "223456789012"},
		{Action: "lambda:GetFunction", Principal: "arn:aws:iam::223456789012:role/path/r"},
		{Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "AWS_IAM", PrincipalOrgID: "o-a1b2c3d4e5"},
		{Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true},
		{Action: "lambda:*", Principal: "alexa-appkit.amazon.com", EventSourceToken: "amzn1.ask.skill.x"},
		{Action: "*", Principal: "logs.us-east-1.amazonaws.com", SourceArn: "arn:aws:logs:us-east-1:123456789012:log-group:/x:*", SourceAccount: account, PrincipalOrgID: "o-a1b2c3d4e5", FunctionURLAuthType: "NONE", EventSourceToken: "t"},
	}
	for i, p := range permissions {
		p.StatementID = fmt.Sprintf("p%d", i)
		stored, err := port.AddPermission(ctx, target, p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if want := policy.DesiredStatement(target, p).Render(); stored != want {
			t.Errorf("stored\n %s\npredicted\n %s", stored, want)
		}
	}
	current, err := port.GetPolicy(ctx, target)
	if err != nil || current.RevisionID == "" || len(current.Document.Statements) != len(permissions) {
		t.Fatalf("GetPolicy = %+v, %v", current, err)
	}
}

func TestGetPolicyWithoutAPolicyIsEmpty(t *testing.T) {
	port, api, _ := newPort(t, emulator.Config{})
	createFunction(t, api, "f")
	for _, name := range []string{"f", "no-such-function"} {
		got, err := port.GetPolicy(ctx, policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: name})
		if err != nil || got.RevisionID != "" || len(got.Document.Statements) != 0 {
			t.Errorf("%s: GetPolicy = %+v, %v; want an empty policy", name, got, err)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	port, api, _ := newPort(t, emulator.Config{})
	createFunction(t, api, "f")
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	invoke := policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com"}
	if _, err := port.AddPermission(ctx, f, invoke); err != nil {
		t.Fatal(err)
	}
	missing := f
	missing.Name = "missing"
	alias := f
	alias.Qualifier = "no-alias"
	tests := []struct {
		name string
		call func() error
		want awslambda.Kind
	}{
		{"duplicate Sid", func() error { _, err := port.AddPermission(ctx, f, invoke); return err }, awslambda.StatementExists},
		{"stale revision", func() error { return port.RemovePermission(ctx, f, "s", "not-the-revision") }, awslambda.StaleRevision},
		{"function missing", func() error { _, err := port.AddPermission(ctx, missing, invoke); return err }, awslambda.NotFound},
		{"alias missing", func() error { _, err := port.AddPermission(ctx, alias, invoke); return err }, awslambda.NotFound},
		{"statement missing", func() error { return port.RemovePermission(ctx, f, "nope", "") }, awslambda.NotFound},
		{"invalid principal", func() error {
			p := invoke
			p.StatementID, p.Principal = "bad", "invalid.nonaws.com"
			_, err := port.AddPermission(ctx, f, p)
			return err
		}, awslambda.Invalid},
		{"validation", func() error {
			p := invoke
			p.StatementID = "has.dot"
			_, err := port.AddPermission(ctx, f, p)
			return err
		}, awslambda.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var lambdaErr *awslambda.Error
			if !errors.As(err, &lambdaErr) || lambdaErr.Kind != tt.want || lambdaErr.Message == "" {
				t.Errorf("err = %#v, want Kind %s with AWS's message", err, tt.want)
			}
		})
	}
}

func TestThrottlingCarriesRetryAfter(t *testing.T) {
	port, api, _ := newPort(t, emulator.Config{Quotas: map[string]float64{emulator.BucketGetPolicy: 1}})
	createFunction(t, api, "f")
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = port.GetPolicy(ctx, f)
	}
	var lambdaErr *awslambda.Error
	if !errors.As(err, &lambdaErr) || lambdaErr.Kind != awslambda.Throttled || lambdaErr.RetryAfter < time.Second {
		t.Fatalf("err = %#v, want Throttled with RetryAfter ≥ 1s", err)
	}
}

func TestServerErrorsAreUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"Type":"Service","Message":"internal error"}`))
	}))
	defer srv.Close()
	port := awslambda.New(awslambda.Config{AWS: aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}})
	_, err := port.GetPolicy(ctx, policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"})
	if awslambda.KindOf(err) != awslambda.Unavailable {
		t.Errorf("err = %v, want Unavailable", err)
	}
}

// Lambda's public-access block is a failure of its own: the statement is
// fine, the account refuses public statements.
func TestPublicPolicyIsItsOwnKind(t *testing.T) {
	port, api, _ := newPort(t, emulator.Config{BlockPublicPolicy: []string{account}})
	createFunction(t, api, "f")
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	_, err := port.AddPermission(ctx, f, policy.Permission{StatementID: "public", Action: "lambda:InvokeFunction", Principal: "*"})
	var lambdaErr *awslambda.Error
	if !errors.As(err, &lambdaErr) || lambdaErr.Kind != awslambda.PublicPolicy || !strings.Contains(lambdaErr.Message, "would grant public access") {
		t.Fatalf("err = %#v, want Kind PublicPolicy with AWS's message", err)
	}
}

// STS throttles as awsQuery services do, with 400 and the code Throttling
// ("Rate exceeded"), not with 429: that is a throttle to wait out, not an
// invalid request to stop at. Other 400s stay Invalid.
func TestSTSThrottlingIsThrottled(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults emulator.OperationFaults
		want   awslambda.Kind
	}{
		{"throttled", emulator.OperationFaults{Throttle: 1}, awslambda.Throttled},
		{"server error", emulator.OperationFaults{ServiceError: 1}, awslambda.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Region: region, AccountID: account,
				Faults: emulator.Faults{Operations: map[string]emulator.OperationFaults{emulator.OpGetCallerIdentity: tt.faults}}})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			clients := awslambda.NewClients(awslambda.Config{AWS: aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
				Retryer:     func() aws.Retryer { return aws.NopRetryer{} }}})
			_, _, err := clients.Caller(ctx, awslambda.Identity{})
			var lambdaErr *awslambda.Error
			if !errors.As(err, &lambdaErr) || lambdaErr.Kind != tt.want || lambdaErr.Operation != "GetCallerIdentity" {
				t.Fatalf("err = %#v, want Kind %s of GetCallerIdentity", err, tt.want)
			}
			if tt.want == awslambda.Throttled && (lambdaErr.Code != "Throttling" || lambdaErr.Message != "Rate exceeded") {
				t.Errorf("code %q, message %q; want STS's Throttling, Rate exceeded", lambdaErr.Code, lambdaErr.Message)
			}
		})
	}
	// The account is found once the throttle is gone.
	emu := emulator.New(emulator.Config{Region: region, AccountID: account})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	clients := awslambda.NewClients(awslambda.Config{AWS: aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} }}})
	if got, _, err := clients.Caller(ctx, awslambda.Identity{}); err != nil || got != account {
		t.Errorf("Caller = %q, %v; want %s", got, err, account)
	}
}

// A request that AWS accepts and never answers is given up after the
// request timeout and retried as a dropped connection is, so that a hung
// endpoint cannot hold a reconcile and its policy's lock for minutes.
func TestHungRequestsTimeOut(t *testing.T) {
	emu := emulator.New(emulator.Config{Region: region, AccountID: account,
		Faults: emulator.Faults{Operations: map[string]emulator.OperationFaults{emulator.OpGetPolicy: {Latency: 10 * time.Minute}}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	port := awslambda.New(awslambda.Config{RequestTimeout: 200 * time.Millisecond, AWS: aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}})
	start := time.Now()
	_, err := port.GetPolicy(ctx, policy.FunctionRef{Region: region, Name: "hung"})
	took := time.Since(start)
	if kind := awslambda.KindOf(err); kind != awslambda.Unavailable {
		t.Fatalf("GetPolicy of a hung endpoint: %v (kind %q), want Unavailable", err, kind)
	}
	if took > 10*time.Second {
		t.Errorf("GetPolicy gave up after %v, want about three attempts of 200ms", took)
	}
	if n := emu.Stats().Calls[emulator.OpGetPolicy]; n != 3 {
		t.Errorf("the hung endpoint received %d GetPolicy calls, want the SDK's 3 attempts", n)
	}
}
