//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// What a new object costs in writes to the Kubernetes API, and what kstatus
// reads meanwhile.

// statusSeen is one version of an object as a watch saw it.
type statusSeen struct {
	at          time.Time
	finalizers  int
	observed    int64
	reconciling bool
	ready       metav1.ConditionStatus
}

// watchUntilReady creates obj and records every version of it the API
// server stored until it is Ready.
func watchUntilReady(t *testing.T, obj *lambdav1alpha1.LambdaPermission) []statusSeen {
	t.Helper()
	watcher, err := client.NewWithWatch(suite.Config, client.Options{Scheme: suite.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watcher.Watch(ctx, &lambdav1alpha1.LambdaPermissionList{}, client.InNamespace(obj.Namespace),
		client.MatchingFields{"metadata.name": obj.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	create(t, obj)
	var seen []statusSeen
	deadline := time.After(waitTimeout)
	for {
		select {
		case event, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the watch ended before the object was Ready")
			}
			current, isPermission := event.Object.(*lambdav1alpha1.LambdaPermission)
			if !isPermission || event.Type == watch.Deleted {
				continue
			}
			s := statusSeen{at: time.Now(), finalizers: len(current.Finalizers), observed: current.Status.ObservedGeneration,
				reconciling: meta.IsStatusConditionTrue(current.Status.Conditions, lambdav1alpha1.ConditionReconciling)}
			if ready := meta.FindStatusCondition(current.Status.Conditions, lambdav1alpha1.ConditionReady); ready != nil {
				s.ready = ready.Status
			}
			seen = append(seen, s)
			if s.ready == metav1.ConditionTrue {
				return seen
			}
		case <-deadline:
			t.Fatalf("%s not Ready; versions seen: %+v", obj.Name, seen)
		}
	}
}

// A new object whose statement goes in place within its first reconcile
// costs one status write, its outcome: no "work has started" status first.
// (The suite installs no admission policy, so the operator adds the
// finalizer with one update of its own.)
func TestANewObjectsFirstStatusIsItsOutcome(t *testing.T) {
	fn := newName("one-status")
	newFunction(t, fn)
	seen := watchUntilReady(t, permission(newName("one-status"), fn, s3Spec))
	statuses := 0
	for i, s := range seen {
		if s.reconciling {
			t.Errorf("version %d says Reconciling: %+v", i, seen)
		}
		if s.observed != 0 && (i == 0 || seen[i-1].observed == 0) {
			statuses++
		}
	}
	// created, finalizer added, status written: three versions.
	if len(seen) != 3 || statuses != 1 || seen[1].finalizers != 1 || seen[1].observed != 0 {
		t.Errorf("versions seen: %+v; want the creation, the finalizer, then the outcome", seen)
	}
}

// A new object whose outcome is late (a write that takes longer than
// announceAfter) says that work has started before it is Ready, so that
// kstatus does not read it as Current meanwhile.
func TestANewObjectWithALateOutcomeSaysWorkHasStarted(t *testing.T) {
	fn := newName("late")
	newFunction(t, fn)
	if err := emu.SetFaults(emulator.Faults{Seed: 1, Operations: map[string]emulator.OperationFaults{"AddPermission": {Latency: 8 * time.Second}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.SetFaults(emulator.Faults{}) })
	obj := permission(newName("late"), fn, s3Spec)
	seen := watchUntilReady(t, obj)
	announced := -1
	for i, s := range seen {
		if s.reconciling && s.ready == metav1.ConditionFalse && s.observed != 0 {
			announced = i
			break
		}
	}
	if announced < 0 || announced == len(seen)-1 {
		t.Fatalf("versions seen: %+v; want Reconciling before Ready", seen)
	}
	if took := seen[len(seen)-1].at.Sub(seen[announced].at); took < time.Second {
		t.Errorf("Reconciling said %s before Ready; want it said while the write was under way (8s)", took)
	}
	// The outcome was written in the same reconcile as the write: no
	// failed status patch, and no later reconcile that adopts the
	// statement (it would have said so before the object was Ready).
	waitEvent(t, obj, lambdav1alpha1.EventAdded)
	if reasons := eventReasons(t, obj); !slices.Equal(reasons, []string{lambdav1alpha1.EventAdded}) {
		t.Errorf("Events %v, want only %s", reasons, lambdav1alpha1.EventAdded)
	}
}

// Any new value of the sync-requested annotation is a request, handled
// once and recorded: not a time compared with the last read, which missed
// a request made in the same second.
func TestEveryNewSyncRequestIsHandledOnce(t *testing.T) {
	fn := newName("requests")
	newFunction(t, fn)
	obj := permission(newName("requests"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)
	for _, request := range []string{"first", "second", time.Now().Format(time.RFC3339)} {
		removeOutside(t, fn, "s3") // drift only a fresh read finds
		update(t, obj, func(o *lambdav1alpha1.LambdaPermission) {
			o.Annotations = map[string]string{lambdav1alpha1.SyncRequestedAnnotation: request}
		})
		eventually(t, fmt.Sprintf("request %q handled", request), func() string {
			if got := get(t, obj).Status.LastHandledSyncRequest; got != request {
				return fmt.Sprintf("last handled %q", got)
			}
			return ""
		})
		if _, ok := storedStatement(fn, "", "s3"); !ok {
			t.Errorf("request %q handled without the removed statement put back", request)
		}
	}
}
