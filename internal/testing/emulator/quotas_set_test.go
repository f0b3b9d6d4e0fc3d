package emulator

import (
	"testing"
	"time"
)

// TestSetQuotas: quotas turned on at run time throttle from then on, with
// full buckets; turned off, nothing is throttled; a bad bucket changes
// nothing.
func TestSetQuotas(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now})
	h.createFunction("fn")
	for range 3 { // no quota yet
		_, err := h.getPolicy("fn", "")
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	}

	if err := h.emu.SetQuotas(map[string]float64{BucketGetPolicy: 2}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a full bucket: two calls
		_, err := h.getPolicy("fn", "")
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	}
	_, err := h.getPolicy("fn", "")
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
	clock.Advance(500 * time.Millisecond)
	_, err = h.getPolicy("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)

	if err := h.emu.SetQuotas(map[string]float64{"Invoke": 1}); err == nil {
		t.Error("an unknown bucket was accepted")
	}
	_, err = h.getPolicy("fn", "") // still limited: the bad quotas changed nothing
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")

	if err := h.emu.SetQuotas(nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := h.getPolicy("fn", "")
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	}
}
