package awslambda

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
)

// Config is what the port's clients are built from.
type Config struct {
	// AWS is the SDK's configuration, normally config.LoadDefaultConfig,
	// so that credentials, IRSA, Pod Identity and AWS_ENDPOINT_URL_LAMBDA
	// work as users expect.
	AWS aws.Config
	// Limits pace the calls in each account and region.
	Limits Limits
	// Observe, when set, is told of every AWS call that a client built from
	// this Config makes: Lambda's, STS's for the identities, and the
	// AssumeRole calls behind their credentials. NewClients and New put it
	// in place before they build any SDK client, so no call escapes it.
	Observe Observer
	// LambdaOptions adjust each Lambda SDK client (tests).
	LambdaOptions []func(*lambda.Options)
	// RequestTimeout bounds each HTTP request (default DefaultRequestTimeout).
	RequestTimeout time.Duration
}

// Call is one AWS call, after the SDK's own retries.
type Call struct {
	// Account is the AWS account the call acts in: an assumed role's
	// (its AssumeRole included), else the operator's own, which is empty
	// until STS has told it (GetCallerIdentity).
	Account   string
	Operation string // GetPolicy, AssumeRole, …
	Took      time.Duration
	Err       error // as Classify sees it; nil when the call succeeded
}

// Observer is told of the port's AWS calls. Answers the port caches, such
// as an identity's account, are not calls and are not told.
type Observer interface {
	// Account is told of an account before the first call in it, when the
	// port knows it beforehand (an assumed role's), else as soon as it
	// learns it (the operator's own), so that counters can start at 0.
	Account(id string)
	// Call is told of each call.
	Call(Call)
}

// callAccount is the account an identity's calls are counted in. The
// operator's own is learnt from the first GetCallerIdentity that succeeds.
type callAccount struct {
	id    atomic.Pointer[string]
	learn bool // the operator's own: unknown until STS says
}

func ownAccount() *callAccount { return &callAccount{learn: true} }

// roleAccount is the account in roleARN (arn:aws:iam::ACCOUNT:role/NAME).
func roleAccount(roleARN string) *callAccount {
	a := &callAccount{}
	if parts := strings.Split(roleARN, ":"); len(parts) >= 6 {
		a.id.Store(&parts[4])
	}
	return a
}

func (a *callAccount) String() string {
	if id := a.id.Load(); id != nil {
		return *id
	}
	return ""
}

// DefaultRequestTimeout is the longest one HTTP request to AWS may take. Without
// it a request that AWS accepts and never answers holds its reconcile, and
// its policy's lock, until the reconcile's own timeout; with it the SDK
// gives up on the attempt, and retries it as it retries a dropped
// connection.
const DefaultRequestTimeout = 30 * time.Second

// observed is cfg with the observer in every client's middleware stack,
// telling it each call in account, and with the request timeout on the
// SDK's own HTTP client (a client the caller built is left as it is).
func (c Config) observed(cfg aws.Config, account *callAccount) aws.Config {
	cfg = cfg.Copy()
	timeout := c.RequestTimeout
	if timeout == 0 {
		timeout = DefaultRequestTimeout
	}
	switch client := cfg.HTTPClient.(type) {
	case nil:
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(timeout)
	case *awshttp.BuildableClient:
		cfg.HTTPClient = client.WithTimeout(timeout)
	}
	if c.Observe == nil {
		return cfg
	}
	observer := c.Observe
	if known := account.String(); known != "" {
		observer.Account(known)
	}
	// Clipped: each identity's configuration appends its own observer.
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("lambda-permission-operator/observe",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, metadata, err := next.HandleInitialize(ctx, in)
				call := Call{Operation: awsmiddleware.GetOperationName(ctx), Took: time.Since(start)}
				if err != nil {
					call.Err = Classify(call.Operation, err)
				}
				if caller, ok := out.Result.(*sts.GetCallerIdentityOutput); ok && account.learn && account.String() == "" {
					own := aws.ToString(caller.Account)
					account.id.Store(&own)
					observer.Account(own)
				}
				call.Account = account.String()
				observer.Call(call)
				return out, metadata, err
			}), middleware.Before)
	})
	return cfg
}
