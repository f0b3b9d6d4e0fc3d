package kernel

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
)

type permissions = Reconciler[*lambdav1alpha1.LambdaPermission]

// What controller-runtime does with a reconcile's result, as its
// reconcileHandler does: an error is retried after the rate limiter's
// When; a RequeueAfter, and a success, make it Forget the object first.
func settle(b *Backoff, item ctrl.Request, result ctrl.Result, err error) time.Duration {
	if err != nil {
		return b.When(item)
	}
	b.Forget(item)
	return result.RequeueAfter
}

// An object failing through an outage backs off however its failures
// come: plain errors, 429s with a Retry-After, or writes deferred to their
// policy's batch, which then fails. Only a success starts it again at the
// base, and an object that never failed leaves nothing behind.
func TestBackoffThroughAnOutage(t *testing.T) {
	const base, cap = 100 * time.Millisecond, 5 * time.Minute
	var item ctrl.Request
	item.Namespace, item.Name = "team", "p"
	obj := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "p"}}
	throttled := LambdaFailure(&awslambda.Error{Kind: awslambda.Throttled, RetryAfter: time.Second}, "reading")
	failed := LambdaFailure(&awslambda.Error{Kind: awslambda.Unavailable, Message: "ServiceException"}, "reading")

	type step struct {
		name string
		run  func(r *permissions) (ctrl.Result, error)
	}
	var (
		fails    = step{"a 500", func(r *permissions) (ctrl.Result, error) { return r.next(obj, failed) }}
		throttle = step{"a 429", func(r *permissions) (ctrl.Result, error) { return r.next(obj, throttled) }}
		queued   = step{"queued", func(r *permissions) (ctrl.Result, error) {
			r.hold(obj)
			return ctrl.Result{RequeueAfter: queuedRecheck}, nil
		}}
		succeeds = step{"in place", func(r *permissions) (ctrl.Result, error) { return r.next(obj, nil) }}
	)
	for _, tt := range []struct {
		name  string
		steps []step
		// wantFailures is the count after the steps; wantLast, when set,
		// the least the last step may wait.
		wantFailures int
		wantLast     time.Duration
	}{
		{"500s", []step{fails, fails, fails, fails, fails, fails, fails, fails, fails, fails}, 10, time.Duration(0.8 * float64(base<<9))},
		{"429s grow past their Retry-After", []step{throttle, throttle, throttle, throttle, throttle, throttle, throttle, throttle}, 8, time.Duration(0.8 * float64(base<<7))},
		{"429s and 500s count alike", []step{fails, throttle, fails, throttle, fails, throttle}, 6, time.Duration(0.8 * float64(base<<5))},
		{"a queued write that fails, again and again", []step{queued, fails, queued, fails, queued, fails, queued, fails, queued, fails}, 5, time.Duration(0.8 * float64(base<<4))},
		{"a success starts again", []step{fails, throttle, queued, fails, succeeds}, 0, 0},
		{"a failure after a success starts at the base", []step{fails, fails, fails, succeeds, fails}, 1, 0},
		{"a deferral of an object that never failed", []step{queued, queued, succeeds, queued}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewJitteredBackoff(base, cap)
			r := &Reconciler[*lambdav1alpha1.LambdaPermission]{SyncPeriod: 10 * time.Minute, Backoff: b}
			var last time.Duration
			for _, s := range tt.steps {
				result, err := s.run(r)
				last = settle(b, item, result, err)
			}
			if got := b.NumRequeues(item); got != tt.wantFailures {
				t.Errorf("failures counted = %d, want %d", got, tt.wantFailures)
			}
			if last < tt.wantLast {
				t.Errorf("the last step waits %s, want at least %s", last, tt.wantLast)
			}
			if len(b.held) != 0 {
				t.Errorf("held after the steps: %v; every Hold is for the Forget that follows it", b.held)
			}
			if tt.wantFailures == 0 && len(b.failures) != 0 {
				t.Errorf("failures kept for an object with none: %v", b.failures)
			}
		})
	}
}
