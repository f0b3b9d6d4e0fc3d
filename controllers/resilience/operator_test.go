//go:build integration

package resilience

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// fastLimits are realistic but do not slow the tests down: the operator
// still waits on its own token buckets, just well above the tests' pace.
var fastLimits = awslambda.Limits{GetPolicy: 100, ControlPlane: 100, GetFunction: 100}

// startInProcessOperator runs the LambdaPermission controller in a manager
// of this process, assembled as main.go does (the real Retryer, the SDK's
// default configuration), watching namespace only, as --watch-namespace
// does, until the test ends. It writes with the world's strategy, with its
// workers (--write-strategy, --max-concurrent-reconciles).
func startInProcessOperator(t *testing.T, w *world, namespace string, syncPeriod time.Duration) {
	t.Helper()
	suite.RunOperator(t, controllers.Options{
		Lambda:                  harness.OperatorLambda(w.awsConfig, fastLimits),
		DefaultRegion:           region,
		SyncPeriod:              syncPeriod,
		WriteStrategy:           w.variant.strategy,
		MaxConcurrentReconciles: w.variant.workers,
		Kinds:                   []controllers.Kind{controllers.LambdaPermissionKind},
	}, harness.WatchNamespace(namespace))
}

// operatorProcess is the operator binary run as a process, as a Deployment
// would run it: KUBECONFIG for the control plane, the SDK's standard
// environment for AWS. It can be killed and started again; each life logs
// to a file of its own.
type operatorProcess struct {
	t    *testing.T
	name string
	args []string
	env  []string
	dir  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	killing bool // the test is killing it: its exit is expected
	lives   int
	logPath string
}

// newOperatorProcess prepares the operator binary with args (after the
// common ones and the world's strategy and workers) for the world's
// emulator; start runs it. When the test ends
// it is killed and reaped, and if the test failed, its last log lines are
// shown.
func newOperatorProcess(t *testing.T, w *world, name string, args ...string) *operatorProcess {
	t.Helper()
	p := &operatorProcess{t: t, name: name, args: append(w.variant.operatorArgs(), args...), dir: t.TempDir()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "KUBECONFIG=") {
			p.env = append(p.env, kv)
		}
	}
	p.env = append(p.env, "KUBECONFIG="+kubeconfigPath)
	for k, v := range w.awsEnv {
		if v != "" {
			p.env = append(p.env, k+"="+v)
		}
	}
	t.Cleanup(func() {
		if p.running() {
			p.kill()
		}
		if t.Failed() {
			t.Logf("%s, life %d, last log lines (%s):\n%s", p.name, p.lives, p.logPath, p.logTail(40))
		}
	})
	return p
}

// start runs a new life of the process.
func (p *operatorProcess) start() {
	p.t.Helper()
	probe, err := controlplane.FreeLocalAddress()
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lives++
	p.logPath = filepath.Join(p.dir, fmt.Sprintf("%s-%02d.log", p.name, p.lives))
	logFile, err := os.Create(p.logPath)
	if err != nil {
		p.t.Fatal(err)
	}
	args := append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=" + probe}, p.args...)
	cmd := exec.Command(managerBinary, args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Should this test binary die (a -timeout panic), the kernel kills the
	// operator too instead of leaving it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		p.t.Fatalf("starting %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait() // reaps it
		_ = logFile.Close()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	p.cmd, p.exited, p.killing = cmd, exited, false
}

// kill sends SIGKILL, the way a node failure or an OOM kill ends a pod: no
// cleanup, no lease released, requests cut mid-flight. It returns once the
// process is reaped.
func (p *operatorProcess) kill() {
	p.t.Helper()
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.killing = true
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("killing %s: %v", p.name, err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("%s did not exit 30s after SIGKILL", p.name)
	}
}

func (p *operatorProcess) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// setArg replaces the argument that starts with prefix, for the next life.
func (p *operatorProcess) setArg(prefix, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, arg := range p.args {
		if strings.HasPrefix(arg, prefix) {
			p.args[i] = prefix + value
		}
	}
}

// alive is a guard for waitUntil: an error once the process has exited
// without being killed by the test.
func (p *operatorProcess) alive() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil || p.killing {
		return nil
	}
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited by itself (%v); last log lines:\n%s", p.name, p.exitErr, tail(p.logPath, 40))
	default:
		return nil
	}
}

// log is the current life's log so far.
func (p *operatorProcess) log() string {
	p.mu.Lock()
	path := p.logPath
	p.mu.Unlock()
	data, _ := os.ReadFile(path)
	return string(data)
}

func (p *operatorProcess) logTail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return tail(p.logPath, n)
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// driftCorrections reads the in-process operators' counter of statements
// restored (lambda_permission_drift_corrections_total), by kind of drift.
// Scenarios run one at a time, so a difference is one scenario's.
func driftCorrections(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, family := range families {
		if family.GetName() != "lambda_permission_drift_corrections_total" {
			continue
		}
		for _, m := range family.GetMetric() {
			for _, label := range m.GetLabel() {
				if label.GetName() == "drift" {
					out[label.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// driftCorrectionsSince is the statements restored since before, by kind
// of drift, for a FIGURES line.
func driftCorrectionsSince(t *testing.T, before map[string]float64) string {
	t.Helper()
	var parts []string
	now := driftCorrections(t)
	for _, drift := range slices.Sorted(maps.Keys(now)) {
		if n := now[drift] - before[drift]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%.0f", drift, n))
		}
	}
	return "restored[" + strings.Join(parts, " ") + "]"
}
