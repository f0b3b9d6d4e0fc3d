package kernel

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// A reconcile whose outcome is not known yet writes no status and comes
// back: a queued plan, or a write that declined a far turn, however the
// engine wrapped it. Every other outcome ends the reconcile.
func TestDeferredOutcomes(t *testing.T) {
	paced := &awslambda.Error{Operation: "TakeWriteTurn", Kind: awslambda.Paced, RetryAfter: 700 * time.Millisecond}
	for _, tt := range []struct {
		name      string
		outcome   error
		wantLater time.Duration
		deferred  bool
	}{
		{"in place", nil, 0, false},
		{"queued", writer.ErrQueued, queuedRecheck, true},
		{"queued, wrapped", fmt.Errorf("placing: %w", writer.ErrQueued), queuedRecheck, true},
		{"paced", paced, 700 * time.Millisecond, true},
		{"paced, as the engine reports it", PolicyFailure(&writer.Error{Doing: "adding", Err: paced}), 700 * time.Millisecond, true},
		{"throttled by AWS", &awslambda.Error{Kind: awslambda.Throttled, RetryAfter: time.Second}, 0, false},
		{"a plain failure", errors.New("the API server is away"), 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			later, deferred := deferredFor(tt.outcome)
			if deferred != tt.deferred || later != tt.wantLater {
				t.Errorf("deferredFor = %s, %v; want %s, %v", later, deferred, tt.wantLater, tt.deferred)
			}
		})
	}
}
