package awslambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
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

// Turns is what a port that paces its writes offers: a caller can wait for
// its turn first and decide what to write once the turn is granted (the
// Document strategy seals a batch then, so every change that reached the
// policy while it waited shares the write), or decline a turn that is far
// off (a reconcile then gives its worker back to objects of other accounts).
// A port without it writes at once.
type Turns interface {
	// TakeWriteTurn waits until the account and region of ref may make one
	// more control-plane call, and returns a ctx whose next control-plane
	// call uses that turn instead of waiting for another. With within > 0,
	// a turn further off than that is not taken: it fails at once with Kind
	// Paced and RetryAfter when the turn would come.
	TakeWriteTurn(ctx context.Context, ref policy.FunctionRef, within time.Duration) (context.Context, error)
}

// turnKey holds in a ctx a write turn taken and not yet used.
type turnKey struct{}

// writeTurn is one control-plane call that its bucket already allowed.
type writeTurn struct{ used atomic.Bool }

func (c *Client) TakeWriteTurn(ctx context.Context, ref policy.FunctionRef, within time.Duration) (context.Context, error) {
	bucket := c.region(ref.Region).limiters.controlPlane
	if within > 0 {
		turn := bucket.Reserve()
		if delay := turn.Delay(); delay > within {
			turn.Cancel()
			return ctx, &Error{Operation: "TakeWriteTurn", Kind: Paced, RetryAfter: delay,
				Err: fmt.Errorf("the account's next write turn is %s away", delay.Round(time.Millisecond))}
		} else if err := sleep(ctx, delay); err != nil {
			turn.Cancel()
			return ctx, &Error{Operation: "TakeWriteTurn", Kind: Unavailable, Err: err}
		}
	} else if err := wait(ctx, bucket, "TakeWriteTurn"); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, turnKey{}, &writeTurn{}), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitControlPlane waits for the control-plane bucket, unless ctx carries a
// turn taken for this call.
func waitControlPlane(ctx context.Context, r regional, operation string) error {
	if turn, ok := ctx.Value(turnKey{}).(*writeTurn); ok && turn.used.CompareAndSwap(false, true) {
		return nil
	}
	if err := r.limiters.controlPlane.Wait(ctx); err != nil {
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
