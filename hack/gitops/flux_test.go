//go:build integration && gitops

package gitops

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// Flux: source-controller and kustomize-controller as processes, built by
// hack/gitops/build-flux.sh (FLUX_DIR names its output: the binaries and
// their CRDs), on the suite's control plane.

const fluxNamespace = "flux-system"

// startFlux installs Flux's CRDs and runs its two controllers until the
// test ends.
func startFlux(t *testing.T) {
	t.Helper()
	dir := os.Getenv("FLUX_DIR")
	if dir == "" {
		t.Fatal("FLUX_DIR is not set: run make gitops, which builds Flux with hack/gitops/build-flux.sh")
	}
	if _, err := envtest.InstallCRDs(suite.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(dir, "crds")}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("installing Flux's CRDs: %v", err)
	}
	ensureNamespace(t, fluxNamespace)
	storage := harness.FreeAddress(t)
	startProcess(t, "source-controller", filepath.Join(dir, "source-controller"),
		"--storage-path="+t.TempDir(), "--storage-addr="+storage, "--storage-adv-addr="+storage,
		"--metrics-addr="+harness.FreeAddress(t), "--health-addr="+harness.FreeAddress(t), "--enable-leader-election=false", "--log-level=info")
	startProcess(t, "kustomize-controller", filepath.Join(dir, "kustomize-controller"),
		"--metrics-addr="+harness.FreeAddress(t), "--health-addr="+harness.FreeAddress(t), "--enable-leader-election=false", "--log-level=info",
		"--requeue-dependency=2s")
}

// startProcess runs an engine's binary with the suite's admin kubeconfig,
// logging to a file that a failed test prints the end of, and stops it
// when the test ends.
func startProcess(t *testing.T, name, binary string, args ...string) {
	t.Helper()
	startProcessWith(t, name, binary, nil, args...)
}

// startProcessWith is startProcess with env added to the environment.
func startProcessWith(t *testing.T, name, binary string, env []string, args ...string) {
	t.Helper()
	env = append(append(os.Environ(), "KUBECONFIG="+suite.Kubeconfig, "RUNTIME_NAMESPACE="+fluxNamespace), env...)
	p := harness.StartProcess(t, name, binary, filepath.Join(suite.Dir, name+".log"), env, args...)
	say("started %s (pid %d; log %s)", name, p.Pid(), p.Log)
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// applyYAML creates or updates the object a manifest describes.
func applyYAML(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
		t.Fatalf("%v in\n%s", err, manifest)
	}
	existing := obj.DeepCopy()
	switch err := kube.Get(ctx, client.ObjectKeyFromObject(obj), existing); {
	case apierrors.IsNotFound(err):
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	case err != nil:
		t.Fatal(err)
	default:
		obj.SetResourceVersion(existing.GetResourceVersion())
		if err := kube.Update(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	return obj
}

// annotate sets an annotation with a merge patch: the engine's controller
// writes the object too, and an update would conflict with it.
func annotate(t *testing.T, obj *unstructured.Unstructured, key, value string) {
	t.Helper()
	patch := client.MergeFrom(obj.DeepCopy())
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	obj.SetAnnotations(annotations)
	if err := kube.Patch(ctx, obj, patch); err != nil {
		t.Fatal(err)
	}
}

// gitRepositoryYAML is Flux's source of repo's main branch.
func gitRepositoryYAML(name, url string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  url: %s
  ref:
    branch: main
`, name, fluxNamespace, url)
}

// kustomizationFluxYAML applies path of source, prunes, and waits for what
// it applies, as docs/guides/gitops.md shows; dependsOn names Kustomizations first.
func kustomizationFluxYAML(name, source, path string, dependsOn ...string) string {
	deps := ""
	for _, d := range dependsOn {
		deps += "\n  - name: " + d
	}
	if deps != "" {
		deps = "\n  dependsOn:" + deps
	}
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  retryInterval: 5s
  sourceRef:
    kind: GitRepository
    name: %s
  path: %s
  prune: true
  wait: true
  timeout: 2m%s
`, name, fluxNamespace, source, path, deps)
}
