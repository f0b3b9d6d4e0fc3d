package kernel

import (
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
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

// A new object may go without status until announceAfter after its
// creation, or after the operator began if that is later (a backlog); one
// with a status has nothing to announce.
func TestUntilAnnounced(t *testing.T) {
	created := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	obj := func(observed int64) *lambdav1alpha1.LambdaPermission {
		o := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created), Generation: 1}}
		o.Status.ObservedGeneration = observed
		return o
	}
	longBefore := created.Add(-time.Hour) // the operator began before the object
	for _, tt := range []struct {
		name     string
		observed int64
		began    time.Time
		now      time.Time
		want     time.Duration
	}{
		{"just created", 0, longBefore, created, announceAfter},
		{"two seconds on", 0, longBefore, created.Add(2 * time.Second), announceAfter - 2*time.Second},
		{"due", 0, longBefore, created.Add(announceAfter), 0},
		{"past due", 0, longBefore, created.Add(time.Minute), announceAfter - time.Minute},
		{"has a status", 1, longBefore, created, queuedRecheck},
		{"a backlog: the operator just began", 0, created.Add(time.Hour), created.Add(time.Hour), announceAfter},
		{"a backlog, two seconds on", 0, created.Add(time.Hour), created.Add(time.Hour + 2*time.Second), announceAfter - 2*time.Second},
		{"a backlog, past due", 0, created.Add(time.Hour), created.Add(time.Hour + time.Minute), announceAfter - time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := untilAnnounced(obj(tt.observed), tt.began, tt.now); got != tt.want {
				t.Errorf("untilAnnounced = %s, want %s", got, tt.want)
			}
		})
	}
}
