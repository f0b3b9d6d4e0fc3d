package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"
)

func printTable(results []result) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\tstrategy\tworkers\tN\tF\tquota/s\tapplied\tfirst status\twall\tfloor\tratio\tAPI writes/obj\tof them Events\treconciles/obj\tCPU s\tGetFunction\tGetPolicy\tAddPermission\tRemovePermission\tPutResourcePolicy\tDeleteResourcePolicy\t429s\tp50\tp99\tpeak RSS\t")
	for _, r := range results {
		fl, ratio, quota := "-", "-", "none"
		if r.quota > 0 {
			quota = fmt.Sprint(r.quota)
			if r.accounts > 1 {
				quota = fmt.Sprintf("%v×%d accts", r.quota, r.accounts)
			}
		}
		if r.floor > 0 {
			fl, ratio = r.floor.Round(10*time.Millisecond).String(), fmt.Sprintf("%.2f", float64(r.wall)/float64(r.floor))
		}
		p50, p99 := "-", "-"
		if r.latencySample > 0 {
			p50, p99 = r.p50.Round(time.Millisecond).String(), r.p99.Round(time.Millisecond).String()
		}
		applied, started := "-", "-"
		if r.applied > 0 {
			applied = r.applied.Round(10 * time.Millisecond).String()
		}
		if r.started > 0 {
			started = r.started.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%.0f MiB\t\n", r.name, r.strategy, r.workers,
			r.n, r.f, quota, applied, started, r.wall.Round(10*time.Millisecond), fl, ratio,
			float64(r.usage.writes)/float64(max(r.n, 1)), float64(r.usage.events())/float64(max(r.n, 1)), float64(r.usage.reconciles)/float64(max(r.n, 1)), r.usage.cpu, r.calls["GetFunction"], r.calls["GetPolicy"],
			r.calls["AddPermission"], r.calls["RemovePermission"], r.calls["PutResourcePolicy"], r.calls["DeleteResourcePolicy"],
			r.throttled, p50, p99, float64(r.peakRSS)/(1<<20))
	}
	_ = w.Flush()
	fmt.Println()
	fmt.Println("floor: Statements N/quota (one AddPermission per object); Document F/quota (one GetPolicy and one PutResourcePolicy per function, in two buckets); accounts: the busiest account's objects/quota (quotas are per account).")
	fmt.Println("delete rows: every object of the run above deleted at once, until every statement and every object is gone; floor Statements N/quota (one RemovePermission each), Document F/quota.")
	fmt.Println("applied: the last object created (deleted); first status: the last object's first status, as a watch saw it; wall: the last statement in place (gone).")
	fmt.Println("API writes/obj: Kubernetes writes of any resource, Events included, from the API server's apiserver_request_total, less the benchmark's own N creates (deletes) and the API server's lease renewals (the metric names no client), per object; BENCH_DEBUG=1 breaks them down. Of them Events: the Events among them (one per object written: Added, Removed), per object; the rest are writes to the objects themselves (finalizer, status).")
	fmt.Println("reconciles/obj: the operator's LambdaPermission reconciles (controller_runtime_reconcile_total) over the same window, per object.")
	fmt.Println("CPU s: the manager's user and system CPU seconds (/proc/PID/stat) over the same window: from the first create (delete) until all were Ready (gone).")
	for _, r := range results {
		if r.kind == createRow && r.strategy == "Document" && r.floor > 0 && r.applied > 0 {
			// Objects are created round robin over the functions, so each
			// function has a change among the last ones created, and each
			// needs a write after the last create.
			bound := r.applied + r.floor
			fmt.Printf("%s: the objects took %s to create, round robin over the functions, so no operator can finish before applied + floor = %s; wall is %.2f × that.\n",
				r.name, r.applied.Round(10*time.Millisecond), bound.Round(10*time.Millisecond), float64(r.wall)/float64(bound))
		}
		if r.kind == deleteRow && r.strategy == "Document" {
			fmt.Printf("%s: %d policy calls (GetPolicy and writes) for %d functions; the target is at most 3F = %d (a read and two writes each).\n",
				r.name, policyCalls(r), r.f, 3*r.f)
		}
	}
}

// printComparison says, at each quota that both strategies ran at, how much
// faster the fastest Document run was than the fastest Statements run.
func printComparison(results []result) {
	var quotas []float64
	best := map[float64]map[string]result{}
	for _, r := range results {
		if r.kind != createRow || r.quota == 0 || r.n == 0 {
			continue
		}
		if best[r.quota] == nil {
			best[r.quota] = map[string]result{}
			quotas = append(quotas, r.quota)
		}
		if b, ok := best[r.quota][r.strategy]; !ok || r.wall < b.wall {
			best[r.quota][r.strategy] = r
		}
	}
	for _, q := range quotas {
		s, okS := best[q]["Statements"]
		d, okD := best[q]["Document"]
		if !okS || !okD || s.n != d.n || s.f != d.f {
			continue
		}
		at := fmt.Sprintf("at %v/s", q)
		if q == 15 {
			at = "at AWS's quotas"
		}
		speed := fmt.Sprintf("%.1f× faster", float64(s.wall)/float64(d.wall))
		if d.wall > s.wall {
			speed = fmt.Sprintf("%.1f× slower", float64(d.wall)/float64(s.wall))
		}
		fmt.Printf("Document is %s than Statements %s (%s with %d workers against %s with %d; %d policy writes against %d)\n", speed, at,
			d.wall.Round(10*time.Millisecond), d.workers, s.wall.Round(10*time.Millisecond), s.workers, writes(d), writes(s))
	}
}

// writes counts the policy writes a run made.
func writes(r result) int {
	return r.calls["AddPermission"] + r.calls["RemovePermission"] + r.calls["PutResourcePolicy"] + r.calls["DeleteResourcePolicy"]
}
