package kernel

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Backoff spaces the retries of one object exponentially, from base to cap,
// each delay drawn within ±20 %: objects that failed together (a Lambda
// outage, a throttled account) do not all come back at once. It is the
// controller's rate limiter (When, Forget, NumRequeues), and the reconciler
// tells it what controller-runtime cannot: controller-runtime forgets an
// object's failures whenever a reconcile asks to come back after a while,
// which a throttled call (Retry-After) and a write deferred to its turn or
// its policy's batch do too. Forgotten there, an object failing through an
// outage would start again at base after each 429 or each queued write,
// and poll at the pacing's rate rather than back off.
type Backoff struct {
	base, cap time.Duration
	mu        sync.Mutex
	failures  map[reconcile.Request]int
	held      map[reconcile.Request]bool // the next Forget keeps the failures
}

// NewJitteredBackoff is a controller's rate limiter: each object's retries
// spaced exponentially from base to cap, each within ±20 %.
func NewJitteredBackoff(base, cap time.Duration) *Backoff {
	return &Backoff{base: base, cap: cap, failures: map[reconcile.Request]int{}, held: map[reconcile.Request]bool{}}
}

// When counts one more failure of item and says how long to wait before
// trying it again.
func (b *Backoff) When(item reconcile.Request) time.Duration {
	b.mu.Lock()
	n := b.failures[item]
	b.failures[item] = n + 1
	b.mu.Unlock()
	delay := float64(b.base) * math.Pow(2, float64(n))
	delay = min(delay, float64(b.cap))
	return time.Duration(delay * (0.8 + 0.4*rand.Float64()))
}

// Forget clears item's failures, after a reconcile that succeeded or that
// asked to come back after a while, unless Hold said that this one is no
// success.
func (b *Backoff) Forget(item reconcile.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held[item] {
		delete(b.held, item)
		return
	}
	delete(b.failures, item)
}

func (b *Backoff) NumRequeues(item reconcile.Request) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures[item]
}

// Hold keeps item's failures through the Forget that follows the reconcile
// now ending, which asks to come back later without having succeeded.
func (b *Backoff) Hold(item reconcile.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held[item] = true
}

// Failed counts a failure of item that came with a time to wait (a 429's
// Retry-After, an update in progress), holds it through the Forget that
// follows, and says how long to wait: that time, or the backoff when it
// has grown longer.
func (b *Backoff) Failed(item reconcile.Request, wait time.Duration) time.Duration {
	delay := b.When(item)
	b.Hold(item)
	return max(wait, delay)
}
