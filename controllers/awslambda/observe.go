package awslambda

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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
}

// Observer is told of one AWS call, after the SDK's own retries: its
// operation (GetPolicy, AssumeRole, …), how long it took, and its failure
// as Classify sees it (nil when it succeeded). Answers the port caches,
// such as an identity's account, are not calls and are not told.
type Observer func(operation string, took time.Duration, err error)

// observed is cfg's AWS configuration with the observer in every client's
// middleware stack.
func (c Config) observed() aws.Config {
	cfg := c.AWS.Copy()
	if c.Observe == nil {
		return cfg
	}
	observe := c.Observe
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("lambda-permission-operator/observe",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, metadata, err := next.HandleInitialize(ctx, in)
				operation := awsmiddleware.GetOperationName(ctx)
				var failure error
				if err != nil {
					failure = Classify(operation, err)
				}
				observe(operation, time.Since(start), failure)
				return out, metadata, err
			}), middleware.Before)
	})
	return cfg
}
