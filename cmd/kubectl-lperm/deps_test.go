package main

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/lambda-permission-operator/lambda-permission-operator"

// The plugin is a small CLI: of this module it links only the API, the
// spec-to-policy translation, the policy model, the AWS port and the
// version, and none of the operator's runtime. controller-runtime's
// manager and Prometheus (which its client brings along through its
// metrics) would add megabytes and an init of collectors to a command that
// runs for seconds.
func TestPluginDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH to list the plugin's dependencies: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", ".").Output()
	if err != nil {
		var stderr []byte
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("go list -deps .: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps . listed nothing")
	}
	allowed := []string{
		module + "/api/v1alpha1",
		module + "/controllers/translate",
		module + "/controllers/policy",
		module + "/controllers/awslambda",
		module + "/internal/version",
		module + "/cmd/kubectl-lperm",
	}
	for _, dep := range deps {
		switch {
		case dep == "sigs.k8s.io/controller-runtime/pkg/manager":
			t.Errorf("the plugin links %s", dep)
		case dep == "github.com/prometheus/client_golang" || strings.HasPrefix(dep, "github.com/prometheus/client_golang/"):
			t.Errorf("the plugin links %s", dep)
		case dep == module+"/controllers":
			t.Errorf("the plugin links the operator's reconcilers, %s", dep)
		case (dep == module || strings.HasPrefix(dep, module+"/")) && !slices.Contains(allowed, dep):
			t.Errorf("the plugin links %s; of this module it may link only %v", dep, allowed)
		}
	}
	t.Logf("%d packages", len(deps))
}
