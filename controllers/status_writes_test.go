//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
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
	kstatus     status.Status // as GitOps tools read this version
}

// watchUntilReady creates obj and records every version of it the API
// server stored until it is Ready. It reads them as GitOps tools do: as
// the API server serves them, not through the Go types, which drop an
// observedGeneration of 0.
func watchUntilReady(t *testing.T, obj *lambdav1alpha1.LambdaPermission) []statusSeen {
	t.Helper()
	watcher, err := client.NewWithWatch(suite.Config, client.Options{Scheme: suite.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(lambdav1alpha1.GroupVersion.WithKind("LambdaPermissionList"))
	w, err := watcher.Watch(ctx, list, client.InNamespace(obj.Namespace), client.MatchingFields{"metadata.name": obj.Name})
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
			raw, isObject := event.Object.(*unstructured.Unstructured)
			if !isObject || event.Type == watch.Deleted {
				continue
			}
			var current lambdav1alpha1.LambdaPermission
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.Object, &current); err != nil {
				t.Fatal(err)
			}
			computed, err := status.Compute(raw)
			if err != nil {
				t.Fatal(err)
			}
			s := statusSeen{at: time.Now(), finalizers: len(current.Finalizers), observed: current.Status.ObservedGeneration,
				reconciling: meta.IsStatusConditionTrue(current.Status.Conditions, lambdav1alpha1.ConditionReconciling),
				kstatus:     computed.Status}
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

// inProgressUntilReady checks that GitOps tools read every version before
// the last as in progress, and the last as Current.
func inProgressUntilReady(t *testing.T, seen []statusSeen) {
	t.Helper()
	for i, s := range seen {
		want := status.InProgressStatus
		if i == len(seen)-1 {
			want = status.CurrentStatus
		}
		if s.kstatus != want {
			t.Errorf("version %d reads %s, want %s; versions seen: %+v", i, s.kstatus, want, seen)
		}
	}
}

// A new object costs one status write, its outcome: no "work has started"
// status first. It reads as in progress from its creation (the CRD's
// default status: generation not yet observed) until then. (The suite
// installs no admission policy, so the operator adds the finalizer with
// one update of its own.)
func TestANewObjectsFirstStatusIsItsOutcome(t *testing.T) {
	fn := newName("one-status")
	newFunction(t, fn)
	seen := watchUntilReady(t, permission(newName("one-status"), fn, s3Spec))
	// created, finalizer added, status written: three versions.
	if len(seen) != 3 || seen[1].finalizers != 1 || seen[1].observed != 0 || seen[2].observed == 0 {
		t.Errorf("versions seen: %+v; want the creation, the finalizer, then the outcome", seen)
	}
	inProgressUntilReady(t, seen)
}

// However late the outcome (here a write that takes eight seconds), the
// first status is the outcome, and GitOps tools wait for it: the object
// never reads as Current before it is Ready.
func TestANewObjectWithALateOutcomeReadsInProgressUntilReady(t *testing.T) {
	fn := newName("late")
	newFunction(t, fn)
	if err := emu.SetFaults(emulator.Faults{Seed: 1, Operations: map[string]emulator.OperationFaults{"AddPermission": {Latency: 8 * time.Second}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.SetFaults(emulator.Faults{}) })
	obj := permission(newName("late"), fn, s3Spec)
	began := time.Now()
	seen := watchUntilReady(t, obj)
	if took := time.Since(began); took < 8*time.Second {
		t.Fatalf("Ready after %s; the write took 8s", took)
	}
	if len(seen) != 3 {
		t.Errorf("versions seen: %+v; want the creation, the finalizer, then the outcome", seen)
	}
	inProgressUntilReady(t, seen)
	// The outcome was written in the same reconcile as the write: no
	// later reconcile that adopts the statement (it would have said so).
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
