package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Component is a process of the control plane that a test can kill and
// start again (see RestartableControlPlane).
type Component string

const (
	APIServer Component = "kube-apiserver"
	Etcd      Component = "etcd"
)

// RestartableControlPlane is an Options.ConfigureAPIServer that keeps
// etcd's data and kube-apiserver's certificates in directories of dir
// rather than in temporary ones that envtest removes when either stops.
// Then Kill and Restart can take either process down and bring it back as
// a node reboot would: on the same address, with the same data (every
// object kept), the same serving certificate and the same client CA, so
// that every client and kubeconfig made before keeps working.
func RestartableControlPlane(env *envtest.Environment, dir string) error {
	etcdDir, certDir := filepath.Join(dir, "etcd"), filepath.Join(dir, "kube-apiserver")
	for _, d := range []string{etcdDir, certDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if env.ControlPlane.Etcd == nil {
		env.ControlPlane.Etcd = &envtest.Etcd{}
	}
	env.ControlPlane.Etcd.DataDir = etcdDir
	env.ControlPlane.GetAPIServer().CertDir = certDir
	return nil
}

// Kill sends SIGKILL to the component's process, the way a node failure or
// the OOM killer ends it: no graceful shutdown, connections cut. It returns
// once the process is gone. Start the suite's control plane with
// RestartableControlPlane: otherwise the restarted process's temporary
// directories are no longer envtest's to remove, and outlive the suite.
func (s *Suite) Kill(c Component) error {
	binary, err := s.binary(c)
	if err != nil {
		return err
	}
	pid, err := childRunning(binary)
	if err != nil {
		return fmt.Errorf("killing %s: %w", c, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s (pid %d): %w", c, pid, err)
	}
	// envtest waits for its processes, so it reaps this one at once.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) still there 30s after SIGKILL", c, pid)
		}
	}
}

// Restart starts the component again on its address, with its data and
// certificates, and returns once it answers its health check (for
// kube-apiserver, /healthz: etcd reachable and the CRDs loaded).
func (s *Suite) Restart(c Component) error {
	var err error
	switch c {
	case APIServer:
		err = s.Env.ControlPlane.APIServer.Start()
	case Etcd:
		err = s.Env.ControlPlane.Etcd.Start()
	default:
		err = fmt.Errorf("no component %q", c)
	}
	if err != nil {
		return fmt.Errorf("restarting %s: %w", c, err)
	}
	return nil
}

// binary is the path of the component's executable, as started.
func (s *Suite) binary(c Component) (string, error) {
	var path string
	switch c {
	case APIServer:
		path = s.Env.ControlPlane.APIServer.Path
	case Etcd:
		path = s.Env.ControlPlane.Etcd.Path
	default:
		return "", fmt.Errorf("no component %q", c)
	}
	return filepath.EvalSymlinks(path)
}

// childRunning is the pid of the one child of this process that runs
// binary (envtest starts one kube-apiserver and one etcd per suite).
func childRunning(binary string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentOf(pid) != os.Getpid() {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == binary {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("%d children of this process run %s, want 1", len(found), binary)
	}
	return found[0], nil
}

// parentOf is pid's parent's pid (0 when it cannot be read): the fourth
// field of /proc/pid/stat, after the command name in parentheses.
func parentOf(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(fields[1]))
	return ppid
}
