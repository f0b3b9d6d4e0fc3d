//go:build integration

package resilience

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

func createAll(t *testing.T, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	for _, obj := range objs {
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s/%s: %v", obj.Namespace, obj.Name, err)
		}
	}
}

// deleteAll asks for the objects' deletion; each goes once the operator has
// removed its statement and its finalizer.
func deleteAll(t *testing.T, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	for _, obj := range objs {
		if err := kube.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			t.Fatalf("deleting %s/%s: %v", obj.Namespace, obj.Name, err)
		}
	}
}

// waitUntil polls check until it returns "" or timeout passes, then fails
// with check's last complaint. Each guard is asked first: a non-nil error
// (an operator process that died by itself) fails the test at once.
func waitUntil(t *testing.T, what string, timeout time.Duration, check func() string, guards ...func() error) time.Duration {
	t.Helper()
	started := time.Now()
	for {
		for _, guard := range guards {
			if err := guard(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		complaint := check()
		if complaint == "" {
			return time.Since(started)
		}
		if time.Since(started) > timeout {
			t.Fatalf("%s: still %s after %s", what, complaint, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitAllReady waits until namespace holds n LambdaPermissions, every one
// Ready (reason Synced) at its current generation.
func waitAllReady(t *testing.T, namespace string, n int, guards ...func() error) time.Duration {
	t.Helper()
	return waitUntil(t, fmt.Sprintf("%d objects Ready in %s", n, namespace), size.wait, func() string {
		return notAllReady(namespace, n)
	}, guards...)
}

// notAllReady is "" when namespace holds n LambdaPermissions, every one
// Ready (reason Synced) at its current generation, else what is missing.
func notAllReady(namespace string, n int) string {
	var list lambdav1alpha1.LambdaPermissionList
	if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err.Error()
	}
	notReady := map[string]int{}   // by reason
	example := map[string]string{} // a message per reason, to tell why
	for _, obj := range list.Items {
		c := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady)
		switch {
		case c == nil:
			notReady["no status"]++
		case obj.Status.ObservedGeneration != obj.Generation:
			notReady["old generation"]++
		case c.Status != metav1.ConditionTrue || c.Reason != lambdav1alpha1.ReasonSynced:
			notReady[c.Reason]++
			if _, ok := example[c.Reason]; !ok {
				example[c.Reason] = obj.Name + ": " + c.Message
			}
		}
	}
	if len(list.Items) != n || len(notReady) > 0 {
		return fmt.Sprintf("%d objects, not Ready: %s %v", len(list.Items), countsByKey(notReady), example)
	}
	return ""
}

// waitAllGone waits until namespace holds no LambdaPermission: every
// finalizer was released.
func waitAllGone(t *testing.T, namespace string, guards ...func() error) time.Duration {
	t.Helper()
	return waitUntil(t, "every object in "+namespace+" gone", size.wait, func() string {
		var list lambdav1alpha1.LambdaPermissionList
		if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return err.Error()
		}
		if len(list.Items) > 0 {
			reasons := map[string]int{}
			for _, obj := range list.Items {
				reason := "no condition"
				if c := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady); c != nil {
					reason = c.Reason
				}
				reasons[reason]++
			}
			return fmt.Sprintf("%d objects left (%s)", len(list.Items), countsByKey(reasons))
		}
		return ""
	}, guards...)
}

func countsByKey(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// batches splits objs into n nearly equal consecutive parts.
func batches(objs []*lambdav1alpha1.LambdaPermission, n int) [][]*lambdav1alpha1.LambdaPermission {
	out := make([][]*lambdav1alpha1.LambdaPermission, 0, n)
	for i := range n {
		out = append(out, objs[i*len(objs)/n:(i+1)*len(objs)/n])
	}
	return out
}

// forceResync makes the operator check every object's statement once more,
// by setting the sync-requested annotation (how a user forces a check
// against a fresh read), and waits until each one was checked again and is
// Ready: its status records the request as handled.
func forceResync(t *testing.T, namespace string) {
	t.Helper()
	var list lambdav1alpha1.LambdaPermissionList
	if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	requests := map[string]string{}
	for i := range list.Items {
		requests[list.Items[i].Name] = touch(t, &list.Items[i])
	}
	waitUntil(t, "every object in "+namespace+" checked again", size.wait, func() string {
		var now lambdav1alpha1.LambdaPermissionList
		if err := kube.List(ctx, &now, client.InNamespace(namespace)); err != nil {
			return err.Error()
		}
		waiting := 0
		for _, obj := range now.Items {
			if obj.Status.LastHandledSyncRequest != requests[obj.Name] || !meta.IsStatusConditionTrue(obj.Status.Conditions, lambdav1alpha1.ConditionReady) {
				waiting++
			}
		}
		if waiting > 0 {
			return fmt.Sprintf("%d of %d not checked again yet", waiting, len(now.Items))
		}
		return ""
	})
}

// touch asks for a check of obj (the sync-requested annotation), retrying
// on conflicts with the operator's own writes, and returns the request.
func touch(t *testing.T, obj *lambdav1alpha1.LambdaPermission) string {
	t.Helper()
	request := time.Now().Format(time.RFC3339Nano)
	for attempt := 0; ; attempt++ {
		current := &lambdav1alpha1.LambdaPermission{}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(obj), current); err != nil {
			t.Fatal(err)
		}
		if current.Annotations == nil {
			current.Annotations = map[string]string{}
		}
		current.Annotations[lambdav1alpha1.SyncRequestedAnnotation] = request
		err := kube.Update(ctx, current)
		if err == nil {
			return request
		}
		if attempt > 10 {
			t.Fatalf("touching %s: %v", obj.Name, err)
		}
	}
}
