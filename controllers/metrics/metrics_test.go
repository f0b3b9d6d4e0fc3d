package metrics

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// Every call made to AWS by clients observed with AWSCallObserver is
// counted once, Lambda's and STS's alike, with its outcome and the account
// it acts in; answers served from a cache are not calls and are not counted.
func TestAWSCallObserverCountsWhatAWSReceives(t *testing.T) {
	const own, trusting, refusing = "123456789012", "210987654321", "310987654321"
	trusted := "arn:aws:iam::" + trusting + ":role/operator"
	refused := "arn:aws:iam::" + refusing + ":role/operator"
	emu := emulator.New(emulator.Config{Region: "us-east-2", AccountID: own,
		Roles: []emulator.Role{{ARN: trusted}, {ARN: refused, TrustedAccounts: []string{"999999999999"}}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	clients := awslambda.NewClients(awslambda.Config{AWS: cfg, Observe: AWSCallObserver{}})

	counted := func(operation, outcome, account string) float64 {
		return testutil.ToFloat64(awsCalls.WithLabelValues(operation, outcome, account))
	}
	callers, misses := counted("GetCallerIdentity", "success", ""), counted("GetPolicy", string(awslambda.NotFound), own)
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
	// The first GetCallerIdentity is what tells the operator its own
	// account, so it is counted in it.
	if got := counted("GetCallerIdentity", "success", own) + counted("GetCallerIdentity", "success", "") - callers; got != 1 || stats.Calls[emulator.OpGetCallerIdentity] != 1 {
		t.Errorf("GetCallerIdentity counted %v times, received %d times; want 1 and 1", got, stats.Calls[emulator.OpGetCallerIdentity])
	}
	if got := counted("GetPolicy", string(awslambda.NotFound), own) - misses; got != 1 || stats.Calls[emulator.OpGetPolicy] != 1 {
		t.Errorf("GetPolicy{NotFound} in %s counted %v times, received %d times; want 1 and 1", own, got, stats.Calls[emulator.OpGetPolicy])
	}

	// A role's calls, and the AssumeRole behind them, count in the role's
	// account. Its AccessDenied counters are there, at 0, before its first
	// call, so that the first refusal is an increase to Prometheus.
	denied := clients.For(awslambda.Identity{RoleARN: refused, SessionName: "unit"})
	if !hasSeries(t, "AssumeRole", string(awslambda.AccessDenied), refusing) {
		t.Fatalf("no AssumeRole AccessDenied series in %s before its first call", refusing)
	}
	if _, err := denied.GetPolicy(ctx, policy.FunctionRef{Region: "us-east-2", Name: "absent"}); awslambda.KindOf(err) != awslambda.AccessDenied {
		t.Fatalf("GetPolicy as a role that does not trust us: %v, want AccessDenied", err)
	}
	if got := counted("AssumeRole", string(awslambda.AccessDenied), refusing); got != 1 {
		t.Errorf("AssumeRole{AccessDenied} in %s: %v, want 1", refusing, got)
	}
	if _, err := clients.For(awslambda.Identity{RoleARN: trusted, SessionName: "unit"}).GetPolicy(ctx, policy.FunctionRef{Region: "us-east-2", Name: "absent"}); err != nil {
		t.Fatal(err)
	}
	if a, g := counted("AssumeRole", "success", trusting), counted("GetPolicy", string(awslambda.NotFound), trusting); a != 1 || g != 1 {
		t.Errorf("in %s: AssumeRole{success} %v, GetPolicy{NotFound} %v; want 1 and 1", trusting, a, g)
	}
	if got := counted("GetPolicy", string(awslambda.NotFound), own) - misses; got != 1 {
		t.Errorf("a role's GetPolicy counted in the operator's own account (%v)", got)
	}
	if n := testutil.CollectAndCount(awsCallDuration); n == 0 {
		t.Error("no call durations observed")
	}
}

// hasSeries reports whether lambda_permission_aws_calls_total has the
// series, without making it.
func hasSeries(t *testing.T, operation, outcome, account string) bool {
	t.Helper()
	ch := make(chan prometheus.Metric, 1024)
	go func() { awsCalls.Collect(ch); close(ch) }()
	found := false
	for m := range ch {
		var out dto.Metric
		if err := m.Write(&out); err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{}
		for _, l := range out.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["operation"] == operation && labels["outcome"] == outcome && labels["account"] == account {
			found = true
		}
	}
	return found
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
