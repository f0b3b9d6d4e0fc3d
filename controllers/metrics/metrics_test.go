package metrics

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// Every call made to AWS by clients observed with ObserveAWSCall is counted
// once, Lambda's and STS's alike, with its outcome; answers served from a
// cache are not calls and are not counted.
func TestObserveAWSCallCountsWhatAWSReceives(t *testing.T) {
	emu := emulator.New(emulator.Config{Region: "us-east-2", AccountID: "123456789012"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	clients := awslambda.NewClients(awslambda.Config{AWS: cfg, Observe: ObserveAWSCall})

	counted := func(operation, outcome string) float64 {
		return testutil.ToFloat64(awsCalls.WithLabelValues(operation, outcome))
	}
	callers, misses := counted("GetCallerIdentity", "success"), counted("GetPolicy", string(awslambda.NotFound))
	ctx := context.Background()
	for range 3 {
		if _, _, err := clients.Caller(ctx, awslambda.Identity{}); err != nil {
			t.Fatal(err)
		}
	}
	// GetPolicy of a function that does not exist: Lambda answers 404.
	if _, err := clients.For(awslambda.Identity{}).GetPolicy(ctx, policy.FunctionRef{Region: "us-east-2", Name: "absent"}); err != nil {
		t.Fatal(err)
	}
	stats := emu.Stats()
	if got := counted("GetCallerIdentity", "success") - callers; got != 1 || stats.Calls[emulator.OpGetCallerIdentity] != 1 {
		t.Errorf("GetCallerIdentity counted %v times, received %d times; want 1 and 1", got, stats.Calls[emulator.OpGetCallerIdentity])
	}
	if got := counted("GetPolicy", string(awslambda.NotFound)) - misses; got != 1 || stats.Calls[emulator.OpGetPolicy] != 1 {
		t.Errorf("GetPolicy{NotFound} counted %v times, received %d times; want 1 and 1", got, stats.Calls[emulator.OpGetPolicy])
	}
	if n := testutil.CollectAndCount(awsCallDuration); n == 0 {
		t.Error("no call durations observed")
	}
}

// The gauge has one series per policy, labelled by the unqualified function
// ARN and the qualifier; size 0 drops the series.
func TestPolicySized(t *testing.T) {
	fn := policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "headroom-unit"}
	alias := fn
	alias.Qualifier = "live"
	PolicySized(fn, 1200)
	PolicySized(alias, 300)
	PolicySized(fn, 1500)
	if got := testutil.ToFloat64(policySizeBytes.WithLabelValues(fn.FunctionARN(), "")); got != 1500 {
		t.Errorf("unqualified function: %v, want 1500", got)
	}
	if got := testutil.ToFloat64(policySizeBytes.WithLabelValues(fn.FunctionARN(), "live")); got != 300 {
		t.Errorf("alias live: %v, want 300", got)
	}
	PolicySized(alias, 0)
	PolicySized(fn, 0)
	// Deleting a series reports whether it was there.
	if policySizeBytes.DeleteLabelValues(fn.FunctionARN(), "live") || policySizeBytes.DeleteLabelValues(fn.FunctionARN(), "") {
		t.Error("a series was left after its policy was dropped")
	}
}
