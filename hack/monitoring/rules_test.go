//go:build integration

package monitoring

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

var (
	root       = repo.Root()
	alertsFile = filepath.Join(root, "config", "prometheus", "alerts.yaml")
	testsDir   = filepath.Join(root, "config", "prometheus", "tests")
	runbook    = filepath.Join(root, "docs", "runbook.md")
)

// rule is one alerting rule of alerts.yaml.
type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func alerts(t *testing.T) []rule {
	t.Helper()
	var file struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(mustRead(t, alertsFile), &file); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range file.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no rules", alertsFile)
	}
	return out
}

// TestRulesCheck is promtool check rules: the file parses, every
// expression is valid PromQL and every template renders.
func TestRulesCheck(t *testing.T) {
	out, err := exec.Command(tool(t, "promtool"), "check", "rules", alertsFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// TestRulesFireAndStayQuiet is promtool test rules over config/prometheus/tests:
// each alert fires where it should, with its labels and annotations, and
// nowhere else.
func TestRulesFireAndStayQuiet(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testsDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in %s (%v)", testsDir, err)
	}
	cmd := exec.Command(tool(t, "promtool"), append([]string{"test", "rules"}, files...)...)
	cmd.Dir = testsDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestEveryAlertIsTestedAndDocumented holds every alert to the same bar:
// a test file that shows it firing and not firing, a severity, a summary,
// and a runbook_url whose section exists in docs/runbook.md.
func TestEveryAlertIsTestedAndDocumented(t *testing.T) {
	sections := headings(t)
	tested := alertTests(t)
	for _, r := range alerts(t) {
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: no summary or description", r.Alert)
		}
		url := r.Annotations["runbook_url"]
		anchor := strings.ToLower(r.Alert)
		if !strings.HasSuffix(url, "/docs/runbook.md#"+anchor) {
			t.Errorf("%s: runbook_url %q, want docs/runbook.md#%s", r.Alert, url, anchor)
		}
		if !slices.Contains(sections, anchor) {
			t.Errorf("%s: docs/runbook.md has no section #%s", r.Alert, anchor)
		}
		cases := tested[r.Alert]
		if !cases.fires || !cases.quiet {
			t.Errorf("%s: the promtool tests show it firing: %v, and not firing: %v; want both", r.Alert, cases.fires, cases.quiet)
		}
	}
}

// headings are the anchors of docs/runbook.md's headings, as GitHub makes
// them.
func headings(t *testing.T) []string {
	t.Helper()
	var out []string
	nonWord := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(string(mustRead(t, runbook)), "\n") {
		if title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			out = append(out, strings.ReplaceAll(nonWord.ReplaceAllString(strings.ToLower(title), ""), " ", "-"))
		}
	}
	return out
}

type coverage struct{ fires, quiet bool }

// alertTests says, for each alert, whether some promtool test expects it
// to fire and some expects it not to.
func alertTests(t *testing.T) map[string]coverage {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testsDir, "*.yaml"))
	out := map[string]coverage{}
	for _, f := range files {
		var file struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `json:"alertname"`
					ExpAlerts []any  `json:"exp_alerts"`
				} `json:"alert_rule_test"`
			} `json:"tests"`
		}
		if err := yaml.Unmarshal(mustRead(t, f), &file); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, test := range file.Tests {
			for _, c := range test.AlertRuleTest {
				got := out[c.Alertname]
				if len(c.ExpAlerts) > 0 {
					got.fires = true
				} else {
					got.quiet = true
				}
				out[c.Alertname] = got
			}
		}
	}
	return out
}

// tool is bin/NAME, which make tools builds.
func tool(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(root, "bin", name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v (run make tools)", path, err)
	}
	return path
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Every condition reason the API defines has its runbook section, and
// every Event reason is named in it: what the operator can tell a user, the
// runbook explains.
func TestRunbookCoversEveryReason(t *testing.T) {
	sections := headings(t)
	text := string(mustRead(t, runbook))
	reasons, events := apiReasons(t)
	if len(reasons) < 20 || len(events) < 10 {
		t.Fatalf("found %d condition reasons and %d Event reasons in the API: the parse is wrong", len(reasons), len(events))
	}
	for _, r := range reasons {
		if !slices.Contains(sections, strings.ToLower(r)) {
			t.Errorf("condition reason %s: docs/runbook.md has no section ### %s", r, r)
		}
	}
	for _, e := range events {
		if !strings.Contains(text, "`"+e+"`") && !strings.Contains(text, "**"+e+".**") {
			t.Errorf("Event reason %s: docs/runbook.md does not name it", e)
		}
	}
}

// apiReasons are the values of api/v1alpha1's Reason* and Event*
// constants.
func apiReasons(t *testing.T) (reasons, events []string) {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "api", "v1alpha1", "constants.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			for i, name := range spec.(*ast.ValueSpec).Names {
				lit, ok := spec.(*ast.ValueSpec).Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				value, _ := strconv.Unquote(lit.Value)
				switch {
				case strings.HasPrefix(name.Name, "Reason"):
					reasons = append(reasons, value)
				case strings.HasPrefix(name.Name, "Event"):
					events = append(events, value)
				}
			}
		}
	}
	return reasons, events
}
