//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// ownOperator is what makes a test's own operator: its caches see only
// the objects of the kinds given labelled managerLabel=label, and it calls
// the Kubernetes API at the rate main.go sets by default.
func ownOperator(t *testing.T, label string, kinds ...client.Object) []harness.OperatorOption {
	t.Helper()
	mine, err := labels.Parse(managerLabel + "=" + label)
	if err != nil {
		t.Fatal(err)
	}
	return []harness.OperatorOption{harness.Labelled(mine, kinds...), harness.KubeAPIRate(100, 200)}
}

// startPrefixed runs a LambdaPermission operator with --statement-id-prefix
// prefix, as one cluster's, for the objects labelled managerLabel=label.
func startPrefixed(t *testing.T, cluster *harness.Suite, label, prefix string, strategy writer.Strategy) (stop func()) {
	t.Helper()
	return cluster.RunOperator(t, controllers.Options{Lambda: lambdaAPI, DefaultRegion: region, SyncPeriod: syncPeriod,
		WriteStrategy: strategy, StatementIDPrefix: prefix, MaxConcurrentReconciles: 2, Kinds: []controllers.Kind{controllers.LambdaPermissionKind}},
		ownOperator(t, label, &lambdav1alpha1.LambdaPermission{})...)
}

// startCluster starts a second control plane: another cluster, whose
// operator writes to the same functions as the suite's. It returns the
// cluster and a client that reads straight from it.
func startCluster(t *testing.T) (*harness.Suite, client.Client) {
	t.Helper()
	cluster, err := harness.Start(harness.Options{Name: "controllers-second-cluster", InstallCRDs: true})
	if err != nil {
		t.Fatalf("starting the second cluster: %v", err)
	}
	t.Cleanup(cluster.Stop)
	return cluster, cluster.Client
}

// waitSid waits until obj, read from c, is Ready at its generation with its
// statement in place under sid, and returns it then.
func waitSid(t *testing.T, c client.Client, obj *lambdav1alpha1.LambdaPermission, sid string) *lambdav1alpha1.LambdaPermission {
	t.Helper()
	got := &lambdav1alpha1.LambdaPermission{}
	eventually(t, obj.Name+" Ready under "+sid, func() string {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady)
		st, _ := policy.ParseStatement(got.Status.Statement)
		switch {
		case ready == nil || ready.Status != "True" || got.Status.ObservedGeneration != got.Generation:
			return "not Ready at its generation: " + conditionString(ready)
		case got.Status.StatementID != sid || st.Sid != sid:
			return "statementId " + got.Status.StatementID + ", statement " + got.Status.Statement
		}
		return ""
	})
	return got
}

// waitGoneFrom is waitGone in the cluster c reads.
func waitGoneFrom(t *testing.T, c client.Client, obj *lambdav1alpha1.LambdaPermission) {
	t.Helper()
	eventually(t, obj.Name+" deleted", func() string {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), &lambdav1alpha1.LambdaPermission{}); err == nil {
			return "present"
		}
		return ""
	})
}

func wantSids(t *testing.T, function string, want ...string) {
	t.Helper()
	doc, _ := storedPolicy(function, "")
	slices.Sort(want)
	if got := sids(doc); !slices.Equal(got, want) {
		t.Fatalf("policy Sids %v, want %v", got, want)
	}
}

// Two clusters apply the same manifest (same namespace and name, no
// statementId) to one function. Without prefixes they share one Sid, so one
// cluster's writes take the other's statement. Moving each to its own
// --statement-id-prefix puts two statements side by side, after which
// deleting the object in one cluster removes that cluster's only.
func TestTwoClustersOnOneFunction(t *testing.T) {
	fn := newName("fleet")
	newFunction(t, fn)
	westCluster, west := startCluster(t)
	stopEast := startPrefixed(t, suite, "multi-cluster", "", writer.Statements)
	stopWest := startPrefixed(t, westCluster, "multi-cluster", "", writer.Statements)

	spec := s3Spec
	spec.StatementID = ""
	name := newName("orders")
	manifest := func() *lambdav1alpha1.LambdaPermission {
		obj := permission(name, fn, spec)
		obj.Labels = map[string]string{managerLabel: "multi-cluster"}
		return obj
	}
	inEast, inWest := manifest(), manifest()
	create(t, inEast)
	if err := west.Create(ctx, inWest); err != nil {
		t.Fatal(err)
	}
	shared := translate.DerivedStatementID("default", name)
	waitSid(t, k8s, inEast, shared)
	waitSid(t, west, inWest, shared)
	wantSids(t, fn, shared, "foreign-terraform")

	if slices.Contains(eventReasons(t, inEast), lambdav1alpha1.EventDriftCorrected) {
		t.Fatal("east corrected drift before any cluster moved")
	}

	// West moves to its prefix first. The statement it leaves is the one it
	// wrote or adopted, so it removes it, although east still wants it:
	// east puts it back at its next sync.
	stopWest()
	startPrefixed(t, westCluster, "multi-cluster", "west-", writer.Statements)
	waitSid(t, west, inWest, "west-"+shared)
	waitEvent(t, inEast, lambdav1alpha1.EventDriftCorrected)
	waitSid(t, k8s, inEast, shared)

	// Then east: now the old Sid is east's alone.
	stopEast()
	startPrefixed(t, suite, "multi-cluster", "east-", writer.Statements)
	waitSid(t, k8s, inEast, "east-"+shared)
	wantSids(t, fn, "east-"+shared, "west-"+shared, "foreign-terraform")
	westStatement, _ := storedStatement(fn, "", "west-"+shared)

	if err := k8s.Delete(ctx, inEast); err != nil {
		t.Fatal(err)
	}
	waitGone(t, inEast)
	wantSids(t, fn, "west-"+shared, "foreign-terraform")
	if got, _ := storedStatement(fn, "", "west-"+shared); got != westStatement {
		t.Errorf("west's statement changed when east's object went: %s, was %s", got, westStatement)
	}
	if got := waitSid(t, west, inWest, "west-"+shared); got.Status.Statement != westStatement {
		t.Errorf("west's status.statement %s, stored %s", got.Status.Statement, westStatement)
	}

	if err := west.Delete(ctx, inWest); err != nil {
		t.Fatal(err)
	}
	waitGoneFrom(t, west, inWest)
	wantSids(t, fn, "foreign-terraform")
}

// Restarting an operator with another --statement-id-prefix moves each
// derived statement to its new Sid: the statement written under the old
// one (status.statement) is removed and the new one added. An explicit
// statementId stays where it is, and nothing foreign is touched.
func TestChangedPrefixMovesDerivedStatements(t *testing.T) {
	for _, strategy := range []writer.Strategy{writer.Statements, writer.Document} {
		t.Run(string(strategy), func(t *testing.T) {
			fn := newName("prefix-" + strings.ToLower(string(strategy)))
			newFunction(t, fn)
			stop := startPrefixed(t, suite, "prefix-change", "blue-", strategy)

			derivedSpec, explicitSpec := s3Spec, s3Spec
			derivedSpec.StatementID = ""
			explicitSpec.StatementID = newName("explicit")
			explicitSpec.SourceArn = "arn:aws:s3:::other-bucket/*"
			derived := permission(newName("derived"), fn, derivedSpec)
			explicit := permission(newName("explicit"), fn, explicitSpec)
			for _, obj := range []*lambdav1alpha1.LambdaPermission{derived, explicit} {
				obj.Labels = map[string]string{managerLabel: "prefix-change"}
				create(t, obj)
			}
			base := translate.DerivedStatementID("default", derived.Name)
			waitSid(t, k8s, derived, "blue-"+base)
			waitSid(t, k8s, explicit, explicitSpec.StatementID)
			explicitStatement, _ := storedStatement(fn, "", explicitSpec.StatementID)
			writes := lambdaAPI.WritesTo(fn)

			// A reader of the policy sees the grant all along: the new
			// statement is added before the old one goes.
			var gap atomic.Value
			polling, polled := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(polled)
				for {
					select {
					case <-polling:
						return
					default:
					}
					doc, _ := storedPolicy(fn, "")
					_, blue := doc.Find("blue-" + base)
					_, green := doc.Find("green-" + base)
					if !blue && !green {
						gap.CompareAndSwap(nil, fmt.Sprint(sids(doc)))
					}
					time.Sleep(time.Millisecond)
				}
			}()
			stop()
			startPrefixed(t, suite, "prefix-change", "green-", strategy)
			moved := waitSid(t, k8s, derived, "green-"+base)
			wantSids(t, fn, "green-"+base, explicitSpec.StatementID, "foreign-terraform")
			close(polling)
			<-polled
			if seen := gap.Load(); seen != nil {
				t.Errorf("while the statement moved, the policy held neither Sid: %v", seen)
			}
			if got, _ := storedStatement(fn, "", "green-"+base); got != moved.Status.Statement || got != predicted(t, fn, "", withSid(derivedSpec, "green-"+base)) {
				t.Errorf("stored %s, status %s", got, moved.Status.Statement)
			}
			if got, _ := storedStatement(fn, "", explicitSpec.StatementID); got != explicitStatement {
				t.Errorf("the explicit statement changed: %s, was %s", got, explicitStatement)
			}
			waitSid(t, k8s, explicit, explicitSpec.StatementID)
			// Two writes with either strategy, the add and then the
			// removal: a move is not one PutResourcePolicy.
			if n := lambdaAPI.WritesTo(fn) - writes; n != 2 {
				t.Errorf("%d writes to move the statement, want 2", n)
			}

			deleteAll(t, []*lambdav1alpha1.LambdaPermission{derived, explicit})
			wantSids(t, fn, "foreign-terraform")
		})
	}
}

func withSid(spec lambdav1alpha1.LambdaPermissionSpec, sid string) lambdav1alpha1.LambdaPermissionSpec {
	spec.StatementID = sid
	return spec
}

// startURLOperator runs a function URL controller with --statement-id-prefix
// prefix for the LambdaFunctionURLPermissions labelled managerLabel=label.
// Their LambdaPermissions, which carry no label, are the suite's operator's.
func startURLOperator(t *testing.T, label, prefix string) (stop func()) {
	t.Helper()
	return suite.RunOperator(t, controllers.Options{StatementIDPrefix: prefix, Kinds: []controllers.Kind{controllers.LambdaFunctionURLPermissionKind}},
		ownOperator(t, label, &lambdav1alpha1.LambdaFunctionURLPermission{})...)
}

// A function URL grant derives its pair of Sids with the prefix. When the
// prefix changes, an existing grant keeps the Sids it was created with
// (a LambdaPermission's statementId is immutable) and is still kept up to
// date under them, instead of being refused or cut off while it moves.
func TestFunctionURLGrantKeepsItsSidsWhenThePrefixChanges(t *testing.T) {
	fn := newName("url-prefix")
	newFunction(t, fn)
	stop := startURLOperator(t, "url-prefix", "blue-")
	url := functionURL(newName("site"), fn, lambdav1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "223456789012"})
	url.Labels = map[string]string{managerLabel: "url-prefix"}
	if err := k8s.Create(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLCondition(t, url, lambdav1alpha1.ConditionReady, "True", lambdav1alpha1.ReasonSynced)
	blue := "blue-" + translate.DerivedStatementID("default", url.Name)
	wantSids(t, fn, blue+"-url", blue+"-invoke", "foreign-terraform")

	// Another prefix, and a spec change for the new controller to act on.
	stop()
	startURLOperator(t, "url-prefix", "green-")
	for i := 0; ; i++ {
		current := &lambdav1alpha1.LambdaFunctionURLPermission{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(url), current); err != nil {
			t.Fatal(err)
		}
		current.Spec.Principal = "323456789012"
		err := k8s.Update(ctx, current)
		if err == nil {
			break
		}
		if i > 10 {
			t.Fatal(err)
		}
	}
	waitURLCondition(t, url, lambdav1alpha1.ConditionReady, "True", lambdav1alpha1.ReasonSynced)
	wantSids(t, fn, blue+"-url", blue+"-invoke", "foreign-terraform")
	for _, sid := range []string{blue + "-url", blue + "-invoke"} {
		if got, _ := storedStatement(fn, "", sid); !strings.Contains(got, "323456789012") {
			t.Errorf("%s was not updated under its Sid: %s", sid, got)
		}
	}

	if err := k8s.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	waitURLGone(t, url)
	wantSids(t, fn, "foreign-terraform")
}
