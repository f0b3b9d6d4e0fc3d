//go:build integration && soak

package soak

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// operator is bin/manager running as a process, as hack/monitoring runs
// it: the admin's kubeconfig, the emulator's AWS environment, its metrics
// and profiler on free loopback ports.
type operator struct {
	*harness.Process
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
	o := &operator{metricsAddr: harness.FreeAddress(t), pprofAddr: harness.FreeAddress(t)}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + suite.Dir, "KUBECONFIG=" + suite.Kubeconfig}
	for k, v := range harness.AWSEnvironment(suite.EmulatorURL, region, suite.Dir) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	// Registered before the process's own cleanup, this runs after it: the
	// log is complete.
	t.Cleanup(func() { o.keepLog(t) })
	o.Process = harness.StartProcess(t, "the operator", binary, filepath.Join(suite.Dir, "manager.log"), env,
		"--metrics-bind-address="+o.metricsAddr, "--pprof-bind-address="+o.pprofAddr,
		"--health-probe-bind-address="+harness.FreeAddress(t), "--sync-period="+syncPeriod.String(),
		"--statement-id-prefix="+sidPrefix)
	harness.Eventually(t, "the operator serving /metrics", func() string {
		if why := o.Exited(); why != "" {
			t.Fatalf("%s\n%s", why, o.Tail(30))
		}
		if _, err := o.scrape(); err != nil {
			return err.Error()
		}
		return ""
	})
	return o
}

// keepLog keeps the operator's whole log when the test failed: the suite's
// directory goes when the run ends.
func (o *operator) keepLog(t *testing.T) {
	if !t.Failed() || o.Process == nil {
		return
	}
	kept := filepath.Join(os.TempDir(), fmt.Sprintf("soak-manager-%d.log", o.Pid()))
	if data, err := os.ReadFile(o.Log); err == nil && os.WriteFile(kept, data, 0o644) == nil {
		t.Logf("the operator's log is kept in %s", kept)
	}
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
