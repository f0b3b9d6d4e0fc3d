package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

const (
	// compactionQuota is AWS's GetPolicy and control-plane quota: the
	// compaction rows run at it.
	compactionQuota = 15
)

// compactionRow is one row of the compaction table: N S3-bucket grants on
// one function, written with one strategy.
type compactionRow struct {
	name, strategy, compaction string
	n                          int
	ready, tooLarge            int // objects Ready at their generation; stalled with PolicyTooLarge
	settled                    bool
	wall                       time.Duration // from the first create until settled (or the timeout)
	policyBytes                int           // the function's policy as GetPolicy returns it
	statements, lists          int           // its statements; of them, compacted lists
	statusSize                 int32         // the largest status.policySize of a Ready object
	compacted                  int           // objects with status.compacted
	tooLargeMessage            string        // one PolicyTooLarge message, verbatim
	calls                      map[string]int
	throttled                  int
}

// compactionRun is how the compaction rows run.
type compactionRun struct {
	n                 int
	statementsWorkers int
	documentWorkers   int
	timeout           time.Duration // the longest a row waits to settle (it prints what it has then)
}

// compactionTable is issue 25's "done when": n S3 buckets granted on one
// function. Written whole and compacted (Document, Always), all are Ready
// and the policy stays under Lambda's limit; written statement by
// statement, about sixty-five fit and the rest stall with PolicyTooLarge,
// whose message says how large the policy would be compacted.
func (b *bench) compactionTable(c compactionRun) error {
	document := compactionRow{name: "compaction-document", strategy: "Document", compaction: string(lambdav1alpha1.CompactionAlways), n: c.n}
	if err := b.compactionRow(&document, c.documentWorkers, c.timeout); err != nil {
		return err
	}
	statements := compactionRow{name: "compaction-statements", strategy: "Statements", n: c.n}
	if err := b.compactionRow(&statements, c.statementsWorkers, c.timeout); err != nil {
		return err
	}
	printCompactionTable([]compactionRow{document, statements}, c.timeout)
	return nil
}

// compactionRow creates r.n grants on a fresh function in a fresh
// namespace, with a fresh emulator and operator, and waits until every
// object is Ready, or (Statements) Ready or stalled with PolicyTooLarge.
func (b *bench) compactionRow(r *compactionRow, workers int, timeout time.Duration) error {
	ctx := context.Background()
	b.newEmulator(quotasAt(compactionQuota), nil)
	functions, err := b.createFunctions(ctx, b.lambda, r.name, 1)
	if err != nil {
		return err
	}
	ns, function := r.name, functions[0]
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // let the quota's bucket fill again before the clock starts
	b.emu.ResetStats()
	err = b.startOperator(operatorRun{namespace: ns, strategy: r.strategy, compaction: r.compaction, workers: workers,
		getPolicyRPS: compactionQuota, controlPlaneRPS: compactionQuota})
	if err != nil {
		return err
	}
	defer b.stopOperator()
	began := time.Now()
	if err := b.concurrently(0, r.n, func(i int) error { return b.kube.Create(ctx, bucketGrant(ns, i, function)) }); err != nil {
		return err
	}
	// Compacted, the policy holds one statement for many objects: count
	// the objects' conditions, not the statements.
	settled := readyOrTooLarge
	if r.strategy == "Document" {
		settled = readyAtGeneration
	}
	list, err := b.waitSettled(ctx, ns, r.n, settled, timeout)
	r.wall = time.Since(began)
	if err != nil {
		return err
	}
	r.calls, r.throttled = b.calls(r.name)
	r.read(list)
	r.readPolicy(b, function)
	return nil
}

// bucketGrant is grant i: S3 bucket bench-uploads-REGION-NNN (a
// realistic length, so that the statements are too) may invoke function.
func bucketGrant(ns string, i int, function string) *lambdav1alpha1.LambdaPermission {
	return &lambdav1alpha1.LambdaPermission{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("bucket-%05d", i)},
		Spec: lambdav1alpha1.LambdaPermissionSpec{
			FunctionName: function, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
			SourceAccount: account, SourceArn: fmt.Sprintf("arn:aws:s3:::bench-uploads-%s-%03d", region, i),
		},
	}
}

// readyAtGeneration is whether obj is Ready for its current spec.
func readyAtGeneration(obj *lambdav1alpha1.LambdaPermission) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady)
	return c != nil && c.ObservedGeneration == obj.Generation && c.Status == metav1.ConditionTrue
}

// stalledTooLarge is whether obj's current spec stalled on Lambda's
// policy size limit, and the message saying so.
func stalledTooLarge(obj *lambdav1alpha1.LambdaPermission) (string, bool) {
	c := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady)
	if c == nil || c.ObservedGeneration != obj.Generation || c.Status != metav1.ConditionFalse || c.Reason != lambdav1alpha1.ReasonPolicyTooLarge {
		return "", false
	}
	return c.Message, true
}

func readyOrTooLarge(obj *lambdav1alpha1.LambdaPermission) bool {
	_, tooLarge := stalledTooLarge(obj)
	return tooLarge || readyAtGeneration(obj)
}

// waitSettled waits until n objects in ns are settled, and returns them
// as they were then, or after timeout.
func (b *bench) waitSettled(ctx context.Context, ns string, n int, settled func(*lambdav1alpha1.LambdaPermission) bool, timeout time.Duration) ([]lambdav1alpha1.LambdaPermission, error) {
	deadline := time.Now().Add(timeout)
	for {
		var list lambdav1alpha1.LambdaPermissionList
		if err := b.kube.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		done := 0
		for i := range list.Items {
			if settled(&list.Items[i]) {
				done++
			}
		}
		if done >= n || time.Now().After(deadline) {
			return list.Items, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// read counts the objects' conditions and what their statuses say.
func (r *compactionRow) read(list []lambdav1alpha1.LambdaPermission) {
	for i := range list {
		obj := &list[i]
		if readyAtGeneration(obj) {
			r.ready++
			r.statusSize = max(r.statusSize, obj.Status.PolicySize)
		}
		if message, ok := stalledTooLarge(obj); ok {
			r.tooLarge++
			if r.tooLargeMessage == "" {
				r.tooLargeMessage = message
			}
		}
		if obj.Status.Compacted != nil {
			r.compacted++
		}
	}
	r.settled = r.ready == r.n || (r.strategy != "Document" && r.ready+r.tooLarge == r.n)
}

// readPolicy reads function's policy from the emulator (not a call the
// operator's figures count): its size, statements and compacted lists.
func (r *compactionRow) readPolicy(b *bench, function string) {
	text, _, ok := b.emu.Policy(function, "")
	if !ok {
		return
	}
	var doc struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", r.name, "policy:", err)
	}
	r.policyBytes, r.statements = len(text), len(doc.Statement)
	for _, st := range doc.Statement {
		if _, ok := policy.CompactedSidPrefix(st.Sid); ok {
			r.lists++
		}
	}
}

func printCompactionTable(rows []compactionRow, timeout time.Duration) {
	fmt.Println()
	fmt.Printf("compaction: %d S3 buckets granted on one function (principal s3.amazonaws.com, only sourceArn differs) at AWS's quotas (%d/s), a fresh function, emulator and operator each row.\n",
		rows[0].n, compactionQuota)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\tstrategy\tcompaction\tN\tReady\tPolicyTooLarge\twall\tpolicy bytes\tof limit\tstatements\tcompacted lists\tstatus.policySize\tstatus.compacted\tGetPolicy\tPutResourcePolicy\tAddPermission\t429s\t")
	for _, r := range rows {
		compaction, wall := r.compaction, r.wall.Round(10*time.Millisecond).String()
		if compaction == "" {
			compaction = "-"
		}
		if !r.settled {
			wall = "> " + r.wall.Round(time.Second).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d/%d\t%d\t%s\t%d\t%.0f %%\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.name, r.strategy, compaction, r.n,
			r.ready, r.n, r.tooLarge, wall, r.policyBytes, 100*float64(r.policyBytes)/policy.MaxPolicySize, r.statements, r.lists, r.statusSize, r.compacted,
			r.calls["GetPolicy"], r.calls["PutResourcePolicy"], r.calls["AddPermission"], r.throttled)
	}
	_ = w.Flush()
	fmt.Println()
	fmt.Printf("Ready: objects Ready at their generation; PolicyTooLarge: stalled, Ready False with that reason; wall: from the first create until every object was one or the other (Document: Ready; > : not after %s, figures as they were then).\n", timeout)
	fmt.Printf("policy bytes: the function's policy as GetPolicy returns it, of Lambda's %d; statements: its statements, of them compacted lists (a Sid ending compacted-<dimension>-<hash>).\n", policy.MaxPolicySize)
	fmt.Println("status.policySize: the largest a Ready object shows (each says the size after its own last write); status.compacted: objects whose grant a compacted list holds.")
	fmt.Println("GetPolicy … 429s: the emulator's calls from the operator's start until then, and those it throttled.")
	for _, r := range rows {
		if r.tooLargeMessage != "" {
			fmt.Printf("%s: one PolicyTooLarge message: %s\n", r.name, r.tooLargeMessage)
		}
	}
}
