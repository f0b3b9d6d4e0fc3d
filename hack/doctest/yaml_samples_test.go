//go:build integration

package doctest

import (
	"fmt"
	"strings"
	"testing"
)

// permissionYAML is a LambdaPermission in namespace doctest-samples with
// the given spec lines.
func permissionYAML(name string, spec ...string) string {
	return "apiVersion: lambda.permissions.dev/v1alpha1\nkind: LambdaPermission\nmetadata:\n  name: " + name +
		"\n  namespace: doctest-samples\nspec:\n  " + strings.Join(spec, "\n  ")
}

// fenced is a YAML block, after an optional marker line.
func fenced(marker, body string) string {
	if marker != "" {
		marker += "\n"
	}
	return marker + "```yaml\n" + body + "\n```\n"
}

var (
	validSpec    = []string{"functionName: f", "principal: s3.amazonaws.com", "sourceArn: arn:aws:s3:::bucket"}
	refused      = "<!-- doctest: refused -->"
	sampleBlocks = []string{
		fenced("", permissionYAML("ok", validSpec...)),
		fenced("", permissionYAML("empty-principal", "functionName: f", `principal: ""`)),
		fenced("", permissionYAML("bad-effect", append(validSpec, "effect: Maybe")...)),
		fenced(refused, permissionYAML("accepted", validSpec...)),
		fenced(refused, permissionYAML("typo", append(validSpec, "principle: x")...)),
		fenced(refused, "apiVersion: lambda.permissions.dev/v1alpha1\nkind: LambdaResourcePolicy\nmetadata:\n"+
			"  name: numeric\nspec:\n  functionName: f\n  policy:\n    Statement:\n"+
			"    - {Sid: a, Effect: Allow, Principal: 5, Action: lambda:InvokeFunction}"),
		fenced("", "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\nspec: {nonsense: true}"),
		fenced("<!-- doctest: skip not an object yet -->", "apiVersion: v1\nkind: Nothing"),
		fenced("", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w"),
		fenced("", "spec:\n  principal: '*'"),
		fenced(refused, "spec:\n  principal: '*'"),
		fenced("", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: own\n---\n"+
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: own\ndata: {a: b}"),
		fenced("", "apiVersion: lambda.permissions.dev/v1alpha1\nkind: LambdaPermissionAccount\nmetadata:\n  name: prod\n"+
			"spec:\n  accountID: \"123456789012\"\n  access:\n  - namespaceSelector: {}"),
		fenced("", "kind: LambdaPermission\nmetadata: {name: x}"),
	}
)

// lineOfBlock is the line of the fence of sampleBlocks[i] in the joined
// sample.
func lineOfBlock(i int) int {
	line := 1
	for _, b := range sampleBlocks[:i] {
		line += strings.Count(b, "\n")
	}
	if strings.HasPrefix(sampleBlocks[i], "<!--") {
		line++
	}
	return line
}

func TestYAMLCheckReportsWhatTheAPIServerSays(t *testing.T) {
	ctx, c := testCluster(t)
	var logged strings.Builder
	logf := func(format string, args ...any) {
		t.Logf(format, args...)
		fmt.Fprintf(&logged, format+"\n", args...)
	}
	found := c.checkYAML(ctx, doc{"x.md", strings.Join(sampleBlocks, "")}, logf)
	at := func(i int, msg string) string { return fmt.Sprintf("x.md:%d: %s", lineOfBlock(i), msg) }
	expect(t, found,
		at(1, `LambdaPermission empty-principal refused: LambdaPermission.lambda.permissions.dev "empty-principal" is invalid: [spec.principal: Invalid value: ""`),
		at(2, `LambdaPermission bad-effect refused: LambdaPermission.lambda.permissions.dev "bad-effect" is invalid: [spec.effect: Unsupported value: "Maybe"`),
		at(3, "marked <!-- doctest: refused -->, but the API server accepted every object"),
		at(8, "Widget w: the control plane serves no example.com/v1 Widget"),
		at(10, "marked <!-- doctest: refused -->, but it holds no object applied here"),
		at(13, `a document has apiVersion "" and kind "LambdaPermission"`))
	for _, want := range []string{
		at(4, "refused, as marked: LambdaPermission typo refused"),
		at(5, "refused, as marked: LambdaResourcePolicy numeric refused"),
		at(6, "argoproj.io/v1alpha1 Application not applied: Argo CD's"),
		at(7, "skipped: not an object yet"),
	} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logged.String())
		}
	}
}

// TestYAMLCheckAppliesPrometheusObjects: with the Prometheus operator's
// CRDs installed, a ServiceMonitor is checked like any object.
func TestYAMLCheckAppliesPrometheusObjects(t *testing.T) {
	ctx, c := testCluster(t)
	if !c.promCRDs {
		t.Skipf("%s is missing (make tools puts it there): ServiceMonitors in the docs fail as unserved", promCRDsDir)
	}
	monitor := "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: m\n  namespace: monitoring\n" +
		"spec:\n  selector: {}\n  endpoints:\n  - port: metrics\n"
	found := c.checkYAML(ctx, doc{"x.md", fenced("", monitor) + fenced("", monitor+"    scheme: gopher")}, t.Logf)
	expect(t, found, `x.md:13: ServiceMonitor m refused: ServiceMonitor.monitoring.coreos.com "m" is invalid: spec.endpoints[0].scheme`)
}
