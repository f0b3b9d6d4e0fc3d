//go:build integration

package charts

import (
	"os/exec"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// TestHelmShards renders shards: [a, b] with leader election, the metrics
// Service, a ServiceMonitor and PodDisruptionBudgets: besides the main
// manager, which now reconciles the objects without the shard label, one
// of each per shard for its objects. No Deployment, Service or budget
// selects another instance's pods, and each instance runs with a selector
// of its own (so a lease of its own: the manager derives it from the
// selector).
func TestHelmShards(t *testing.T) {
	const ns = "lpo-shards"
	objs := helmTemplate(t, ns, "--set", "shards={a,b},replicas=2,podDisruptionBudget.enabled=true,metrics.serviceMonitor.enabled=true")
	wantKinds(t, objs, map[string]int{"Deployment": 3, "Service": 3, "PodDisruptionBudget": 3, "ServiceMonitor": 1,
		"ServiceAccount": 1, "Role": 1, "RoleBinding": 1})

	instances := map[string]string{ // Deployment name → the objects it reconciles
		"lpo-lambda-permission-operator":         "!" + lambdav1alpha1.ShardLabel,
		"lpo-lambda-permission-operator-shard-a": lambdav1alpha1.ShardLabel + "=a",
		"lpo-lambda-permission-operator-shard-b": lambdav1alpha1.ShardLabel + "=b",
	}
	pods := map[string]labels.Set{}
	for name, selector := range instances {
		var dep appsv1.Deployment
		convert(t, named(t, objs, "Deployment", name), &dep)
		checkHardened(t, &dep)
		args := dep.Spec.Template.Spec.Containers[0].Args
		wantArgs(t, args, []string{"--watch-label-selector=" + selector, "--leader-elect"})
		if n := countPrefix(args, "--watch-label-selector"); n != 1 {
			t.Errorf("%s: --watch-label-selector %d times in %q", name, n, args)
		}
		pods[name] = dep.Spec.Template.Labels
	}
	selects := func(kind, name string, selector map[string]string, want string) {
		t.Helper()
		for pod, set := range pods {
			if got := labels.SelectorFromSet(selector).Matches(set); got != (pod == want) {
				t.Errorf("%s %s selects the pods of %s: %v, want %v", kind, name, pod, got, pod == want)
			}
		}
	}
	for name := range instances {
		var dep appsv1.Deployment
		convert(t, named(t, objs, "Deployment", name), &dep)
		selects("Deployment", name, dep.Spec.Selector.MatchLabels, name)
		var svc corev1.Service
		convert(t, named(t, objs, "Service", name+"-metrics"), &svc)
		selects("Service", svc.Name, svc.Spec.Selector, name)
		pdb := named(t, objs, "PodDisruptionBudget", name)
		matchLabels, _, _ := unstructured.NestedStringMap(pdb.Object, "spec", "selector", "matchLabels")
		selects("PodDisruptionBudget", name, matchLabels, name)
	}
	// One ServiceMonitor scrapes every instance's Service.
	smSelector, _, _ := unstructured.NestedStringMap(only(t, objs, "ServiceMonitor").Object, "spec", "selector", "matchLabels")
	for _, svc := range kind(objs, "Service") {
		if !labels.SelectorFromSet(smSelector).Matches(labels.Set(svc.GetLabels())) {
			t.Errorf("the ServiceMonitor does not select Service %s", svc.GetName())
		}
	}
	dryRunApply(t, objs)
}

// TestHelmShardsRefused: shard names that cannot be a label value or part
// of a name, a shard twice, a name too long for its objects, and a
// --watch-label-selector in extraArgs beside the chart's.
func TestHelmShardsRefused(t *testing.T) {
	helm := tool(t, "helm", "HELM")
	for name, tt := range map[string]struct {
		set, want string
	}{
		"an upper-case name":        {"shards={A}", `"A" is no shard name`},
		"an underscore":             {"shards={a_b}", `"a_b" is no shard name`},
		"a leading dash":            {"shards={-a}", `"-a" is no shard name`},
		"an empty name":             {`shards[0]=`, `"" is no shard name`},
		"a shard twice":             {"shards={a,b,a}", "shards"},
		"a name too long":           {"shards={" + strings.Repeat("s", 30) + "}", "over 55 characters"},
		"a selector in extraArgs":   {"shards={a},extraArgs={--watch-label-selector=team=x}", "extraArgs: --watch-label-selector"},
		"a non-string shard (list)": {"shards[0][0]=a", "shards"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(helm, "template", release, chartDir, "--set", tt.set).CombinedOutput()
			if err == nil {
				t.Fatalf("helm template --set %s succeeded", tt.set)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("helm template --set %s failed without saying %q:\n%s", tt.set, tt.want, firstLines(out, 5))
			}
		})
	}
}
