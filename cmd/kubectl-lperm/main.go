// Command kubectl-lperm is a kubectl plugin (kubectl lperm …) that brings
// an existing estate of Lambda permissions under the operator:
//
//	kubectl lperm import --function NAME|ARN [--qualifier Q] | --all-functions [--region R] [--namespace NS] [--observe]
//	kubectl lperm import --resource-policy --function NAME|ARN [--qualifier Q] | --all-functions [--region R] [--namespace NS] [--manage] [--deletion-policy Retain|Delete]
//	kubectl lperm audit  --function NAME|ARN [--qualifier Q] | --all-functions [--region R] [-o table|json] [--fail-on KINDS]
//
// import writes YAML to stdout: the objects that adopt every statement of
// the selected policies as it stands, so that applying them makes no write;
// with --resource-policy, one LambdaResourcePolicy per policy, holding all
// its statements, that only observes until it is switched to Manage.
// audit lists risky statements (public, confused deputy, a function URL
// without its lambda:InvokeFunction statement), policies near Lambda's size
// limit, and — when a kubeconfig is reachable — Sids that no LambdaPermission
// manages; a statement listing several values in one respect (compacted) is
// checked, and imported, grant by grant. Both only read from AWS, through the SDK's standard configuration
// (profiles, SSO, AWS_ENDPOINT_URL_LAMBDA), paced within Lambda's quotas.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	buildversion "github.com/lambda-permission-operator/lambda-permission-operator/internal/version"
)

// version is the plugin's version, stamped at build time with
// -ldflags "-X main.version=v0.2.0" (make kubectl-lperm, make release);
// unstamped, the module version the go command recorded (go install
// .../cmd/kubectl-lperm@v0.2.0), else "dev".
var version string

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // AWS or the cluster failed, or the output could not be written
	exitUsage    = 2
	exitFindings = 3 // audit --fail-on: a finding of a kind named
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `kubectl lperm: bring Lambda permissions under lambda-permission-operator

  kubectl lperm import --function NAME|ARN [--qualifier Q] | --all-functions [flags]
      YAML for kubectl apply: one LambdaPermission per statement, set so that
      applying it adopts the statement with no write. A statement listing
      several source ARNs, source accounts, AWS principals or actions (one
      compacted, by the operator or by hand) gives one LambdaPermission per
      grant; its comment says whether applying them adopts it or leaves it for
      you to remove. One listing several values in two respects is a comment.
  kubectl lperm import --resource-policy --function NAME|ARN [--qualifier Q] | --all-functions [flags]
      YAML for kubectl apply: one LambdaResourcePolicy per policy (function,
      version, alias) holding all its statements as IAM JSON, with
      managementPolicy Observe and deletionPolicy Retain. Observe first: apply,
      check that each is Ready with nothing in status.pendingChange, then set
      managementPolicy: Manage. Statements it cannot hold (no Sid, NotPrincipal,
      …) are comments: Manage would remove them.
  kubectl lperm audit --function NAME|ARN [--qualifier Q] | --all-functions [flags]
      Public grants, services without a source, function URLs without their
      lambda:InvokeFunction statement, policies near the size limit, and Sids
      no LambdaPermission manages (when a kubeconfig is reachable). A statement
      listing several values in one respect (compacted) is checked grant by
      grant: a finding names its Sid and the grant's value (column VALUE;
      "value" with -o json), and a grant is managed when a LambdaPermission's
      status.compacted names that Sid and value.
  kubectl lperm version
      The plugin's version (also --version).

Run kubectl lperm COMMAND -h for its flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "import":
		return runImport(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, buildversion.Line("kubectl-lperm", buildversion.Resolve(version)))
		return exitOK
	default:
		fmt.Fprintf(stderr, "kubectl lperm: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// common are the flags both commands take: what to read, and how.
type common struct {
	sel             selection
	region, profile string
	getPolicyRPS    float64
	controlPlaneRPS float64
}

func (c *common) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.sel.function, "function", "", "function name or ARN: the function, its versions and its aliases")
	fs.StringVar(&c.sel.qualifier, "qualifier", "", "with --function: only this version or alias")
	fs.BoolVar(&c.sel.all, "all-functions", false, "every function of the account and region (ListFunctions)")
	fs.StringVar(&c.region, "region", "", "AWS region (default: from the AWS configuration)")
	fs.StringVar(&c.profile, "profile", "", "AWS shared configuration profile (default: AWS_PROFILE or the default one)")
	// Lambda's quotas are 15 per second per account and region for each;
	// the defaults leave room for the operator working meanwhile.
	fs.Float64Var(&c.getPolicyRPS, "getpolicy-rps", 10, "GetPolicy calls per second at most")
	fs.Float64Var(&c.controlPlaneRPS, "control-plane-rps", 10, "List and GetFunctionUrlConfig calls per second at most")
}

func (c *common) check() error {
	switch {
	case c.sel.all == (c.sel.function != ""):
		return errors.New("name one function with --function, or --all-functions")
	case c.sel.all && c.sel.qualifier != "":
		return errors.New("--qualifier goes with --function")
	case c.getPolicyRPS <= 0 || c.controlPlaneRPS <= 0:
		return errors.New("--getpolicy-rps and --control-plane-rps must be above 0")
	}
	return nil
}

func (c *common) reader(ctx context.Context, stderr io.Writer) (*reader, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if c.region != "" {
		opts = append(opts, awsconfig.WithRegion(c.region))
	}
	if c.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region or set AWS_REGION")
	}
	port := awslambda.New(awslambda.Config{AWS: cfg, Limits: awslambda.Limits{
		GetPolicy:    c.getPolicyRPS,
		ControlPlane: c.controlPlaneRPS,
		GetFunction:  awslambda.DefaultLimits.GetFunction, // the plugin makes no GetFunction call
	}})
	return newReader(port, cfg.Region, stderr), nil
}

// parse parses a command's flags; it reports the exit code when the command
// is not to run.
func parse(fs *flag.FlagSet, c *common, args []string, stderr io.Writer) (int, bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kubectl lperm %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	if err := c.check(); err != nil {
		fmt.Fprintf(stderr, "kubectl lperm %s: %v\n", fs.Name(), err)
		return exitUsage, false
	}
	return 0, true
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var c common
	var opts importOptions
	var resourcePolicy bool
	var policyOpts policyImportOptions
	var deletionPolicy string
	c.bind(fs)
	fs.StringVar(&opts.namespace, "namespace", "", "namespace of the objects (default: none written, kubectl apply's namespace)")
	fs.BoolVar(&opts.observe, "observe", false, "managementPolicy: Observe: the objects compare and report, and never write (with --resource-policy, the default)")
	fs.BoolVar(&resourcePolicy, "resource-policy", false, "one LambdaResourcePolicy per policy (function, version, alias) holding all its statements, instead of one LambdaPermission per statement; managementPolicy Observe, deletionPolicy Retain, includePermissions true")
	fs.BoolVar(&policyOpts.manage, "manage", false, "with --resource-policy: managementPolicy Manage instead of Observe, so that applying makes each policy exactly the imported statements, removing those it cannot hold")
	fs.StringVar(&deletionPolicy, "deletion-policy", string(lambdav1alpha1.DeletionPolicyRetain), "with --resource-policy: Retain leaves the policy as it is when the object is deleted; Delete takes the object's statements out of it")
	if code, ok := parse(fs, &c, args, stderr); !ok {
		return code
	}
	if code, ok := checkPolicyFlags(fs, resourcePolicy, opts, &policyOpts, deletionPolicy, stderr); !ok {
		return code
	}
	r, err := c.reader(ctx, stderr)
	if err != nil {
		return fail(stderr, "import", err)
	}
	policies, err := r.read(ctx, c.sel)
	if err != nil {
		return fail(stderr, "import", err)
	}
	if resourcePolicy {
		return writePolicyImport(stdout, stderr, policies, policyOpts)
	}
	items := importManifest(policies, opts)
	if err := renderManifest(stdout, items); err != nil {
		return fail(stderr, "import", err)
	}
	objects := 0
	for _, item := range items {
		if item.object != nil {
			objects++
		}
	}
	fmt.Fprintf(stderr, "kubectl-lperm: %d policies, %d objects, %d statements not importable (see the comments)\n",
		len(policies), objects, len(items)-objects)
	return exitOK
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	var c common
	var output, failOn, kubeconfig, kubeContext string
	c.bind(fs)
	fs.StringVar(&output, "o", "table", "output: table or json")
	fs.StringVar(&output, "output", "table", "output: table or json")
	fs.StringVar(&failOn, "fail-on", "", "exit 3 when a finding of these kinds is found (comma-separated: "+strings.Join(findingKinds, ", ")+", or any)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig to look for LambdaPermissions in (default: KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&kubeContext, "context", "", "kubeconfig context")
	if code, ok := parse(fs, &c, args, stderr); !ok {
		return code
	}
	if output != "table" && output != "json" {
		fmt.Fprintf(stderr, "kubectl lperm audit: -o must be table or json, not %q\n", output)
		return exitUsage
	}
	var kinds []string
	for _, kind := range strings.Split(failOn, ",") {
		if kind = strings.TrimSpace(kind); kind == "" {
			continue
		}
		if kind != "any" && !slices.Contains(findingKinds, kind) {
			fmt.Fprintf(stderr, "kubectl lperm audit: --fail-on: unknown finding %q (known: %s, any)\n", kind, strings.Join(findingKinds, ", "))
			return exitUsage
		}
		kinds = append(kinds, kind)
	}

	r, err := c.reader(ctx, stderr)
	if err != nil {
		return fail(stderr, "audit", err)
	}
	r.withURLs = true
	policies, err := r.read(ctx, c.sel)
	if err != nil {
		return fail(stderr, "audit", err)
	}
	managed, err := managedStatements(ctx, kubeconfig, kubeContext)
	switch {
	case err != nil && kubeconfig != "":
		return fail(stderr, "audit", err) // asked for a cluster that cannot be read
	case err != nil:
		fmt.Fprintf(stderr, "kubectl-lperm: unmanaged Sids not checked: %v\n", err)
	}
	findings := audit(policies, managed)
	if err := renderFindings(stdout, findings, output); err != nil {
		return fail(stderr, "audit", err)
	}
	if n := failing(findings, kinds); n > 0 {
		fmt.Fprintf(stderr, "kubectl-lperm: %d findings of kinds %s\n", n, strings.Join(kinds, ", "))
		return exitFindings
	}
	return exitOK
}

// managedStatements are the statements the cluster's LambdaPermissions have
// written or adopted (status.statement), and those the LambdaResourcePolicies
// that manage a policy declare, by managedKey; and the grants LambdaPermissions
// hold in compacted statements (status.compacted), by memberKey.
func managedStatements(ctx context.Context, kubeconfig, kubeContext string) (map[string]bool, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	restConfig, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	k8s, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return managedIn(ctx, k8s)
}

// managedIn is managedStatements of the cluster k8s reaches.
func managedIn(ctx context.Context, k8s dynamic.Interface) (map[string]bool, error) {
	var list lambdav1alpha1.LambdaPermissionList
	if err := listAll(ctx, k8s, "lambdapermissions", &list); err != nil {
		return nil, fmt.Errorf("listing LambdaPermissions: %w", err)
	}
	managed := map[string]bool{}
	for _, obj := range list.Items {
		if obj.Status.Statement == "" {
			continue
		}
		st, err := policy.ParseStatement(obj.Status.Statement)
		if err != nil || len(st.Resource) != 1 {
			continue
		}
		// A grant in a compacted statement manages its own value in the
		// list, not the statement: status.statement is the whole list.
		if c := obj.Status.Compacted; c != nil && c.Dimension != "" {
			managed[memberKey(st.Resource[0], c.StatementID, policy.Dimension(c.Dimension), c.Value)] = true
			continue
		}
		managed[managedKey(st.Resource[0], st.Sid)] = true
	}
	// A LambdaResourcePolicy that manages a policy declares its statements
	// by Sid; one that only observes manages nothing.
	var owners lambdav1alpha1.LambdaResourcePolicyList
	if err := listAll(ctx, k8s, "lambdaresourcepolicies", &owners); err != nil {
		return nil, fmt.Errorf("listing LambdaResourcePolicies: %w", err)
	}
	for _, obj := range owners.Items {
		if obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve || obj.Status.ResourceArn == "" {
			continue
		}
		for _, st := range obj.Spec.Policy.Statement {
			managed[managedKey(obj.Status.ResourceArn, st.Sid)] = true
		}
	}
	return managed, nil
}

// listAll lists the objects of one of the API's resources in every
// namespace into list, a typed list of that resource's kind. The dynamic
// client and a conversion keep the plugin free of controller-runtime's
// client, which brings its manager's metrics and Prometheus along.
func listAll(ctx context.Context, k8s dynamic.Interface, resource string, list runtime.Object) error {
	objects, err := k8s.Resource(lambdav1alpha1.GroupVersion.WithResource(resource)).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(objects.UnstructuredContent(), list)
}

func fail(stderr io.Writer, command string, err error) int {
	fmt.Fprintf(stderr, "kubectl lperm %s: %v\n", command, err)
	return exitError
}
