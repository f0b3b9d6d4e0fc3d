// Command bench is `make bench`: it runs the operator (bin/manager) against a
// real kube-apiserver and etcd and the Lambda emulator with AWS's quotas, and
// prints three tables.
//
// The first has a row per run. Each throughput run creates N objects over F
// functions at once with one write strategy (the operator's
// --write-strategy: Statements at each of -quotas, Document at each of
// -document-quotas) and reports the operator's workers
// (--max-concurrent-reconciles), when the last object was created
// (applied), when the last object's first status was seen (first status),
// when the last statement was in place (wall) against its floor, the
// Kubernetes writes the operator made per object and its CPU time, the
// calls made by operation, the latency from an object applied to its
// statement in place on an idle system, and the manager's peak memory.
// After the first run of each strategy at each of -delete-quotas, a delete
// run deletes its objects and times until every statement and every object
// is gone. An accounts run spreads N objects over functions in several AWS
// accounts, each with its own quotas, reached through
// LambdaPermissionAccounts and roles the operator assumes. A memory run
// follows with -memory-objects. Last, how much faster Document was than
// Statements at each quota both ran at.
//
// The second, compaction, grants -compaction-objects S3 buckets on one
// function at AWS's quotas, as issue 25's compaction is for: written whole
// and compacted (--write-strategy=Document --compaction=Always), then, on
// a fresh function with a fresh operator, statement by statement
// (Statements), where the policy fills and the rest stall with
// PolicyTooLarge. Each row reports the objects Ready (and stalled), the
// time until each was one or the other, the policy's size, statements and
// compacted lists as the emulator holds it, what the objects' statuses say
// (policySize, compacted) and the calls; under it, one PolicyTooLarge
// message as the operator wrote it.
//
// The third, growth, grows one namespace to each of -growth objects and
// reports the manager's peak memory, how long a restarted manager takes to
// reconcile every object, and what one sync round of every object costs in
// steady state: GetPolicy calls, Kubernetes writes, CPU.
//
// The floor is what the quota allows at best. Statements writes one
// statement per AddPermission, all on the control-plane bucket: N / quota.
// Document reads each policy once (GetPolicy, its own bucket) and writes it
// once (PutResourcePolicy, on the control-plane bucket): F / quota for the
// reads and as much for the writes, which overlap. When first status comes
// close to wall, the run was held back by Kubernetes, not by AWS.
//
// A benchmark prints figures; it asserts nothing. Flags scale the runs and
// choose what runs; BENCH_DEBUG=1 prints the errors and the Kubernetes
// writes of each run by resource and verb; BENCH_PROFILE=dir records CPU
// profiles of the operator; BENCH_TIMELINE=file logs each call the
// emulator answers, with its time.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

// flags are the benchmark's command line.
type flags struct {
	n, f, latencyN, memoryN, memoryF     int
	quotas, documentQuotas, deleteQuotas []float64
	statementsWorkers, documentWorkers   []int
	accounts, accountFunctions, accountN int
	accountQuota                         float64
	compactionN                          int
	compactionTimeout                    time.Duration
	growth                               []int
	growthF                              int
	growthQuota                          float64
	growthSyncPeriod, growthTimeout      time.Duration
	manager, memLimit                    string
	backlog, admission                   bool
	kubeQPS, clients                     int
}

func parseFlags() flags {
	var (
		fl                                   flags
		quotas, documentQuotas, deleteQuotas string
		statementsWorkers, documentWorkers   string
		growth                               string
	)
	flag.IntVar(&fl.n, "n", 1000, "objects in the throughput run")
	flag.IntVar(&fl.f, "f", 50, "functions in the throughput run")
	flag.StringVar(&quotas, "quotas", "15,150", "GetPolicy and control-plane quotas to run the Statements strategy at, requests per second: AWS's 15, and scaled up (empty: none)")
	flag.StringVar(&documentQuotas, "document-quotas", "15", "quotas to run the Document strategy at (empty: none)")
	flag.StringVar(&deleteQuotas, "delete-quotas", "15", "after the first run of each strategy at these quotas, delete its objects and time it (empty: none)")
	flag.IntVar(&fl.latencyN, "latency-objects", 50, "objects applied one at a time on an idle system")
	flag.IntVar(&fl.memoryN, "memory-objects", 0, "objects in a memory run at no quota (0: skip it; the growth table measures memory)")
	flag.IntVar(&fl.memoryF, "memory-functions", 200, "functions in the memory run (a policy holds about 100 statements)")
	flag.IntVar(&fl.accountN, "account-objects", 1000, "objects in the accounts run (0: skip it)")
	flag.IntVar(&fl.accounts, "accounts", 10, "AWS accounts in the accounts run, each with its own quotas")
	flag.IntVar(&fl.accountFunctions, "account-functions", 5, "functions per account in the accounts run")
	flag.Float64Var(&fl.accountQuota, "account-quota", 15, "GetPolicy and control-plane quotas of each account in the accounts run")
	flag.IntVar(&fl.compactionN, "compaction-objects", 300, "S3-bucket grants on one function in the compaction table (0: no compaction table)")
	flag.DurationVar(&fl.compactionTimeout, "compaction-timeout", 10*time.Minute, "the longest each compaction row waits for its objects to be Ready or stalled (it prints what it has then)")
	flag.StringVar(&growth, "growth", "1000,10000,50000", "sizes the growth table grows one namespace to (empty: no growth table)")
	flag.IntVar(&fl.growthF, "growth-functions", 500, "functions in the growth table (its largest size over them: statements per policy; Lambda's 20 KB fit about 100)")
	flag.Float64Var(&fl.growthQuota, "growth-getpolicy-quota", 15, "the GetPolicy quota in the growth table (writes are unlimited there)")
	flag.DurationVar(&fl.growthSyncPeriod, "growth-sync-period", time.Minute, "the manager's --sync-period for the growth table's restart and sync round")
	flag.DurationVar(&fl.growthTimeout, "growth-timeout", 10*time.Minute, "the longest the growth table waits for a restart, and for a sync round (it prints what it has then)")
	flag.StringVar(&fl.manager, "manager", "bin/manager", "the operator binary")
	flag.StringVar(&statementsWorkers, "max-concurrent-reconciles", "16", "the operator's --max-concurrent-reconciles in the Statements, accounts and growth runs; a list runs each (the accounts and growth runs use the first)")
	flag.StringVar(&documentWorkers, "document-max-concurrent-reconciles", "8", "the operator's --max-concurrent-reconciles in the Document runs (a queued write holds no worker); a list runs each")
	flag.BoolVar(&fl.backlog, "backlog", false, "create the objects before starting the operator, and time from its start (a backlog, as after an upgrade or an outage)")
	flag.BoolVar(&fl.admission, "admission", true, "install the admission policies of config/admission, as the chart does")
	flag.IntVar(&fl.kubeQPS, "kube-api-qps", 1000, "the operator's --kube-api-qps (its burst twice that)")
	flag.IntVar(&fl.clients, "create-clients", 48, "objects the benchmark creates or deletes at once (as a GitOps tool applying in parallel)")
	flag.StringVar(&fl.memLimit, "gomemlimit", "200MiB", "the operator's GOMEMLIMIT (the chart's goMemLimit: 80 % of its 256Mi memory limit); off: none")
	flag.Parse()
	fl.quotas = numbers("-quotas", quotas, 0)
	fl.documentQuotas = numbers("-document-quotas", documentQuotas, 0)
	fl.deleteQuotas = numbers("-delete-quotas", deleteQuotas, 0)
	fl.statementsWorkers = wholeNumbers("-max-concurrent-reconciles", statementsWorkers)
	fl.documentWorkers = wholeNumbers("-document-max-concurrent-reconciles", documentWorkers)
	fl.growth = sizes("-growth", growth)
	if len(fl.statementsWorkers) == 0 || len(fl.documentWorkers) == 0 {
		fail("-max-concurrent-reconciles and -document-max-concurrent-reconciles: want at least one number of workers")
	}
	if fl.clients < 1 || fl.kubeQPS < 1 || fl.accounts < 1 || fl.accountFunctions < 1 || fl.growthF < 1 {
		fail("-create-clients, -kube-api-qps, -accounts, -account-functions and -growth-functions: want at least 1")
	}
	if fl.accountQuota <= 0 || fl.growthQuota <= 0 || fl.growthSyncPeriod <= 0 || fl.growthTimeout <= 0 || fl.compactionTimeout <= 0 {
		fail("-account-quota, -growth-getpolicy-quota, -growth-sync-period, -growth-timeout and -compaction-timeout: want more than 0")
	}
	if len(fl.growth) > 0 {
		if per := (slices.Max(fl.growth) + fl.growthF - 1) / fl.growthF; per > 100 {
			fmt.Fprintf(os.Stderr, "bench: -growth over -growth-functions is %d statements per policy; Lambda's 20 KB hold about 100\n", per)
		}
	}
	return fl
}

// runAt is one throughput run: a strategy at a quota with workers.
type runAt struct {
	strategy string
	quota    float64
	workers  int
}

// plan orders the throughput runs: each Document run right after the
// Statements run at its quota.
func (fl flags) plan() []runAt {
	var runs []runAt
	documentQuotas := slices.Clone(fl.documentQuotas)
	for _, quota := range fl.quotas {
		for _, w := range fl.statementsWorkers {
			runs = append(runs, runAt{"Statements", quota, w})
		}
		if i := slices.Index(documentQuotas, quota); i >= 0 {
			for _, w := range fl.documentWorkers {
				runs = append(runs, runAt{"Document", quota, w})
			}
			documentQuotas = slices.Delete(documentQuotas, i, i+1)
		}
	}
	for _, quota := range documentQuotas {
		for _, w := range fl.documentWorkers {
			runs = append(runs, runAt{"Document", quota, w})
		}
	}
	return runs
}

func main() {
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	fl := parseFlags()
	b, err := start(fl.manager, fl.memLimit, fl.clients, fl.backlog, fl.kubeQPS, fl.admission)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer b.stop()
	// Stopped from outside (Ctrl-C, SIGTERM, a closed terminal, or a
	// reader such as `head` gone: SIGPIPE), stop the operator and the
	// control plane too rather than leave them running; what was printed
	// stays.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	go func() {
		fmt.Fprintln(os.Stderr, "bench: stopped by", <-signals)
		b.stop()
		os.Exit(1)
	}()
	check := func(what string, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", what, err)
			b.stop()
			os.Exit(1)
		}
	}

	var results []result
	deleted := map[string]bool{} // strategy@quota already timed
	for i, at := range fl.plan() {
		key, deleteName := fmt.Sprintf("%s@%v", at.strategy, at.quota), ""
		if slices.Contains(fl.deleteQuotas, at.quota) && !deleted[key] {
			deleted[key], deleteName = true, fmt.Sprintf("delete-%d", i+1)
		}
		name := fmt.Sprintf("throughput-%d", i+1)
		rs, err := b.throughput(name, at.strategy, at.workers, fl.n, fl.f, at.quota, fl.latencyN, deleteName)
		check(name, err)
		results = append(results, rs...)
	}
	if fl.accountN > 0 {
		r, err := b.acrossAccounts("accounts", fl.statementsWorkers[0], fl.accountN, fl.accounts, fl.accountFunctions, fl.accountQuota)
		check("accounts", err)
		results = append(results, r)
	}
	if fl.memoryN > 0 {
		rs, err := b.throughput("memory", "Statements", fl.statementsWorkers[0], fl.memoryN, fl.memoryF, 0, 0, "")
		check("memory", err)
		results = append(results, rs...)
	}
	if len(results) > 0 {
		printTable(results)
		printComparison(results)
	}
	if fl.compactionN > 0 {
		check("compaction", b.compactionTable(compactionRun{n: fl.compactionN, statementsWorkers: fl.statementsWorkers[0],
			documentWorkers: fl.documentWorkers[0], timeout: fl.compactionTimeout}))
	}
	if len(fl.growth) > 0 {
		check("growth", b.growth(fl.growth, growthRun{f: fl.growthF, workers: fl.statementsWorkers[0], quota: fl.growthQuota,
			syncPeriod: fl.growthSyncPeriod, timeout: fl.growthTimeout}))
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "bench:", message)
	os.Exit(2)
}

// numbers parses flag's comma-separated list of numbers, each at least
// least (an empty list is none), or exits.
func numbers(flag, list string, least float64) []float64 {
	var values []float64
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		value, err := strconv.ParseFloat(v, 64)
		if err != nil || value < least {
			fail(fmt.Sprintf("%s: %q: want numbers of at least %v, separated by commas", flag, v, least))
		}
		values = append(values, value)
	}
	return values
}

// wholeNumbers parses flag's comma-separated list of whole numbers of at
// least one, or exits.
func wholeNumbers(flag, list string) []int {
	var counts []int
	for _, v := range numbers(flag, list, 1) {
		if v != float64(int(v)) {
			fail(fmt.Sprintf("%s: %v: want whole numbers", flag, v))
		}
		counts = append(counts, int(v))
	}
	return counts
}

// sizes parses flag's list of object counts, smallest first.
func sizes(flag, list string) []int {
	counts := wholeNumbers(flag, list)
	slices.Sort(counts)
	return slices.Compact(counts)
}
