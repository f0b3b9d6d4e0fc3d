//go:build integration && soak

package soak

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// operator is bin/manager running as a process, as hack/monitoring runs
// it: the admin's kubeconfig, the emulator's AWS environment, its metrics
// and profiler on free loopback ports.
type operator struct {
	cmd                    *exec.Cmd
	done                   chan struct{}
	log                    string
	metricsAddr, pprofAddr string
}

// startOperator starts the operator and waits until it serves metrics. It
// is stopped when the test ends; the end of its log is printed if the test
// failed, and the whole log kept.
func startOperator(t *testing.T) *operator {
	t.Helper()
	binary := os.Getenv("SOAK_MANAGER")
	if binary == "" {
		binary = filepath.Join(repo.Root(), "bin", "manager")
	}
	if _, err := os.Stat(binary); err != nil {
		t.Fatalf("the operator binary: %v (make soak builds it: make manager)", err)
	}
	o := &operator{done: make(chan struct{}), log: filepath.Join(suite.Dir, "manager.log"),
		metricsAddr: harness.FreeAddress(t), pprofAddr: harness.FreeAddress(t)}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + suite.Dir, "KUBECONFIG=" + suite.Kubeconfig}
	for k, v := range harness.AWSEnvironment(suite.EmulatorURL, region, suite.Dir) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	log, err := os.Create(o.log)
	if err != nil {
		t.Fatal(err)
	}
	o.cmd = exec.Command(binary, "--metrics-bind-address="+o.metricsAddr, "--pprof-bind-address="+o.pprofAddr,
		"--health-probe-bind-address="+harness.FreeAddress(t), "--sync-period="+syncPeriod.String(),
		"--statement-id-prefix="+sidPrefix)
	o.cmd.Env, o.cmd.Stdout, o.cmd.Stderr = env, log, log
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := o.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", binary, err)
	}
	go func() {
		_ = o.cmd.Wait()
		_ = log.Close()
		close(o.done)
	}()
	t.Cleanup(func() { o.stop(t) })
	harness.Eventually(t, "the operator serving /metrics", func() string {
		select {
		case <-o.done:
			t.Fatalf("the operator exited: %v\n%s", o.cmd.ProcessState, o.tail(30))
		default:
		}
		if _, err := o.scrape(); err != nil {
			return err.Error()
		}
		return ""
	})
	return o
}

func (o *operator) pid() int { return o.cmd.Process.Pid }

// exited reports why the operator is no longer running, or "".
func (o *operator) exited() string {
	select {
	case <-o.done:
		return fmt.Sprintf("the operator exited: %v", o.cmd.ProcessState)
	default:
		return ""
	}
}

// stop ends the operator with SIGTERM, and keeps its log when the test
// failed.
func (o *operator) stop(t *testing.T) {
	select {
	case <-o.done:
	default:
		_ = o.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-o.done:
		case <-time.After(15 * time.Second):
			_ = o.cmd.Process.Kill()
			<-o.done
		}
	}
	if t.Failed() {
		kept := filepath.Join(os.TempDir(), fmt.Sprintf("soak-manager-%d.log", o.pid()))
		if data, err := os.ReadFile(o.log); err == nil && os.WriteFile(kept, data, 0o644) == nil {
			t.Logf("the operator's log is kept in %s; its end:\n%s", kept, o.tail(30))
		}
	}
}

// tail is the last n lines of the operator's log.
func (o *operator) tail(n int) string {
	data, _ := os.ReadFile(o.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// httpClient reads the operator's endpoints without keeping a connection
// open between samples (it would count among the operator's sockets) and
// uncompressed.
var httpClient = http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}

func get(url string) (string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), err
}

// scrape is the operator's /metrics, in Prometheus's text format.
func (o *operator) scrape() (string, error) { return get("http://" + o.metricsAddr + "/metrics") }

// liveHeap has the operator collect its garbage (the heap profile's gc=1)
// and returns the heap left allocated then: what it holds on to, without
// the garbage that makes its resident memory go up and down between
// collections.
func (o *operator) liveHeap() (int64, error) {
	profile, err := get("http://" + o.pprofAddr + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(profile, "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no HeapAlloc in the operator's heap profile")
}

// goroutineDump is the operator's goroutines, grouped by stack: what to
// read when they grow.
func (o *operator) goroutineDump() string {
	dump, err := get("http://" + o.pprofAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return err.Error()
	}
	return dump
}

// metricSum sums the samples of metric name whose labels contain each of
// labels (`verb="WATCH"`); ok is false when there is none.
func metricSum(text, name string, labels ...string) (sum float64, ok bool) {
	scanner := bufio.NewScanner(strings.NewReader(text))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum, ok = sum+v, true
		}
	}
	return sum, ok
}

// seriesCount is the number of samples on a /metrics page: every line
// that is neither a comment nor empty.
func seriesCount(text string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}
