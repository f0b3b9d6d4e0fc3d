// Package harness is the shared set-up of the integration suites that run
// the operator against a real control plane: the controllers' end-to-end
// tests, kubectl-lperm's round trip, the resilience suite and the chart's
// RBAC test. A suite's TestMain is Main: it starts a kube-apiserver and etcd
// (internal/testing/controlplane), optionally with the CRDs, an API server
// configured by the suite, the operator binary built from source and the
// Lambda emulator behind the SDK's standard environment, then runs the
// suite's own setup, its tests, and stops everything in reverse order.
// StartOperator and RunOperator run the operator in a manager of the test
// process, assembled as main.go assembles it.
//
// What each suite adds on top (a Lambda port that races other writers,
// per-scenario emulators, an audit log) stays in the suite.
//
// It is test infrastructure: it imports the controllers, and only test
// files tagged integration import it (TestTestKindsAreTagged).
package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// DefaultVerboseEnv is the environment variable that shows the operator's
// whole log when Options.VerboseEnv names none.
const DefaultVerboseEnv = "TEST_VERBOSE_OPERATOR"

// Options say what a suite needs besides a control plane.
type Options struct {
	// Name names the suite in its messages and its scratch directory.
	Name string
	// Region and Account are the emulator's, and AWS_REGION.
	Region, Account string
	// InstallCRDs installs config/crd/bases before the tests run. Without
	// it the API server starts with no CRD (the chart installs them).
	InstallCRDs bool
	// ConfigureAPIServer, when set, is called before the control plane
	// starts, with the scratch directory for the files it configures.
	ConfigureAPIServer func(env *envtest.Environment, dir string) error
	// AdminUser, when set, is a system:masters user added for the admin
	// kubeconfig; otherwise the kubeconfig is envtest's own admin's.
	AdminUser string
	// BuildManager builds the operator binary, as make manager does, while
	// the control plane starts.
	BuildManager bool
	// Emulator starts a Lambda emulator and points the SDK's standard
	// environment (AWSEnvironment) of this process at it.
	Emulator bool
	// Roles are IAM roles in other accounts that the emulator lets be
	// assumed (LambdaPermissionAccount.spec.roleArn).
	Roles []emulator.Role
	// VerboseEnv names the environment variable that shows the operator's
	// whole log (default DefaultVerboseEnv). Without it only errors are
	// logged, or nothing when Quiet is set: faults the suite injects make
	// errors that the tests expect.
	VerboseEnv string
	Quiet      bool
}

// Suite is what a started harness holds.
type Suite struct {
	Options Options

	Env    *envtest.Environment
	Config *rest.Config    // the admin's
	Scheme *runtime.Scheme // client-go's kinds and the project's
	// Client reads straight from the API server, not from a cache: a test
	// sees what is stored now.
	Client     client.Client
	Kubeconfig string // a file: the admin's kubeconfig, as a user has one
	Kubectl    string // bin/'s kubectl, of the API server's version

	// With Options.Emulator: the emulator and its URL, the operator's
	// configuration from the SDK's default chain, and another writer to
	// the same policies (the console, Terraform), which never retries.
	Emulator    *emulator.Server
	EmulatorURL string
	AWS         aws.Config
	Outside     *lambda.Client

	Dir           string // scratch, removed when the suite stops
	ManagerBinary string // with Options.BuildManager

	mu       sync.Mutex
	cleanups []func()
}

// Main is a suite's whole TestMain: it starts the harness, runs setup and
// the tests, stops everything and exits with the tests' code. A failure to
// start or set up exits 1 with the reason.
func Main(m *testing.M, opts Options, setup func(*Suite) error) {
	os.Exit(run(m, opts, setup))
}

func run(m *testing.M, opts Options, setup func(*Suite) error) int {
	ctrl.SetLogger(logger(opts))
	s, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", opts.Name, err)
		return 1
	}
	defer s.Stop()
	if setup != nil {
		if err := setup(s); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", opts.Name, err)
			return 1
		}
	}
	return m.Run()
}

// logger logs the operator's errors, everything when the verbose variable
// is set, and nothing for a quiet suite.
func logger(opts Options) logr.Logger {
	verbose := opts.VerboseEnv
	if verbose == "" {
		verbose = DefaultVerboseEnv
	}
	switch {
	case os.Getenv(verbose) != "":
		return zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.DebugLevel))
	case opts.Quiet:
		return logr.Discard()
	}
	return zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel))
}

// Start starts what opts ask for. Stop stops it, also after a failed
// Start's partial work (Start does that itself).
func Start(opts Options) (s *Suite, err error) {
	s = &Suite{Options: opts}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	if s.Dir, err = os.MkdirTemp("", strings.ReplaceAll(opts.Name, "/", "-")+"-"); err != nil {
		return s, err
	}
	s.Cleanup(func() { _ = os.RemoveAll(s.Dir) })
	built := make(chan error, 1)
	if opts.BuildManager {
		s.ManagerBinary = filepath.Join(s.Dir, "manager")
		go func() { built <- buildManager(opts.Name, s.ManagerBinary) }()
	} else {
		built <- nil
	}
	// Whatever else fails, the build is waited for: it writes into Dir.
	err = errors.Join(s.startControlPlane(), <-built)
	if err == nil && opts.Emulator {
		err = s.startEmulator()
	}
	return s, err
}

// Cleanup registers f to run when the suite stops, before what was
// registered earlier, and before the control plane stops.
func (s *Suite) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// Stop runs the cleanups in reverse order.
func (s *Suite) Stop() {
	s.mu.Lock()
	cleanups := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

// startControlPlane starts kube-apiserver and etcd, and makes the suite's
// client, admin kubeconfig and scheme.
func (s *Suite) startControlPlane() error {
	env, err := controlplane.New()
	if err != nil {
		return err
	}
	if !s.Options.InstallCRDs {
		env.CRDDirectoryPaths, env.ErrorIfCRDPathMissing = nil, false
	}
	if s.Options.ConfigureAPIServer != nil {
		if err := s.Options.ConfigureAPIServer(env, s.Dir); err != nil {
			return err
		}
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	s.Cleanup(func() { _ = env.Stop() })
	s.Env, s.Config = env, cfg
	s.Kubectl = filepath.Join(env.BinaryAssetsDirectory, "kubectl")
	s.Scheme = runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s.Scheme), lambdav1alpha1.AddToScheme(s.Scheme)); err != nil {
		return err
	}
	if s.Client, err = client.New(cfg, client.Options{Scheme: s.Scheme}); err != nil {
		return err
	}
	return s.writeKubeconfig()
}

// writeKubeconfig writes the admin's kubeconfig into the scratch directory.
func (s *Suite) writeKubeconfig() error {
	kubeconfig := s.Env.KubeConfig
	if s.Options.AdminUser != "" {
		user, err := s.Env.AddUser(envtest.User{Name: s.Options.AdminUser, Groups: []string{"system:masters"}}, nil)
		if err != nil {
			return err
		}
		if kubeconfig, err = user.KubeConfig(); err != nil {
			return err
		}
	}
	s.Kubeconfig = filepath.Join(s.Dir, "kubeconfig")
	return os.WriteFile(s.Kubeconfig, kubeconfig, 0o600)
}

// startEmulator serves an emulator on loopback and points the SDK's
// standard environment of this process at it: the operator and the tests
// find it as they find AWS.
func (s *Suite) startEmulator() error {
	s.Emulator = emulator.New(emulator.Config{Region: s.Options.Region, AccountID: s.Options.Account, Roles: s.Options.Roles})
	server := httptest.NewServer(s.Emulator)
	s.Cleanup(server.Close)
	s.EmulatorURL = server.URL
	for k, v := range AWSEnvironment(server.URL, s.Options.Region, s.Dir) {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	var err error
	s.AWS, s.Outside, err = LoadAWS(context.Background())
	return err
}
