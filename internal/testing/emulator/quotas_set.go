package emulator

import "fmt"

// SetQuotas replaces the request rate quotas (as Config.Quotas: a bucket
// name from QuotaBuckets to requests per second per account; absent or 0
// is unlimited) and refills every bucket. A test sets up its functions
// with no quota, then turns AWS's on for what it measures. It returns an
// error for an unknown bucket or a negative rate, and then changes
// nothing.
func (s *Server) SetQuotas(quotas map[string]float64) error {
	if err := (Config{Quotas: quotas}).Validate(); err != nil {
		return fmt.Errorf("quotas: %w", err)
	}
	s.quotas.set(quotas)
	return nil
}

// set replaces the rates and forgets every bucket: each account's start
// full again on its next call.
func (q *quotaLimiter) set(quotas map[string]float64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rates = map[string]float64{}
	for name, rate := range quotas {
		if rate > 0 {
			q.rates[name] = rate
		}
	}
	q.buckets = map[[2]string]*tokenBucket{}
}
