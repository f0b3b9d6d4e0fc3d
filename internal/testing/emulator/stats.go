package emulator

import (
	"maps"
	"sync"
)

// Stats counts requests per operation and errors per operation and code
// (throttles and refused credentials included), in total and per account.
// STS calls count as operations AssumeRole and GetCallerIdentity. It is
// also the JSON body of GET /_emulator/stats.
type Stats struct {
	Calls  map[string]int            `json:"calls"`
	Errors map[string]map[string]int `json:"errors"`
	// ByAccount splits the counters by the caller's account (decided by the
	// request's credentials, see Config.AccessKeys).
	ByAccount map[string]AccountStats `json:"byAccount"`
	// Faults counts injected faults per operation and kind (FaultKinds,
	// and FaultLatency for delayed requests); nil (omitted) when none.
	// Faulted requests count in Calls too, and the ones answered with an
	// error (serviceError, throttle, updateConflict) in Errors.
	Faults map[string]map[string]int `json:"faults,omitempty"`
}

// AccountStats are one account's counters: requests per operation, and
// errors per operation and code.
type AccountStats struct {
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

// account returns account's counters, creating them. The caller holds r.mu.
func (r *statsRecorder) account(account string) AccountStats {
	a, ok := r.stats.ByAccount[account]
	if !ok {
		a = AccountStats{Calls: map[string]int{}, Errors: map[string]map[string]int{}}
		r.stats.ByAccount[account] = a
	}
	return a
}

func (r *statsRecorder) recordCall(account, operation string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Calls[operation]++
	r.account(account).Calls[operation]++
}

func (r *statsRecorder) recordError(account, operation, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	countError(r.stats.Errors, operation, code)
	countError(r.account(account).Errors, operation, code)
}

func (r *statsRecorder) recordFault(operation, kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	countError(r.stats.Faults, operation, kind)
}

func countError(errors map[string]map[string]int, operation, code string) {
	if errors[operation] == nil {
		errors[operation] = map[string]int{}
	}
	errors[operation][code]++
}

// snapshot returns a deep copy, safe to use after the lock is released.
func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.copyLocked()
}

// copyLocked copies the counters; the caller holds r.mu.
func (r *statsRecorder) copyLocked() Stats {
	out := Stats{Calls: maps.Clone(r.stats.Calls), Errors: cloneErrors(r.stats.Errors), ByAccount: map[string]AccountStats{}}
	for account, a := range r.stats.ByAccount {
		out.ByAccount[account] = AccountStats{Calls: maps.Clone(a.Calls), Errors: cloneErrors(a.Errors)}
	}
	if len(r.stats.Faults) > 0 {
		out.Faults = cloneErrors(r.stats.Faults)
	}
	return out
}

func cloneErrors(errors map[string]map[string]int) map[string]map[string]int {
	out := map[string]map[string]int{}
	for op, codes := range errors {
		out[op] = maps.Clone(codes)
	}
	return out
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
}

// take returns the counters and zeroes them, at one instant: a call that
// ends meanwhile is in one of the two, never lost between them.
func (r *statsRecorder) take() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.copyLocked()
	r.clear()
	return out
}

// clear zeroes the counters; the caller holds r.mu.
func (r *statsRecorder) clear() {
	r.stats = Stats{Calls: map[string]int{}, Errors: map[string]map[string]int{}, ByAccount: map[string]AccountStats{},
		Faults: map[string]map[string]int{}}
}
