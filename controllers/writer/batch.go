package writer

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
)

// The Document strategy's queue: the plans waiting for a policy's next
// write, the goroutine that gathers them into batches, and what each batch
// did for each key until the key asks.

// pendingWrite is one queued plan.
type pendingWrite[K comparable] struct {
	key     K
	fresh   Freshness
	plan    Planner
	planned Plan    // what the plan said in the batch that ran it
	resize  Resize  // the merged document's size before and after the plan's part
	applied Applied // what that batch wrote of it
}

// finished is what a batch did for a key, until that key's next Write.
type finished struct {
	applied Applied
	err     error
	at      time.Time
}

// forgetFinishedAfter bounds how long a result waits for its key's next
// Write: an object deleted meanwhile never asks.
const forgetFinishedAfter = 10 * time.Minute

// batches queue the plans of one policy for its batcher goroutine, and keep
// what each batch did until the key asks.
type batches[K comparable] struct {
	mu       sync.Mutex
	pending  []*pendingWrite[K]
	writing  map[K]bool // the keys of the batch being written
	running  bool
	finished map[K]finished
}

// runBatches writes batches until no Write is waiting. A batch is sealed
// when its write's turn at the account's quota comes, not by a timer: every
// plan that reaches the policy while the write waits for the quota shares
// it, so a burst costs about one write per policy whatever its spread, and
// plans that come while a batch is written share the next one.
func (w *documentWriter[K]) runBatches() {
	b := &w.shared.batches
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		ctx = w.takeTurn(ctx)
		b.mu.Lock()
		batch := b.pending
		b.pending = nil
		b.writing = map[K]bool{}
		for _, req := range batch {
			b.writing[req.key] = true
		}
		b.mu.Unlock()
		w.writeBatch(ctx, batch)
		cancel()
		b.mu.Lock()
		var done []K
		for key := range b.writing {
			if !slices.ContainsFunc(b.pending, func(p *pendingWrite[K]) bool { return p.key == key }) {
				done = append(done, key) // a key queued again meanwhile still waits
			}
		}
		b.writing = nil
		b.mu.Unlock()
		for _, key := range done {
			w.queued(key, false)
		}
		for _, req := range batch {
			w.wake(req.key)
		}
	}
}

// takeTurn waits for the batch's turn to write, when the port paces its
// writes (awslambda.Turns), and returns the ctx that carries it. Without a
// turn (the wait failed), the write waits for one as any call does.
func (w *documentWriter[K]) takeTurn(ctx context.Context) context.Context {
	turns, ok := w.port.(awslambda.Turns)
	if !ok {
		return ctx
	}
	if turn, err := turns.TakeWriteTurn(ctx, w.target, 0); err == nil {
		return awslambda.WithTurn(ctx, turn)
	}
	return ctx
}

// strictest is the freshness that satisfies every Write of a batch.
func strictest[K comparable](batch []*pendingWrite[K]) Freshness {
	f := batch[0].fresh
	for _, req := range batch[1:] {
		f.MaxAge = min(f.MaxAge, req.fresh.MaxAge)
		if req.fresh.NotBefore.After(f.NotBefore) {
			f.NotBefore = req.fresh.NotBefore
		}
	}
	return f
}
