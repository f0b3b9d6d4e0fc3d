package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// growthRow is the growth table's row at one size.
type growthRow struct {
	n, f, added int
	fill        time.Duration // creating the objects added until every one was in place
	peakRSS     int64         // the fill's and the restarted manager's, the higher
	restart     time.Duration // from a new manager's exec until it reconciled every object
	floor       time.Duration // F GetPolicy at the quota
	round       usage         // one sync round of every object: Kubernetes writes, CPU
	getPolicy   int           // GetPolicy calls in the round
	reconciles  int           // the round's reconciles: n, or fewer when it timed out
	took        time.Duration // the round
}

// growth grows one namespace to each size in turn, its objects over f
// functions (object i on function i % f), with the Statements strategy.
// GetPolicy runs at AWS's quota; writes are unlimited: filling 50,000
// statements one AddPermission each at AWS's 15/s would take 55 minutes,
// and what the table is about is keeping them, not writing them.
//
// At each size: a manager with the default sync period (so that the
// objects already there stay quiet) fills the namespace up to the size;
// it is stopped and a new one started with --sync-period=syncPeriod, and
// timed until it has reconciled every object (its managedMetric); then one
// sync round is counted, from then until it has made one reconcile per
// object more.
func (b *bench) growth(sizes []int, f, workers int, quota float64, syncPeriod time.Duration) ([]growthRow, error) {
	ctx := context.Background()
	b.newEmulator(map[string]float64{emulator.BucketGetPolicy: quota}, nil)
	functions, err := b.createFunctions(ctx, b.lambda, "g", f)
	if err != nil {
		return nil, err
	}
	ns := "growth"
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return nil, err
	}
	var rows []growthRow
	have := 0
	for _, size := range sizes {
		row := growthRow{n: size, f: f, added: size - have, floor: floorOf(f, quota)}
		fill := operatorRun{namespace: ns, strategy: "Statements", workers: workers, getPolicyRPS: quota}
		if err := b.startOperator(fill); err != nil {
			return rows, err
		}
		began := time.Now()
		if err := b.create(ctx, ns, have, size, functions); err != nil {
			return rows, err
		}
		if err := b.waitInPlace(functions, size, time.Hour); err != nil {
			return rows, err
		}
		if err := b.waitManaged(size, 30*time.Minute); err != nil {
			return rows, err
		}
		row.fill = time.Since(began)
		row.peakRSS, _ = memoryOf(b.operator.Process.Pid)
		b.stopOperator()
		have = size

		if err := b.restartAndSync(ctx, &row, fill, syncPeriod); err != nil {
			return rows, err
		}
		b.stopOperator()
		rows = append(rows, row)
	}
	return rows, nil
}

// restartAndSync starts a manager with syncPeriod, times it until it has
// reconciled all row.n objects, then counts one sync round.
func (b *bench) restartAndSync(ctx context.Context, row *growthRow, run operatorRun, syncPeriod time.Duration) error {
	run.syncPeriod = syncPeriod
	b.emu.ResetStats()
	began := time.Now()
	if err := b.startOperator(run); err != nil {
		return err
	}
	if err := b.waitManaged(row.n, 30*time.Minute); err != nil {
		return err
	}
	row.restart = time.Since(began)
	if os.Getenv("BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "growth-%d restart: %v\n", row.n, b.emu.Stats().Calls)
	}

	// Each object comes back a sync period (+ up to 10 % jitter) after its
	// last reconcile: count until every one has, whatever that takes.
	b.emu.ResetStats()
	m := b.mark(ctx)
	from, _ := b.operatorMetric(reconcilesMetric, ofPermissions)
	began = time.Now()
	row.reconciles = b.waitReconciles(from, row.n, 2*syncPeriod+10*time.Minute)
	row.took = time.Since(began)
	row.round = b.usageSince(ctx, fmt.Sprintf("growth-%d sync", row.n), m, nil)
	row.getPolicy = b.emu.Stats().Calls["GetPolicy"]
	peak, _ := memoryOf(b.operator.Process.Pid)
	row.peakRSS = max(row.peakRSS, peak)
	if os.Getenv("BENCH_DEBUG") != "" {
		self, _ := memoryOf(os.Getpid())
		fmt.Fprintf(os.Stderr, "growth-%d: the benchmark itself (emulator included) peaked at %.0f MiB\n", row.n, float64(self)/(1<<20))
	}
	return nil
}

func printGrowth(rows []growthRow, quota float64, syncPeriod time.Duration, memLimit string) {
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "growth\tN\tF\tper policy\tadded\tfill\tpeak RSS\trestart\tfloor\tratio\tsync: GetPolicy\tAPI writes\tCPU s\ttook\t")
	for _, r := range rows {
		took := r.took.Round(100 * time.Millisecond).String()
		if r.reconciles < r.n {
			took += fmt.Sprintf(" (%d of %d reconciles)", r.reconciles, r.n)
		}
		fmt.Fprintf(w, "growth-%d\t%d\t%d\t%d\t%d\t%s\t%.0f MiB\t%s\t%s\t%.2f\t%d\t%d\t%.1f\t%s\t\n", r.n, r.n, r.f, (r.n+r.f-1)/r.f, r.added,
			r.fill.Round(100*time.Millisecond), float64(r.peakRSS)/(1<<20), r.restart.Round(100*time.Millisecond),
			r.floor.Round(100*time.Millisecond), float64(r.restart)/float64(r.floor), r.getPolicy, r.round.writes, r.round.cpu, took)
	}
	_ = w.Flush()
	fmt.Println()
	fmt.Printf("growth: one namespace grown to each N over F functions, Statements strategy, GetPolicy at %v/s and writes unlimited (filling 50,000 statements at AWS's 15/s would take 55 min; this table is about keeping them).\n", quota)
	fmt.Println("fill: creating the objects added since the previous size until all were in place, with the default --sync-period=10m (the ones already there stay quiet).")
	fmt.Printf("peak RSS: the manager's VmHWM over the fill and the restart, with GOMEMLIMIT=%s as the chart sets it.\n", memLimit)
	fmt.Printf("restart: a new manager with --sync-period=%s, from its exec until it had reconciled every object to in place (its %s); floor: F GetPolicy at %v/s.\n", syncPeriod, managedMetric, quota)
	fmt.Printf("sync: from then until the manager made N more reconciles (%s: each object's next sync, %s to %s after its last), its GetPolicy calls, Kubernetes writes (as API writes/obj above) and CPU seconds; took: how long that was.\n",
		reconcilesMetric, syncPeriod, time.Duration(1.1*float64(syncPeriod)))
}
