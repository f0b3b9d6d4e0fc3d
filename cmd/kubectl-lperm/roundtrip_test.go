//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/golden"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// The round trip runs the operator on a real kube-apiserver against the
// emulator, and kubectl as a user does: TestMain starts them.
const (
	region  = "us-east-1"
	account = "123456789012"
)

var (
	emu        *emulator.Server
	outside    *lambda.Client // another writer: the console, Terraform
	k8s        client.Client
	kubeconfig string // a file, as a user has one
	kubectl    string
)

// TestMain starts the operator. The plugin finds the emulator as it finds
// AWS: the SDK's standard configuration.
func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "kubectl-lperm", Region: region, Account: account, InstallCRDs: true, Emulator: true}, startOperator)
}

func startOperator(s *harness.Suite) error {
	emu, outside, k8s, kubeconfig, kubectl = s.Emulator, s.Outside, s.Client, s.Kubeconfig, s.Kubectl
	_, err := s.StartOperator(context.Background(), controllers.Options{
		Lambda:        harness.OperatorLambda(s.AWS, awslambda.Limits{GetPolicy: 200, ControlPlane: 200, GetFunction: 200}),
		DefaultRegion: region, SyncPeriod: time.Hour, MaxConcurrentReconciles: 4,
		// The recorded cases hold a public grant and services without a
		// source: an estate with them is adopted by an operator that allows them.
		Guardrails: engine.GuardrailSettings{AllowPublicAccess: true, AllowServiceWithoutSource: true}})
	return err
}

// lperm runs the plugin as kubectl does, and returns its stdout.
func lperm(t *testing.T, want int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != want {
		t.Fatalf("kubectl lperm %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, want, stderr.String())
	}
	return stdout.String()
}

// writes are the emulator's calls that change a policy.
func writes() int {
	calls := emu.Stats().Calls
	return calls["AddPermission"] + calls["RemovePermission"] + calls["PutResourcePolicy"] + calls["DeleteResourcePolicy"]
}

type livePolicy struct{ text, revision string }

func readPolicy(t *testing.T, function, qualifier string) livePolicy {
	t.Helper()
	in := &lambda.GetPolicyInput{FunctionName: aws.String(function)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := outside.GetPolicy(context.Background(), in)
	if err != nil {
		t.Fatalf("GetPolicy %s:%s: %v", function, qualifier, err)
	}
	return livePolicy{aws.ToString(out.Policy), aws.ToString(out.RevisionId)}
}

// estate makes a function whose policies hold every recorded AWS case (on
// the function, or on version 1 where the case named a qualifier), and a
// function URL grant on alias live, all written by AddPermission as the
// console or Terraform would; it returns how many statements that is.
func estate(t *testing.T, function string) int {
	t.Helper()
	ctx := context.Background()
	_, err := outside.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(function), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::123456789012:role/test"), Code: &types.FunctionCode{ZipFile: []byte("code")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outside.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(function)}); err != nil {
		t.Fatal(err)
	}
	if _, err := outside.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(function), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := outside.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(function), Qualifier: aws.String("live"), AuthType: types.FunctionUrlAuthTypeNone}); err != nil {
		t.Fatal(err)
	}
	sids := map[string]int{}
	statements := 0
	for _, c := range golden.MustLoad(t) {
		in := c.Input
		sid := in.StatementId
		if sids[sid]++; sids[sid] > 1 {
			sid = fmt.Sprintf("%s-%d", sid, sids[sid])
		}
		req := &lambda.AddPermissionInput{FunctionName: aws.String(function), StatementId: aws.String(sid), Action: aws.String(in.Action), Principal: aws.String(in.Principal),
			SourceArn: optional(in.SourceArn), SourceAccount: optional(in.SourceAccount), PrincipalOrgID: optional(in.PrincipalOrgID),
			EventSourceToken: optional(in.EventSourceToken), FunctionUrlAuthType: types.FunctionUrlAuthType(in.FunctionUrlAuthType)}
		if in.Qualifier != "" {
			req.Qualifier = aws.String("1")
		}
		if in.InvokedViaFunctionUrl {
			req.InvokedViaFunctionUrl = aws.Bool(true)
		}
		if _, err := outside.AddPermission(ctx, req); err != nil {
			t.Fatalf("case %s: AddPermission: %v", c.ID, err)
		}
		statements++
	}
	for _, req := range []*lambda.AddPermissionInput{
		{StatementId: aws.String("web-url"), Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{StatementId: aws.String("web-invoke"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
	} {
		req.FunctionName, req.Qualifier = aws.String(function), aws.String("live")
		if _, err := outside.AddPermission(ctx, req); err != nil {
			t.Fatal(err)
		}
		statements++
	}
	return statements
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func TestImportApplyAdoptsWithoutAWrite(t *testing.T) {
	const function, namespace = "estate", "imported"
	statements := estate(t, function)
	before := map[string]livePolicy{}
	for _, q := range []string{"", "1", "live"} {
		before[q] = readPolicy(t, function, q)
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}

	// Before: every statement is one no LambdaPermission manages.
	if got := countFindings(t, lperm(t, exitOK, "audit", "--function", function, "-o", "json", "--kubeconfig", kubeconfig), findingUnmanaged); got != statements {
		t.Errorf("audit before the import: %d unmanaged statements, want %d", got, statements)
	}

	manifest := lperm(t, exitOK, "import", "--function", function, "--namespace", namespace)
	writesBefore := writes()
	apply := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-")
	apply.Stdin = strings.NewReader(manifest)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s\nmanifest:\n%s", err, out, manifest)
	}

	// Every object Ready: its statement is in place as it stood.
	var permissions lambdav1alpha1.LambdaPermissionList
	var urls lambdav1alpha1.LambdaFunctionURLPermissionList
	harness.Eventually(t, "every imported object Ready", func() string {
		if err := k8s.List(context.Background(), &permissions, client.InNamespace(namespace)); err != nil {
			return err.Error()
		}
		if err := k8s.List(context.Background(), &urls, client.InNamespace(namespace)); err != nil {
			return err.Error()
		}
		if len(permissions.Items) != statements || len(urls.Items) != 1 {
			return fmt.Sprintf("%d LambdaPermissions and %d LambdaFunctionURLPermissions, want %d and 1", len(permissions.Items), len(urls.Items), statements)
		}
		for _, obj := range permissions.Items {
			if !ready(obj.Status.Conditions, obj.Generation) {
				return fmt.Sprintf("%s: %v", obj.Name, obj.Status.Conditions)
			}
		}
		if !ready(urls.Items[0].Status.Conditions, urls.Items[0].Generation) {
			return fmt.Sprintf("%s: %v", urls.Items[0].Name, urls.Items[0].Status.Conditions)
		}
		return ""
	})

	if n := writes() - writesBefore; n != 0 {
		t.Errorf("applying the import made %d writes (AddPermission, RemovePermission, PutResourcePolicy, DeleteResourcePolicy), want 0: %v", n, emu.Stats().Calls)
	}
	for q, was := range before {
		if now := readPolicy(t, function, q); now != was {
			t.Errorf("policy %s:%s changed:\nwas %+v\nnow %+v", function, q, was, now)
		}
	}

	// After: nothing left unmanaged.
	if got := countFindings(t, lperm(t, exitOK, "audit", "--function", function, "-o", "json", "--kubeconfig", kubeconfig), findingUnmanaged); got != 0 {
		t.Errorf("audit after the import: %d unmanaged statements, want 0", got)
	}
	lperm(t, exitOK, "audit", "--function", function, "--kubeconfig", kubeconfig, "--fail-on", findingUnmanaged)
	// The recorded cases hold a public grant and services without a source.
	lperm(t, exitFindings, "audit", "--function", function, "--kubeconfig", kubeconfig, "--fail-on", findingPublic+","+findingConfusedDeputy)
}

func countFindings(t *testing.T, out, kind string) int {
	t.Helper()
	var findings []finding
	if err := json.Unmarshal([]byte(out), &findings); err != nil {
		t.Fatalf("audit -o json: %v\n%s", err, out)
	}
	n := 0
	for _, f := range findings {
		if f.Kind == kind {
			n++
		}
	}
	return n
}

func ready(conditions []metav1.Condition, generation int64) bool {
	c := meta.FindStatusCondition(conditions, lambdav1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == generation
}

func TestAllFunctionsReadsEveryFunction(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none")) // no cluster: unmanaged Sids are not checked
	ctx := context.Background()
	functions := []string{"every-a", "every-b", "every-c"}
	for _, fn := range functions {
		_, err := outside.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(fn), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
			Role: aws.String("arn:aws:iam::123456789012:role/test"), Code: &types.FunctionCode{ZipFile: []byte("code")},
		})
		if err != nil {
			t.Fatal(err)
		}
		// A service with no source: one confused-deputy finding per function.
		if _, err := outside.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String("sns"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
	}

	manifest := lperm(t, exitOK, "import", "--all-functions", "--observe")
	var findings []finding
	if err := json.Unmarshal([]byte(lperm(t, exitOK, "audit", "--all-functions", "-o", "json")), &findings); err != nil {
		t.Fatal(err)
	}
	for _, fn := range functions {
		if !strings.Contains(manifest, "functionName: arn:aws:lambda:"+region+":"+account+":function:"+fn+"\n") {
			t.Errorf("import --all-functions has no object for %s:\n%s", fn, manifest)
		}
		deputies := 0
		for _, f := range findings {
			if f.Resource == "arn:aws:lambda:"+region+":"+account+":function:"+fn && f.Kind == findingConfusedDeputy && f.Sid == "sns" {
				deputies++
			}
			if f.Kind == findingUnmanaged {
				t.Errorf("an unmanaged finding without a cluster: %+v", f)
			}
		}
		if deputies != 1 {
			t.Errorf("%s: %d confused-deputy findings for its sns statement, want 1", fn, deputies)
		}
	}
	if strings.Count(manifest, "managementPolicy: Observe") != strings.Count(manifest, "\nkind: ") {
		t.Errorf("--observe: not every object is Observe:\n%s", manifest)
	}
}
