// Command demo is `make demo`: it starts etcd and kube-apiserver with the
// project's CRDs, the Lambda emulator and the operator (bin/manager), applies
// config/samples, waits for every sample to be Ready and checks that each
// function's policy holds exactly the statements expected: the seed's
// function, written statement by statement in the operator's own account,
// and a second function in another account whose LambdaPermissionAccount
// has writeStrategy Document, with a Deny that only a whole policy document
// can hold.
//
// With DEMO_ONCE=1 it then stops everything and exits 0 only when all of that
// held; otherwise it keeps running for you to try things until Ctrl-C. Its
// state and logs are in .demo/ at the repository root.
//
// Run it through make (which builds the binaries it needs):
//
//	make demo
//	DEMO_ONCE=1 make demo
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// The seed's function and account (its examples run in us-east-2).
const (
	region       = "us-east-2"
	accountID    = "123456789012"
	functionName = "my-function"
)

// The second function, in another account of the emulator. The sample
// LambdaPermissionAccount (config/samples/lambda_v1alpha1_lambdapermissionaccount_document.yaml)
// declares it with writeStrategy Document and the role below, which the
// emulator lets the operator's account assume; the values must match.
const (
	documentAccountID    = "210987654321"
	documentFunctionName = "orders-api"
	documentRoleARN      = "arn:aws:iam::" + documentAccountID + ":role/lambda-permission-operator"
	documentExternalID   = "lambda-permission-operator-demo"
	documentAccountName  = "orders" // the LambdaPermissionAccount's name, as printed
)

// expectedStatements are the statements the seed's two AddPermission examples
// make Lambda store, by Sid, byte for byte. The seed prints the S3 SourceArn
// without its "/*", but Lambda stores it as requested (seed README).
var expectedStatements = map[string]string{
	"s3": `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function",` +
		`"Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket-1xpuxmplzrlbh/*"}}}`,
	"xaccount": `{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"}`,
}

// documentExpectedStatements are the statements of the second function's
// policy, byte for byte as the operator renders them (policy.DesiredStatement
// and Statement.Render) and puts them with PutResourcePolicy: the Deny with
// its NotIpAddress condition, and the Allow beside it.
var documentExpectedStatements = map[string]string{
	"partner": `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:210987654321:function:orders-api"}`,
	"deny-outside-network": `{"Sid":"deny-outside-network","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:210987654321:function:orders-api",` +
		`"Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`,
}

// The functions whose whole policy a LambdaResourcePolicy declares
// (config/samples/lambda_v1alpha1_lambdaresourcepolicy*.yaml), both in the
// operator's own account and both with statements made outside the operator
// beforehand: payments-api's is managed (Manage), billing-api's only observed.
const (
	ownedFunctionName    = "payments-api"
	observedFunctionName = "billing-api"
)

// ownedExpectedStatements are payments-api's statements once its
// LambdaResourcePolicy has made the policy: its two, and the included
// LambdaPermission's, as the operator renders them; stale-grant, made
// beforehand with AddPermission, is gone.
var ownedExpectedStatements = map[string]string{
	"partner": `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:123456789012:function:payments-api"}`,
	"deny-outside-network": `{"Sid":"deny-outside-network","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:123456789012:function:payments-api",` +
		`"Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`,
	"nightly": `{"Sid":"nightly","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"arn:aws:lambda:us-east-2:123456789012:function:payments-api",` +
		`"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:events:us-east-2:123456789012:rule/nightly"}}}`,
}

// preexistingStatements are made on the two functions before the operator
// starts, as the console would.
var preexistingStatements = map[string][]*lambda.AddPermissionInput{
	ownedFunctionName: {
		{StatementId: aws.String("stale-grant"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("444455556666")},
	},
	observedFunctionName: {
		{StatementId: aws.String("partner"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("223456789012")},
		{StatementId: aws.String("legacy-sns"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com"),
			SourceArn: aws.String("arn:aws:sns:us-east-2:123456789012:billing-events")},
	},
}

// The samples that are not in config/samples/kustomization.yaml (other tools
// apply that one), which the demo applies after it.
var resourcePolicySamples = []string{"lambda_v1alpha1_lambdaresourcepolicy.yaml", "lambda_v1alpha1_lambdaresourcepolicy_observe.yaml"}

// observedPending is what billing-api's LambdaResourcePolicy (Observe) must
// report that Manage would do: its partner is in place (Lambda stores the
// account as its root ARN, the same grant), deny-outside-network is missing,
// legacy-sns is not declared.
var observedPending = map[string][]string{"added": {"deny-outside-network"}, "removed": {"legacy-sns"}}

// demoFunction is a function the demo creates and whose policy it checks.
type demoFunction struct {
	account  string
	name     string
	strategy string // how the operator writes its policy, as printed
	expected map[string]string
	// what is printed on the policy check's success
	matches string
}

func (f demoFunction) arn() string {
	return "arn:aws:lambda:" + region + ":" + f.account + ":function:" + f.name
}

var (
	seedFunction = demoFunction{
		account: accountID, name: functionName, strategy: "Statements",
		expected: expectedStatements, matches: "policy matches the seed's expected statements",
	}
	documentFunction = demoFunction{
		account: documentAccountID, name: documentFunctionName, strategy: "Document",
		expected: documentExpectedStatements, matches: "policy holds the Allow and the Deny as the operator renders them",
	}
	ownedFunction = demoFunction{
		account: accountID, name: ownedFunctionName, strategy: "LambdaResourcePolicy",
		expected: ownedExpectedStatements, matches: "policy is exactly the LambdaResourcePolicy's statements and the included LambdaPermission's",
	}
	demoFunctions = []demoFunction{seedFunction, documentFunction, ownedFunction}
)

const (
	readyTimeout        = 90 * time.Second
	managerStartTimeout = 60 * time.Second
	managerStopTimeout  = 30 * time.Second
)

// Paths relative to the repository root.
const (
	demoDirName       = ".demo" // this run's state and logs
	samplesDir        = "config/samples"
	kustomizationFile = "kustomization.yaml"
	managerBinary     = "bin/manager"
)

// Files under .demo/.
const (
	kubeconfigFile = "kubeconfig"
	endpointFile   = "lambda-endpoint"
	etcdLog        = "etcd.log"
	apiServerLog   = "kube-apiserver.log"
	envtestLog     = "envtest.log" // controller-runtime's logging in this process
	emulatorLog    = "lambda-emulator.log"
	operatorLog    = "operator.log"
)

// operatorLogTailLines is how much of the operator's log a failure shows.
const operatorLogTailLines = 30

// stepError is a failed step: what failed, why, and which logs tell more.
type stepError struct {
	step string
	err  error
	logs []string
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }

func failed(step string, err error, logs ...string) error {
	return &stepError{step: step, err: err, logs: logs}
}

// demo holds everything the demo started, so that cleanup can stop it.
type demo struct {
	root    string // repository root
	dir     string // .demo/
	kubectl string

	env          *envtest.Environment
	envStarted   bool
	kube         client.Client
	emulator     *emulator.Server
	emulatorHTTP *http.Server
	emulatorURL  string

	manager        *exec.Cmd
	managerExited  chan struct{} // closed when the manager process is gone
	managerExitErr error         // valid once managerExited is closed

	samples   []*unstructured.Unstructured
	openFiles []*os.File
	startedAt time.Time

	// observedPolicy is billing-api's policy and RevisionId before the
	// operator started: an Observe object must leave both as they are.
	observedPolicy, observedRevision string
}

func main() {
	os.Exit(run())
}

// run returns the process exit code. Cleanup runs on every path.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := &demo{root: repo.Root(), startedAt: time.Now()}
	d.dir = filepath.Join(d.root, demoDirName)
	defer d.cleanup()

	err := d.start(ctx)
	if err == nil {
		err = d.check(ctx)
	}
	if err != nil {
		d.report(ctx, err)
		return 1
	}

	if os.Getenv("DEMO_ONCE") == "1" {
		fmt.Printf("==> demo succeeded in %s\n", time.Since(d.startedAt).Round(time.Second))
		return 0
	}
	d.printUsage()
	if err := d.runUntilInterrupted(ctx); err != nil {
		d.report(ctx, err)
		return 1
	}
	return 0
}

// start brings up everything the samples need, in order.
func (d *demo) start(ctx context.Context) error {
	steps := []func(context.Context) error{
		d.prepareDemoDir,
		d.startControlPlane,
		d.writeKubeconfig,
		d.startEmulator,
		d.createFunctions,
		d.createLegacyEstate,
		d.createPoliciesToOwn,
		d.startOperator,
		d.applySamples,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return failed("interrupted", errors.New("stop requested"))
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// check waits for the samples and compares the resulting policy with the
// seed's. The state is printed even when the samples never got Ready, since
// that is what explains why.
func (d *demo) check(ctx context.Context) error {
	readyErr := d.waitForSamplesReady(ctx)
	if ctx.Err() != nil {
		return readyErr
	}
	d.printPermissions(ctx)
	var policyErr error
	for _, f := range demoFunctions {
		d.printPolicy(f)
		if err := d.verifyPolicy(f); err != nil && policyErr == nil {
			policyErr = err
		}
	}
	if err := d.verifyObserved(ctx); err != nil && policyErr == nil {
		policyErr = err
	}
	if readyErr != nil {
		return readyErr
	}
	return policyErr
}

// verifyObserved checks that billing-api's LambdaResourcePolicy, which only
// observes, wrote nothing (the policy and its RevisionId are as they were
// before the operator started) and reports exactly what Manage would do.
func (d *demo) verifyObserved(ctx context.Context) error {
	fmt.Printf("==> checking that the Observe LambdaResourcePolicy %s wrote nothing and reports what Manage would do\n", observedFunctionName)
	const step = "checking the Observe LambdaResourcePolicy"
	var problems []string
	if policy, revision, _ := d.emulator.Policy(observedFunctionName, ""); policy != d.observedPolicy || revision != d.observedRevision {
		problems = append(problems, fmt.Sprintf("the policy of %s changed: %s (RevisionId %s, was %s)", observedFunctionName, policy, revision, d.observedRevision))
	}
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("lambda.permissions.dev/v1alpha1")
	obj.SetKind("LambdaResourcePolicy")
	if err := d.kube.Get(ctx, types.NamespacedName{Namespace: "default", Name: observedFunctionName}, obj); err != nil {
		return failed(step, err, d.rel(apiServerLog))
	}
	for _, field := range []string{"added", "changed", "removed"} {
		got, _, _ := unstructured.NestedStringSlice(obj.Object, "status", "pendingChange", field)
		if want := observedPending[field]; !slices.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("status.pendingChange.%s is %v, want %v", field, got, want))
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Printf("    %s\n", p)
		}
		return failed(step, fmt.Errorf("%d problem(s)", len(problems)), d.rel(operatorLog), d.rel(emulatorLog))
	}
	fmt.Printf("    policy and RevisionId %s unchanged; status.pendingChange: add %v, remove %v\n",
		d.observedRevision, observedPending["added"], observedPending["removed"])
	return nil
}

// prepareDemoDir empties .demo/ so that no file of an earlier run is mistaken
// for this one's, unless a demo still running uses it.
func (d *demo) prepareDemoDir(context.Context) error {
	if endpoint, err := os.ReadFile(filepath.Join(d.dir, endpointFile)); err == nil {
		url := strings.TrimSpace(string(endpoint))
		probe := &http.Client{Timeout: time.Second}
		if resp, err := probe.Get(url); err == nil {
			_ = resp.Body.Close()
			return failed("preparing "+demoDirName, fmt.Errorf("another demo is running (its Lambda emulator answers at %s); stop it first", url))
		}
	}
	if err := os.RemoveAll(d.dir); err != nil {
		return failed("preparing "+demoDirName, err)
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return failed("preparing "+demoDirName, err)
	}
	// controller-runtime's own logging in this process (envtest's retries)
	// goes to a file; unset, it warns on stderr after 30 seconds.
	logFile, err := d.createLog(envtestLog)
	if err != nil {
		return failed("preparing "+demoDirName, err)
	}
	ctrllog.SetLogger(zap.New(zap.WriteTo(logFile)))
	return nil
}

func (d *demo) startControlPlane(context.Context) error {
	logs := []string{d.rel(apiServerLog), d.rel(etcdLog), d.rel(envtestLog)}
	fmt.Printf("==> starting etcd and kube-apiserver (logs: %s)\n", strings.Join(logs, ", "))
	const step = "starting etcd and kube-apiserver"

	assets, err := controlplane.AssetsDir()
	if err != nil {
		return failed(step, err)
	}
	d.kubectl = filepath.Join(assets, "kubectl")
	env, err := controlplane.New()
	if err != nil {
		return failed(step, err)
	}
	apiServerOut, err := d.createLog(apiServerLog)
	if err != nil {
		return failed(step, err)
	}
	etcdOut, err := d.createLog(etcdLog)
	if err != nil {
		return failed(step, err)
	}
	env.ControlPlane.APIServer = &envtest.APIServer{Out: apiServerOut, Err: apiServerOut}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdOut, Err: etcdOut}

	d.env = env
	// Start can fail after some processes are up (installing the CRDs, say);
	// cleanup must stop them all the same.
	d.envStarted = true
	started := time.Now()
	if _, err := env.Start(); err != nil {
		return failed(step, err, logs...)
	}
	fmt.Printf("    up in %s with the CRDs from config/crd/bases\n", time.Since(started).Round(100*time.Millisecond))
	return nil
}

// writeKubeconfig provisions an admin user and writes its kubeconfig, for the
// operator, this program's client and you.
func (d *demo) writeKubeconfig(context.Context) error {
	path := filepath.Join(d.dir, kubeconfigFile)
	fmt.Printf("==> writing the admin kubeconfig to %s\n", d.rel(kubeconfigFile))
	const step = "writing the admin kubeconfig"

	user, err := d.env.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return failed(step, err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return failed(step, err)
	}
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return failed(step, err)
	}
	d.kube, err = client.New(user.Config(), client.Options{})
	if err != nil {
		return failed(step, err)
	}
	return nil
}

// startEmulator serves the Lambda emulator in this process on a free port,
// with the role of the second account that the operator assumes.
func (d *demo) startEmulator(context.Context) error {
	fmt.Printf("==> starting the Lambda emulator (%s, accounts %s and %s; log: %s)\n", region, accountID, documentAccountID, d.rel(emulatorLog))
	const step = "starting the Lambda emulator"

	logFile, err := d.createLog(emulatorLog)
	if err != nil {
		return failed(step, err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return failed(step, err)
	}
	d.emulator = emulator.New(emulator.Config{
		Region:    region,
		AccountID: accountID, // the operator's own: its credentials map to no other
		Roles: []emulator.Role{{
			ARN:             documentRoleARN,
			ExternalID:      documentExternalID,
			TrustedAccounts: []string{accountID},
		}},
	})
	d.emulatorHTTP = &http.Server{Handler: emulator.LogRequests(d.emulator, logFile), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.emulatorHTTP.Serve(listener) }()
	d.emulatorURL = "http://" + listener.Addr().String()

	if err := os.WriteFile(filepath.Join(d.dir, endpointFile), []byte(d.emulatorURL+"\n"), 0o644); err != nil {
		return failed(step, err)
	}
	fmt.Printf("    listening on %s (written to %s)\n", d.emulatorURL, d.rel(endpointFile))
	fmt.Printf("    role %s may be assumed from account %s\n", documentRoleARN, accountID)
	return nil
}

// createFunctions creates the seed's function, and the second one in its
// own account, through the real SDK, as a user would, so that the
// permissions have something to attach to.
func (d *demo) createFunctions(ctx context.Context) error {
	for _, f := range demoFunctions {
		if err := d.createFunction(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) createFunction(ctx context.Context, f demoFunction) error {
	fmt.Printf("==> creating the function %s in account %s\n", f.name, f.account)
	step := "creating the function " + f.name

	// The operator's credentials act in the default account; another
	// account's function is created with credentials of that account.
	accessKey, secretKey := "demo", "demo"
	if f.account != accountID {
		accessKey, secretKey = d.emulator.AccessKeyFor(f.account)
	}
	lambdaClient := lambda.New(lambda.Options{
		Region:       region,
		BaseEndpoint: aws.String(d.emulatorURL),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
	out, err := lambdaClient.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(f.name),
		Runtime:      lambdatypes.RuntimePython312,
		Role:         aws.String("arn:aws:iam::" + f.account + ":role/demo"),
		Handler:      aws.String("index.handler"),
		Code:         &lambdatypes.FunctionCode{ZipFile: []byte("demo function code")},
	})
	if err != nil {
		return failed(step, err, d.rel(emulatorLog))
	}
	if got := aws.ToString(out.FunctionArn); got != f.arn() {
		return failed(step, fmt.Errorf("created %s, want %s", got, f.arn()), d.rel(emulatorLog))
	}
	fmt.Printf("    %s\n", aws.ToString(out.FunctionArn))
	return nil
}

// legacyFunctionName is a function whose policy was made before the
// operator, by the console and the CLI: what kubectl lperm import and audit
// are for. The operator manages none of it until someone imports it.
const legacyFunctionName = "legacy-api"

// legacyStatements are its statements, as another tool made them: a public
// function URL with only the statement URLs needed before November 2026, a
// service with no source, and an account grant.
var legacyStatements = []*lambda.AddPermissionInput{
	{StatementId: aws.String("FunctionURLAllowPublicAccess"), Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"),
		FunctionUrlAuthType: lambdatypes.FunctionUrlAuthTypeNone},
	{StatementId: aws.String("sns-alerts"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com")},
	{StatementId: aws.String("partner-read"), Action: aws.String("lambda:GetFunction"), Principal: aws.String("223456789012")},
	{StatementId: aws.String("nightly"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"),
		SourceArn: aws.String("arn:aws:events:us-east-2:123456789012:rule/nightly")},
}

// createLegacyEstate makes legacy-api, its function URL and its statements
// through the SDK, as the console would.
func (d *demo) createLegacyEstate(ctx context.Context) error {
	legacy := demoFunction{account: accountID, name: legacyFunctionName}
	if err := d.createFunction(ctx, legacy); err != nil {
		return err
	}
	step := "making the statements of " + legacyFunctionName
	lambdaClient := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(d.emulatorURL),
		Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", "")})
	if _, err := lambdaClient.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
		FunctionName: aws.String(legacyFunctionName), AuthType: lambdatypes.FunctionUrlAuthTypeNone}); err != nil {
		return failed(step, err, d.rel(emulatorLog))
	}
	for _, in := range legacyStatements {
		in.FunctionName = aws.String(legacyFunctionName)
		if _, err := lambdaClient.AddPermission(ctx, in); err != nil {
			return failed(step, err, d.rel(emulatorLog))
		}
	}
	fmt.Printf("    with a function URL and %d statements made outside the operator (see kubectl lperm audit)\n", len(legacyStatements))
	return nil
}

// createPoliciesToOwn makes payments-api and billing-api with the
// statements someone made by hand before the operator, and records
// billing-api's policy as it is then.
func (d *demo) createPoliciesToOwn(ctx context.Context) error {
	lambdaClient := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(d.emulatorURL),
		Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", "")})
	// payments-api is one of demoFunctions, created already.
	if err := d.createFunction(ctx, demoFunction{account: accountID, name: observedFunctionName}); err != nil {
		return err
	}
	for _, name := range []string{ownedFunctionName, observedFunctionName} {
		for _, in := range preexistingStatements[name] {
			in.FunctionName = aws.String(name)
			if _, err := lambdaClient.AddPermission(ctx, in); err != nil {
				return failed("making the statements of "+name, err, d.rel(emulatorLog))
			}
		}
		fmt.Printf("    %s: %d statement(s) made outside the operator\n", name, len(preexistingStatements[name]))
	}
	policy, revision, ok := d.emulator.Policy(observedFunctionName, "")
	if !ok {
		return failed("reading the policy of "+observedFunctionName, errors.New("no policy"))
	}
	d.observedPolicy, d.observedRevision = policy, revision
	return nil
}

// startOperator runs bin/manager against the control plane and the emulator
// and waits until its readiness probe answers.
func (d *demo) startOperator(ctx context.Context) error {
	fmt.Printf("==> starting the operator (%s; log: %s)\n", managerBinary, d.rel(operatorLog))
	const step = "starting the operator"

	// A port of our choosing, so that we can poll the readiness probe.
	probeAddr, err := controlplane.FreeLocalAddress()
	if err != nil {
		return failed(step, err)
	}
	logFile, err := d.createLog(operatorLog)
	if err != nil {
		return failed(step, err)
	}

	cmd := exec.Command(filepath.Join(d.root, managerBinary),
		"--metrics-bind-address=0",
		"--health-probe-bind-address="+probeAddr,
		"--zap-encoder=console",
		"--zap-time-encoding=iso8601",
	)
	cmd.Dir = d.root
	cmd.Env = d.operatorEnvironment()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: Ctrl-C in the terminal must not reach it before
	// cleanup stops it in order, while the API server is still up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return failed(step, err)
	}
	d.manager = cmd
	d.managerExited = make(chan struct{})
	go func() {
		d.managerExitErr = cmd.Wait()
		close(d.managerExited)
	}()
	fmt.Printf("    pid %d, health probes on %s\n", cmd.Process.Pid, probeAddr)

	if err := d.waitForOperatorReady(ctx, "http://"+probeAddr+"/readyz"); err != nil {
		return failed(step, err, d.rel(operatorLog))
	}
	return nil
}

// operatorEnvironment is this process's environment without any AWS or
// Kubernetes settings of yours, plus those that point at the demo.
func (d *demo) operatorEnvironment() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "KUBECONFIG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"KUBECONFIG="+filepath.Join(d.dir, kubeconfigFile),
		"AWS_ENDPOINT_URL_LAMBDA="+d.emulatorURL,
		"AWS_ENDPOINT_URL_STS="+d.emulatorURL, // the operator learns its own account from STS
		"AWS_REGION="+region,
		"AWS_ACCESS_KEY_ID=demo",
		"AWS_SECRET_ACCESS_KEY=demo",
		// Keep ~/.aws and instance metadata out of it.
		"AWS_CONFIG_FILE="+filepath.Join(d.dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(d.dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func (d *demo) waitForOperatorReady(ctx context.Context, readyzURL string) error {
	deadline := time.Now().Add(managerStartTimeout)
	httpClient := &http.Client{Timeout: 2 * time.Second}
	for {
		if err := d.operatorExitedError(); err != nil {
			return err
		}
		if resp, err := httpClient.Get(readyzURL); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Println("    ready")
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s (%s)", managerStartTimeout, readyzURL)
		}
		select {
		case <-ctx.Done():
			return errors.New("stop requested")
		case <-d.managerExited:
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// operatorExitedError is non-nil once the manager process has exited.
func (d *demo) operatorExitedError() error {
	select {
	case <-d.managerExited:
		if d.managerExitErr != nil {
			return fmt.Errorf("the operator exited early: %w", d.managerExitErr)
		}
		return errors.New("the operator exited early (status 0)")
	default:
		return nil
	}
}

// applySamples creates every object of the files config/samples/kustomization.yaml lists.
func (d *demo) applySamples(ctx context.Context) error {
	fmt.Printf("==> applying %s\n", samplesDir)
	const step = "applying " + samplesDir

	samples, err := readSamples(filepath.Join(d.root, samplesDir))
	if err != nil {
		return failed(step, err)
	}
	for _, file := range resourcePolicySamples {
		more, err := repo.Objects(filepath.Join(d.root, samplesDir, file))
		if err != nil {
			return failed(step, err)
		}
		samples = append(samples, more...)
	}
	for _, sample := range samples {
		if err := d.kube.Create(ctx, sample); err != nil {
			return failed(step, fmt.Errorf("creating %s: %w", objectLabel(sample), err), d.rel(apiServerLog))
		}
		fmt.Printf("    created %s\n", objectLabel(sample))
	}
	d.samples = samples
	return nil
}

// readSamples parses the resources a kustomization lists (plain files only,
// which is all config/samples uses).
func readSamples(dir string) ([]*unstructured.Unstructured, error) {
	var kustomization struct {
		Resources []string `json:"resources"`
	}
	if err := decodeYAMLFile(filepath.Join(dir, kustomizationFile), func(decode func(any) error) error {
		return decode(&kustomization)
	}); err != nil {
		return nil, err
	}
	if len(kustomization.Resources) == 0 {
		return nil, fmt.Errorf("%s lists no resources", kustomizationFile)
	}
	var samples []*unstructured.Unstructured
	for _, resource := range kustomization.Resources {
		more, err := repo.Objects(filepath.Join(dir, resource))
		if err != nil {
			return nil, err
		}
		samples = append(samples, more...)
	}
	return samples, nil
}

// decodeYAMLFile calls read with a decoder of the file's YAML documents;
// io.EOF from it means the file was read to its end.
func decodeYAMLFile(path string, read func(decode func(any) error) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	if err := read(decoder.Decode); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// waitForSamplesReady polls until every sample has Ready=True for its current
// generation, telling once about each reason it is not.
func (d *demo) waitForSamplesReady(ctx context.Context) error {
	fmt.Printf("==> waiting up to %s for every sample to be Ready\n", readyTimeout)
	const step = "waiting for the samples to be Ready"

	started := time.Now()
	deadline := started.Add(readyTimeout)
	ready := map[string]bool{}
	lastNotReady := map[string]string{}
	for {
		for _, sample := range d.samples {
			name := objectLabel(sample)
			if ready[name] {
				continue
			}
			current := &unstructured.Unstructured{}
			current.SetGroupVersionKind(sample.GroupVersionKind())
			key := types.NamespacedName{Namespace: sample.GetNamespace(), Name: sample.GetName()}
			if err := d.kube.Get(ctx, key, current); err != nil {
				if ctx.Err() != nil {
					return failed(step, errors.New("stop requested"))
				}
				return failed(step, fmt.Errorf("reading %s: %w", name, err), d.rel(apiServerLog))
			}
			status, reason, message := readyCondition(current)
			switch {
			case status == "True":
				ready[name] = true
				fmt.Printf("    %s is Ready after %s\n", name, time.Since(started).Round(100*time.Millisecond))
			case status == "False" && observes(current) && reason == "DriftDetected":
				// Observe reports what differs and writes nothing: done.
				ready[name] = true
				fmt.Printf("    %s observed the policy after %s: %s\n", name, time.Since(started).Round(100*time.Millisecond), message)
			case status == "False":
				if report := reason + ": " + message; lastNotReady[name] != report {
					lastNotReady[name] = report
					fmt.Printf("    %s is not Ready: %s\n", name, report)
				}
			}
		}
		if len(ready) == len(d.samples) {
			return nil
		}
		if err := d.operatorExitedError(); err != nil {
			return failed(step, err, d.rel(operatorLog))
		}
		if time.Now().After(deadline) {
			var waiting []string
			for _, sample := range d.samples {
				if name := objectLabel(sample); !ready[name] {
					waiting = append(waiting, name)
				}
			}
			return failed(step, fmt.Errorf("not Ready after %s: %s", readyTimeout, strings.Join(waiting, ", ")), d.rel(operatorLog))
		}
		select {
		case <-ctx.Done():
			return failed(step, errors.New("stop requested"))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// observes reports whether obj is a LambdaResourcePolicy with
// managementPolicy Observe.
func observes(obj *unstructured.Unstructured) bool {
	mode, _, _ := unstructured.NestedString(obj.Object, "spec", "managementPolicy")
	return obj.GetKind() == "LambdaResourcePolicy" && mode == "Observe"
}

// readyCondition returns the Ready condition's status, reason and message;
// status is "" while there is none for the object's current generation.
func readyCondition(obj *unstructured.Unstructured) (status, reason, message string) {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		condition, ok := c.(map[string]any)
		if !ok || condition["type"] != lambdav1alpha1.ConditionReady {
			continue
		}
		// A Ready for an older generation says nothing about this spec.
		if observed, ok := condition["observedGeneration"].(int64); ok && observed != 0 && observed != obj.GetGeneration() {
			return "", "", ""
		}
		status, _ = condition["status"].(string)
		reason, _ = condition["reason"].(string)
		message, _ = condition["message"].(string)
		return status, reason, message
	}
	return "", "", ""
}

// printPermissions shows the samples as a user sees them.
func (d *demo) printPermissions(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, args := range [][]string{{"get", "lambdapermissionaccounts"}, {"get", "lambdapermissions", "-A"}, {"get", "lambdaresourcepolicies", "-A"}} {
		fmt.Printf("==> kubectl %s\n", strings.Join(args, " "))
		out, err := exec.CommandContext(ctx, d.kubectl, append([]string{"--kubeconfig", filepath.Join(d.dir, kubeconfigFile)}, args...)...).CombinedOutput()
		fmt.Print(indent(string(out)))
		if err != nil {
			fmt.Printf("    (kubectl failed: %v)\n", err)
		}
	}
}

// printPolicy shows a function's policy as Lambda (the emulator) stores it.
func (d *demo) printPolicy(f demoFunction) {
	switch {
	case f.name == ownedFunctionName:
		fmt.Printf("==> the policy of %s (owned by LambdaResourcePolicy %s)\n", f.name, ownedFunctionName)
	case f.account == accountID:
		fmt.Printf("==> the policy of %s\n", f.name)
	default:
		fmt.Printf("==> the policy of %s (account %s, writeStrategy %s)\n", f.name, f.account, f.strategy)
	}
	policy, revisionID, ok := d.emulator.Policy(f.arn(), "")
	if !ok {
		fmt.Println("    (no policy)")
		return
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(policy), "    ", "  "); err != nil {
		fmt.Printf("    %s\n", policy)
	} else {
		fmt.Printf("    %s\n", pretty.String())
	}
	fmt.Printf("    RevisionId %s\n", revisionID)
}

// verifyPolicy compares a function's stored statements with the expected
// ones, byte for byte.
func (d *demo) verifyPolicy(f demoFunction) error {
	heading, what, step := "the policy", "the seed's expected statements", "checking the policy"
	if f.name != functionName {
		heading, what, step = "the policy of "+f.name, "the expected statements", "checking the policy of "+f.name
	}
	fmt.Printf("==> checking %s against %s\n", heading, what)

	policy, _, exists := d.emulator.Policy(f.arn(), "")
	differences := policyDifferences(policy, exists, f.expected)
	if len(differences) > 0 {
		for _, difference := range differences {
			fmt.Printf("    %s\n", difference)
		}
		return failed(step, fmt.Errorf("the policy differs from %s in %d way(s)", what, len(differences)),
			d.rel(operatorLog), d.rel(emulatorLog))
	}
	fmt.Printf("    %s\n", f.matches)
	return nil
}

// policyDifferences lists how a stored policy differs from the expected
// statements (by Sid).
func policyDifferences(policy string, exists bool, expected map[string]string) []string {
	if !exists {
		return []string{"the function has no policy"}
	}
	var document struct {
		Statement []json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(policy), &document); err != nil {
		return []string{fmt.Sprintf("the policy is not a JSON policy document: %v", err)}
	}
	var differences []string
	seen := map[string]bool{}
	for _, raw := range document.Statement {
		var statement struct{ Sid string }
		_ = json.Unmarshal(raw, &statement)
		want, isExpected := expected[statement.Sid]
		switch {
		case !isExpected:
			differences = append(differences, fmt.Sprintf("unexpected statement: %s", raw))
		case seen[statement.Sid]:
			differences = append(differences, fmt.Sprintf("statement %q appears twice", statement.Sid))
		case string(raw) != want:
			differences = append(differences, fmt.Sprintf("statement %q differs:\n       got: %s\n      want: %s", statement.Sid, raw, want))
		}
		seen[statement.Sid] = true
	}
	var sids []string
	for sid := range expected {
		sids = append(sids, sid)
	}
	sort.Strings(sids)
	for _, sid := range sids {
		if !seen[sid] {
			differences = append(differences, fmt.Sprintf("statement %q is missing; want: %s", sid, expected[sid]))
		}
	}
	return differences
}

func (d *demo) printUsage() {
	kubectl := d.kubectl
	if rel, err := filepath.Rel(d.root, kubectl); err == nil && !strings.HasPrefix(rel, "..") {
		kubectl = "$PWD/" + rel
	}
	documentKey, _ := d.emulator.AccessKeyFor(documentAccountID)
	fmt.Printf(`==> the demo is running; in another shell, at the repository root:
    export KUBECONFIG=$PWD/%[1]s/%[2]s
    export AWS_ENDPOINT_URL_LAMBDA=$(cat %[1]s/%[3]s) AWS_ENDPOINT_URL_STS=$(cat %[1]s/%[3]s) AWS_REGION=%[4]s AWS_DEFAULT_REGION=%[4]s AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
    alias kubectl=%[5]s   # the kubectl built for the demo
    kubectl get lambdapermissionaccounts
    kubectl get lambdapermissions -A
    kubectl apply -f your-permission.yaml   # see %[6]s for examples
    the functions:
      %[8]s   in account %[9]s, the operator's own: written statement by statement (AddPermission)
      %[10]s    in account %[11]s, LambdaPermissionAccount %[12]s: writeStrategy Document (one PutResourcePolicy),
                    so effect: Deny and conditions work there; name it by ARN, %[13]s
    aws lambda get-policy --function-name %[8]s
    AWS_ACCESS_KEY_ID=%[14]s aws lambda get-policy --function-name %[10]s   # a key of account %[11]s
    %[15]s   in account %[9]s: statements made before the operator; bring them under it with
    make kubectl-lperm && export PATH=$PWD/bin:$PATH
    kubectl lperm audit --function %[15]s
    kubectl lperm import --function %[15]s --namespace default | kubectl apply -f -
    the operator logs to %[7]s
Press Ctrl-C to stop.
`, demoDirName, kubeconfigFile, endpointFile, region, kubectl, samplesDir, d.rel(operatorLog),
		functionName, accountID, documentFunctionName, documentAccountID, documentAccountName, documentFunction.arn(), documentKey, legacyFunctionName)
}

// runUntilInterrupted keeps everything up until Ctrl-C, or fails when the
// operator dies meanwhile.
func (d *demo) runUntilInterrupted(ctx context.Context) error {
	select {
	case <-ctx.Done():
		fmt.Println()
		return nil
	case <-d.managerExited:
		return failed("running the operator", d.operatorExitedError(), d.rel(operatorLog))
	}
}

// report prints a failed step, where to read more, and the operator log's
// tail when the operator is involved.
func (d *demo) report(ctx context.Context, err error) {
	var stepErr *stepError
	if !errors.As(err, &stepErr) {
		stepErr = &stepError{step: "demo", err: err}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "==> stopped (%s)\n", stepErr.step)
		return
	}
	fmt.Fprintf(os.Stderr, "FAILED: %s: %v\n", stepErr.step, stepErr.err)
	for _, log := range stepErr.logs {
		fmt.Fprintf(os.Stderr, "    see %s\n", log)
		if log == d.rel(operatorLog) {
			fmt.Fprintf(os.Stderr, "    last lines of %s:\n%s", log, indent(tail(filepath.Join(d.dir, operatorLog), operatorLogTailLines)))
		}
	}
}

// cleanup stops what was started, operator first so that it can finish its
// work while the API server is still there.
func (d *demo) cleanup() {
	if d.manager != nil {
		fmt.Println("==> stopping the operator")
		if err := d.stopOperator(); err != nil {
			fmt.Fprintf(os.Stderr, "    %v\n", err)
		}
	}
	if d.emulatorHTTP != nil {
		fmt.Println("==> stopping the Lambda emulator")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.emulatorHTTP.Shutdown(ctx)
		cancel()
	}
	if d.envStarted {
		fmt.Println("==> stopping kube-apiserver and etcd")
		if err := d.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "    %v\n", err)
		}
	}
	for _, f := range d.openFiles {
		_ = f.Close()
	}
}

// stopOperator sends SIGTERM, then SIGKILL if it is not gone in time.
func (d *demo) stopOperator() error {
	select {
	case <-d.managerExited:
		return nil
	default:
	}
	_ = d.manager.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.managerExited:
		return nil
	case <-time.After(managerStopTimeout):
		_ = d.manager.Process.Kill()
		<-d.managerExited
		return fmt.Errorf("the operator did not stop within %s of SIGTERM; killed it", managerStopTimeout)
	}
}

// createLog creates (truncating) a log file under .demo/, closed by cleanup.
func (d *demo) createLog(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(d.dir, name))
	if err != nil {
		return nil, err
	}
	d.openFiles = append(d.openFiles, f)
	return f, nil
}

// rel names a file of .demo/ relative to the repository root, as printed.
func (d *demo) rel(name string) string { return filepath.Join(demoDirName, name) }

// objectName is namespace/name, or the name alone of a cluster-scoped object.
func objectName(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// objectLabel names an object with its kind, as printed: samples of several
// kinds may share a name.
func objectLabel(obj *unstructured.Unstructured) string {
	return strings.ToLower(obj.GetKind()) + " " + objectName(obj)
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)\n", err)
	}
	defer func() { _ = f.Close() }()
	var lines []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return "(empty)\n"
	}
	return strings.Join(lines, "\n") + "\n"
}

func indent(text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return "    " + strings.Join(lines, "\n    ") + "\n"
}
