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
	BucketControlPlane = "ControlPlane" // every other operation, incl. Add/RemovePermission; 15 rps on AWS
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

// quotaLimiter holds one token bucket per configured bucket name.
type quotaLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[string]*tokenBucket
}

func newQuotaLimiter(quotas map[string]float64, now func() time.Time) *quotaLimiter {
	q := &quotaLimiter{now: now, buckets: map[string]*tokenBucket{}}
	start := now()
	for name, rate := range quotas {
		if rate <= 0 {
			continue // unlimited
		}
		burst := math.Max(1, rate)
		q.buckets[name] = &tokenBucket{rate: rate, burst: burst, tokens: burst, last: start}
	}
	return q
}

// take spends one token from the bucket. When none is left it returns
// ok=false and the whole seconds (at least 1) until one will be available,
// for the Retry-After header.
func (q *quotaLimiter) take(name string) (retryAfter int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.buckets[name]
	if b == nil {
		return 0, true
	}
	now := q.now()
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
