//go:build integration

package charts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

var (
	root     = repo.Root()
	chartDir = filepath.Join(root, "charts", "lambda-permission-operator")
	// env is the envtest control plane TestMain starts, and k its client.
	env *envtest.Environment
	k   client.Client
)

const (
	release       = "lpo"
	keepPolicy    = "helm.sh/resource-policy"
	fieldOwner    = client.FieldOwner("charts-test")
	kustomizeNS   = "lambda-permission-operator-system"
	kustomizeName = "lambda-permission-operator-"
)

// TestMain starts one kube-apiserver for every test: the project's CRDs (as
// testenv installs them) and the Prometheus Operator's ServiceMonitor and
// PrometheusRule CRDs, which the chart renders on request (make tools copies
// them from that project's Go module into bin/prometheus-operator-crds).
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// helm keeps its configuration, cache and data out of $HOME.
	helmHome, err := os.MkdirTemp("", "charts-test-helm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(helmHome)
	for _, v := range []string{"HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"} {
		_ = os.Setenv(v, filepath.Join(helmHome, v))
	}

	env, err = controlplane.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env.CRDDirectoryPaths = append(env.CRDDirectoryPaths, filepath.Join(root, "bin", "prometheus-operator-crds"))
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()
	if k, err = client.New(cfg, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func TestHelmLint(t *testing.T) {
	helm := tool(t, "helm", "HELM")
	run(t, helm, "lint", "--strict", chartDir)
	run(t, helm, "lint", "--strict", chartDir, "--values", filepath.Join(root, "charts", "testdata", "values-custom.yaml"))
}

// TestHelmDefaults renders the chart with its default values: everything
// cluster-wide, one replica, the hardened pod.
func TestHelmDefaults(t *testing.T) {
	const ns = "lpo-default"
	objs := helmTemplate(t, ns)

	wantKinds(t, objs, map[string]int{
		"CustomResourceDefinition": len(baseCRDs(t)),
		"ServiceAccount":           1, "ClusterRole": 1, "ClusterRoleBinding": 1,
		"Deployment": 1, "Service": 1,
		"Role": 0, "RoleBinding": 0, "ServiceMonitor": 0, "PodDisruptionBudget": 0, "PrometheusRule": 0, "ConfigMap": 0,
		"ValidatingAdmissionPolicy": 2, "ValidatingAdmissionPolicyBinding": 2,
		"MutatingAdmissionPolicy": 1, "MutatingAdmissionPolicyBinding": 1,
	})
	checkCRDs(t, objs, true)
	checkAdmissionPolicy(t, objs, "lpo-lambda-permission-operator-guardrails", "guardrails.yaml", admissionregistrationv1.Warn)
	checkAdmissionPolicy(t, objs, "lpo-lambda-permission-operator-resource-policy", "resource-policy.yaml", admissionregistrationv1.Deny)
	if binding := checkMutatingPolicy(t, objs, "lpo-lambda-permission-operator-finalizers", "finalizers.yaml"); binding.Spec.MatchResources != nil {
		t.Errorf("watching every namespace, the finalizers' binding matches only %+v", binding.Spec.MatchResources)
	}

	var role rbacv1.ClusterRole
	convert(t, only(t, objs, "ClusterRole"), &role)
	if want := generatedRules(t); !equality.Semantic.DeepEqual(role.Rules, want) {
		t.Errorf("ClusterRole rules differ from config/rbac/role.yaml:\n got %+v\nwant %+v", role.Rules, want)
	}
	var binding rbacv1.ClusterRoleBinding
	convert(t, only(t, objs, "ClusterRoleBinding"), &binding)
	wantSubject(t, binding.Subjects, "lpo-lambda-permission-operator", ns)
	if binding.RoleRef.Name != role.Name || binding.RoleRef.Kind != "ClusterRole" {
		t.Errorf("ClusterRoleBinding refers to %+v, want ClusterRole %s", binding.RoleRef, role.Name)
	}

	dep := deployment(t, objs)
	if *dep.Spec.Replicas != 1 {
		t.Errorf("replicas %d, want 1", *dep.Spec.Replicas)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	checkHardened(t, dep)
	if want := "lambda-permission-operator:" + appVersion(t); c.Image != want {
		t.Errorf("image %q, want %q (the tag defaults to appVersion)", c.Image, want)
	}
	wantArgs(t, c.Args, []string{
		"--metrics-bind-address=:8080", "--health-probe-bind-address=:8081",
		"--sync-period=10m", "--max-concurrent-reconciles=4", "--zap-log-level=info",
		"--getpolicy-rps=15", "--control-plane-rps=15", "--getfunction-rps=100",
		"--write-strategy=Statements",
	})
	for _, arg := range c.Args {
		for _, unwanted := range []string{"--leader-elect", "--watch-namespace", "--region", "--allow-", "--dry-run", "--statement-id-prefix", "--metrics-object-names"} {
			if strings.HasPrefix(arg, unwanted) {
				t.Errorf("default args have %s: %q", unwanted, c.Args)
			}
		}
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("no resource requests and limits by default: %+v", c.Resources)
	}
	var svc corev1.Service
	convert(t, only(t, objs, "Service"), &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8080 || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("metrics Service ports %+v, want 8080 to the container's metrics port", svc.Spec.Ports)
	}
	for key, value := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[key] != value {
			t.Errorf("metrics Service selects %s=%s, which the manager's pods do not have", key, value)
		}
	}

	dryRunApply(t, objs)
}

// TestHelmCustom renders the chart with testdata/values-custom.yaml: one
// watched namespace, two replicas, IRSA, ServiceMonitor and PDB.
func TestHelmCustom(t *testing.T) {
	const ns = "lpo-custom"
	const watched = "team-a"
	objs := helmTemplate(t, ns, "--values", filepath.Join(root, "charts", "testdata", "values-custom.yaml"))

	wantKinds(t, objs, map[string]int{
		"ServiceAccount": 1, "Deployment": 1, "Service": 1, "ServiceMonitor": 1, "PodDisruptionBudget": 1,
		"Role": 2, "RoleBinding": 2, // the manager's in team-a, leader election's in the release namespace
	})

	// The manager's rules: on namespaced resources in a Role in the watched
	// namespace; on cluster-scoped ones (which a Role cannot grant) in a
	// ClusterRole; together, exactly config/rbac/role.yaml's.
	managerRole := named(t, objs, "Role", "lpo-lambda-permission-operator-manager")
	if managerRole.GetNamespace() != watched {
		t.Errorf("the manager's Role is in %q, want %q", managerRole.GetNamespace(), watched)
	}
	var role rbacv1.Role
	convert(t, managerRole, &role)
	granted := grants(role.Rules)
	for g := range granted {
		if !namespaced(t, g.group, g.resource) {
			t.Errorf("the Role grants cluster-scoped %s/%s, which a Role cannot", g.group, g.resource)
		}
	}
	if crs := kind(objs, "ClusterRole"); len(crs) > 0 {
		var cr rbacv1.ClusterRole
		convert(t, only(t, objs, "ClusterRole"), &cr)
		for g := range grants(cr.Rules) {
			if namespaced(t, g.group, g.resource) {
				t.Errorf("watching one namespace, the ClusterRole still grants namespaced %s/%s", g.group, g.resource)
			}
			granted[g] = true
		}
		var crb rbacv1.ClusterRoleBinding
		convert(t, only(t, objs, "ClusterRoleBinding"), &crb)
		wantSubject(t, crb.Subjects, "lambda-permissions", ns)
	} else if len(kind(objs, "ClusterRoleBinding")) > 0 {
		t.Errorf("a ClusterRoleBinding without a ClusterRole")
	}
	if want := grants(generatedRules(t)); !equality.Semantic.DeepEqual(granted, want) {
		t.Errorf("Role + ClusterRole grant %v, config/rbac/role.yaml %v", keys(granted), keys(want))
	}
	var rb rbacv1.RoleBinding
	convert(t, named(t, objs, "RoleBinding", "lpo-lambda-permission-operator-manager"), &rb)
	if rb.Namespace != watched || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name {
		t.Errorf("manager RoleBinding in %q to %+v", rb.Namespace, rb.RoleRef)
	}
	wantSubject(t, rb.Subjects, "lambda-permissions", ns)

	// Leader election, in the release's namespace.
	var le rbacv1.Role
	convert(t, named(t, objs, "Role", "lpo-lambda-permission-operator-leader-election"), &le)
	if le.Namespace != ns || !grants(le.Rules)[grant{"coordination.k8s.io", "leases", "update"}] ||
		!grants(le.Rules)[grant{"", "events", "create"}] {
		t.Errorf("leader election Role in %q with rules %+v", le.Namespace, le.Rules)
	}

	var sa corev1.ServiceAccount
	convert(t, only(t, objs, "ServiceAccount"), &sa)
	if sa.Name != "lambda-permissions" || sa.Namespace != ns ||
		sa.Annotations["eks.amazonaws.com/role-arn"] != "arn:aws:iam::123456789012:role/lambda-permission-operator" {
		t.Errorf("ServiceAccount %s/%s annotations %v", sa.Namespace, sa.Name, sa.Annotations)
	}

	dep := deployment(t, objs)
	checkHardened(t, dep)
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if *dep.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", *dep.Spec.Replicas)
	}
	wantArgs(t, c.Args, []string{
		"--leader-elect", "--region=eu-west-1", "--sync-period=5m", "--max-concurrent-reconciles=8",
		"--watch-namespace=" + watched, "--zap-log-level=debug", "--zap-stacktrace-level=panic",
		"--allow-public-access", "--allow-service-without-source", "--dry-run",
		"--write-strategy=Document", "--statement-id-prefix=prod-eu-",
	})
	if c.Image != "registry.example/platform/lambda-permission-operator:v0.1.0-rc.1" || c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("image %q pull policy %q", c.Image, c.ImagePullPolicy)
	}
	if len(c.Env) != 2 || c.Env[0].Name != "GOMEMLIMIT" || c.Env[0].Value != "400MiB" ||
		c.Env[1].Name != "AWS_ENDPOINT_URL_LAMBDA" || c.Env[1].Value != "http://lambda-emulator.test.svc:9001" {
		t.Errorf("env %+v, want GOMEMLIMIT=400MiB and AWS_ENDPOINT_URL_LAMBDA", c.Env)
	}
	if c.Resources.Limits.Memory().String() != "512Mi" || c.Resources.Requests.Cpu().String() != "50m" {
		t.Errorf("resources %+v", c.Resources)
	}
	if pod.ServiceAccountName != "lambda-permissions" || pod.PriorityClassName != "platform-operators" ||
		len(pod.ImagePullSecrets) != 1 || pod.NodeSelector["kubernetes.io/os"] != "linux" ||
		len(pod.Tolerations) != 1 || pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil {
		t.Errorf("pod spec does not carry the values: %+v", pod)
	}
	if dep.Spec.Template.Annotations["example.com/team"] != "platform" || dep.Spec.Template.Labels["example.com/cost-center"] != "1234" {
		t.Errorf("pod annotations %v labels %v", dep.Spec.Template.Annotations, dep.Spec.Template.Labels)
	}

	sm := only(t, objs, "ServiceMonitor")
	if sm.GetAPIVersion() != "monitoring.coreos.com/v1" || sm.GetLabels()["release"] != "prometheus" {
		t.Errorf("ServiceMonitor %s labels %v", sm.GetAPIVersion(), sm.GetLabels())
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["port"] != "http-metrics" || endpoints[0].(map[string]any)["interval"] != "30s" {
		t.Errorf("ServiceMonitor endpoints %v", endpoints)
	}
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	svc := only(t, objs, "Service")
	for key, value := range selector {
		if svc.GetLabels()[key] != value {
			t.Errorf("the ServiceMonitor selects %s=%s, which the metrics Service does not have", key, value)
		}
	}
	pdb := only(t, objs, "PodDisruptionBudget")
	if minAvailable, _, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "minAvailable"); fmt.Sprint(minAvailable) != "1" {
		t.Errorf("PDB minAvailable %v, want 1", minAvailable)
	}

	// The finalizers only where the operator takes them off again.
	binding := checkMutatingPolicy(t, objs, "lpo-lambda-permission-operator-finalizers", "finalizers.yaml")
	if m := binding.Spec.MatchResources; m == nil || m.NamespaceSelector == nil ||
		!equality.Semantic.DeepEqual(m.NamespaceSelector.MatchLabels, map[string]string{corev1.LabelMetadataName: watched}) {
		t.Errorf("watching %s, the finalizers' binding matches %+v, want that namespace only", watched, m)
	}

	createNamespace(t, watched)
	dryRunApply(t, objs)
}

// TestHelmOptions covers the switches that change which objects render, and
// the schema's refusals.
func TestHelmOptions(t *testing.T) {
	helm := tool(t, "helm", "HELM")
	t.Run("crds.install=false", func(t *testing.T) {
		objs := helmTemplate(t, "lpo-options", "--set", "crds.install=false")
		wantKinds(t, objs, map[string]int{"CustomResourceDefinition": 0, "Deployment": 1})
	})
	t.Run("crds.keep=false", func(t *testing.T) {
		checkCRDs(t, helmTemplate(t, "lpo-options", "--set", "crds.keep=false"), false)
	})
	t.Run("leaderElect with one replica", func(t *testing.T) {
		objs := helmTemplate(t, "lpo-options", "--set", "leaderElect=true")
		wantArgs(t, deployment(t, objs).Spec.Template.Spec.Containers[0].Args, []string{"--leader-elect"})
		named(t, objs, "Role", "lpo-lambda-permission-operator-leader-election")
	})
	t.Run("resourcePolicyValidation disabled", func(t *testing.T) {
		objs := helmTemplate(t, "lpo-options", "--set", "resourcePolicyValidation.enabled=false")
		wantKinds(t, objs, map[string]int{"ValidatingAdmissionPolicy": 1, "ValidatingAdmissionPolicyBinding": 1})
		named(t, objs, "ValidatingAdmissionPolicy", "lpo-lambda-permission-operator-guardrails")
	})
	t.Run("admissionWarnings disabled", func(t *testing.T) {
		objs := helmTemplate(t, "lpo-options", "--set", "admissionWarnings.enabled=false")
		wantKinds(t, objs, map[string]int{"ValidatingAdmissionPolicy": 1, "ValidatingAdmissionPolicyBinding": 1})
		named(t, objs, "ValidatingAdmissionPolicy", "lpo-lambda-permission-operator-resource-policy")
	})
	t.Run("admissionFinalizers disabled", func(t *testing.T) {
		objs := helmTemplate(t, "lpo-options", "--set", "admissionFinalizers.enabled=false")
		wantKinds(t, objs, map[string]int{"MutatingAdmissionPolicy": 0, "MutatingAdmissionPolicyBinding": 0,
			"ValidatingAdmissionPolicy": 2, "ValidatingAdmissionPolicyBinding": 2})
	})
	t.Run("no metrics Service", func(t *testing.T) {
		wantKinds(t, helmTemplate(t, "lpo-options", "--set", "metrics.service.enabled=false"), map[string]int{"Service": 0})
	})
	t.Run("existing ServiceAccount", func(t *testing.T) {
		objs := helmTemplate(t, "lpo-options", "--set", "serviceAccount.create=false,serviceAccount.name=platform")
		wantKinds(t, objs, map[string]int{"ServiceAccount": 0})
		if got := deployment(t, objs).Spec.Template.Spec.ServiceAccountName; got != "platform" {
			t.Errorf("serviceAccountName %q, want platform", got)
		}
	})
	t.Run("writeStrategy=Document", func(t *testing.T) {
		args := deployment(t, helmTemplate(t, "lpo-options", "--set", "writeStrategy=Document")).Spec.Template.Spec.Containers[0].Args
		wantArgs(t, args, []string{"--write-strategy=Document"})
		if n := countPrefix(args, "--write-strategy"); n != 1 {
			t.Errorf("args %q have --write-strategy %d times, want once", args, n)
		}
	})
	t.Run("statementIdPrefix", func(t *testing.T) {
		args := deployment(t, helmTemplate(t, "lpo-options", "--set", "statementIdPrefix=east_1-")).Spec.Template.Spec.Containers[0].Args
		wantArgs(t, args, []string{"--statement-id-prefix=east_1-"})
		if n := countPrefix(args, "--statement-id-prefix"); n != 1 {
			t.Errorf("args %q have --statement-id-prefix %d times, want once", args, n)
		}
	})
	t.Run("image digest", func(t *testing.T) {
		digest := "sha256:" + strings.Repeat("ab", 32)
		objs := helmTemplate(t, "lpo-options", "--set", "image.digest="+digest)
		if got := deployment(t, objs).Spec.Template.Spec.Containers[0].Image; got != "lambda-permission-operator@"+digest {
			t.Errorf("image %q", got)
		}
	})
	for name, args := range map[string][]string{
		"a typo in a top-level key": {"--set", "regoin=us-east-2"},
		"a typo in a nested key":    {"--set", "image.tga=v1"},
		"a bad sync period":         {"--set", "syncPeriod=ten minutes"},
		"a bad log level":           {"--set", "logLevel=verbose"},
		"a bad write strategy":      {"--set", "writeStrategy=document"},
		"an empty write strategy":   {"--set", "writeStrategy="},
		"a Sid prefix with a dot":   {"--set", "statementIdPrefix=east.1"},
		"a Sid prefix of 33":        {"--set", "statementIdPrefix=" + strings.Repeat("p", 33)},
		"a ServiceMonitor without the Service": {"--set",
			"metrics.serviceMonitor.enabled=true,metrics.service.enabled=false"},
		"a typo under resourcePolicyValidation": {"--set",
			"resourcePolicyValidation.enable=false"},
		"a typo under admissionFinalizers": {"--set",
			"admissionFinalizers.enable=false"},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			cmd := exec.Command(helm, append([]string{"template", release, chartDir}, args...)...)
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("helm template %s succeeded:\n%s", strings.Join(args, " "), firstLines(out, 5))
			}
		})
	}
}

// TestKustomizeDefault builds config/default, the `kubectl apply -k` install.
func TestKustomizeDefault(t *testing.T) {
	out := run(t, tool(t, "kustomize", "KUSTOMIZE"), "build", filepath.Join(root, "config", "default"))
	objs := decode(t, out)

	wantKinds(t, objs, map[string]int{
		"Namespace":                1,
		"CustomResourceDefinition": len(baseCRDs(t)),
		"ServiceAccount":           1, "ClusterRole": 1, "ClusterRoleBinding": 1,
		"Role": 1, "RoleBinding": 1, "Deployment": 1, "Service": 1,
	})
	if ns := only(t, objs, "Namespace").GetName(); ns != kustomizeNS {
		t.Errorf("Namespace %q, want %q", ns, kustomizeNS)
	}
	// The admission policies, with the prefix in their bindings too.
	for name, policyKind := range map[string]string{
		"lambda-permission-guardrails":      "ValidatingAdmissionPolicy",
		"lambda-resource-policy-validation": "ValidatingAdmissionPolicy",
		"lambda-permission-finalizers":      "MutatingAdmissionPolicy",
	} {
		named(t, objs, policyKind, kustomizeName+name)
		binding := named(t, objs, policyKind+"Binding", kustomizeName+name)
		if got, _, _ := unstructured.NestedString(binding.Object, "spec", "policyName"); got != kustomizeName+name {
			t.Errorf("binding %s refers to policy %q, want %q", binding.GetName(), got, kustomizeName+name)
		}
	}
	checkCRDs(t, objs, false)
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" || obj.GetKind() == "CustomResourceDefinition" {
			continue
		}
		if !strings.HasPrefix(obj.GetName(), kustomizeName) {
			t.Errorf("%s %s has no name prefix %s", obj.GetKind(), obj.GetName(), kustomizeName)
		}
	}

	var role rbacv1.ClusterRole
	convert(t, only(t, objs, "ClusterRole"), &role)
	if want := generatedRules(t); !equality.Semantic.DeepEqual(role.Rules, want) {
		t.Errorf("ClusterRole rules differ from config/rbac/role.yaml:\n got %+v\nwant %+v", role.Rules, want)
	}
	var crb rbacv1.ClusterRoleBinding
	convert(t, only(t, objs, "ClusterRoleBinding"), &crb)
	wantSubject(t, crb.Subjects, kustomizeName+"controller-manager", kustomizeNS)
	if crb.RoleRef.Name != role.Name {
		t.Errorf("ClusterRoleBinding refers to %s, want %s", crb.RoleRef.Name, role.Name)
	}
	var rb rbacv1.RoleBinding
	convert(t, only(t, objs, "RoleBinding"), &rb)
	if rb.RoleRef.Name != only(t, objs, "Role").GetName() {
		t.Errorf("RoleBinding refers to %s", rb.RoleRef.Name)
	}

	dep := deployment(t, objs)
	checkHardened(t, dep)
	c := dep.Spec.Template.Spec.Containers[0]
	wantArgs(t, c.Args, []string{"--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"})
	if dep.Spec.Template.Spec.ServiceAccountName != kustomizeName+"controller-manager" {
		t.Errorf("serviceAccountName %q", dep.Spec.Template.Spec.ServiceAccountName)
	}

	// The same pod as the chart's: security contexts, probes, resources.
	chart := deployment(t, helmTemplate(t, "lpo-compare"))
	cc := chart.Spec.Template.Spec.Containers[0]
	for what, pair := range map[string][2]any{
		"pod securityContext":       {chart.Spec.Template.Spec.SecurityContext, dep.Spec.Template.Spec.SecurityContext},
		"container securityContext": {cc.SecurityContext, c.SecurityContext},
		"livenessProbe":             {cc.LivenessProbe, c.LivenessProbe},
		"readinessProbe":            {cc.ReadinessProbe, c.ReadinessProbe},
		"resources":                 {cc.Resources, c.Resources},
		"ports":                     {cc.Ports, c.Ports},
	} {
		if !equality.Semantic.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: the chart has %+v, config/default %+v", what, pair[0], pair[1])
		}
	}

	dryRunApply(t, objs)
}

// TestHelmLifecycle installs, upgrades and uninstalls the chart for real
// against the API server (no kubelet runs its pods): CRDs that were there
// before (here testenv's, as `kubectl apply` would have left them) are adopted
// by the release, `helm upgrade` upgrades them, and `helm uninstall` leaves
// them (helm.sh/resource-policy: keep) and the LambdaPermissions in them.
func TestHelmLifecycle(t *testing.T) {
	const ns = "lpo-helm"
	ctx := t.Context()
	helm := tool(t, "helm", "HELM")
	kubeconfig := writeKubeconfig(t)
	h := func(args ...string) []byte { return run(t, helm, append(args, "--kubeconfig", kubeconfig)...) }

	crds := baseCRDs(t)
	for name := range crds {
		patch := fmt.Sprintf(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":"Helm"},`+
			`"annotations":{"meta.helm.sh/release-name":%q,"meta.helm.sh/release-namespace":%q}}}`, release, ns)
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
		crd.SetName(name)
		if err := k.Patch(ctx, crd, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatalf("marking CRD %s for adoption: %v", name, err)
		}
	}
	sample := decode(t, mustRead(t, filepath.Join(root, "config", "samples", "lambda_v1alpha1_lambdapermission_s3.yaml")))[0]
	sample.SetNamespace("lpo-helm-objects")
	createNamespace(t, sample.GetNamespace())
	if err := k.Create(ctx, sample); err != nil {
		t.Fatalf("creating a LambdaPermission: %v", err)
	}
	crdVersionLabel := func() map[string]string {
		got := map[string]string{}
		for name := range crds {
			crd := &unstructured.Unstructured{}
			crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
			if err := k.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
				t.Fatalf("CRD %s: %v", name, err)
			}
			got[name] = crd.GetLabels()["app.kubernetes.io/version"]
		}
		return got
	}
	managerKey := client.ObjectKey{Namespace: ns, Name: "lpo-lambda-permission-operator"}

	out := h("install", release, chartDir, "--namespace", ns, "--create-namespace")
	t.Logf("helm install:\n%s", out)
	for _, want := range []string{
		"lambda-permission-operator " + appVersion(t) + " is installed in namespace " + ns + ", watching every namespace.",
		"kubectl -n " + ns + " rollout status deployment/lpo-lambda-permission-operator",
		"`helm uninstall` leaves them",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("helm install's notes lack %q", want)
		}
	}
	var dep appsv1.Deployment
	if err := k.Get(ctx, managerKey, &dep); err != nil {
		t.Fatalf("after helm install: %v", err)
	}
	for name, version := range crdVersionLabel() {
		if version != appVersion(t) {
			t.Errorf("after helm install, CRD %s has version label %q, want %q", name, version, appVersion(t))
		}
	}

	h("upgrade", release, chartDir, "--namespace", ns, "--set", "image.tag=v0.2.0", "--set", "replicas=2")
	if err := k.Get(ctx, managerKey, &dep); err != nil || *dep.Spec.Replicas != 2 {
		t.Errorf("after helm upgrade: %v, replicas %v", err, dep.Spec.Replicas)
	}
	for name, version := range crdVersionLabel() {
		if version != "v0.2.0" {
			t.Errorf("after helm upgrade, CRD %s has version label %q: not upgraded", name, version)
		}
	}

	h("uninstall", release, "--namespace", ns)
	if err := k.Get(ctx, managerKey, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Errorf("after helm uninstall, the Deployment: %v, want NotFound", err)
	}
	crdVersionLabel() // fails unless every CRD is still there
	kept := sample.DeepCopy()
	if err := k.Get(ctx, client.ObjectKeyFromObject(sample), kept); err != nil {
		t.Errorf("after helm uninstall, the LambdaPermission: %v", err)
	}
}

// --- rendering ---

// tool is the path of bin/NAME, or of $ENV when set.
func tool(t *testing.T, name, env string) string {
	t.Helper()
	if path := os.Getenv(env); path != "" {
		return path
	}
	path := filepath.Join(root, "bin", name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no %s at %s: run `make tools` (hack/tools/build.sh builds it), or set %s", name, path, env)
	}
	return path
}

// run runs a command and returns its standard output; a failure fails the test.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String(), firstLines(stdout.Bytes(), 20))
	}
	return stdout.Bytes()
}

func helmTemplate(t *testing.T, namespace string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out := run(t, tool(t, "helm", "HELM"), append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	return decode(t, out)
}

// decode splits a multi-document YAML stream into objects.
func decode(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("decoding the rendered YAML: %v", err)
		}
		if obj != nil {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
}

func kind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var found []*unstructured.Unstructured
	for _, obj := range objs {
		if obj.GetKind() == kind {
			found = append(found, obj)
		}
	}
	return found
}

func only(t *testing.T, objs []*unstructured.Unstructured, k string) *unstructured.Unstructured {
	t.Helper()
	found := kind(objs, k)
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(found), k)
	}
	return found[0]
}

func named(t *testing.T, objs []*unstructured.Unstructured, k, name string) *unstructured.Unstructured {
	t.Helper()
	for _, obj := range kind(objs, k) {
		if obj.GetName() == name {
			return obj
		}
	}
	t.Fatalf("no %s %s rendered", k, name)
	return nil
}

func wantKinds(t *testing.T, objs []*unstructured.Unstructured, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got := len(kind(objs, k)); got != n {
			t.Errorf("%d objects of kind %s, want %d", got, k, n)
		}
	}
}

func convert(t *testing.T, obj *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, into); err != nil {
		t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
}

func deployment(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	var dep appsv1.Deployment
	convert(t, only(t, objs, "Deployment"), &dep)
	if n := len(dep.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want the manager alone", n)
	}
	return &dep
}

func wantArgs(t *testing.T, args, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(args, w) {
			t.Errorf("args %q lack %q", args, w)
		}
	}
}

// countPrefix counts the args that start with prefix.
func countPrefix(args []string, prefix string) int {
	n := 0
	for _, arg := range args {
		if strings.HasPrefix(arg, prefix) {
			n++
		}
	}
	return n
}

func wantSubject(t *testing.T, subjects []rbacv1.Subject, name, namespace string) {
	t.Helper()
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: namespace}}
	if !equality.Semantic.DeepEqual(subjects, want) {
		t.Errorf("subjects %+v, want %+v", subjects, want)
	}
}

// checkHardened checks the manager's pod: non-root 65532, read-only root file
// system, no privilege escalation, no capabilities, RuntimeDefault seccomp,
// and the probes on port 8081.
func checkHardened(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	pod := dep.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", psc)
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("container securityContext %+v", sc)
	}
	for name, probe := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name {
			t.Errorf("no probe on %s: %+v", name, probe)
			continue
		}
		port := probe.HTTPGet.Port.IntValue()
		for _, p := range c.Ports {
			if p.Name == probe.HTTPGet.Port.String() {
				port = int(p.ContainerPort)
			}
		}
		if port != 8081 {
			t.Errorf("probe %s on port %s, want 8081", name, probe.HTTPGet.Port.String())
		}
	}
	if !slices.Contains(c.Args, "--health-probe-bind-address=:8081") {
		t.Errorf("args %q do not bind the probes to :8081", c.Args)
	}
}

// writeKubeconfig writes an admin kubeconfig of the envtest API server.
func writeKubeconfig(t *testing.T) string {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: "charts-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	config, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, config, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// --- what `make manifests` generated ---

func appVersion(t *testing.T) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := utilyaml.Unmarshal(text, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("Chart.yaml: no appVersion (%v)", err)
	}
	return chart.AppVersion
}

func baseCRDs(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v)", err)
	}
	crds := map[string]*unstructured.Unstructured{}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range decode(t, text) {
			crds[obj.GetName()] = obj
		}
	}
	return crds
}

// checkCRDs checks that objs hold every CRD of config/crd/bases with the
// same spec, annotated helm.sh/resource-policy: keep or not.
func checkCRDs(t *testing.T, objs []*unstructured.Unstructured, keep bool) {
	t.Helper()
	bases := baseCRDs(t)
	rendered := kind(objs, "CustomResourceDefinition")
	if len(rendered) != len(bases) {
		t.Errorf("%d CRDs rendered, config/crd/bases has %d: run `make manifests`", len(rendered), len(bases))
	}
	for _, crd := range rendered {
		base, ok := bases[crd.GetName()]
		if !ok {
			t.Errorf("CRD %s is not in config/crd/bases: run `make manifests`", crd.GetName())
			continue
		}
		if !equality.Semantic.DeepEqual(crd.Object["spec"], base.Object["spec"]) {
			t.Errorf("CRD %s differs from config/crd/bases: run `make manifests`", crd.GetName())
		}
		if got := crd.GetAnnotations()[keepPolicy] == "keep"; got != keep {
			t.Errorf("CRD %s: %s=keep is %v, want %v", crd.GetName(), keepPolicy, got, keep)
		}
	}
}

// generatedRules are the rules controller-gen wrote into config/rbac/role.yaml.
func generatedRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decode(t, text)
	if len(objs) != 1 {
		t.Fatalf("config/rbac/role.yaml has %d objects, want the ClusterRole alone", len(objs))
	}
	var role rbacv1.ClusterRole
	convert(t, objs[0], &role)
	return role.Rules
}

type grant struct{ group, resource, verb string }

// grants expands rules into what they allow, one group, resource and verb at
// a time.
func grants(rules []rbacv1.PolicyRule) map[grant]bool {
	set := map[grant]bool{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					set[grant{g, res, v}] = true
				}
			}
		}
	}
	return set
}

func keys(set map[grant]bool) []string {
	var out []string
	for g := range set {
		out = append(out, fmt.Sprintf("%s/%s:%s", g.group, g.resource, g.verb))
	}
	slices.Sort(out)
	return out
}

// namespaced asks the API server whether group/resource (a subresource counts
// as its resource) is namespaced.
func namespaced(t *testing.T, group, resource string) bool {
	t.Helper()
	base, _, _ := strings.Cut(resource, "/")
	gvk, err := k.RESTMapper().KindFor(schema.GroupVersionResource{Group: group, Resource: base})
	if err != nil {
		t.Fatalf("the API server does not know %s/%s: %v", group, base, err)
	}
	mapping, err := k.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatal(err)
	}
	return mapping.Scope.Name() == meta.RESTScopeNameNamespace
}

// --- the API server ---

func createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k.Create(t.Context(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

// dryRunApply applies every object with a server-side dry run (dryRun: All),
// as `kubectl apply --server-side --dry-run=server` would: the API server
// validates and admits each, and stores none. The namespaces they go into are
// created for real first (a dry-run Namespace does not exist for the next
// object). Every namespaced object must name its namespace, so that
// `helm template | kubectl apply -f -` puts it in the right one.
func dryRunApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := t.Context()
	for _, obj := range objs {
		isNamespaced, err := k.IsObjectNamespaced(obj)
		if err != nil {
			t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		switch {
		case obj.GetKind() == "Namespace":
			createNamespace(t, obj.GetName())
		case isNamespaced && obj.GetNamespace() == "":
			t.Errorf("%s %s has no namespace", obj.GetKind(), obj.GetName())
		case isNamespaced:
			createNamespace(t, obj.GetNamespace())
		case obj.GetNamespace() != "":
			t.Errorf("cluster-scoped %s %s has namespace %s", obj.GetKind(), obj.GetName(), obj.GetNamespace())
		}
	}
	for _, obj := range objs {
		err := k.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()), fieldOwner, client.ForceOwnership, client.DryRunAll)
		if err != nil {
			t.Errorf("server-side dry-run apply of %s %s/%s: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	// Nothing was stored.
	dep := kind(objs, "Deployment")[0]
	err := k.Get(ctx, client.ObjectKeyFromObject(dep), &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("after a dry run, getting Deployment %s: %v, want NotFound", dep.GetName(), err)
	}
}

func firstLines(out []byte, n int) string {
	lines := strings.SplitAfter(string(out), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…\n")
	}
	return strings.Join(lines, "")
}

// checkMutatingPolicy: the chart's MutatingAdmissionPolicy name is the one
// in config/admission/file (which kustomize installs), and its binding
// binds it; the binding is returned for what the values change in it.
func checkMutatingPolicy(t *testing.T, objs []*unstructured.Unstructured, name, file string) admissionregistrationv1.MutatingAdmissionPolicyBinding {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "admission", file))
	if err != nil {
		t.Fatal(err)
	}
	var want admissionregistrationv1.MutatingAdmissionPolicy
	if err := yaml.Unmarshal([]byte(strings.Split(string(data), "\n---\n")[0]), &want); err != nil {
		t.Fatal(err)
	}
	var got admissionregistrationv1.MutatingAdmissionPolicy
	convert(t, named(t, objs, "MutatingAdmissionPolicy", name), &got)
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("the chart's MutatingAdmissionPolicy %s differs from config/admission/%s:\n got %+v\nwant %+v", name, file, got.Spec, want.Spec)
	}
	var binding admissionregistrationv1.MutatingAdmissionPolicyBinding
	convert(t, named(t, objs, "MutatingAdmissionPolicyBinding", name), &binding)
	if binding.Spec.PolicyName != got.Name {
		t.Errorf("binding %s binds %q, want %s", binding.Name, binding.Spec.PolicyName, got.Name)
	}
	return binding
}

// checkAdmissionPolicy: the chart's ValidatingAdmissionPolicy name is the
// one in config/admission/file (which kustomize installs), bound with the
// given action only.
func checkAdmissionPolicy(t *testing.T, objs []*unstructured.Unstructured, name, file string, action admissionregistrationv1.ValidationAction) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "admission", file))
	if err != nil {
		t.Fatal(err)
	}
	var want admissionregistrationv1.ValidatingAdmissionPolicy
	if err := yaml.Unmarshal([]byte(strings.Split(string(data), "\n---\n")[0]), &want); err != nil {
		t.Fatal(err)
	}
	var got admissionregistrationv1.ValidatingAdmissionPolicy
	convert(t, named(t, objs, "ValidatingAdmissionPolicy", name), &got)
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("the chart's ValidatingAdmissionPolicy %s differs from config/admission/%s:\n got %+v\nwant %+v", name, file, got.Spec, want.Spec)
	}
	var binding admissionregistrationv1.ValidatingAdmissionPolicyBinding
	convert(t, named(t, objs, "ValidatingAdmissionPolicyBinding", name), &binding)
	if binding.Spec.PolicyName != got.Name || len(binding.Spec.ValidationActions) != 1 || binding.Spec.ValidationActions[0] != action {
		t.Errorf("binding %+v, want policy %s with the %s action only", binding.Spec, got.Name, action)
	}
}
