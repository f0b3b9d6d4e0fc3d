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
// policy while it waited shares the write), or keep a turn that is far off
// for later and give its worker back meanwhile (a reconcile then serves
// objects of other accounts, and comes back at its turn). A port without
// it writes at once.
type Turns interface {
	// TakeWriteTurn reserves the next control-plane call of the account and
	// region of ref, and waits for it. With within > 0, a turn further off
	// than that is not waited for: it comes back at once, still reserved
	// for the caller, with an error of Kind Paced whose RetryAfter says
	// when it comes.
	TakeWriteTurn(ctx context.Context, ref policy.FunctionRef, within time.Duration) (*Turn, error)
}

// Turn is one control-plane call that its account's bucket allows at At.
type Turn struct {
	At   time.Time
	used atomic.Bool
}

// PacedError is the failure of a call that waits for turn: Kind Paced, to
// be tried again after retryAfter.
func PacedError(turn *Turn, retryAfter time.Duration) *Error {
	return &Error{Operation: "TakeWriteTurn", Kind: Paced, RetryAfter: retryAfter,
		Err: fmt.Errorf("the account's next write turn is %s away", time.Until(turn.At).Round(time.Millisecond))}
}

// Wait waits until the turn has come, or ctx ends.
func (t *Turn) Wait(ctx context.Context) error { return sleep(ctx, time.Until(t.At)) }

// WithTurn returns ctx whose next control-plane call uses turn (which has
// come: see Wait) instead of waiting for another.
func WithTurn(ctx context.Context, turn *Turn) context.Context {
	return context.WithValue(ctx, turnKey{}, turn)
}

// turnKey holds in a ctx a write turn taken and not yet used.
type turnKey struct{}

func (c *Client) TakeWriteTurn(ctx context.Context, ref policy.FunctionRef, within time.Duration) (*Turn, error) {
	reservation := c.region(ref.Region).limiters.controlPlane.Reserve()
	delay := reservation.Delay()
	turn := &Turn{At: time.Now().Add(delay)}
	if within > 0 && delay > within {
		return turn, PacedError(turn, delay)
	}
	if err := turn.Wait(ctx); err != nil {
		reservation.Cancel()
		return nil, &Error{Operation: "TakeWriteTurn", Kind: Unavailable, Err: err}
	}
	return turn, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
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
	if turn, ok := ctx.Value(turnKey{}).(*Turn); ok && turn.used.CompareAndSwap(false, true) {
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
