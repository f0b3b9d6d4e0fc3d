package harness

import (
	"context"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
)

// AWSEnvironment is the SDK's standard environment for a Lambda and STS at
// endpoint: the endpoint in AWS_ENDPOINT_URL_LAMBDA and _STS, the region,
// static test keys (the emulator checks no signature), and no session
// token, profile, shared files (they point at a file under dir that does
// not exist) or instance metadata. The SDK takes an empty value as none;
// leave those out of a child process's environment.
func AWSEnvironment(endpoint, region, dir string) map[string]string {
	none := filepath.Join(dir, "none")
	return map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA": endpoint, "AWS_ENDPOINT_URL_STS": endpoint, "AWS_REGION": region,
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	}
}

// LoadAWS loads the configuration through the SDK's default chain, as the
// operator does, and a client of another writer that never retries, so
// that its record of what it did is exact.
func LoadAWS(ctx context.Context, optFns ...func(*awsconfig.LoadOptions) error) (aws.Config, *lambda.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return aws.Config{}, nil, err
	}
	return cfg, lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} }), nil
}

// OperatorLambda is the operator's Lambda provider as main.go builds it
// from cfg: awslambda.Retryer, every call observed by the operator's
// metrics, paced at limits.
func OperatorLambda(cfg aws.Config, limits awslambda.Limits) *awslambda.Clients {
	cfg = cfg.Copy()
	cfg.Retryer = awslambda.Retryer
	return awslambda.NewClients(awslambda.Config{AWS: cfg, Limits: limits, Observe: metrics.AWSCallObserver{}})
}
