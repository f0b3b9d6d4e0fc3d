package kernel

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// jitteredBackoff spaces the retries of one object exponentially, from base
// to cap, each delay drawn within ±20 %: objects that failed together (a
// Lambda outage, a throttled account) do not all come back at once.
type jitteredBackoff struct {
	base, cap time.Duration
	mu        sync.Mutex
	failures  map[reconcile.Request]int
}

// NewJitteredBackoff is a controller's rate limiter: each object's retries
// spaced exponentially from base to cap, each within ±20 %.
func NewJitteredBackoff(base, cap time.Duration) workqueue.TypedRateLimiter[reconcile.Request] {
	return &jitteredBackoff{base: base, cap: cap, failures: map[reconcile.Request]int{}}
}

func (b *jitteredBackoff) When(item reconcile.Request) time.Duration {
	b.mu.Lock()
	n := b.failures[item]
	b.failures[item] = n + 1
	b.mu.Unlock()
	delay := float64(b.base) * math.Pow(2, float64(n))
	delay = min(delay, float64(b.cap))
	return time.Duration(delay * (0.8 + 0.4*rand.Float64()))
}

func (b *jitteredBackoff) Forget(item reconcile.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.failures, item)
}

func (b *jitteredBackoff) NumRequeues(item reconcile.Request) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures[item]
}
