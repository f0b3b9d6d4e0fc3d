//go:build integration

package controllers_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// The MutatingAdmissionPolicy of config/admission/finalizers.yaml, which
// the kustomize install and the chart ship: each kind's finalizer is added
// in the request that creates the object, so that the operator need not
// write the object once more to add it. The suite installs no such policy:
// every other test shows the operator adding the finalizer itself
// (TestCreatedPermissionBecomesReadyWithThePredictedStatement checks it).

// finalizersPolicyFile is the policy and its binding, as installed.
const finalizersPolicyFile = "../config/admission/finalizers.yaml"

// unmanaged labels objects that no operator of the suite reconciles: what
// admission made of them stays as it was.
const unmanaged = "admission"

// holdFinalizer is another controller's finalizer, which no operator here
// takes off.
const holdFinalizer = "test.permissions.dev/hold"

// bindFinalizers installs the policy of config/admission/finalizers.yaml
// and its binding, limited to namespace ns (the file's binds every
// namespace, which would change what the suite's other tests see), until
// the test ends; it returns once the API server applies it.
func bindFinalizers(t *testing.T, ns string) {
	t.Helper()
	data, err := os.ReadFile(finalizersPolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(data), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%s has %d documents, want the policy and its binding", finalizersPolicyFile, len(docs))
	}
	var policy admissionregistrationv1.MutatingAdmissionPolicy
	var binding admissionregistrationv1.MutatingAdmissionPolicyBinding
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &policy); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &binding); err != nil {
		t.Fatal(err)
	}
	if binding.Spec.PolicyName != policy.Name || binding.Spec.MatchResources != nil {
		t.Fatalf("the file's binding %+v does not bind policy %s in every namespace", binding.Spec, policy.Name)
	}
	policy.Name += "-" + ns
	binding.Name, binding.Spec.PolicyName = policy.Name, policy.Name
	binding.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{corev1.LabelMetadataName: ns}}}
	for _, obj := range []client.Object{&policy, &binding} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	t.Cleanup(func() {
		for _, obj := range []client.Object{&binding, &policy} {
			if err := k8s.Delete(ctx, obj); err != nil {
				t.Errorf("deleting %s: %v", obj.GetName(), err)
			}
		}
	})
	// The API server learns of policies and bindings from its informers:
	// wait until a create (dry run) gets the finalizer.
	eventually(t, "the finalizer policy in force in "+ns, func() string {
		probe := unmanagedPermission(ns, "probe", "probe")
		if err := k8s.Create(ctx, probe, client.DryRunAll); err != nil {
			return err.Error()
		}
		if !slices.Contains(probe.Finalizers, lambdav1alpha1.PermissionFinalizer) {
			return "a create gets finalizers " + strings.Join(probe.Finalizers, ",")
		}
		return ""
	})
}

// unmanagedPermission is a LambdaPermission in ns that no operator reconciles.
func unmanagedPermission(ns, name, function string) *lambdav1alpha1.LambdaPermission {
	obj := permission(name, function, s3Spec)
	obj.Namespace, obj.Labels = ns, map[string]string{managerLabel: unmanaged}
	return obj
}

// createForgotten creates obj, and when the test ends takes its finalizers
// off and deletes it: no operator would.
func createForgotten(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
	t.Cleanup(func() {
		if err := k8s.Patch(ctx, obj, client.RawPatch(k8stypes.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); client.IgnoreNotFound(err) != nil {
			t.Errorf("taking the finalizers off %s: %v", obj.GetName(), err)
		}
		if err := k8s.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			t.Errorf("deleting %s: %v", obj.GetName(), err)
		}
	})
}

// Each kind that holds its deletion gets its own finalizer in the response
// to its create, before any operator sees it; finalizers already there
// stay, and one already present is not added twice.
func TestFinalizerPolicyAddsEachKindsFinalizerOnCreate(t *testing.T) {
	ns := newNamespace(t, nil)
	bindFinalizers(t, ns)
	fn := newName("admitted")
	createFunction(t, fn)

	url := functionURL(newName("url"), fn, lambdav1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "223456789012"})
	url.Namespace, url.Labels = ns, map[string]string{managerLabel: unmanaged}
	// The suite's operator reconciles every LambdaResourcePolicy: this one
	// it also deletes, once the test has seen what the create answered.
	resource := resourcePolicy(newName("policy"), fn, partnerStatement(t))
	resource.Namespace = ns
	withOther := unmanagedPermission(ns, newName("other"), fn)
	withOther.Finalizers = []string{holdFinalizer}
	withOwn := unmanagedPermission(ns, newName("own"), fn)
	withOwn.Finalizers = []string{lambdav1alpha1.PermissionFinalizer}

	for _, c := range []struct {
		name string
		obj  client.Object
		want []string
	}{
		{"LambdaPermission", unmanagedPermission(ns, newName("permission"), fn), []string{lambdav1alpha1.PermissionFinalizer}},
		{"LambdaFunctionURLPermission", url, []string{lambdav1alpha1.FunctionURLFinalizer}},
		{"LambdaResourcePolicy", resource, []string{lambdav1alpha1.ResourcePolicyFinalizer}},
		{"LambdaPermission with another finalizer", withOther, []string{holdFinalizer, lambdav1alpha1.PermissionFinalizer}},
		{"LambdaPermission with its own", withOwn, []string{lambdav1alpha1.PermissionFinalizer}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.obj == resource {
				if err := k8s.Create(ctx, resource); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { deletePolicyObject(t, resource) })
			} else {
				createForgotten(t, c.obj)
			}
			// c.obj is what the API server answered to the create.
			if got := c.obj.GetFinalizers(); !slices.Equal(got, c.want) {
				t.Errorf("created with finalizers %v, want %v", got, c.want)
			}
		})
	}
}

// Only a create gets the finalizer. An update that takes it off keeps it
// off; and an object being deleted, held by another finalizer, lets its
// own go for good: were it put back, as a policy that matched updates
// would, the operator could never let an object go.
func TestFinalizerPolicyLeavesUpdatesAlone(t *testing.T) {
	ns := newNamespace(t, nil)
	bindFinalizers(t, ns)
	fn := newName("updated")

	live := unmanagedPermission(ns, newName("live"), fn)
	createForgotten(t, live)
	takeOff(t, live, lambdav1alpha1.PermissionFinalizer)
	if got := get(t, live).Finalizers; len(got) != 0 {
		t.Errorf("after an update took it off, finalizers %v, want none", got)
	}
	// A later update, of the spec, still adds nothing.
	update(t, live, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.SourceAccount = "210987654321" })
	if got := get(t, live).Finalizers; len(got) != 0 {
		t.Errorf("after a spec update, finalizers %v, want none", got)
	}

	deleting := unmanagedPermission(ns, newName("deleting"), fn)
	deleting.Finalizers = []string{holdFinalizer}
	createForgotten(t, deleting)
	if err := k8s.Delete(ctx, deleting); err != nil {
		t.Fatal(err)
	}
	if got := get(t, deleting); got.DeletionTimestamp.IsZero() {
		t.Fatalf("deleted, %s has no deletionTimestamp (finalizers %v)", got.Name, got.Finalizers)
	}
	takeOff(t, deleting, lambdav1alpha1.PermissionFinalizer)
	if got := get(t, deleting).Finalizers; !slices.Equal(got, []string{holdFinalizer}) {
		t.Errorf("being deleted, after an update took its own off, finalizers %v, want only %s", got, holdFinalizer)
	}
	takeOff(t, deleting, holdFinalizer)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(deleting), &lambdav1alpha1.LambdaPermission{}); !apierrors.IsNotFound(err) {
		t.Errorf("with its last finalizer off, getting %s: %v, want NotFound", deleting.Name, err)
	}
}

// takeOff removes finalizer from obj with an update, as the operator
// does, and checks that the update's answer does not have it.
func takeOff(t *testing.T, obj *lambdav1alpha1.LambdaPermission, finalizer string) {
	t.Helper()
	current := get(t, obj)
	if !slices.Contains(current.Finalizers, finalizer) {
		t.Fatalf("%s has finalizers %v, without %s to take off", obj.Name, current.Finalizers, finalizer)
	}
	current.Finalizers = slices.DeleteFunc(current.Finalizers, func(f string) bool { return f == finalizer })
	if err := k8s.Update(ctx, current); err != nil {
		t.Fatalf("taking %s off %s: %v", finalizer, obj.Name, err)
	}
	if slices.Contains(current.Finalizers, finalizer) {
		t.Errorf("the update taking %s off %s answered finalizers %v", finalizer, obj.Name, current.Finalizers)
	}
}
