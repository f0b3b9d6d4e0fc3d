//go:build integration

package controllers_test

import (
	"fmt"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// The Document strategy's own operator, beside the suite's: its objects,
// and what their changes wait for.

// documentWorkers is the Document operator's workers, as few as the
// suite's: a reconcile does not wait for its policy's write, so a few
// workers feed batches of any size.
const documentWorkers = 4

// startDocumentOperator runs an operator that writes its own account's
// policies with the Document strategy, for objects made by documentObject.
// It returns what the operator's changes wait for.
func startDocumentOperator(t *testing.T) *changeQueue {
	t.Helper()
	queue := &changeQueue{waiting: map[engine.WriteKey]bool{}}
	startOperator(t, "document", documentWorkers, func(o *controllers.Options) {
		o.WriteStrategy = writer.Document
		o.OnQueued = queue.told
	})
	return queue
}

// changeQueue knows which keys' changes (an object's statement, or a
// removal, see engine.WriteKey) wait for their policy's next write.
type changeQueue struct {
	mu      sync.Mutex
	waiting map[engine.WriteKey]bool
}

func (q *changeQueue) told(key engine.WriteKey, waiting bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if waiting {
		q.waiting[key] = true
	} else {
		delete(q.waiting, key)
	}
}

// waitingFor reports whether key's change waits for its policy's write.
func (q *changeQueue) waitingFor(key engine.WriteKey) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting[key]
}

// notWaiting counts the objects with no change waiting: of their own
// statement, or (removal) of a statement they take out.
func (q *changeQueue) notWaiting(objs []*lambdav1alpha1.LambdaPermission, removal bool) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	missing := 0
	for _, obj := range objs {
		found := false
		for key := range q.waiting {
			found = found || (key.Object == client.ObjectKeyFromObject(obj) && (key.Removal != engine.StatementRef{}) == removal)
		}
		if !found {
			missing++
		}
	}
	return missing
}

// documentObject is a LambdaPermission for the Document operator, naming its
// function by ARN (no GetFunction).
func documentObject(name, function string, spec lambdav1alpha1.LambdaPermissionSpec) *lambdav1alpha1.LambdaPermission {
	obj := permission(name, functionARN(function), spec)
	obj.Labels = map[string]string{managerLabel: "document"}
	return obj
}

func functionARN(function string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + function
}

// createAll creates the objects at once, as kubectl apply or a GitOps sync
// of a directory does.
func createAll(t *testing.T, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(objs))
	for _, obj := range objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- k8s.Create(ctx, obj)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// queuedWhile holds the operator's calls about functions while apply runs,
// until every object has a change waiting (its statement, or with suffix
// "#remove" its removal), then lets them through.
func queuedWhile(t *testing.T, queue *changeQueue, functions []string, objs []*lambdav1alpha1.LambdaPermission, removal bool, apply func()) {
	t.Helper()
	release := lambdaAPI.Hold(functions...)
	defer release()
	apply()
	eventually(t, "every object's change queued", func() string {
		if missing := queue.notWaiting(objs, removal); missing > 0 {
			return fmt.Sprintf("%d of %d not queued", missing, len(objs))
		}
		return ""
	})
	// The gauge counts them too (and whatever else waits).
	if q := metricValue(t, "lambda_permission_policy_changes_queued", nil); q < float64(len(objs)) {
		t.Errorf("lambda_permission_policy_changes_queued is %v with %d objects' changes waiting", q, len(objs))
	}
}

// deleteAll deletes the objects at once and waits until they are gone.
func deleteAll(t *testing.T, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	for _, obj := range objs {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range objs {
		waitGone(t, obj)
	}
}
