package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

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
