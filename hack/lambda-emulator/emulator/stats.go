package emulator

import (
	"maps"
	"sync"
)

// Stats counts requests per operation and errors per operation and code
// (throttles included). It is also the JSON body of GET /_emulator/stats.
type Stats struct {
	Calls  map[string]int            `json:"calls"`
	Errors map[string]map[string]int `json:"errors"`
}

type statsRecorder struct {
	mu    sync.Mutex
	stats Stats
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) recordCall(operation string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Calls[operation]++
}

func (r *statsRecorder) recordError(operation, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stats.Errors[operation] == nil {
		r.stats.Errors[operation] = map[string]int{}
	}
	r.stats.Errors[operation][code]++
}

// snapshot returns a deep copy, safe to use after the lock is released.
func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{Calls: maps.Clone(r.stats.Calls), Errors: map[string]map[string]int{}}
	for op, codes := range r.stats.Errors {
		out.Errors[op] = maps.Clone(codes)
	}
	return out
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = Stats{Calls: map[string]int{}, Errors: map[string]map[string]int{}}
}
