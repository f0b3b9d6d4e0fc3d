package awslambda

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"
)

// Limits are the request rates the operator allows itself per account and
// region, sized to Lambda's quotas (SPEC §8) so that it does not cause its
// own throttling: GetPolicy has 15 requests per second, the "rest of the
// control plane" (AddPermission, RemovePermission, PutResourcePolicy and
// DeleteResourcePolicy among them) another 15, and GetFunction 100.
type Limits struct {
	GetPolicy    float64
	ControlPlane float64
	GetFunction  float64
}

// DefaultLimits are AWS's default quotas.
var DefaultLimits = Limits{GetPolicy: 15, ControlPlane: 15, GetFunction: 100}

// limiters hold one token bucket per quota, for one account and region.
type limiters struct {
	getPolicy, controlPlane, getFunction *rate.Limiter
}

func newLimiters(l Limits) *limiters {
	bucket := func(rps float64) *rate.Limiter {
		if rps <= 0 {
			return rate.NewLimiter(rate.Inf, 0)
		}
		// No burst: calls are paced evenly, so that the jitter of the
		// network cannot bunch two of them inside AWS's bucket and cause a
		// throttle at exactly the quota.
		return rate.NewLimiter(rate.Limit(rps), 1)
	}
	return &limiters{getPolicy: bucket(l.GetPolicy), controlPlane: bucket(l.ControlPlane), getFunction: bucket(l.GetFunction)}
}

// wait blocks until the bucket allows one more call, or ctx ends.
func wait(ctx context.Context, bucket *rate.Limiter, operation string) error {
	if err := bucket.Wait(ctx); err != nil {
		return &Error{Operation: operation, Kind: Unavailable, Err: err}
	}
	return nil
}

// Retryer is the SDK retryer the operator uses, chosen on purpose: up to
// three attempts with jittered exponential backoff for what is worth
// retrying at once (5xx, dropped connections, timeouts); throttling is not
// retried here but returned, so the controller can wait as long as
// Retry-After says without holding a worker; and no client-side retry
// quota, whose exhaustion would fail calls that AWS never refused.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.MaxBackoff = 5 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append([]retry.IsErrorRetryable{notThrottling{}}, o.Retryables...)
	})
}

// notThrottling stops the SDK from retrying a throttle: see Retryer.
type notThrottling struct{}

func (notThrottling) IsErrorRetryable(err error) aws.Ternary {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "TooManyRequestsException" {
		return aws.FalseTernary
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() == http.StatusTooManyRequests {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}
