//go:build integration && gitops

package gitops

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// Argo CD: the application-controller and the repo-server, one argocd
// binary built by hack/gitops/build-argocd.sh (ARGO_DIR names its output),
// with Redis from Debian's redis-server, on the suite's control plane.

const argoNamespace = "argocd"

var applicationKind = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}

// startArgo installs Argo CD's CRDs and settings, with the health checks
// docs/guides/gitops.md tells users to install, and runs its two components.
func startArgo(t *testing.T) {
	t.Helper()
	dir := os.Getenv("ARGO_DIR")
	if dir == "" {
		t.Fatal("ARGO_DIR is not set: run make gitops, which builds Argo CD with hack/gitops/build-argocd.sh")
	}
	redis, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("argo cd: no redis-server: install Debian's redis-server")
	}
	crds := []string{filepath.Join(dir, "crds", "application-crd.yaml"), filepath.Join(dir, "crds", "appproject-crd.yaml")}
	if _, err := envtest.InstallCRDs(suite.Config, envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("installing Argo CD's CRDs: %v", err)
	}
	ensureNamespace(t, argoNamespace)
	applyYAML(t, argoSettingsYAML(t))
	applyYAML(t, `apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: argocd
  labels: {app.kubernetes.io/part-of: argocd}
`)
	applyYAML(t, `apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: argocd
spec:
  sourceRepos: ["*"]
  destinations: [{server: "*", namespace: "*"}]
  clusterResourceWhitelist: [{group: "*", kind: "*"}]
`)
	redisAddr := harness.FreeAddress(t)
	_, redisPort, _ := strings.Cut(redisAddr, ":")
	startProcess(t, "redis", redis, "--bind", "127.0.0.1", "--port", redisPort, "--save", "", "--appendonly", "no")
	repoServer := harness.FreeAddress(t)
	_, repoPort, _ := strings.Cut(repoServer, ":")
	_, repoMetrics, _ := strings.Cut(harness.FreeAddress(t), ":")
	// The repo-server renders charts with the helm on its PATH: the one
	// make tools builds into bin/.
	env := []string{"PATH=" + dir + ":" + filepath.Join(repo.Root(), "bin") + ":" + os.Getenv("PATH"), "ARGOCD_GPG_ENABLED=false", "ARGOCD_ASK_PASS_SOCK=" + filepath.Join(t.TempDir(), "askpass.sock")}
	startProcessWith(t, "argocd-repo-server", filepath.Join(dir, "argocd-repo-server"), env,
		"--disable-tls", "--client-ca-path=", "--redis", redisAddr, "--address", "127.0.0.1", "--port", repoPort,
		"--metrics-address", "127.0.0.1", "--metrics-port", repoMetrics, "--logformat", "text")
	_, controllerMetrics, _ := strings.Cut(harness.FreeAddress(t), ":")
	startProcessWith(t, "argocd-application-controller", filepath.Join(dir, "argocd-application-controller"), append(env, "ARGOCD_FAKE_IN_CLUSTER=true"),
		"--kubeconfig", suite.Kubeconfig, "--namespace", argoNamespace, "--redis", redisAddr, "--repo-server", repoServer,
		"--repo-server-plaintext", "--metrics-port", controllerMetrics, "--app-resync", "10", "--logformat", "text",
		// The health of each resource, with its message, in the Application's
		// status, as argocd app get shows it; Argo CD 3 keeps it out by default.
		"--persist-resource-health")
}

// argoSettingsYAML is argocd-cm with the shipped health check under each of
// the group's kinds, as docs/guides/gitops.md's Argo CD section installs it.
func argoSettingsYAML(t *testing.T) string {
	t.Helper()
	lua, err := os.ReadFile(filepath.Join("..", "..", "resource_customizations", "lambda.permissions.dev", "LambdaPermission", "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	indented := "    " + strings.ReplaceAll(strings.TrimRight(string(lua), "\n"), "\n", "\n    ")
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n  labels: {app.kubernetes.io/part-of: argocd}\ndata:\n")
	b.WriteString("  timeout.reconciliation: 10s\n")
	for _, kind := range []string{"LambdaPermission", "LambdaFunctionURLPermission", "LambdaPermissionAccount", "LambdaResourcePolicy"} {
		fmt.Fprintf(&b, "  resource.customizations.health.lambda.permissions.dev_%s: |\n%s\n", kind, indented)
	}
	return b.String()
}

// applicationYAML syncs path of the repository at url into namespace,
// automatically, pruning.
func applicationYAML(name, url, path, namespace string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: %s
  namespace: argocd
spec:
  project: default
  source:
    repoURL: %s
    path: %s
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: %s
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    # Argo CD prunes with foreground deletion by default, which waits for
    # the garbage collector of kube-controller-manager; this control plane
    # has none, so the deleted objects would keep its finalizer forever.
    syncOptions: [CreateNamespace=true, PrunePropagationPolicy=background]
`, name, url, path, namespace)
}

func application(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	a := &unstructured.Unstructured{}
	a.SetGroupVersionKind(applicationKind)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: argoNamespace, Name: name}, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// appState is an Application's sync and health, its synced revision, and
// the health message of the resource that has one.
type appState struct {
	sync, health, revision, message string
}

func (s appState) String() string {
	return fmt.Sprintf("%s/%s at %.8s %s", s.sync, s.health, s.revision, s.message)
}

func stateOf(a *unstructured.Unstructured) appState {
	var s appState
	s.sync, _, _ = unstructured.NestedString(a.Object, "status", "sync", "status")
	s.health, _, _ = unstructured.NestedString(a.Object, "status", "health", "status")
	s.revision, _, _ = unstructured.NestedString(a.Object, "status", "sync", "revision")
	resources, _, _ := unstructured.NestedSlice(a.Object, "status", "resources")
	var out []string
	for _, r := range resources {
		m, _ := r.(map[string]any)
		health, _, _ := unstructured.NestedString(m, "health", "status")
		sync, _, _ := unstructured.NestedString(m, "status")
		if health != "Healthy" || sync != "Synced" {
			kind, _, _ := unstructured.NestedString(m, "kind")
			name, _, _ := unstructured.NestedString(m, "name")
			msg, _, _ := unstructured.NestedString(m, "health", "message")
			out = append(out, fmt.Sprintf("%s/%s %s/%s: %s", kind, name, sync, health, msg))
		}
	}
	s.message = strings.Join(out, "; ")
	return s
}

func waitApplication(t *testing.T, name, what string, check func(appState) string) appState {
	t.Helper()
	var s appState
	harness.Eventually(t, "argo cd: Application "+name+" "+what, func() string {
		s = stateOf(application(t, name))
		return check(s)
	})
	return s
}

// refreshApplication asks Argo CD to compare the Application with git and
// the cluster again now, as argocd app get --refresh does, and waits until
// it has.
func refreshApplication(t *testing.T, name string) {
	t.Helper()
	annotate(t, application(t, name), "argocd.argoproj.io/refresh", "normal")
	harness.Eventually(t, "argo cd: Application "+name+" refreshed", func() string {
		if _, pending := application(t, name).GetAnnotations()["argocd.argoproj.io/refresh"]; pending {
			return "the refresh annotation is still there"
		}
		return ""
	})
}
