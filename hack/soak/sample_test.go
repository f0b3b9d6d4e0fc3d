//go:build integration && soak

package soak

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// sample is one reading of the operator, taken while the churn runs.
type sample struct {
	at                time.Duration // since the churn began
	objects, notReady int           // the soak's objects of every kind, and those not Ready at their generation
	rss, heap         float64       // MB: resident memory (VmRSS), and the heap still allocated after a collection
	goroutines        float64       // go_goroutines on its /metrics
	fds, sockets, tcp float64       // open file descriptors, those that are sockets, and its ESTABLISHED TCP connections
	series            float64       // sample lines on its /metrics
	watches           float64       // watches the API server serves (apiserver_longrunning_requests{verb="WATCH"}); -1: not exposed
	churned, faults   int           // churn operations and injected faults so far
}

// measure is one quantity the soak judges: its slope per hour over the
// samples after the warm-up may not pass rate + 1.5·noise/window. rate is
// the growth a leak of the smallest size worth catching makes at the
// soak's churn; noise is how far a healthy operator's reading swings from
// one sample to another. A swing of noise that happens to fall in the
// middle of the judged window (of length window) makes a least-squares
// slope of 1.5·noise/window, so a short run can only catch gross leaks,
// and the 30-minute run is judged mostly by rate.
type measure struct {
	name, unit  string
	value       func(sample) float64
	rate, noise float64
	why         string
}

// The churn (churn_test.go) replaces its whole population every seven
// minutes or so: per hour about 9,800 operations (2,400 LambdaPermissions
// created, as many deleted, 3,600 changed; 400 function URL grants each
// created, changed and deleted; 240 LambdaResourcePolicy steps), with the
// sync period of 30 s about 42,000 periodic checks, and about 1,300
// injected faults, 130 of them dropped connections. Whatever leaks per
// object, per change, per check or per failed call therefore grows by
// hundreds to tens of thousands an hour, while the population, and so
// everything the operator rightly holds, stays the same.
var measures = []measure{
	{"rss", "MB", func(s sample) float64 { return s.rss }, 32, 24,
		"resident memory follows the heap's peak between collections and how lazily the runtime returns pages: it climbs for " +
			"ten minutes as the Event cache fills (below), then swings by a few MB (24 MB of noise); 32 MB/h is about 3 KB per " +
			"churn operation, and the heap is the finer measure"},
	{"heap", "MB", func(s sample) float64 { return s.heap }, 8, 4,
		"the heap left after a forced collection is what the operator holds; client-go's event broadcaster keeps each Event " +
			"for 6 to 12 minutes, so it rises for 12 minutes and then saws by about 2.5 MB every 6 (4 MB of noise); 8 MB/h is " +
			"under 1 KB per churn operation, less than one leaked object, Event or series each"},
	{"goroutines", "", func(s sample) float64 { return s.goroutines }, 30, 20,
		"goroutines come and go with connections and work in flight (two per connection, 20 of swing); " +
			"a goroutine leaked per object, change, reconcile or failed call would add hundreds an hour"},
	{"fds", "", func(s sample) float64 { return s.fds }, 10, 8,
		"descriptors are the log, the listeners and the connections, pooled (8 of swing); one leaked per dropped connection would add over a hundred an hour"},
	{"sockets", "", func(s sample) float64 { return s.sockets }, 10, 8,
		"as fds: the listeners and the pooled connections to the API server and Lambda"},
	{"tcp", "", func(s sample) float64 { return s.tcp }, 10, 8,
		"ESTABLISHED connections: pooled, to two servers"},
	{"series", "", func(s sample) float64 { return s.series }, 60, 30,
		"one series per object (lambda_permission_objects) and fixed sets by operation, outcome and reason: flat with the " +
			"population, a few new label values (a rare error code) now and then; a series kept per deleted object would add 2,400 an hour"},
	{"watches", "", func(s sample) float64 { return s.watches }, 3, 4,
		"one watch per kind the operator and the API server watch; a watch leaked per restart would add one every few minutes"},
}

// sampler takes the samples.
type sampler struct {
	op      *operator
	api     *kubernetes.Clientset
	c       *churner
	started time.Time
	samples []sample
}

func newSampler(t *testing.T, op *operator, c *churner) *sampler {
	t.Helper()
	api, err := kubernetes.NewForConfig(suite.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &sampler{op: op, api: api, c: c, started: time.Now()}
}

// take reads the operator and prints the reading as a row of the table.
// The process's own counts are read first, before the scrapes open
// connections to it.
func (s *sampler) take(t *testing.T) {
	t.Helper()
	pid := s.op.Pid()
	x := sample{at: time.Since(s.started), churned: s.c.operations(), faults: injectedFaults(), watches: -1}
	rss, err := vmRSS(pid)
	if err != nil {
		t.Fatalf("sampling the operator: %v (%s)", err, s.op.Exited())
	}
	x.rss = float64(rss) / (1 << 20)
	fds, sockets, tcp, err := descriptors(pid)
	if err != nil {
		t.Fatalf("sampling the operator: %v", err)
	}
	x.fds, x.sockets, x.tcp = float64(fds), float64(sockets), float64(tcp)
	metrics, err := s.op.scrape()
	if err != nil {
		t.Fatalf("scraping the operator: %v", err)
	}
	x.series = float64(seriesCount(metrics))
	x.goroutines, _ = metricSum(metrics, "go_goroutines")
	heap, err := s.op.liveHeap()
	if err != nil {
		t.Fatalf("the operator's heap: %v", err)
	}
	x.heap = float64(heap) / (1 << 20)
	if raw, err := s.api.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx); err == nil {
		if w, ok := metricSum(string(raw), "apiserver_longrunning_requests", `verb="WATCH"`); ok {
			x.watches = w
		}
	}
	state := listObjects(t)
	x.objects, x.notReady = state.count(), len(state.notReady())
	if len(s.samples) == 0 {
		logf("%6s %7s %8s %7s %7s %10s %5s %7s %5s %6s %7s %7s %6s",
			"t", "objects", "notReady", "rss MB", "heap MB", "goroutines", "fds", "sockets", "tcp", "series", "watches", "churned", "faults")
	}
	logf("%6s %7d %8d %7.1f %7.1f %10.0f %5.0f %7.0f %5.0f %6.0f %7.0f %7d %6d",
		x.at.Round(time.Second), x.objects, x.notReady, x.rss, x.heap, x.goroutines, x.fds, x.sockets, x.tcp, x.series, x.watches,
		x.churned, x.faults)
	s.samples = append(s.samples, x)
}

// judge prints each measure's slope per hour over the samples after the
// warm-up (the first fifth, and at least two), and fails the test for
// each that passes its bound.
func (s *sampler) judge(t *testing.T) {
	t.Helper()
	if len(s.samples) < 5 {
		t.Fatalf("%d samples are too few for a slope", len(s.samples))
	}
	skip := max(2, (len(s.samples)+4)/5)
	judged := s.samples[min(skip, len(s.samples)-3):]
	window := (judged[len(judged)-1].at - judged[0].at).Hours()
	logf("slopes per hour over %d samples from %s to %s (the first %d are the warm-up); bound = rate + 1.5·noise/%.2fh:",
		len(judged), judged[0].at.Round(time.Second), judged[len(judged)-1].at.Round(time.Second), len(s.samples)-len(judged), window)
	hours := make([]float64, len(judged))
	for i, x := range judged {
		hours[i] = x.at.Hours()
	}
	for _, m := range measures {
		values := make([]float64, len(judged))
		for i, x := range judged {
			values[i] = m.value(x)
		}
		if m.name == "watches" && values[0] < 0 {
			logf("  %-10s not exposed by this API server", m.name)
			continue
		}
		got, bound := slope(hours, values), m.rate+1.5*m.noise/window
		verdict := "ok"
		if got > bound {
			verdict = "TOO STEEP"
			t.Errorf("%s grows by %.1f%s an hour, over its bound of %.1f (%.0f/h + 1.5×%.0f over %.2fh): %s",
				m.name, got, m.unit, bound, m.rate, m.noise, window, m.why)
		}
		logf("  %-10s %+9.1f %-2s/h   bound %8.1f   %s", m.name, got, m.unit, bound, verdict)
	}
	first, last := s.samples[0], s.samples[len(s.samples)-1]
	if span := (last.at - first.at).Hours(); span > 0 {
		logf("churn: %.0f operations an hour; faults injected: %.0f an hour",
			float64(last.churned-first.churned)/span, float64(last.faults-first.faults)/span)
	}
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(ys))
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

// injectedFaults is how many faults the emulator has injected so far.
func injectedFaults() int {
	n := 0
	for _, kinds := range suite.Emulator.Stats().Faults {
		for _, count := range kinds {
			n += count
		}
	}
	return n
}

// vmRSS is a process's resident memory, from /proc/PID/status.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// descriptors counts a process's open file descriptors, those that are
// sockets, and of those the TCP connections that are ESTABLISHED: its
// socket inodes looked up in /proc/PID/net/tcp and tcp6 (the network
// namespace's tables, which list every process's connections).
func descriptors(pid int) (fds, sockets, established int, err error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	inodes := map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		fds++
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			sockets++
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "01" && inodes[f[9]] {
				established++
			}
		}
	}
	return fds, sockets, established, nil
}
