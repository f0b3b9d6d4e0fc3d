package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	eventsv1 "k8s.io/api/events/v1"
)

// mark is a reading taken at the start of a window: the API server's
// writes so far and the operator's CPU time so far.
type mark struct {
	writes     map[string]int
	pid        int     // the operator read, 0: none was running
	cpu        float64 // its CPU seconds then
	reconciles float64 // its LambdaPermission reconciles then
}

// usage is what the operator cost over a window: the Kubernetes writes it
// made (by "resource[/subresource] VERB" in breakdown) and its CPU seconds.
type usage struct {
	writes     int
	breakdown  map[string]int
	cpu        float64
	reconciles int // the operator's LambdaPermission reconciles
}

// events is how many of the writes were Events.
func (u usage) events() int {
	n := 0
	for key, count := range u.breakdown {
		if strings.HasPrefix(key, "events ") || strings.HasPrefix(key, "events/") {
			n += count
		}
	}
	return n
}

func (b *bench) mark(ctx context.Context) mark {
	m := mark{writes: b.apiWrites(ctx)}
	if b.operator != nil {
		m.pid = b.operator.Process.Pid
		m.cpu = cpuSeconds(m.pid)
		m.reconciles, _ = b.operatorMetric(reconcilesMetric, ofPermissions)
	}
	return m
}

// usageSince is what the operator cost since m. The API server's metric
// has no label for who made a request, so the writes are all the API
// server served less the benchmark's own (own, by key) and less the API
// server's own lease renewals (the operator runs without leader election
// and writes no lease). A manager started since m counts from zero.
func (b *bench) usageSince(ctx context.Context, name string, m mark, own map[string]int) usage {
	u := usage{breakdown: map[string]int{}}
	after := b.apiWrites(ctx)
	debug := os.Getenv("BENCH_DEBUG") != ""
	for key, count := range after {
		n := count - m.writes[key] - own[key]
		if n > 0 && strings.HasPrefix(key, "leases ") {
			if debug {
				fmt.Fprintf(os.Stderr, "%s API server's own API writes %s: %d (not counted)\n", name, key, n)
			}
			continue
		}
		if n > 0 {
			u.breakdown[key] = n
			u.writes += n
		}
	}
	if b.operator != nil {
		before, reconciledBefore := m.cpu, m.reconciles
		if m.pid != b.operator.Process.Pid {
			before, reconciledBefore = 0, 0
		}
		u.cpu = cpuSeconds(b.operator.Process.Pid) - before
		reconciled, _ := b.operatorMetric(reconcilesMetric, ofPermissions)
		u.reconciles = int(reconciled - reconciledBefore)
	}
	if debug {
		var keys []string
		for k := range u.breakdown {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(os.Stderr, "%s operator's API writes %s: %d\n", name, k, u.breakdown[k])
		}
		for k, n := range own {
			fmt.Fprintf(os.Stderr, "%s benchmark's own API writes %s: %d (not counted)\n", name, k, n)
		}
		var events eventsv1.EventList
		if err := b.kube.List(ctx, &events); err == nil {
			reasons := map[string]int{}
			for _, e := range events.Items {
				reasons[e.Type+" "+e.Reason] += max(1, int(e.DeprecatedCount))
			}
			fmt.Fprintf(os.Stderr, "%s Events so far, by reason: %v\n", name, reasons)
		}
	}
	return u
}

// apiWrites counts the writes the API server has served, by resource and
// verb (create, update, patch, delete), from its apiserver_request_total.
func (b *bench) apiWrites(ctx context.Context) map[string]int {
	counts := map[string]int{}
	raw, err := b.apiMetrics.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return counts
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		labels := map[string]string{}
		end := strings.LastIndex(line, "}")
		for _, kv := range strings.Split(line[len("apiserver_request_total{"):end], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
		default:
			continue
		}
		value, _ := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		key := labels["resource"]
		if labels["subresource"] != "" {
			key += "/" + labels["subresource"]
		}
		counts[key+" "+labels["verb"]] += int(value)
	}
	return counts
}

// cpuSeconds is the user and system CPU time a process has used, all its
// threads, from /proc/PID/stat (fields 14 and 15, in clock ticks).
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count the fields after its closing one, state (field 3) first.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[14-3], 64)
	stime, _ := strconv.ParseFloat(fields[15-3], 64)
	return (utime + stime) / clockTicks
}

// clockTicks is the kernel's USER_HZ, the unit of /proc's CPU times:
// sysconf(_SC_CLK_TCK), which the C library reads from the auxiliary
// vector's AT_CLKTCK. It is 100 on every Linux the benchmark runs on.
var clockTicks = func() float64 {
	const atClkTck = 17
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	for i := 0; i+16 <= len(auxv); i += 16 { // pairs of 64-bit words
		if binary.NativeEndian.Uint64(auxv[i:]) == atClkTck {
			if v := binary.NativeEndian.Uint64(auxv[i+8:]); v > 0 {
				return float64(v)
			}
		}
	}
	return 100
}()

// memoryOf reads a process's peak and current resident memory.
func memoryOf(pid int) (peak, now int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmHWM:":
			peak = kb * 1024
		case "VmRSS:":
			now = kb * 1024
		}
	}
	return peak, now
}

// metricsClient reads the operator's /metrics uncompressed: gzip would
// cost the operator more CPU than the loopback saves.
var metricsClient = http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}

// operatorMetric sums the running operator's samples of a metric whose
// labels contain every one of labels (`controller="lambdapermission"`);
// ok is false when it exposes none.
func (b *bench) operatorMetric(name string, labels ...string) (sum float64, ok bool) {
	resp, err := metricsClient.Get("http://" + b.operatorAddr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false
	}
lines:
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		value, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum, ok = sum+value, true
		}
	}
	return sum, ok
}
