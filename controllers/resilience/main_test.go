//go:build integration

package resilience

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

// What every scenario shares: one control plane, a client that reads straight
// from the API server, and the operator binary with a kubeconfig for it.
var (
	ctx            = context.Background()
	suite          *harness.Suite
	kube           client.Client
	kubeconfigPath string
	managerBinary  string
	size           sizes
)

// TestMain starts the control plane and builds the operator. The
// in-process managers log reconcile errors at error level, and under
// injected faults that is hundreds of expected lines; the tests judge the
// outcome. RESILIENCE_OPERATOR_LOG=1 shows the log.
func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "controllers/resilience", InstallCRDs: true, BuildManager: true,
		// The operator processes get a user of their own, as a Deployment would.
		AdminUser: "resilience-operator", VerboseEnv: "RESILIENCE_OPERATOR_LOG", Quiet: true,
		// The outage scenarios kill kube-apiserver and etcd and start them
		// again, with their data and certificates.
		ConfigureAPIServer: harness.RestartableControlPlane}, setUp)
}

func setUp(s *harness.Suite) error {
	var err error
	if size, err = sizesFromEnv(); err != nil {
		return err
	}
	suite, kube, kubeconfigPath, managerBinary = s, s.Client, s.Kubeconfig, s.ManagerBinary
	fmt.Fprintf(os.Stderr, "resilience suite: scale %s\n", size.name)
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

	// Outages (outage_*_test.go): objects and functions per write strategy
	// in each scenario; how long kube-apiserver or etcd stays killed before
	// it is started again; how long Lambda fails; whether the timeout
	// outage runs (its calls hang until the operator's 2-minute reconcile
	// timeout, so it cannot be short); the operators' sync period, within
	// which every object must be Ready once an outage ends.
	outageObjects, outageFunctions int
	kubeDown, lambdaOutage         time.Duration
	lambdaTimeouts                 bool
	outageSyncPeriod               time.Duration

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
			outageObjects: 40, outageFunctions: 4, kubeDown: 2 * time.Second, lambdaOutage: 20 * time.Second,
			outageSyncPeriod: time.Minute, wait: 90 * time.Second}, nil
	case "full":
		return sizes{name: "full",
			massObjects: 500, massFunctions: 20, massRechecks: 5,
			writerObjects: 200, writerFunctions: 10, writerMaxOps: 3000, writerOpsAfter: 100,
			pairObjects: 150, pairFunctions: 10,
			killObjects: 300, killFunctions: 12, kills: 10,
			haObjects: 150, haFunctions: 6,
			outageObjects: 500, outageFunctions: 20, kubeDown: 15 * time.Second, lambdaOutage: 3 * time.Minute,
			lambdaTimeouts: true, outageSyncPeriod: 10 * time.Minute, wait: 5 * time.Minute}, nil
	default:
		return sizes{}, fmt.Errorf("RESILIENCE_SCALE=%q: want small or full", s)
	}
}
