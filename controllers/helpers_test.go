//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

const waitTimeout = 30 * time.Second

var uniq atomic.Int64

// newName returns a name no other test uses.
func newName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, uniq.Add(1)) }

// newFunction creates a function with a statement the operator does not own,
// and checks when the test ends that the statement is still there, byte for
// byte: whatever happened, foreign statements are never touched.
func newFunction(t *testing.T, name string) {
	t.Helper()
	createFunction(t, name)
	foreign := addOutside(t, name, "", &lambda.AddPermissionInput{
		StatementId: aws.String("foreign-terraform"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:us-east-2:123456789012:rule/nightly"),
	})
	t.Cleanup(func() {
		if got, ok := storedStatement(name, "", "foreign-terraform"); !ok || got != foreign {
			t.Errorf("foreign statement on %s was touched: now %q (present %v), was %q", name, got, ok, foreign)
		}
	})
}

func createFunction(t *testing.T, name string) {
	t.Helper()
	_, err := outside.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::123456789012:role/test"), Code: &types.FunctionCode{ZipFile: []byte("code")},
	})
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
}

// addOutside adds a statement as another writer would, and returns it.
func addOutside(t *testing.T, function, qualifier string, in *lambda.AddPermissionInput) string {
	t.Helper()
	in.FunctionName = aws.String(function)
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := outside.AddPermission(ctx, in)
	if err != nil {
		t.Fatalf("AddPermission outside on %s: %v", function, err)
	}
	return aws.ToString(out.Statement)
}

func removeOutside(t *testing.T, function, sid string) {
	t.Helper()
	if _, err := outside.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(function), StatementId: aws.String(sid)}); err != nil {
		t.Fatalf("RemovePermission outside on %s: %v", function, err)
	}
}

// storedStatement reads a statement from the emulator's policy without
// counting a call.
func storedStatement(function, qualifier, sid string) (string, bool) {
	doc, ok := storedPolicy(function, qualifier)
	if !ok {
		return "", false
	}
	st, ok := doc.Find(sid)
	return st.Raw, ok
}

func storedPolicy(function, qualifier string) (policy.PolicyDocument, bool) {
	raw, _, ok := emu.Policy(function, qualifier)
	if !ok {
		return policy.PolicyDocument{}, false
	}
	doc, err := policy.ParsePolicy(raw)
	if err != nil {
		panic(err)
	}
	return doc, true
}

func sids(doc policy.PolicyDocument) []string {
	var out []string
	for _, st := range doc.Statements {
		out = append(out, st.Sid)
	}
	slices.Sort(out)
	return out
}

// permission is a LambdaPermission in the default namespace.
func permission(name, function string, spec lambdav1alpha1.LambdaPermissionSpec) *lambdav1alpha1.LambdaPermission {
	spec.FunctionName = function
	return &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: spec}
}

func create(t *testing.T, obj *lambdav1alpha1.LambdaPermission) {
	t.Helper()
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatalf("creating %s: %v", obj.Name, err)
	}
}

// get reads obj (a LambdaPermission or a LambdaResourcePolicy) as it is
// stored now.
func get[T client.Object](t *testing.T, obj T) T {
	t.Helper()
	out := obj.DeepCopyObject().(T)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), out); err != nil {
		t.Fatalf("getting %s: %v", obj.GetName(), err)
	}
	return out
}

// update re-reads the object, applies change and writes it, retrying on
// conflicts with the controller's own writes.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	t.Helper()
	for i := 0; ; i++ {
		current := get(t, obj)
		change(current)
		err := k8s.Update(ctx, current)
		if err == nil {
			return
		}
		if i > 10 {
			t.Fatalf("updating %s: %v", obj.GetName(), err)
		}
	}
}

// eventually polls until check returns "" (success) or the timeout passes,
// then fails with check's last complaint.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		complaint := check()
		if complaint == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %s", what, complaint, waitTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCondition waits until the object's condition has the status and reason
// at its current generation, and returns the object then.
func waitCondition(t *testing.T, obj *lambdav1alpha1.LambdaPermission, conditionType string, want metav1.ConditionStatus, reason string) *lambdav1alpha1.LambdaPermission {
	t.Helper()
	var current *lambdav1alpha1.LambdaPermission
	eventually(t, fmt.Sprintf("%s %s=%s/%s", obj.Name, conditionType, want, reason), func() string {
		current = get(t, obj)
		c := meta.FindStatusCondition(current.Status.Conditions, conditionType)
		switch {
		case c == nil:
			return "without the condition"
		case current.Status.ObservedGeneration != current.Generation:
			return fmt.Sprintf("at observedGeneration %d of %d", current.Status.ObservedGeneration, current.Generation)
		case c.Status != want || c.Reason != reason:
			return fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return ""
	})
	return current
}

func waitReady(t *testing.T, obj *lambdav1alpha1.LambdaPermission) *lambdav1alpha1.LambdaPermission {
	t.Helper()
	return waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
}

func waitGone(t *testing.T, obj *lambdav1alpha1.LambdaPermission) {
	t.Helper()
	eventually(t, obj.Name+" deleted", func() string {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), &lambdav1alpha1.LambdaPermission{})
		if err == nil {
			return "present"
		}
		return ""
	})
}

// forceSyncs makes the controller check every object against a fresh read
// of its policy rounds times, through the sync-requested annotation, and
// waits for each check to finish: the object's status records the request
// as handled.
func forceSyncs(t *testing.T, rounds int, objs ...*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	for round := 1; round <= rounds; round++ {
		requests := map[string]string{}
		for _, obj := range objs {
			requests[obj.Name] = requestSync(t, obj)
		}
		for _, obj := range objs {
			eventually(t, fmt.Sprintf("sync round %d of %s", round, obj.Name), func() string {
				if got := get(t, obj).Status.LastHandledSyncRequest; got != requests[obj.Name] {
					return fmt.Sprintf("last handled sync request %q, want %q", got, requests[obj.Name])
				}
				return ""
			})
		}
	}
}

// requestSync asks for a check of obj against a fresh read at once, as a
// user does: the annotation set to the time now. It returns the request.
func requestSync[T client.Object](t *testing.T, obj T) string {
	t.Helper()
	request := time.Now().Format(time.RFC3339Nano)
	update(t, obj, func(o T) {
		annotations := o.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[lambdav1alpha1.SyncRequestedAnnotation] = request
		o.SetAnnotations(annotations)
	})
	return request
}

// eventReasons lists the reasons of the Events about obj (a
// LambdaPermission or a LambdaResourcePolicy).
func eventReasons(t *testing.T, obj client.Object) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() && e.Regarding.Kind == kindOf(obj) {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

// kindOf is the kind of one of the API's objects, as an Event names it.
func kindOf(obj client.Object) string {
	if _, ok := obj.(*lambdav1alpha1.LambdaResourcePolicy); ok {
		return "LambdaResourcePolicy"
	}
	return "LambdaPermission"
}

func waitEvent(t *testing.T, obj client.Object, reason string) {
	t.Helper()
	eventually(t, fmt.Sprintf("event %s on %s", reason, obj.GetName()), func() string {
		if got := eventReasons(t, obj); !slices.Contains(got, reason) {
			return fmt.Sprintf("only %v", got)
		}
		return ""
	})
}

// kstatus is what GitOps tools (Argo CD, Flux, kpt) compute for the object.
func kstatus(t *testing.T, obj *lambdav1alpha1.LambdaPermission) status.Status {
	t.Helper()
	current := get(t, obj)
	current.SetGroupVersionKind(lambdav1alpha1.GroupVersion.WithKind("LambdaPermission"))
	return kstatusOf(t, current)
}

func kstatusOf(t *testing.T, obj runtime.Object) status.Status {
	t.Helper()
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	result, err := status.Compute(&unstructured.Unstructured{Object: fields})
	if err != nil {
		t.Fatal(err)
	}
	return result.Status
}

func calls(operation string) int { return emu.Stats().Calls[operation] }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// metricValue reads a counter or gauge from the manager's metrics registry;
// labels not given match any value, and matching series are summed.
func metricValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
	series:
		for _, m := range family.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue series
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// declareAccount creates a LambdaPermissionAccount for the test's duration.
func declareAccount(t *testing.T, spec lambdav1alpha1.LambdaPermissionAccountSpec) *lambdav1alpha1.LambdaPermissionAccount {
	t.Helper()
	a := &lambdav1alpha1.LambdaPermissionAccount{ObjectMeta: metav1.ObjectMeta{Name: newName("account")}, Spec: spec}
	if err := k8s.Create(ctx, a); err != nil {
		t.Fatalf("creating account %s: %v", spec.AccountID, err)
	}
	t.Cleanup(func() {
		if err := k8s.Delete(ctx, a); err != nil {
			t.Errorf("deleting account %s: %v", a.Name, err)
		}
	})
	return a
}
