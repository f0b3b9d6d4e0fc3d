package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// growthRow is the growth table's row at one size.
type growthRow struct {
	n, f, added int
	fill        time.Duration // creating the objects added until every one was in place
	peakRSS     int64         // the restarted manager's
	restart     time.Duration // from a new manager's exec until it reconciled every object
	restarted   int           // the objects it had reconciled then: n, or fewer when it timed out
	floor       time.Duration // F GetPolicy at the quota
	round       usage         // one sync round of every object: Kubernetes writes, CPU
	getPolicy   int           // GetPolicy calls in the round
	counted     bool          // a round was counted (the restart did not time out)
	reconciles  int           // the round's reconciles: n, or fewer when it timed out
	took        time.Duration // the round
}

// growthRun is how the growth table runs.
type growthRun struct {
	f, workers int
	quota      float64       // GetPolicy requests per second
	syncPeriod time.Duration // the restarted manager's
	timeout    time.Duration // the longest the restart, and the round, are waited for
}

// growth grows one namespace to each size in turn, its objects over g.f
// functions (object i on function i % f), with the Statements strategy,
// and prints a row of the table as each size is done. GetPolicy runs at
// AWS's quota; writes are unlimited: filling 50,000 statements one
// AddPermission each at AWS's 15/s would take 55 minutes, and what the
// table is about is keeping them, not writing them.
//
// At each size: a manager with the default sync period (so that the
// objects already there stay quiet) and no GOMEMLIMIT (the fill is set-up,
// not measured) fills the namespace up to the size; it is stopped and a
// new one started as the chart runs it (GOMEMLIMIT) with
// --sync-period=g.syncPeriod, and timed until it has reconciled every
// object (its managedMetric); then one sync round is counted, from then
// until it has made one reconcile per object more.
func (b *bench) growth(sizes []int, g growthRun) error {
	ctx := context.Background()
	b.newEmulator(map[string]float64{emulator.BucketGetPolicy: g.quota}, nil)
	functions, err := b.createFunctions(ctx, b.lambda, "g", g.f)
	if err != nil {
		return err
	}
	ns := "growth"
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return err
	}
	fmt.Println()
	printGrowthRow("growth", "N", "F", "per policy", "added", "fill", "peak RSS", "restart", "floor", "ratio", "sync: GetPolicy", "API writes", "CPU s", "took")
	have := 0
	for _, size := range sizes {
		row := growthRow{n: size, f: g.f, added: size - have, floor: floorOf(g.f, g.quota)}
		fill := operatorRun{namespace: ns, strategy: "Statements", workers: g.workers, getPolicyRPS: g.quota}
		if err := b.fill(ctx, &row, fill, have, functions); err != nil {
			return err
		}
		have = size
		if err := b.restartAndSync(ctx, &row, fill, g); err != nil {
			return err
		}
		b.stopOperator()
		row.print()
	}
	printGrowthNotes(g, b.memoryLimit)
	return nil
}

// fill creates the objects from have up to row.n and waits until every
// one is in place, with a manager without GOMEMLIMIT.
func (b *bench) fill(ctx context.Context, row *growthRow, run operatorRun, have int, functions []string) error {
	limit := b.memoryLimit
	b.memoryLimit = "off"
	err := b.startOperator(run)
	b.memoryLimit = limit
	if err != nil {
		return err
	}
	defer b.stopOperator()
	began := time.Now()
	if err := b.create(ctx, run.namespace, have, row.n, functions); err != nil {
		return err
	}
	if err := b.waitInPlace(functions, row.n, time.Hour); err != nil {
		return err
	}
	if managed := b.waitManaged(row.n, 30*time.Minute); managed < row.n {
		return fmt.Errorf("%d of %d objects reconciled after 30m", managed, row.n)
	}
	row.fill = time.Since(began)
	return nil
}

// restartAndSync starts a manager with g.syncPeriod, times it until it has
// reconciled all row.n objects, then counts one sync round.
func (b *bench) restartAndSync(ctx context.Context, row *growthRow, run operatorRun, g growthRun) error {
	run.syncPeriod = g.syncPeriod
	b.emu.ResetStats()
	began := time.Now()
	if err := b.startOperator(run); err != nil {
		return err
	}
	row.restarted = b.waitManaged(row.n, g.timeout)
	row.restart = time.Since(began)
	if os.Getenv("BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "growth-%d restart: %v\n", row.n, b.emu.Stats().Calls)
	}
	if row.restarted >= row.n {
		// Each object comes back a sync period (+ up to 10 % jitter) after
		// its last reconcile: count until every one has.
		row.counted = true
		b.emu.ResetStats()
		m := b.mark(ctx)
		from, _ := b.operatorMetric(reconcilesMetric, ofPermissions)
		began = time.Now()
		row.reconciles = b.waitReconciles(from, row.n, g.timeout)
		row.took = time.Since(began)
		row.round = b.usageSince(ctx, fmt.Sprintf("growth-%d sync", row.n), m, nil)
		row.getPolicy = b.emu.Stats().Calls["GetPolicy"]
	}
	row.peakRSS, _ = memoryOf(b.operator.Process.Pid)
	if os.Getenv("BENCH_DEBUG") != "" {
		self, _ := memoryOf(os.Getpid())
		fmt.Fprintf(os.Stderr, "growth-%d: the benchmark itself (emulator included) peaked at %.0f MiB\n", row.n, float64(self)/(1<<20))
	}
	return nil
}

func (r growthRow) print() {
	restart, ratio := r.restart.Round(100*time.Millisecond).String(), fmt.Sprintf("%.2f", float64(r.restart)/float64(r.floor))
	if r.restarted < r.n {
		restart, ratio = fmt.Sprintf("> %s (%d of %d)", r.restart.Round(time.Second), r.restarted, r.n), "-"
	}
	getPolicy, writes, cpu, took := "-", "-", "-", "-"
	if r.counted {
		getPolicy, writes, cpu = fmt.Sprint(r.getPolicy), fmt.Sprint(r.round.writes), fmt.Sprintf("%.1f", r.round.cpu)
		took = r.took.Round(100 * time.Millisecond).String()
		if r.reconciles < r.n {
			took = fmt.Sprintf("> %s (%d of %d reconciles)", r.took.Round(time.Second), r.reconciles, r.n)
		}
	}
	printGrowthRow(fmt.Sprintf("growth-%d", r.n), fmt.Sprint(r.n), fmt.Sprint(r.f), fmt.Sprint((r.n+r.f-1)/r.f), fmt.Sprint(r.added),
		r.fill.Round(100*time.Millisecond).String(), fmt.Sprintf("%.0f MiB", float64(r.peakRSS)/(1<<20)), restart,
		r.floor.Round(100*time.Millisecond).String(), ratio, getPolicy, writes, cpu, took)
}

// printGrowthRow prints a row as it comes, so that a long table shows what
// it has so far; the widths fit the figures of up to a million objects.
func printGrowthRow(cells ...string) {
	widths := []int{-13, 7, 4, 10, 6, 8, 8, 24, 6, 6, 15, 10, 6, 0}
	for i, cell := range cells {
		fmt.Printf("%*s  ", widths[i], cell)
	}
	fmt.Println()
}

func printGrowthNotes(g growthRun, memLimit string) {
	fmt.Println()
	fmt.Printf("growth: one namespace grown to each N over F functions, Statements strategy, GetPolicy at %v/s and writes unlimited (filling 50,000 statements at AWS's 15/s would take 55 min; this table is about keeping them).\n", g.quota)
	fmt.Println("fill: creating the objects added since the previous size until all were in place (set-up: the default --sync-period=10m, so that the ones already there stay quiet, and no GOMEMLIMIT).")
	fmt.Printf("peak RSS: the restarted manager's VmHWM, with GOMEMLIMIT=%s as the chart sets it.\n", memLimit)
	fmt.Printf("restart: a new manager with --sync-period=%s, from its exec until it had reconciled every object to in place (its %s; waited for up to %s); floor: F GetPolicy at %v/s.\n", g.syncPeriod, managedMetric, g.timeout, g.quota)
	fmt.Printf("sync: from then until the manager made N more reconciles (%s: each object's next sync, %s to %s after its last), its GetPolicy calls, Kubernetes writes (as API writes/obj above) and CPU seconds; took: how long that was.\n",
		reconcilesMetric, g.syncPeriod, time.Duration(1.1*float64(g.syncPeriod)))
}
