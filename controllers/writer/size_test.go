package writer_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// sizes records what Writers.Sized is told, by resource ARN.
type sizes struct {
	mu   sync.Mutex
	told map[string][]int
}

func (s *sizes) watch(w *world) {
	w.writers.Sized = func(target policy.FunctionRef, size int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.told == nil {
			s.told = map[string][]int{}
		}
		s.told[target.ResourceARN()] = append(s.told[target.ResourceARN()], size)
	}
}

// last is the size last told for target, and how many times one was.
func (s *sizes) last(target policy.FunctionRef) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	told := s.told[target.ResourceARN()]
	if len(told) == 0 {
		return -1, 0
	}
	return told[len(told)-1], len(told)
}

// storedSize is the size of the emulator's policy, as the writer measures it.
func (w *world) storedSize(function string) int {
	w.t.Helper()
	raw, _, ok := w.emu.Policy(function, "")
	if !ok {
		return 0
	}
	doc, err := policy.ParsePolicy(raw)
	if err != nil {
		w.t.Fatal(err)
	}
	return doc.Size()
}

// Each Write reports the policy's size from the view (no extra call): the
// size Lambda stores after its writes, the size before and after them, and
// the same to Writers.Sized; 0 once the operator's last statement is out.
func TestWritesReportThePolicySize(t *testing.T) {
	for _, strategy := range []writer.Strategy{writer.Statements, writer.Document} {
		t.Run(string(strategy), func(t *testing.T) {
			w := newWorld(t)
			var told sizes
			told.watch(w)
			name := "sized-" + string(strategy)
			fn := w.function(name)
			foreignOnly := w.storedSize(name)
			var runs int

			applied, err := w.writerWith(fn, strategy).Write(ctx, nextKey(), hourly, ensure(grant(fn, "a", "223456789012"), &runs))
			if err != nil {
				t.Fatal(err)
			}
			withA := w.storedSize(name)
			if !applied.SizeKnown || applied.PolicySize != withA || withA <= foreignOnly {
				t.Errorf("after adding a: size %d (known %v), want the stored %d (was %d)", applied.PolicySize, applied.SizeKnown, withA, foreignOnly)
			}
			if want := (writer.Resize{Before: foreignOnly, After: withA}); applied.Resized == nil || *applied.Resized != want {
				t.Errorf("resized %+v, want %+v", applied.Resized, want)
			}
			if got, _ := told.last(fn); got != withA {
				t.Errorf("Sized told %d, want %d", got, withA)
			}

			// A check that writes nothing still reports, and resizes nothing.
			reads := w.port.count("GetPolicy")
			applied, err = w.writerWith(fn, strategy).Write(ctx, nextKey(), hourly, ensure(grant(fn, "a", "223456789012"), &runs))
			if err != nil || !applied.SizeKnown || applied.PolicySize != withA || applied.Resized != nil {
				t.Errorf("a check: size %d (known %v), resized %+v, err %v; want %d and no resize", applied.PolicySize, applied.SizeKnown, applied.Resized, err, withA)
			}
			if w.port.count("GetPolicy") != reads {
				t.Error("the size cost a read")
			}

			// The operator's last statement out: nothing left to watch,
			// though the foreign statement keeps the policy.
			applied, err = w.writerWith(fn, strategy).Write(ctx, nextKey(), hourly, remove("a"))
			if err != nil || applied.PolicySize != foreignOnly || applied.Resized == nil || applied.Resized.After != foreignOnly {
				t.Errorf("after removing a: size %d, resized %+v, err %v; want %d", applied.PolicySize, applied.Resized, err, foreignOnly)
			}
			if got, _ := told.last(fn); got != 0 {
				t.Errorf("Sized told %d after the operator's last statement went, want 0", got)
			}
		})
	}
}

// In a Document batch each key's resize is its own part of the merged
// document: the parts chain from the size before the writes to the size
// after them (across batches too), so a threshold is crossed by one key.
func TestDocumentBatchResizesEachKeysPart(t *testing.T) {
	w := newWorld(t)
	fn := w.function("sized-batch")
	before := w.storedSize("sized-batch")
	const n = 6
	var writers []writer.Writer[string]
	var planners []writer.Planner
	for i := range n {
		put := grant(fn, fmt.Sprintf("grant-%d", i), "223456789012")
		writers = append(writers, w.document(fn))
		planners = append(planners, func(o writer.Observed) writer.Plan {
			if _, found := o.Document.Find(put.Permission.StatementID); found {
				return writer.Plan{}
			}
			return writer.Plan{Puts: []writer.Put{put}}
		})
	}
	applied := writeAll(t, writers, planners)
	after := w.storedSize("sized-batch")
	oneBatch := w.port.count("PutResourcePolicy") == 1
	from := map[int]int{} // each part's size before → after
	for i, a := range applied {
		if a.Resized == nil || a.Resized.After <= a.Resized.Before {
			t.Fatalf("key %d: resized %+v, want a growth", i, a.Resized)
		}
		// The size after the key's batch: the last one's, when there was one.
		if a.PolicySize < a.Resized.After || a.PolicySize > after || (oneBatch && a.PolicySize != after) {
			t.Errorf("key %d: size %d, want the size after its batch (%d after all)", i, a.PolicySize, after)
		}
		from[a.Resized.Before] = a.Resized.After
	}
	size, parts := before, 0
	for ; parts < n; parts++ {
		next, ok := from[size]
		if !ok {
			break
		}
		size = next
	}
	if parts != n || size != after {
		t.Errorf("the parts chain %d of %d keys from %d to %d, want all of them from %d to %d: %v", parts, n, before, size, before, after, from)
	}
}
