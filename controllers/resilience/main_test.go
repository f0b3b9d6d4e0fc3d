//go:build integration

package resilience

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

// What every scenario shares: one control plane, a client that reads straight
// from the API server, and the operator binary with a kubeconfig for it.
var (
	ctx            = context.Background()
	kube           client.Client
	restConfig     *rest.Config
	scheme         *k8sruntime.Scheme
	kubeconfigPath string
	managerBinary  string
	size           sizes
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "resilience suite:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var err error
	if size, err = sizesFromEnv(); err != nil {
		return 0, err
	}
	// The in-process managers log reconcile errors at error level, and under
	// injected faults that is hundreds of expected lines; the tests judge
	// the outcome. RESILIENCE_OPERATOR_LOG=1 shows the log.
	if os.Getenv("RESILIENCE_OPERATOR_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}

	dir, err := os.MkdirTemp("", "resilience-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	// Build the operator while the control plane starts: both take seconds.
	managerBinary = filepath.Join(dir, "manager")
	built := make(chan error, 1)
	go func() { built <- buildManager(managerBinary) }()

	env, err := controlplane.New()
	if err != nil {
		return 0, err
	}
	cfg, err := env.Start()
	if err != nil {
		return 0, fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = env.Stop() }()
	if err := <-built; err != nil {
		return 0, err
	}

	scheme = k8sruntime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = lambdav1alpha1.AddToScheme(scheme)
	restConfig = cfg
	if kube, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	// The operator processes get a user of their own, as a Deployment would.
	user, err := env.AddUser(envtest.User{Name: "resilience-operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return 0, err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return 0, err
	}
	kubeconfigPath = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "resilience suite: scale %s\n", size.name)
	return m.Run(), nil
}

// buildManager builds the operator exactly as `make manager` does.
func buildManager(out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	started := time.Now()
	cmd := exec.Command(goTool, "build", "-o", out, repo.Root())
	cmd.Dir = repo.Root()
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the operator: %w\n%s", err, output)
	}
	fmt.Fprintf(os.Stderr, "resilience suite: operator built in %s\n", time.Since(started).Round(100*time.Millisecond))
	return nil
}

// variant is one write strategy every scenario runs with, and the workers
// its operator gets. Statements keeps the operator's default of 4. Document
// merges the changes that the objects of one policy need at about the same
// time into one PutResourcePolicy, so it needs many objects waiting at
// once: 64 workers, as its documentation advises.
type variant struct {
	strategy writer.Strategy
	workers  int
}

var variants = []variant{{writer.Statements, 4}, {writer.Document, 64}}

// suffix tells the functions and namespaces of a Document scenario from
// its Statements twin's in logs.
func (v variant) suffix() string {
	if v.strategy == writer.Document {
		return "-doc"
	}
	return ""
}

// operatorArgs are the operator binary's flags for the variant.
func (v variant) operatorArgs() []string {
	return []string{"--write-strategy=" + string(v.strategy), "--max-concurrent-reconciles=" + strconv.Itoa(v.workers)}
}

// forEachStrategy runs a scenario once per write strategy, as the subtests
// Statements and Document. Each builds a world of its own (its emulator,
// functions and namespaces), so the two never interfere.
func forEachStrategy(t *testing.T, scenario func(t *testing.T, v variant)) {
	for _, v := range variants {
		t.Run(string(v.strategy), func(t *testing.T) { scenario(t, v) })
	}
}

// sizes are the scenarios' dimensions at one scale.
type sizes struct {
	name string

	massObjects, massFunctions int // mass convergence under faults
	massRechecks               int // rounds of re-checking every statement under faults

	writerObjects, writerFunctions int // concurrent foreign writer
	writerMaxOps                   int // its bound: it stops by itself after so many writes
	writerOpsAfter                 int // writes it still makes once everything is Ready

	pairObjects, pairFunctions int // two operator instances: objects per instance

	killObjects, killFunctions, kills int // SIGKILL: kills during creation, and again during deletion

	haObjects, haFunctions int // two replicas with leader election

	wait time.Duration // how long a convergence may take
}

func sizesFromEnv() (sizes, error) {
	switch s := os.Getenv("RESILIENCE_SCALE"); s {
	case "", "small":
		return sizes{name: "small",
			massObjects: 60, massFunctions: 6, massRechecks: 1,
			writerObjects: 30, writerFunctions: 3, writerMaxOps: 600, writerOpsAfter: 60,
			pairObjects: 20, pairFunctions: 4,
			killObjects: 40, killFunctions: 4, kills: 3,
			haObjects: 30, haFunctions: 3,
			wait: 90 * time.Second}, nil
	case "full":
		return sizes{name: "full",
			massObjects: 500, massFunctions: 20, massRechecks: 5,
			writerObjects: 200, writerFunctions: 10, writerMaxOps: 3000, writerOpsAfter: 100,
			pairObjects: 150, pairFunctions: 10,
			killObjects: 300, killFunctions: 12, kills: 10,
			haObjects: 150, haFunctions: 6,
			wait: 5 * time.Minute}, nil
	default:
		return sizes{}, fmt.Errorf("RESILIENCE_SCALE=%q: want small or full", s)
	}
}
