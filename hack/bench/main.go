// Command bench is `make bench`: it runs the operator (bin/manager) against a
// real kube-apiserver and etcd and the Lambda emulator with AWS's quotas, and
// prints one table. Each throughput run creates N objects over F functions at
// once with one write strategy (the operator's --write-strategy: Statements
// at each of -quotas, Document at each of -document-quotas) and reports the
// operator's workers (--max-concurrent-reconciles), when the last object was
// created (applied), when the last object's first status was seen (first
// status), when the last statement was in place (wall) against its floor,
// the Kubernetes writes the operator made per object and its CPU time, the
// calls made by operation, the latency from an object applied to its
// statement in place on an idle system, and the manager's peak memory.
// After the first run of each strategy at each of -delete-quotas, a delete
// run deletes its objects and times until every statement and every
// object is gone. An accounts run spreads N objects over functions in
// several AWS accounts, each with its own quotas, reached through
// LambdaPermissionAccounts and roles the operator assumes. A memory run
// follows. Last, how much faster Document was than Statements at each
// quota both ran at.
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
// writes of each run by resource and verb.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

const (
	region  = "us-east-2"
	account = "123456789012"
)

func main() {
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	var (
		n          = flag.Int("n", 1000, "objects in the throughput run")
		f          = flag.Int("f", 50, "functions in the throughput run")
		quotas     = flag.String("quotas", "15,150", "GetPolicy and control-plane quotas to run the Statements strategy at, requests per second: AWS's 15, and scaled up (empty: none)")
		docQuotas  = flag.String("document-quotas", "15", "quotas to run the Document strategy at (empty: none)")
		delQuotas  = flag.String("delete-quotas", "15", "after the first run of each strategy at these quotas, delete its objects and time it (empty: none)")
		latencyN   = flag.Int("latency-objects", 50, "objects applied one at a time on an idle system")
		memoryN    = flag.Int("memory-objects", 10000, "objects in the memory run (0: skip it)")
		memoryF    = flag.Int("memory-functions", 200, "functions in the memory run (a policy holds about 100 statements)")
		accountN   = flag.Int("account-objects", 1000, "objects in the accounts run (0: skip it)")
		accounts   = flag.Int("accounts", 10, "AWS accounts in the accounts run, each with its own quotas")
		perAccount = flag.Int("account-functions", 5, "functions per account in the accounts run")
		acctQuota  = flag.Float64("account-quota", 15, "GetPolicy and control-plane quotas of each account in the accounts run")
		manager    = flag.String("manager", "bin/manager", "the operator binary")
		concurrent = flag.String("max-concurrent-reconciles", "8", "the operator's --max-concurrent-reconciles in the Statements, accounts and memory runs; a list runs each (the accounts and memory runs use the first)")
		docWorkers = flag.String("document-max-concurrent-reconciles", "8", "the operator's --max-concurrent-reconciles in the Document runs (a queued write holds no worker); a list runs each")
		backlog    = flag.Bool("backlog", false, "create the objects before starting the operator, and time from its start (a backlog, as after an upgrade or an outage)")
		kubeQPS    = flag.Int("kube-api-qps", 1000, "the operator's --kube-api-qps (its burst twice that)")
		clients    = flag.Int("create-clients", 16, "objects the benchmark creates or deletes at once")
		memLimit   = flag.String("gomemlimit", "200MiB", "the operator's GOMEMLIMIT (the chart's goMemLimit: 80 % of its 256Mi memory limit); off: none")
		admission  = flag.Bool("admission", true, "install the admission policies of config/admission, as the chart does")
	)
	flag.Parse()
	type runAt struct {
		strategy string
		quota    float64
		workers  int
	}
	var runs []runAt
	statementsWorkers := workerCounts("-max-concurrent-reconciles", *concurrent)
	documentWorkers := workerCounts("-document-max-concurrent-reconciles", *docWorkers)
	documentQuotas := numbers("-document-quotas", *docQuotas, 0)
	// Each Document run comes right after the Statements run at its quota.
	for _, quota := range numbers("-quotas", *quotas, 0) {
		for _, w := range statementsWorkers {
			runs = append(runs, runAt{"Statements", quota, w})
		}
		if i := slices.Index(documentQuotas, quota); i >= 0 {
			for _, w := range documentWorkers {
				runs = append(runs, runAt{"Document", quota, w})
			}
			documentQuotas = slices.Delete(documentQuotas, i, i+1)
		}
	}
	for _, quota := range documentQuotas {
		for _, w := range documentWorkers {
			runs = append(runs, runAt{"Document", quota, w})
		}
	}
	if *clients < 1 || *kubeQPS < 1 || *accounts < 1 || *perAccount < 1 || *acctQuota <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -create-clients, -kube-api-qps, -accounts and -account-functions: want at least 1; -account-quota: above 0")
		os.Exit(2)
	}
	b, err := start(*manager, *memLimit, *clients, *backlog, *kubeQPS, *admission)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer b.stop()

	var results []result
	run := func(name string, rs []result, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", name, err)
			b.stop()
			os.Exit(1)
		}
		results = append(results, rs...)
	}
	deleteQuotas := numbers("-delete-quotas", *delQuotas, 0)
	deleted := map[string]bool{} // strategy@quota already timed
	for i, at := range runs {
		key, deleteName := fmt.Sprintf("%s@%v", at.strategy, at.quota), ""
		if slices.Contains(deleteQuotas, at.quota) && !deleted[key] {
			deleted[key], deleteName = true, fmt.Sprintf("delete-%d", i+1)
		}
		name := fmt.Sprintf("throughput-%d", i+1)
		rs, err := b.throughput(name, at.strategy, at.workers, *n, *f, at.quota, *latencyN, deleteName)
		run(name, rs, err)
	}
	if *accountN > 0 {
		r, err := b.acrossAccounts("accounts", statementsWorkers[0], *accountN, *accounts, *perAccount, *acctQuota)
		run("accounts", []result{r}, err)
	}
	if *memoryN > 0 {
		rs, err := b.throughput("memory", "Statements", statementsWorkers[0], *memoryN, *memoryF, 0, 0, "")
		run("memory", rs, err)
	}
	printTable(results)
	printComparison(results)
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
			fmt.Fprintf(os.Stderr, "bench: %s: %q: want numbers of at least %v, separated by commas\n", flag, v, least)
			os.Exit(2)
		}
		values = append(values, value)
	}
	return values
}

// workerCounts parses flag's comma-separated list of numbers of workers
// (at least one), or exits.
func workerCounts(flag, list string) []int {
	var counts []int
	for _, v := range numbers(flag, list, 1) {
		if v != float64(int(v)) {
			fmt.Fprintf(os.Stderr, "bench: %s: %v: want a whole number of workers\n", flag, v)
			os.Exit(2)
		}
		counts = append(counts, int(v))
	}
	if len(counts) == 0 {
		fmt.Fprintf(os.Stderr, "bench: %s: want at least one number of workers\n", flag)
		os.Exit(2)
	}
	return counts
}
