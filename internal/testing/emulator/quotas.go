package emulator

import (
	"math"
	"sync"
	"time"
)

// Quota buckets, named after AWS's per-account API rate quotas (§8).
const (
	BucketGetPolicy    = "GetPolicy"    // GetPolicy, 15 rps on AWS
	BucketGetFunction  = "GetFunction"  // GetFunction, 100 rps on AWS
	BucketControlPlane = "ControlPlane" // every other operation, incl. Add/RemovePermission and the *ResourcePolicy operations (§16.9); 15 rps on AWS
)

// QuotaBuckets lists the valid keys of Config.Quotas.
var QuotaBuckets = []string{BucketGetPolicy, BucketGetFunction, BucketControlPlane}

// tokenBucket allows rate requests per second with a burst of max(1, rate).
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// quotaLimiter holds one token bucket per account and configured bucket
// name; an account's buckets start full on its first call.
type quotaLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	rates   map[string]float64         // bucket -> rps, only limited ones
	buckets map[[2]string]*tokenBucket // {account, bucket}
}

func newQuotaLimiter(quotas map[string]float64, now func() time.Time) *quotaLimiter {
	q := &quotaLimiter{now: now, rates: map[string]float64{}, buckets: map[[2]string]*tokenBucket{}}
	for name, rate := range quotas {
		if rate > 0 { // 0: unlimited
			q.rates[name] = rate
		}
	}
	return q
}

// take spends one of account's tokens from the bucket. When none is left
// it returns ok=false and the whole seconds (at least 1) until one will be
// available, for the Retry-After header.
func (q *quotaLimiter) take(account, name string) (retryAfter int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rate, limited := q.rates[name]
	if !limited {
		return 0, true
	}
	now := q.now()
	key := [2]string{account, name}
	b := q.buckets[key]
	if b == nil {
		burst := math.Max(1, rate)
		b = &tokenBucket{rate: rate, burst: burst, tokens: burst, last: now}
		q.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+elapsed*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := int(math.Ceil((1 - b.tokens) / b.rate))
	return max(wait, 1), false
}
