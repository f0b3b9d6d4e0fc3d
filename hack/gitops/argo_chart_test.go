//go:build integration && gitops

package gitops

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// The chart through Argo CD: an Application of charts/lambda-permission-operator
// from git, as a platform team installs the operator. The control plane has
// no kubelet and no kube-controller-manager, so the chart's Deployment never
// gets a pod or a status: Argo CD rightly calls it Progressing. Everything
// else the chart makes must be Synced and, where Argo CD has a health check,
// Healthy; refreshes must stay Synced; and deleting the Application must
// keep the CRDs, and with them every LambdaPermission and its statement.

const chartRelease = "lambda-permission-operator"

func TestArgoCDChart(t *testing.T) {
	startArgo(t)
	git := startGitServer(t).newRepo(t, "charts")
	revision := git.commit(t, "the operator's chart", chartFiles(t))
	say("argo cd: committed %s: charts/lambda-permission-operator", revision[:8])

	// A statement made before the install, by the suite's operator, must
	// outlive the Application's deletion.
	const ns = "team-f"
	fn := "chart-orders"
	createFunction(t, fn)
	ensureNamespace(t, ns)
	applyYAML(t, bucketPermissionYAML(ns, "uploads", fn, "chart-uploads"))
	harness.Eventually(t, "LambdaPermission team-f/uploads Ready", func() string {
		if notReady := notReady(t, ns); len(notReady) > 0 {
			return fmt.Sprint(notReady)
		}
		return ""
	})

	applyYAML(t, chartApplicationYAML(git.url, "lambda-permission-operator"))
	var resources []appResource
	waitApplication(t, "operator", "Synced at "+revision[:8]+" with every resource Synced and Healthy, but the Deployment", func(s appState) string {
		resources = resourcesOf(application(t, "operator"))
		if s.sync != "Synced" || s.revision != revision || len(resources) == 0 {
			return s.String()
		}
		if bad := unexpectedHealth(resources); len(bad) > 0 {
			return strings.Join(bad, "; ")
		}
		return ""
	})
	s := stateOf(application(t, "operator"))
	say("argo cd: Application operator %s/%s at %.8s: %s", s.sync, s.health, s.revision, kindsOf(resources))
	for _, r := range resources {
		if r.kind == "Deployment" {
			say("argo cd: Deployment %s: %s: %s (no kubelet here to run it)", r.name, r.health, r.message)
		}
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := kube.Get(ctx, client.ObjectKey{Name: "lambdapermissions.lambda.permissions.dev"}, crd); err != nil {
		t.Fatal(err)
	}
	if got := crd.GetAnnotations()["helm.sh/resource-policy"]; got != "keep" {
		t.Errorf("argo cd: the chart's CRD lambdapermissions has helm.sh/resource-policy %q, want keep", got)
	}

	t.Run("refreshes stay Synced and change nothing", func(t *testing.T) {
		before := resourceVersions(t, resources)
		for i := range 3 {
			refreshApplication(t, "operator")
			s := stateOf(application(t, "operator"))
			if s.sync != "Synced" {
				t.Errorf("argo cd: after refresh %d, Application operator is %s", i+1, s)
			}
			if bad := unexpectedHealth(resourcesOf(application(t, "operator"))); len(bad) > 0 {
				t.Errorf("argo cd: after refresh %d, Application operator has %v", i+1, bad)
			}
			say("argo cd: refresh %d: Application operator %s/%s", i+1, s.sync, s.health)
		}
		if after := resourceVersions(t, resources); !maps.Equal(before, after) {
			t.Errorf("argo cd: three refreshes changed the chart's objects: before %v, after %v", before, after)
		}
	})
	t.Run("deleting the Application keeps the CRDs, the objects and their statements", func(t *testing.T) {
		app := application(t, "operator")
		if err := kube.Delete(ctx, app); err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, "argo cd: Application operator deleted with its resources", func() string {
			err := kube.Get(ctx, client.ObjectKeyFromObject(app), app.DeepCopy())
			if apierrors.IsNotFound(err) {
				return ""
			}
			return fmt.Sprintf("still there (%v)", err)
		})
		var crds int
		for _, r := range resources {
			if r.kind == "CustomResourceDefinition" {
				crds++
			}
			obj := &unstructured.Unstructured{}
			obj.SetAPIVersion(r.apiVersion())
			obj.SetKind(r.kind)
			err := kube.Get(ctx, client.ObjectKey{Namespace: r.namespace, Name: r.name}, obj)
			switch kept := err == nil && obj.GetDeletionTimestamp() == nil; {
			case r.kind == "CustomResourceDefinition" && !kept:
				t.Errorf("argo cd: deleting Application operator deleted CustomResourceDefinition %s (%v)", r.name, err)
			case r.kind != "CustomResourceDefinition" && kept:
				t.Errorf("argo cd: deleting Application operator left %s %s", r.kind, r.name)
			}
		}
		if _, ok := getPermission(t, ns, "uploads"); !ok {
			t.Errorf("argo cd: deleting Application operator deleted LambdaPermission %s/uploads", ns)
		}
		wantSids(t, fn, "terraform-events", ns+"_uploads")
		say("argo cd: deleted Application operator: its %d other resources gone, its %d CRDs kept (helm.sh/resource-policy: keep), LambdaPermission %s/uploads and its statement kept",
			len(resources)-crds, crds, ns)
	})
}

// chartFiles is the chart's directory as files of the platform repository.
func chartFiles(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join(repo.Root(), "charts")
	files := map[string]string{}
	err := filepath.WalkDir(filepath.Join(root, chartRelease), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files["charts/"+filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// chartApplicationYAML installs the chart from the repository at url into
// namespace, as docs/guides/gitops.md's Argo CD install shows, with a region (the operator
// does not start without one). Deleting it deletes what it made, except
// what the chart marks helm.sh/resource-policy: keep.
func chartApplicationYAML(url, namespace string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: operator
  namespace: argocd
  finalizers:
  # Background: this control plane has no garbage collector (see applicationYAML).
  - resources-finalizer.argocd.argoproj.io/background
spec:
  project: default
  source:
    repoURL: %s
    path: charts/%s
    targetRevision: main
    helm:
      releaseName: %s
      valuesObject:
        region: us-east-2
  destination:
    server: https://kubernetes.default.svc
    namespace: %s
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true, PrunePropagationPolicy=background]
`, url, chartRelease, chartRelease, namespace)
}

// appResource is one resource of an Application, as its status lists it.
type appResource struct {
	group, version, kind, namespace, name string
	sync, health, message                 string
}

func (r appResource) apiVersion() string {
	if r.group == "" {
		return r.version
	}
	return r.group + "/" + r.version
}

func resourcesOf(a *unstructured.Unstructured) []appResource {
	list, _, _ := unstructured.NestedSlice(a.Object, "status", "resources")
	var out []appResource
	for _, item := range list {
		m, _ := item.(map[string]any)
		var r appResource
		r.group, _, _ = unstructured.NestedString(m, "group")
		r.version, _, _ = unstructured.NestedString(m, "version")
		r.kind, _, _ = unstructured.NestedString(m, "kind")
		r.namespace, _, _ = unstructured.NestedString(m, "namespace")
		r.name, _, _ = unstructured.NestedString(m, "name")
		r.sync, _, _ = unstructured.NestedString(m, "status")
		r.health, _, _ = unstructured.NestedString(m, "health", "status")
		r.message, _, _ = unstructured.NestedString(m, "health", "message")
		out = append(out, r)
	}
	return out
}

// unexpectedHealth names the resources that are not Synced, or not Healthy
// where Argo CD has a health check for them. The Deployment is Progressing
// here, where no kubelet runs its pod.
func unexpectedHealth(resources []appResource) []string {
	var bad []string
	for _, r := range resources {
		wantHealth := r.health == "" || r.health == "Healthy" || (r.kind == "Deployment" && r.health == "Progressing")
		if r.sync != "Synced" || !wantHealth {
			bad = append(bad, fmt.Sprintf("%s %s %s/%s: %s", r.kind, r.name, r.sync, r.health, r.message))
		}
	}
	return bad
}

// kindsOf counts resources by kind, as "3 ClusterRole, 1 Deployment".
func kindsOf(resources []appResource) string {
	counts := map[string]int{}
	for _, r := range resources {
		counts[r.kind]++
	}
	var out []string
	for _, kind := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%d %s", counts[kind], kind))
	}
	return strings.Join(out, ", ")
}

// resourceVersions is the resourceVersion of each resource.
func resourceVersions(t *testing.T, resources []appResource) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range resources {
		obj := &unstructured.Unstructured{}
		obj.SetAPIVersion(r.apiVersion())
		obj.SetKind(r.kind)
		if err := kube.Get(ctx, client.ObjectKey{Namespace: r.namespace, Name: r.name}, obj); err != nil {
			t.Fatalf("argo cd: %s %s: %v", r.kind, r.name, err)
		}
		out[r.kind+"/"+r.name] = obj.GetResourceVersion()
	}
	return out
}
