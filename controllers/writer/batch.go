package writer

import (
	"slices"
	"sync"
	"time"
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

// runBatches writes batches until no Write is waiting. Writes that arrive
// while a batch is being written share the next one.
func (w *documentWriter[K]) runBatches() {
	b := &w.shared.batches
	for {
		b.gather()
		b.mu.Lock()
		batch := b.pending
		b.pending = nil
		if len(batch) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.writing = map[K]bool{}
		for _, req := range batch {
			b.writing[req.key] = true
		}
		b.mu.Unlock()
		w.writeBatch(batch)
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

// gather waits for the Writes that come with the first: until none has
// come for batchWindow, and at most maxBatchWait.
func (b *batches[K]) gather() {
	deadline := time.Now().Add(maxBatchWait)
	for {
		b.mu.Lock()
		before := len(b.pending)
		b.mu.Unlock()
		time.Sleep(min(batchWindow, time.Until(deadline)))
		b.mu.Lock()
		after := len(b.pending)
		b.mu.Unlock()
		if after == before || !time.Now().Before(deadline) {
			return
		}
	}
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
