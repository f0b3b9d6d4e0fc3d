package emulator

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestQuotas: token buckets per AWS quota (§8) on a fake clock.
func TestQuotas(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{
		Now:    clock.Now,
		Quotas: map[string]float64{BucketControlPlane: 2, BucketGetPolicy: 1},
	})
	h.createFunction("fn")
	clock.Advance(time.Minute) // refill after setup

	// ControlPlane: two calls per second, shared by Add and Remove.
	h.allow("fn", "", "a")
	mustSucceed(t, h.remove("fn", "", "a", ""))
	_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", "b"))
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
	if got := retryAfter(t, err); got != 1 {
		t.Errorf("Retry-After %d, want 1", got)
	}
	assertAPIError(t, h.remove("fn", "", "a", ""), codeTooManyRequests, "Rate exceeded")

	// GetPolicy has its own bucket (one per second): the first call gets
	// through (404: the policy is empty), the second is throttled.
	_, err = h.getPolicy("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	_, err = h.getPolicy("fn", "")
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")

	// GetFunction has no quota configured: unlimited.
	for range 5 {
		h.configRevision("fn", "")
	}

	// Half a second refills one ControlPlane token, not yet a GetPolicy one.
	clock.Advance(500 * time.Millisecond)
	h.allow("fn", "", "b")
	_, err = h.getPolicy("fn", "")
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")

	clock.Advance(500 * time.Millisecond)
	if _, err := h.getPolicy("fn", ""); err != nil {
		t.Errorf("GetPolicy after a second: %v", err)
	}

	// Throttled calls are counted as calls and as errors.
	stats := h.emu.Stats()
	if stats.Errors["AddPermission"][codeTooManyRequests] != 1 || stats.Errors["RemovePermission"][codeTooManyRequests] != 1 ||
		stats.Errors["GetPolicy"][codeTooManyRequests] != 2 || stats.Calls["GetPolicy"] != 4 {
		t.Errorf("stats %+v", stats)
	}
}

// TestQuotaRetryAfter: Retry-After is the whole seconds until a token is
// back, at least 1; burst is max(1, rate).
func TestQuotaRetryAfter(t *testing.T) {
	tests := []struct {
		rate      float64
		burst     int
		wantRetry int
	}{
		{rate: 0.5, burst: 1, wantRetry: 2},
		{rate: 0.3, burst: 1, wantRetry: 4},
		{rate: 3, burst: 3, wantRetry: 1},
		{rate: 100, burst: 100, wantRetry: 1},
	}
	for _, tt := range tests {
		clock := newFakeClock()
		h := newHarness(t, Config{Now: clock.Now, Quotas: map[string]float64{BucketGetFunction: tt.rate}})
		h.createFunction("fn")
		get := func() error {
			_, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
			return err
		}
		for i := range tt.burst {
			if err := get(); err != nil {
				t.Fatalf("rate %v: call %d within the burst: %v", tt.rate, i+1, err)
			}
		}
		err := get()
		assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
		if got := retryAfter(t, err); got != tt.wantRetry {
			t.Errorf("rate %v: Retry-After %d, want %d", tt.rate, got, tt.wantRetry)
		}
		clock.Advance(time.Duration(tt.wantRetry) * time.Second)
		if err := get(); err != nil {
			t.Errorf("rate %v: after Retry-After: %v", tt.rate, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, quotas := range []map[string]float64{{"Invoke": 1}, {BucketGetPolicy: -1}} {
		if err := (Config{Quotas: quotas}).Validate(); err == nil {
			t.Errorf("Validate accepted %v", quotas)
		}
	}
	if err := (Config{Quotas: map[string]float64{BucketGetPolicy: 15, BucketControlPlane: 0}}).Validate(); err != nil {
		t.Error(err)
	}
}
