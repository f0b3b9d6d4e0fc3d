package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 15 * time.Second

// Process is a binary a test runs as its users run it (the operator, a
// Flux controller, Prometheus): its output in a log file, killed with the
// test binary should that die, and stopped when the test ends, with the
// end of its log shown if the test failed.
type Process struct {
	Name string
	Log  string // the path of its log

	cmd  *exec.Cmd
	done chan struct{}
}

// StartProcess runs binary with args and env as its whole environment,
// writing its output to the file logPath.
func StartProcess(t testing.TB, name, binary, logPath string, env []string, args ...string) *Process {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{Name: name, Log: logPath, cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = env, log, log
	// Should the test binary die (a -timeout panic), the kernel kills the
	// process too rather than leave it running.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait() // reaps it
		_ = log.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("the end of %s's log (%s):\n%s", name, logPath, p.Tail(30))
		}
	})
	return p
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited says how the process ended, or "" while it runs.
func (p *Process) Exited() string {
	select {
	case <-p.done:
		return fmt.Sprintf("%s exited: %v", p.Name, p.cmd.ProcessState)
	default:
		return ""
	}
}

// Stop ends the process as Kubernetes ends a pod: SIGTERM, then SIGKILL if
// it has not exited after a grace period. It returns once it is reaped.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Tail is the last n lines of the process's log.
func (p *Process) Tail(n int) string {
	data, _ := os.ReadFile(p.Log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
