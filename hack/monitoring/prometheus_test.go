//go:build integration

package monitoring

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// TestOnARealPrometheus runs the operator binary against the emulator and
// a real Prometheus that scrapes it every second and evaluates
// config/prometheus/alerts.yaml. It drives the states the alerts are for,
// and checks that each alert goes pending (or fires, without a `for`) with
// the labels that name the object, and that every query of the Grafana
// dashboard returns data. Then it takes the operator's leadership away and
// the operator itself, for the last two alerts.
func TestOnARealPrometheus(t *testing.T) {
	const ns = "team-a"
	metricsAddr := harness.FreeAddress(t)
	operator := startOperator(t, "operator", metricsAddr)
	prom := startPrometheus(t, metricsAddr)
	// Prometheus must have the counters at 0 before the states below move
	// them: an increase is seen only between two samples.
	prom.waitData(t, `lambda_permission_drift_corrections_total{drift="replaced"} == 0`)
	createNamespace(t, ns)

	// Every state an alert is for, at once.
	createFunction(t, "orders")
	create(t, grant(ns, "s3", "orders", "arn:aws:s3:::uploads"))
	create(t, &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: "public", Namespace: ns},
		Spec: lambdav1alpha1.LambdaPermissionSpec{FunctionName: "orders", Principal: "*"}})
	create(t, grant(ns, "ghost", "no-such-function", "arn:aws:s3:::ghost"))
	bigARN := nearlyFullPolicy(t, "big")
	create(t, grant(ns, "big", "big", "arn:aws:s3:::big"))
	createFunction(t, "shared")
	// A replacement is several statements gone at once: one alone is
	// ordinary drift.
	create(t, grant(ns, "shared-a", "shared", "arn:aws:s3:::shared-a"))
	create(t, grant(ns, "shared-b", "shared", "arn:aws:s3:::shared-b"))
	waitReady(t, ns, "shared-a")
	waitReady(t, ns, "shared-b")
	replacePolicy(t, "shared")
	// Restored before AddPermission is throttled below: a restore is
	// counted once it is written.
	waitInPolicy(t, "shared", ns+"_shared-a", ns+"_shared-b")
	create(t, &lambdav1alpha1.LambdaPermissionAccount{ObjectMeta: metav1.ObjectMeta{Name: "denied"},
		Spec: lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: deniedAccount, RoleARN: deniedRole}})
	if err := suite.Emulator.SetFaults(emulator.Faults{Operations: map[string]emulator.OperationFaults{"AddPermission": {Throttle: 1}}}); err != nil {
		t.Fatal(err)
	}
	create(t, grant(ns, "throttled", "orders", "arn:aws:s3:::throttled"))

	want := []alert{
		{"LambdaPermissionNotReady", map[string]string{"kind": "LambdaPermission", "object_namespace": ns, "object_name": "ghost", "reason": "FunctionNotFound"}},
		{"LambdaPermissionStalled", map[string]string{"kind": "LambdaPermission", "object_namespace": ns, "object_name": "public", "reason": "PublicAccessDenied"}},
		{"LambdaPermissionStalled", map[string]string{"kind": "LambdaPermissionAccount", "object_name": "denied", "reason": "RoleTrustDenied"}},
		{"LambdaPolicyNearSizeLimit", map[string]string{"function": bigARN}},
		{"LambdaPermissionThrottled", map[string]string{"operation": "AddPermission", "account": account}},
		{"LambdaPolicyReplaced", map[string]string{}},
		{"LambdaPermissionAccessDenied", map[string]string{"operation": "AssumeRole", "account": deniedAccount, "outcome": "AccessDenied"}},
		// Most reconciles here fail: the Stalled grant is looked at again
		// every sync period, the missing function and the throttled grant
		// are retried.
		{"LambdaPermissionReconcileErrors", map[string]string{}},
	}
	for _, a := range want {
		state := prom.waitAlert(t, a)
		t.Logf("%s %v: %s", a.name, a.labels, state)
	}
	t.Run("every dashboard query returns data", func(t *testing.T) {
		for _, q := range dashboardQueries(t) {
			prom.waitData(t, q)
		}
	})
	if err := suite.Emulator.SetFaults(emulator.Faults{}); err != nil {
		t.Fatal(err)
	}

	t.Run("no leader", func(t *testing.T) {
		prom.waitData(t, `lambda_permission_leader == 1`) // the operator leads, without an election
		operator.Stop()
		holdLease(t)
		standby := startOperator(t, "standby", metricsAddr, "--leader-elect", "--leader-elect-namespace=default")
		prom.waitAlert(t, alert{"LambdaPermissionOperatorNoLeader", map[string]string{}})
		t.Run("absent", func(t *testing.T) {
			standby.Stop()
			prom.waitAlert(t, alert{"LambdaPermissionOperatorAbsent", map[string]string{}})
		})
	})
}

// alert is an alert by name, with the labels it must carry.
type alert struct {
	name   string
	labels map[string]string
}

// prometheus is a running Prometheus, by the address of its API.
type prometheus struct{ addr string }

// startPrometheus runs bin/prometheus scraping the operator's metrics at
// target every second, evaluating the alerts every second.
func startPrometheus(t *testing.T, target string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
- job_name: lambda-permission-operator
  static_configs: [{targets: [%q]}]
`, alertsFile, target)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &prometheus{addr: harness.FreeAddress(t)}
	start(t, "prometheus", tool(t, "prometheus"), nil, "--config.file="+configFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.addr, "--log.level=warn")
	return p
}

// api GETs path with query from Prometheus's HTTP API into out (its data).
func (p *prometheus) api(path string, query url.Values, out any) error {
	resp, err := http.Get("http://" + p.addr + path + "?" + query.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if body.Status != "success" {
		return fmt.Errorf("%s %s: %s", path, query.Encode(), body.Error)
	}
	return json.Unmarshal(body.Data, out)
}

// waitAlert waits until Prometheus has alert a pending or firing with its
// labels, and returns which.
func (p *prometheus) waitAlert(t *testing.T, a alert) string {
	t.Helper()
	var state string
	harness.Eventually(t, fmt.Sprintf("prometheus: alert %s %v pending or firing", a.name, a.labels), func() string {
		var data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		}
		if err := p.api("/api/v1/alerts", nil, &data); err != nil {
			return err.Error()
		}
		var seen []string
		for _, got := range data.Alerts {
			if got.Labels["alertname"] != a.name {
				continue
			}
			seen = append(seen, fmt.Sprint(got.Labels))
			if hasLabels(got.Labels, a.labels) {
				state = got.State
				return ""
			}
		}
		return fmt.Sprintf("only %v", seen)
	})
	return state
}

// waitData waits until query returns at least one series.
func (p *prometheus) waitData(t *testing.T, query string) {
	t.Helper()
	harness.Eventually(t, "prometheus: data for the dashboard's "+query, func() string {
		var data struct {
			Result []json.RawMessage `json:"result"`
		}
		if err := p.api("/api/v1/query", url.Values{"query": {query}}, &data); err != nil {
			return err.Error()
		}
		if len(data.Result) == 0 {
			return "no series"
		}
		return ""
	})
}

func hasLabels(got, want map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// dashboardQueries are the expressions of every panel of the Grafana
// dashboard.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(root, "config", "grafana", "lambda-permission-operator.json")), &dashboard); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range dashboard.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			out = append(out, target.Expr)
		}
	}
	return out
}

// operator starts the manager binary with the emulator's AWS environment,
// metrics on metricsAddr, and a 2-second sync period.
func startOperator(t *testing.T, name, metricsAddr string, args ...string) *harness.Process {
	t.Helper()
	env := []string{"KUBECONFIG=" + suite.Kubeconfig}
	for k, v := range harness.AWSEnvironment(suite.EmulatorURL, region, suite.Dir) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return start(t, name, suite.ManagerBinary, env, append([]string{"--metrics-bind-address=" + metricsAddr,
		"--health-probe-bind-address=" + harness.FreeAddress(t), "--sync-period=2s"}, args...)...)
}

// start runs binary with env added to a clean environment, logging to the
// suite's directory, and stops it when the test ends.
func start(t *testing.T, name, binary string, env []string, args ...string) *harness.Process {
	t.Helper()
	env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + suite.Dir}, env...)
	return harness.StartProcess(t, name, binary, filepath.Join(suite.Dir, name+".log"), env, args...)
}

// holdLease makes another holder own the operator's leader election Lease
// for an hour, as a replica stuck elsewhere would.
func holdLease(t *testing.T) {
	t.Helper()
	holder, seconds, now := "someone-else", int32(3600), metav1.NewMicroTime(time.Now())
	create(t, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "lambda-permission-operator.permissions.dev", Namespace: "default"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &seconds, AcquireTime: &now, RenewTime: &now}})
}

// nearlyFullPolicy creates function name with statements of another
// writer until its policy is over 90 % of Lambda's 20 KB limit, with room
// for one more grant, and returns the function's ARN.
func nearlyFullPolicy(t *testing.T, name string) string {
	t.Helper()
	createFunction(t, name)
	for i := 0; ; i++ {
		text, _, _ := suite.Emulator.Policy(name, "")
		if len(text) > 18900 {
			break
		}
		if _, err := suite.Outside.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String(fmt.Sprintf("terraform-%03d", i)),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"),
			SourceArn: aws.String(fmt.Sprintf("arn:aws:events:%s:%s:rule/a-rather-long-name-for-a-nightly-rule-%03d", region, account, i))}); err != nil {
			t.Fatal(err)
		}
	}
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// replacePolicy has another writer put a whole policy on function that
// leaves out the operator's statement.
func replacePolicy(t *testing.T, function string) {
	t.Helper()
	arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + function
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"theirs","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":%q}]}`, arn)
	if _, err := suite.Outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
}

// waitInPolicy waits until function's policy holds every one of sids.
func waitInPolicy(t *testing.T, function string, sids ...string) {
	t.Helper()
	harness.Eventually(t, fmt.Sprintf("%v back in the policy of %s", sids, function), func() string {
		text, _, _ := suite.Emulator.Policy(function, "")
		for _, sid := range sids {
			if !strings.Contains(text, fmt.Sprintf("%q", sid)) {
				return text
			}
		}
		return ""
	})
}

func createFunction(t *testing.T, name string) {
	t.Helper()
	if _, err := suite.Outside.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Handler: aws.String("index.handler"), Role: aws.String("arn:aws:iam::" + account + ":role/fn"), Code: &types.FunctionCode{ZipFile: []byte("code")}}); err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
}

func grant(namespace, name, function, sourceArn string) *lambdav1alpha1.LambdaPermission {
	return &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: lambdav1alpha1.LambdaPermissionSpec{FunctionName: function, Principal: "s3.amazonaws.com", SourceArn: sourceArn, SourceAccount: account}}
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := kube.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// waitReady waits until LambdaPermission namespace/name is Ready.
func waitReady(t *testing.T, namespace, name string) {
	t.Helper()
	harness.Eventually(t, "LambdaPermission "+namespace+"/"+name+" Ready", func() string {
		var p lambdav1alpha1.LambdaPermission
		if err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &p); err != nil {
			return err.Error()
		}
		if !meta.IsStatusConditionTrue(p.Status.Conditions, lambdav1alpha1.ConditionReady) {
			return fmt.Sprint(p.Status.Conditions)
		}
		return ""
	})
}
