// Package controlplane starts a real control plane (etcd and kube-apiserver) with
// the project's CRDs installed, for the integration tests and the demo. The
// binaries are the ones hack/control-plane/build.sh builds into bin/. The
// suites that run the operator start it through internal/testing/harness;
// the tools under hack/ and the tests that need only an API server use it
// directly.
package controlplane

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// kubeVersion is the version of kube-apiserver the project tests against.
const kubeVersion = "1.37.2"

// AssetsDir is where the control-plane binaries are: KUBEBUILDER_ASSETS when
// set, else bin/k8s/<version>-<os>-<arch> in the repository.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(repo.Root(), "bin", "k8s", fmt.Sprintf("%s-%s-%s", kubeVersion, runtime.GOOS, runtime.GOARCH))
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("no %s in %s: run hack/control-plane/build.sh (make test does)", name, dir)
		}
	}
	return dir, nil
}

// New returns an environment that installs the CRDs in config/crd/bases.
// Start it with Start and stop it with Stop.
func New() (*envtest.Environment, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	// A loaded 2-core CI machine can be slow to bring up kube-apiserver.
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		_ = os.Setenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", "90s")
	}
	return &envtest.Environment{
		BinaryAssetsDirectory:   assets,
		CRDDirectoryPaths:       []string{filepath.Join(repo.Root(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing:   true,
		ControlPlaneStopTimeout: 30 * time.Second,
	}, nil
}

// FreeLocalAddress is a 127.0.0.1 address with a port free right now, for a
// process the caller is about to start (probes of an operator it runs).
func FreeLocalAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}
