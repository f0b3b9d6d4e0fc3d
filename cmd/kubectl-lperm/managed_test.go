package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// The cluster's managed statements: each LambdaPermission's written
// statement, and the Sids of each LambdaResourcePolicy that manages its
// policy, read as the API server serves them (JSON, in every namespace).
func TestManagedStatements(t *testing.T) {
	live := orders
	live.Qualifier = "live"
	s3 := policy.Permission{StatementID: "AllowS3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::uploads"}
	permission := func(namespace, name, statement string) *lambdav1alpha1.LambdaPermission {
		return &lambdav1alpha1.LambdaPermission{
			TypeMeta:   metav1.TypeMeta{APIVersion: lambdav1alpha1.GroupVersion.String(), Kind: "LambdaPermission"},
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Status:     lambdav1alpha1.LambdaPermissionStatus{Statement: statement},
		}
	}
	owner := func(name string, management lambdav1alpha1.ManagementPolicy, arn string, sids ...string) *lambdav1alpha1.LambdaResourcePolicy {
		obj := &lambdav1alpha1.LambdaResourcePolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: lambdav1alpha1.GroupVersion.String(), Kind: "LambdaResourcePolicy"},
			ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: name},
			Spec:       lambdav1alpha1.LambdaResourcePolicySpec{ManagementPolicy: management},
			Status:     lambdav1alpha1.LambdaResourcePolicyStatus{ResourceArn: arn},
		}
		for _, sid := range sids {
			obj.Spec.Policy.Statement = append(obj.Spec.Policy.Statement, lambdav1alpha1.ResourcePolicyStatement{
				Sid: sid, Effect: "Allow", Principal: apiextensionsv1.JSON{Raw: []byte(`"*"`)}, Action: apiextensionsv1.JSON{Raw: []byte(`"lambda:GetFunction"`)}})
		}
		return obj
	}
	var objects []runtime.Object
	for _, obj := range []runtime.Object{
		permission("payments", "s3", stored(orders, s3)),
		permission("web", "s3-live", stored(live, s3)),
		permission("web", "pending", ""),        // nothing written yet
		permission("web", "broken", "not json"), // not a statement: skipped
		owner("orders.live", lambdav1alpha1.ManagementPolicyManage, live.ResourceARN(), "a", "b"),
		owner("orders", lambdav1alpha1.ManagementPolicyObserve, orders.ResourceARN(), "observed"),
		owner("orders.1", lambdav1alpha1.ManagementPolicyManage, "", "unresolved"),
	} {
		fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		objects = append(objects, &unstructured.Unstructured{Object: fields})
	}
	k8s := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		lambdav1alpha1.GroupVersion.WithResource("lambdapermissions"):      "LambdaPermissionList",
		lambdav1alpha1.GroupVersion.WithResource("lambdaresourcepolicies"): "LambdaResourcePolicyList",
	}, objects...)
	managed, err := managedIn(context.Background(), k8s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		managedKey(orders.ResourceARN(), "AllowS3"): true,
		managedKey(live.ResourceARN(), "AllowS3"):   true,
		managedKey(live.ResourceARN(), "a"):         true,
		managedKey(live.ResourceARN(), "b"):         true,
	}
	if len(managed) != len(want) {
		t.Errorf("managed %q, want %q", keys(managed), keys(want))
	}
	for key := range want {
		if !managed[key] {
			t.Errorf("%q is not managed; managed: %q", key, keys(managed))
		}
	}
}

// A kubeconfig that cannot be read is an error that says so: audit fails
// when --kubeconfig named it, and otherwise checks no Sid.
func TestManagedStatementsWithoutACluster(t *testing.T) {
	_, err := managedStatements(context.Background(), filepath.Join(t.TempDir(), "missing"), "")
	if err == nil || !strings.HasPrefix(err.Error(), "kubeconfig: ") {
		t.Errorf("err = %v, want a kubeconfig error", err)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, strings.ReplaceAll(k, "\x00", " "))
	}
	return out
}
