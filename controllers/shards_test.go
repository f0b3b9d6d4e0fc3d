//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// Two instances on one control plane, shard a and the main one, each
// electing its leader with a lease of its own: each makes its own objects
// Ready and leaves the other's alone (no finalizer, no status, no Event
// until their own shard runs). A function URL grant's LambdaPermissions
// are in the grant's shard.
func TestShardsReconcileOnlyTheirOwnObjects(t *testing.T) {
	fn := newName("shards")
	newFunction(t, fn)
	spec := s3Spec
	spec.StatementID = ""
	ofA := inShard(permission(newName("of-a"), fn, spec), "a")
	ofMain := inShard(permission(newName("of-main"), fn, spec), mainShard)
	url := inShard(functionURL(newName("url-of-a"), fn, lambdav1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "223456789012"}), "a")

	a := startShard(t, "a", writer.Statements, true, controllers.LambdaPermissionKind, controllers.LambdaFunctionURLPermissionKind)
	create(t, ofA)
	create(t, ofMain)
	if err := k8s.Create(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitSid(t, k8s, ofA, translate.DerivedStatementID("default", ofA.Name))
	waitURLCondition(t, url, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	for _, name := range get(t, url).Status.Permissions {
		child := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		if got := get(t, child).Labels[lambdav1alpha1.ShardLabel]; got != "a" {
			t.Errorf("the grant's LambdaPermission %s is in shard %q, want a", name, got)
		}
	}
	if untouched := get(t, ofMain); len(untouched.Finalizers) > 0 || len(untouched.Status.Conditions) > 0 || untouched.Status.Statement != "" {
		t.Fatalf("shard a reconciled the main instance's object: finalizers %v, status %+v", untouched.Finalizers, untouched.Status)
	}

	main := startShard(t, mainShard, writer.Statements, true, controllers.LambdaPermissionKind, controllers.LambdaFunctionURLPermissionKind)
	waitSid(t, k8s, ofMain, translate.DerivedStatementID("default", ofMain.Name))
	waitLeaseHeld(t, a.lease)
	waitLeaseHeld(t, main.lease)
	if a.lease == main.lease {
		t.Fatalf("both instances elect their leader with lease %s", a.lease)
	}
	urlSids := translate.DerivedStatementID("default", url.Name)
	wantSids(t, fn, translate.DerivedStatementID("default", ofA.Name), translate.DerivedStatementID("default", ofMain.Name),
		urlSids+"-url", urlSids+"-invoke", "foreign-terraform")
	for _, shard := range []struct {
		operator *shardOperator
		theirs   client.Object
	}{{a, ofMain}, {main, ofA}} {
		if slices.Contains(shard.operator.events.Names(), shard.theirs.GetName()) {
			t.Errorf("the operator of %s recorded Events about %s, another shard's: it saw %v", shard.operator.selector, shard.theirs.GetName(), shard.operator.events.Names())
		}
	}

	// The grant moves to the main instance, its LambdaPermissions with it,
	// and their statements stay as they are.
	before, _ := storedPolicy(fn, "")
	update(t, url, func(u *lambdav1alpha1.LambdaFunctionURLPermission) { delete(u.Labels, lambdav1alpha1.ShardLabel) })
	eventually(t, "the grant's LambdaPermissions in the main instance", func() string {
		for _, name := range get(t, url).Status.Permissions {
			child := get(t, &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}})
			if shard, ok := child.Labels[lambdav1alpha1.ShardLabel]; ok {
				return name + " in shard " + shard
			}
		}
		return ""
	})
	waitURLCondition(t, url, lambdav1alpha1.ConditionReady, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	if after, _ := storedPolicy(fn, ""); after.Text() != before.Text() {
		t.Errorf("moving the grant changed the policy: %s, was %s", after.Text(), before.Text())
	}

	if err := k8s.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLGone(t, url)
	if !slices.Contains(main.events.Names(), url.Name+"-url") {
		t.Errorf("the main instance did not remove the moved grant's statements: it recorded Events about %v", main.events.Names())
	}
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{ofA, ofMain})
	wantSids(t, fn, "foreign-terraform")
}

// Two shards whose objects name one function: every statement of both
// ends in place and stays, whichever strategy writes it, when both shards
// write at once (with the Document strategy, at the same moment: see
// atOnce), and when one shard's objects go while the other's change. The
// shards only cost each other reads and writes again, which the test
// reports.
func TestTwoShardsOnOneFunction(t *testing.T) {
	const perShard = 6
	for _, strategy := range []writer.Strategy{writer.Statements, writer.Document} {
		t.Run(string(strategy), func(t *testing.T) {
			fn := newName("two-shards")
			newFunction(t, fn)
			a := startShard(t, "a", strategy, false, controllers.LambdaPermissionKind)
			b := startShard(t, "b", strategy, false, controllers.LambdaPermissionKind)
			shards := map[string]*shardOperator{"a": a, "b": b}
			objs := map[*shardOperator][]*lambdav1alpha1.LambdaPermission{}
			var all []*lambdav1alpha1.LambdaPermission
			wantAll := []string{"foreign-terraform"}
			for i := range perShard {
				for name, shard := range shards {
					spec := s3Spec
					spec.StatementID = ""
					spec.SourceArn = fmt.Sprintf("arn:aws:s3:::bucket-%s-%d/*", name, i)
					obj := inShard(permission(newName("shard-"+name), functionARN(fn), spec), name)
					objs[shard] = append(objs[shard], obj)
					all = append(all, obj)
					wantAll = append(wantAll, translate.DerivedStatementID("default", obj.Name))
				}
			}

			atOnce(t, strategy, fn, func() { createAll(t, all) }, change{shard: a, objs: objs[a]}, change{shard: b, objs: objs[b]})
			for _, obj := range all {
				waitSid(t, k8s, obj, translate.DerivedStatementID("default", obj.Name))
			}
			wantSids(t, fn, wantAll...)
			report(t, "both shards' statements written at once", shards)

			// Shard a's objects go while shard b's change.
			atOnce(t, strategy, fn, func() {
				for _, obj := range objs[a] {
					if err := k8s.Delete(ctx, obj); err != nil {
						t.Fatal(err)
					}
				}
				for _, obj := range objs[b] {
					update(t, obj, func(o *lambdav1alpha1.LambdaPermission) {
						o.Spec.SourceArn = strings.Replace(o.Spec.SourceArn, "bucket-", "moved-", 1)
					})
				}
			}, change{shard: a, objs: objs[a], removal: true}, change{shard: b, objs: objs[b]})
			wantB := []string{"foreign-terraform"}
			for _, obj := range objs[a] {
				waitGone(t, obj)
			}
			for _, obj := range objs[b] {
				sid := translate.DerivedStatementID("default", obj.Name)
				now := waitSid(t, k8s, obj, sid)
				if got, _ := storedStatement(fn, "", sid); got != predicted(t, fn, "", withSid(now.Spec, sid)) {
					t.Errorf("shard b's statement %s is %s, want it as its spec says now", sid, got)
				}
				wantB = append(wantB, sid)
			}
			wantSids(t, fn, wantB...)
			report(t, "shard a's statements taken out while shard b's changed", shards)
			deleteAll(t, objs[b])
			wantSids(t, fn, "foreign-terraform")
		})
	}
}

// Two shards write the first policy of a function at the same moment with
// the Document strategy. PutResourcePolicy has no create-only condition, so
// the later write replaces the earlier one: a statement reported Ready is
// lost until its next sync, which puts it back (DriftCorrected). Once the
// policy exists, every write is guarded by its RevisionId, as above. The
// test holds the shards to that one guarantee and reports the loss.
func TestTwoShardsCreateOnePolicy(t *testing.T) {
	fn := newName("first-policy")
	createFunction(t, fn)
	a := startShard(t, "a", writer.Document, false, controllers.LambdaPermissionKind)
	b := startShard(t, "b", writer.Document, false, controllers.LambdaPermissionKind)
	// Both shards read "no policy" before either write lands.
	if err := emu.SetFaults(emulator.Faults{Operations: map[string]emulator.OperationFaults{"PutResourcePolicy": {Latency: 300 * time.Millisecond}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.SetFaults(emulator.Faults{}) })
	spec := s3Spec
	spec.StatementID = ""
	ofA, ofB := inShard(permission(newName("first-a"), functionARN(fn), spec), "a"), inShard(permission(newName("first-b"), functionARN(fn), spec), "b")
	atOnce(t, writer.Document, fn, func() { createAll(t, []*lambdav1alpha1.LambdaPermission{ofA, ofB}) },
		change{shard: a, objs: []*lambdav1alpha1.LambdaPermission{ofA}}, change{shard: b, objs: []*lambdav1alpha1.LambdaPermission{ofB}})
	sidA, sidB := translate.DerivedStatementID("default", ofA.Name), translate.DerivedStatementID("default", ofB.Name)
	waitSid(t, k8s, ofA, sidA)
	waitSid(t, k8s, ofB, sidB)
	readyAt := time.Now()
	doc, _ := storedPolicy(fn, "")
	eventually(t, "both statements in place", func() string {
		now, _ := storedPolicy(fn, "")
		if got := sids(now); !slices.Equal(got, []string{sidA, sidB}) {
			return fmt.Sprint(got)
		}
		return ""
	})
	if len(doc.Statements) < 2 {
		t.Logf("both Ready with the policy holding %v: the other statement was back %v later", sids(doc), time.Since(readyAt).Round(100*time.Millisecond))
	}
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{ofA, ofB})
}

// A LambdaResourcePolicy owns a policy in shard a. The LambdaPermissions
// of shard a on it are included; one of the main instance, which the
// owner cannot see, is refused instead of having its statement taken out
// by the owner at every sync. When the owner goes, it is written.
func TestPolicyOwnedInAnotherShard(t *testing.T) {
	fn := newName("owned-in-a")
	createFunction(t, fn)
	startShard(t, "a", writer.Statements, false, controllers.LambdaPermissionKind, controllers.LambdaResourcePolicyKind)
	startShard(t, mainShard, writer.Statements, false, controllers.LambdaPermissionKind, controllers.LambdaResourcePolicyKind)
	owner := inShard(resourcePolicy(newName("owner"), fn, partnerStatement(t)), "a")
	if err := k8s.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)

	spec := s3Spec
	spec.StatementID = ""
	included := inShard(permission(newName("included"), fn, spec), "a")
	refused := inShard(permission(newName("refused"), fn, spec), mainShard)
	create(t, included)
	create(t, refused)
	waitSid(t, k8s, included, translate.DerivedStatementID("default", included.Name))
	waitCondition(t, refused, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonExcludedByPolicyOwner)
	if got := kstatus(t, refused); got != status.FailedStatus {
		t.Errorf("kstatus of the refused object %s, want Failed (a person must act)", got)
	}
	waitPolicyCondition(t, owner, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
	wantSids(t, fn, "partner", translate.DerivedStatementID("default", included.Name))

	deletePolicyObject(t, owner)
	waitSid(t, k8s, refused, translate.DerivedStatementID("default", refused.Name))
	wantSids(t, fn, translate.DerivedStatementID("default", included.Name), translate.DerivedStatementID("default", refused.Name))
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{included, refused})
}
