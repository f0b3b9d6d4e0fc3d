//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Compaction: LambdaPermissions whose grants differ only in their source
// ARN are written as one statement listing the ARNs, next to whatever
// else the policy holds, and each object still knows its grant.

const compactionPrefix = "cmp-"

// startCompacting runs an operator that writes whole documents and
// compacts as c says, for the objects labelled label.
func startCompacting(t *testing.T, label string, c lambdav1alpha1.Compaction, kinds ...controllers.Kind) (stop func()) {
	t.Helper()
	if len(kinds) == 0 {
		kinds = []controllers.Kind{controllers.LambdaPermissionKind}
	}
	return suite.RunOperator(t, controllers.Options{Lambda: lambdaAPI, DefaultRegion: region, SyncPeriod: syncPeriod, MaxConcurrentReconciles: documentWorkers,
		WriteStrategy: writer.Document, Compaction: c, StatementIDPrefix: compactionPrefix, Kinds: kinds},
		ownOperator(t, label, &lambdav1alpha1.LambdaPermission{}, &lambdav1alpha1.LambdaResourcePolicy{})...)
}

// bucketGrant is a LambdaPermission for S3 bucket to invoke function.
func bucketGrant(label, function, bucket string) *lambdav1alpha1.LambdaPermission {
	obj := permission(newName(label), functionARN(function), lambdav1alpha1.LambdaPermissionSpec{
		Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceAccount: account, SourceArn: "arn:aws:s3:::" + bucket})
	obj.Labels = map[string]string{managerLabel: label}
	return obj
}

// compactedStatements are the operator's compacted statements in function's
// policy.
func compactedStatements(t *testing.T, function string) []policy.StoredStatement {
	t.Helper()
	doc, _ := storedPolicy(function, "")
	var out []policy.StoredStatement
	for _, st := range doc.Statements {
		if policy.IsCompacted(st.Sid, compactionPrefix) {
			out = append(out, st)
		}
	}
	return out
}

// sourceArns lists what a compacted statement lists, sorted.
func sourceArns(st policy.StoredStatement) []string {
	arns := slices.Clone(st.Condition["ArnLike"]["AWS:SourceArn"])
	slices.Sort(arns)
	return arns
}

// wantOneList checks that function's policy holds the foreign statement as
// it was and one compacted statement listing exactly buckets, which each
// object's status names with its own value. (status.statement is the list
// as of the object's own last write or check: others joining do not
// rewrite every member's status.)
func wantOneList(t *testing.T, function, foreign string, objs []*lambdav1alpha1.LambdaPermission) policy.StoredStatement {
	t.Helper()
	doc, _ := storedPolicy(function, "")
	if st, ok := doc.Find("foreign-terraform"); !ok || st.Raw != foreign {
		t.Errorf("the foreign statement became %q", st.Raw)
	}
	lists := compactedStatements(t, function)
	if len(lists) != 1 || len(doc.Statements) != 2 {
		t.Fatalf("policy %s: want the foreign statement and one compacted statement", doc.Text())
	}
	var want []string
	for _, obj := range objs {
		want = append(want, get(t, obj).Spec.SourceArn)
	}
	slices.Sort(want)
	if got := sourceArns(lists[0]); !slices.Equal(got, want) {
		t.Errorf("the compacted statement lists %v, want %v", got, want)
	}
	for _, obj := range objs {
		eventually(t, "status of "+obj.Name, func() string {
			s := get(t, obj).Status
			if c := s.Compacted; c == nil || c.StatementID != lists[0].Sid || c.Value != obj.Spec.SourceArn || c.Dimension != "SourceArn" || !strings.Contains(s.Statement, lists[0].Sid) {
				return fmt.Sprintf("status.compacted %+v, statement %s", c, s.Statement)
			}
			return ""
		})
	}
	return lists[0]
}

func TestCompactionAlways(t *testing.T) {
	const label = "compaction"
	stop := startCompacting(t, label, lambdav1alpha1.Compaction{Mode: lambdav1alpha1.CompactionAlways})
	fn := newName("compacted")
	newFunction(t, fn)
	foreign, _ := storedStatement(fn, "", "foreign-terraform")

	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 12 {
		objs = append(objs, bucketGrant(label, fn, fmt.Sprintf("uploads-%02d", i)))
	}
	createAll(t, objs)
	for _, obj := range objs {
		waitReady(t, obj)
	}
	list := wantOneList(t, fn, foreign, objs)

	// One member more, changed, fewer: one PutResourcePolicy each, under
	// the same Sid.
	oneWrite := func(what string, change func() *lambdav1alpha1.LambdaPermission, wait func(*lambdav1alpha1.LambdaPermission)) {
		t.Helper()
		before := writesTo(fn).now()
		obj := change()
		wait(obj)
		if w := writesTo(fn).since(before); w["PutResourcePolicy"] != 1 || len(w) != 1 {
			t.Errorf("%s: writes %v, want one PutResourcePolicy", what, w)
		}
		if got := wantOneList(t, fn, foreign, objs); got.Sid != list.Sid {
			t.Errorf("%s: the compacted statement's Sid moved from %s to %s", what, list.Sid, got.Sid)
		}
	}
	oneWrite("a member added", func() *lambdav1alpha1.LambdaPermission {
		obj := bucketGrant(label, fn, "uploads-new")
		objs = append(objs, obj)
		create(t, obj)
		return obj
	}, func(obj *lambdav1alpha1.LambdaPermission) { waitReady(t, obj) })
	oneWrite("a member changed", func() *lambdav1alpha1.LambdaPermission {
		update(t, objs[0], func(o *lambdav1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::uploads-moved" })
		objs[0].Spec.SourceArn = "arn:aws:s3:::uploads-moved"
		return objs[0]
	}, func(obj *lambdav1alpha1.LambdaPermission) {
		eventually(t, "the change in place", func() string {
			if s := get(t, obj).Status; s.ObservedGeneration != get(t, obj).Generation || s.Compacted == nil || s.Compacted.Value != obj.Spec.SourceArn {
				return fmt.Sprintf("status %+v", s.Compacted)
			}
			return ""
		})
	})
	oneWrite("a member deleted", func() *lambdav1alpha1.LambdaPermission {
		gone := objs[1]
		objs = slices.Delete(objs, 1, 2)
		if err := k8s.Delete(ctx, gone); err != nil {
			t.Fatal(err)
		}
		return gone
	}, func(obj *lambdav1alpha1.LambdaPermission) { waitGone(t, obj) })

	healsTamperedList(t, fn, foreign, objs)
	restartWritesNothing(t, stop, label, fn, objs)
	deleteAll(t, objs)
	if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != 1 || doc.Statements[0].Raw != foreign {
		t.Errorf("after every object is gone the policy holds %v, want only the foreign statement", sids(doc))
	}
}

// healsTamperedList takes a value out of the list by hand: its object puts
// it back, as drift.
func healsTamperedList(t *testing.T, fn, foreign string, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	doc, _ := storedPolicy(fn, "")
	victim := objs[2]
	tampered := strings.Replace(doc.Text(), `"`+victim.Spec.SourceArn+`",`, "", 1)
	if tampered == doc.Text() {
		t.Fatalf("%s is not in the list of %s", victim.Spec.SourceArn, doc.Text())
	}
	putOutside(t, fn, tampered)
	forceSyncs(t, 1, victim)
	waitEvent(t, victim, lambdav1alpha1.EventDriftCorrected)
	wantOneList(t, fn, foreign, objs)
}

// restartWritesNothing restarts the operator: it reads the policy, finds
// every grant in its list, and writes nothing.
func restartWritesNothing(t *testing.T, stop func(), label, fn string, objs []*lambdav1alpha1.LambdaPermission) {
	t.Helper()
	stop()
	startCompacting(t, label, lambdav1alpha1.Compaction{Mode: lambdav1alpha1.CompactionAlways})
	before := writesTo(fn).now()
	forceSyncs(t, 1, objs...)
	if w := writesTo(fn).since(before); len(w) != 0 {
		t.Errorf("after a restart: writes %v, want none", w)
	}
}

func TestCompactionOffAndThreshold(t *testing.T) {
	const label = "compaction"
	// 10 % of Lambda's limit is 2,048 bytes: the foreign statement and three
	// grants of about 265 bytes each fit, and seven grants do not.
	startCompacting(t, label, lambdav1alpha1.Compaction{Mode: lambdav1alpha1.CompactionThreshold, ThresholdPercent: 10})
	fn := newName("threshold")
	newFunction(t, fn)
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 3 {
		objs = append(objs, bucketGrant(label, fn, fmt.Sprintf("few-%d", i)))
	}
	createAll(t, objs)
	for _, obj := range objs {
		if waitReady(t, obj).Status.Compacted != nil {
			t.Errorf("%s compacted below the threshold", obj.Name)
		}
	}
	if lists := compactedStatements(t, fn); len(lists) != 0 {
		t.Errorf("below the threshold: %d compacted statements", len(lists))
	}
	var more []*lambdav1alpha1.LambdaPermission
	for i := range 4 {
		more = append(more, bucketGrant(label, fn, fmt.Sprintf("many-%d", i)))
	}
	createAll(t, more)
	for _, obj := range more {
		waitReady(t, obj)
	}
	objs = append(objs, more...)
	lists := compactedStatements(t, fn)
	if len(lists) != 1 || len(sourceArns(lists[0])) != len(objs) {
		t.Fatalf("past the threshold: compacted %v, want one list of all %d", lists, len(objs))
	}
	forceSyncs(t, 1, objs...)
	for _, obj := range objs {
		if c := get(t, obj).Status.Compacted; c == nil || c.Value != obj.Spec.SourceArn {
			t.Errorf("%s: status.compacted %+v", obj.Name, c)
		}
	}
}

func TestCompactionOffWritesEachGrantAlone(t *testing.T) {
	const label = "compaction"
	startCompacting(t, label, lambdav1alpha1.Compaction{Mode: lambdav1alpha1.CompactionOff})
	fn := newName("uncompacted")
	newFunction(t, fn)
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 4 {
		objs = append(objs, bucketGrant(label, fn, fmt.Sprintf("alone-%d", i)))
	}
	createAll(t, objs)
	for _, obj := range objs {
		if got := waitReady(t, obj); got.Status.Compacted != nil {
			t.Errorf("%s: status.compacted %+v with compaction Off", obj.Name, got.Status.Compacted)
		}
	}
	if doc, _ := storedPolicy(fn, ""); len(doc.Statements) != len(objs)+1 || len(compactedStatements(t, fn)) != 0 {
		t.Errorf("compaction Off: the policy holds %v, want one statement per object", sids(doc))
	}
}

func TestCompactionInAResourcePolicy(t *testing.T) {
	const label = "compaction"
	startCompacting(t, label, lambdav1alpha1.Compaction{Mode: lambdav1alpha1.CompactionAlways},
		controllers.LambdaPermissionKind, controllers.LambdaResourcePolicyKind)
	fn := newName("owned-compacted")
	createFunction(t, fn)
	owner := resourcePolicy(newName("owner"), fn, partnerStatement(t))
	owner.Labels = map[string]string{managerLabel: label}
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	declared, _ := storedStatement(fn, "", "partner")

	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 5 {
		objs = append(objs, bucketGrant(label, fn, fmt.Sprintf("owned-%d", i)))
	}
	createAll(t, objs)
	for _, obj := range objs {
		waitReady(t, obj)
	}
	lists := compactedStatements(t, fn)
	if len(lists) != 1 || len(sourceArns(lists[0])) != len(objs) {
		t.Fatalf("compacted %v, want one list of the %d included objects", lists, len(objs))
	}
	// The owner keeps the list (its members are included objects) and its
	// own statement as it declared it.
	got := syncPolicyNow(t, owner)
	if st, _ := storedStatement(fn, "", "partner"); st != declared {
		t.Errorf("the declared statement became %s", st)
	}
	if got.Status.StatementCount != 2 {
		t.Errorf("the owner counts %d statements, want 2 (its own and the list)", got.Status.StatementCount)
	}
	wantPolicySids(t, fn, "partner", lists[0].Sid)
}
