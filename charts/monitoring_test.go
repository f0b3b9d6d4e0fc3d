//go:build integration

package charts

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestHelmMonitoring renders the alerts and the dashboard on request: the
// PrometheusRule carries config/prometheus/alerts.yaml's groups and the
// ConfigMap config/grafana's dashboard, each with the labels asked for; the
// kube-apiserver, with the Prometheus Operator's CRDs, accepts them. With
// metrics.objectNames false the manager counts objects instead of naming
// them.
func TestHelmMonitoring(t *testing.T) {
	const ns = "lpo-monitoring"
	objs := helmTemplate(t, ns, "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.labels.release=prometheus",
		"--set", "metrics.grafanaDashboard.enabled=true", "--set", "metrics.grafanaDashboard.label=dashboards",
		"--set", "metrics.grafanaDashboard.labelValue=lambda", "--set", "metrics.grafanaDashboard.annotations.grafana_folder=Platform",
		"--set", "metrics.objectNames=false")
	wantKinds(t, objs, map[string]int{"PrometheusRule": 1, "ConfigMap": 1, "ServiceMonitor": 0})

	rule := only(t, objs, "PrometheusRule")
	if rule.GetAPIVersion() != "monitoring.coreos.com/v1" || rule.GetNamespace() != ns || rule.GetLabels()["release"] != "prometheus" {
		t.Errorf("PrometheusRule %s in %q labels %v", rule.GetAPIVersion(), rule.GetNamespace(), rule.GetLabels())
	}
	var alerts map[string]any
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(root, "config", "prometheus", "alerts.yaml")), &alerts); err != nil {
		t.Fatal(err)
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if !equality.Semantic.DeepEqual(groups, alerts["groups"]) {
		t.Errorf("the PrometheusRule's groups differ from config/prometheus/alerts.yaml's:\n%v\n%v", groups, alerts["groups"])
	}

	dashboard := only(t, objs, "ConfigMap")
	if dashboard.GetLabels()["dashboards"] != "lambda" || dashboard.GetAnnotations()["grafana_folder"] != "Platform" || dashboard.GetNamespace() != ns {
		t.Errorf("dashboard ConfigMap in %q labels %v annotations %v", dashboard.GetNamespace(), dashboard.GetLabels(), dashboard.GetAnnotations())
	}
	data, _, _ := unstructured.NestedString(dashboard.Object, "data", "lambda-permission-operator.json")
	var got, want any
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("the dashboard in the ConfigMap is not JSON: %v", err)
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(root, "config", "grafana", "lambda-permission-operator.json")), &want); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Error("the dashboard in the ConfigMap differs from config/grafana/lambda-permission-operator.json")
	}

	wantArgs(t, deployment(t, objs).Spec.Template.Spec.Containers[0].Args, []string{"--metrics-object-names=false"})
	createNamespace(t, ns)
	dryRunApply(t, objs)
}
