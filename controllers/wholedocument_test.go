//go:build integration

package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// eventCount counts the Events with reason about obj, repeats included.
func eventCount(t *testing.T, obj *lambdav1alpha1.LambdaPermission, reason string) int {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(ctx, &list, client.InNamespace(obj.Namespace)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == obj.Name && e.Regarding.Kind == "LambdaPermission" && e.Reason == reason {
			n++
			if e.Series != nil && e.Series.Count > 1 {
				n += int(e.Series.Count) - 1
			}
		}
	}
	return n
}

// Another tool writes the whole policy (CloudFormation's
// AWS::Lambda::ResourcePolicy, Terraform's aws_lambda_resource_policy: one
// PutResourcePolicy), or deletes it: every statement of ours goes at once.
// Each is restored with one AddPermission, each object says so once with a
// PolicyReplaced Event, and the other tool's statements stay as written.
func TestWholeDocumentOverwriteIsHealed(t *testing.T) {
	fn := newName("overwritten")
	createFunction(t, fn)
	arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + fn
	objs := readyUnderSids(t, fn, "one", "two", "three")

	for round, overwrite := range []struct {
		name  string
		write func()
	}{
		{"PutResourcePolicy", func() {
			// A statement only a whole document can hold: Deny, from a list of principals, with a condition AddPermission cannot write.
			theirs := `{"Version":"2012-10-17","Statement":[{"Sid":"cfn-deny","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::223456789012:root","323456789012"]},` +
				`"Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24"]}}}]}`
			if _, err := outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(theirs)}); err != nil {
				t.Fatal(err)
			}
		}},
		{"DeleteResourcePolicy", func() {
			if _, err := outside.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(overwrite.name, func(t *testing.T) { healsOverwrite(t, fn, objs, overwrite.write, round == 0) })
	}
}

// readyUnderSids creates a LambdaPermission on fn under each Sid and waits
// until they are Ready.
func readyUnderSids(t *testing.T, fn string, sids ...string) []*lambdav1alpha1.LambdaPermission {
	t.Helper()
	var objs []*lambdav1alpha1.LambdaPermission
	for _, sid := range sids {
		spec := s3Spec
		spec.StatementID = sid
		obj := permission(newName(sid), fn, spec)
		create(t, obj)
		objs = append(objs, obj)
	}
	for _, obj := range objs {
		waitReady(t, obj)
	}
	return objs
}

// replacedCorrections is the count of drift corrections of a replaced policy.
func replacedCorrections(t *testing.T) float64 {
	t.Helper()
	return metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "replaced"})
}

// healsOverwrite runs overwrite, another tool's write of fn's whole policy,
// and checks that the objects' statements are restored, each with one
// write and one PolicyReplaced Event, beside what the other tool wrote
// (documentHoldsTheirs: a statement of its own), and that it stays healed.
func healsOverwrite(t *testing.T, fn string, objs []*lambdav1alpha1.LambdaPermission, overwrite func(), documentHoldsTheirs bool) {
	before := map[string]int{}
	for _, obj := range objs {
		before[obj.Name] = eventCount(t, obj, lambdav1alpha1.EventPolicyReplaced)
	}
	corrections, writes := replacedCorrections(t), lambdaAPI.WritesTo(fn)
	overwrite()
	theirs, theirsInPlace := storedStatement(fn, "", "cfn-deny")

	forceSyncs(t, 1, objs...)
	for _, obj := range objs {
		eventually(t, obj.Name+" says its statement went with the policy", func() string {
			if n := eventCount(t, obj, lambdav1alpha1.EventPolicyReplaced) - before[obj.Name]; n != 1 {
				return fmt.Sprintf("%d PolicyReplaced Events", n)
			}
			return ""
		})
	}
	eventually(t, "the corrections counted", func() string {
		if got := replacedCorrections(t) - corrections; got != 3 {
			return fmt.Sprintf("drift_corrections_total{drift=replaced} rose by %v, want 3", got)
		}
		return ""
	})
	if got := lambdaAPI.WritesTo(fn) - writes; got != 3 {
		t.Errorf("%d writes to heal, want one AddPermission per lost statement (3)", got)
	}
	doc, _ := storedPolicy(fn, "")
	for _, obj := range objs {
		got := get(t, obj)
		if stored, _ := doc.Find(got.Status.StatementID); stored.Raw != predicted(t, fn, "", got.Spec) {
			t.Errorf("%s: policy holds %q", got.Status.StatementID, stored.Raw)
		}
	}
	if stored, ok := storedStatement(fn, "", "cfn-deny"); ok != theirsInPlace || stored != theirs {
		t.Errorf("the other tool's statement is %q (present %v), was %q (present %v)", stored, ok, theirs, theirsInPlace)
	}
	if documentHoldsTheirs && !theirsInPlace {
		t.Error("the whole document's own statement was not stored")
	}

	// Healed: the next check finds everything in place, writes
	// nothing, and says nothing more.
	writes = lambdaAPI.WritesTo(fn)
	forceSyncs(t, 1, objs...)
	if got := lambdaAPI.WritesTo(fn) - writes; got != 0 {
		t.Errorf("%d writes after healing, want 0", got)
	}
	for _, obj := range objs {
		if n := eventCount(t, obj, lambdav1alpha1.EventPolicyReplaced) - before[obj.Name]; n != 1 {
			t.Errorf("%s: %d PolicyReplaced Events, want 1", obj.Name, n)
		}
	}
}

// An account that blocks public policies refuses a public statement with
// PublicPolicyException: the object is Stalled with AWS's message and
// tried again once per sync period, not in a loop; it converges once the
// block is lifted.
func TestPublicAccessBlockedIsStalled(t *testing.T) {
	declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: account, Access: []lambdav1alpha1.AccountAccessRule{{}},
		Guardrails: lambdav1alpha1.Guardrails{AllowPublicAccess: ptr.To(true)}})
	emu.SetBlockPublicPolicy(account, true)
	t.Cleanup(func() { emu.SetBlockPublicPolicy(account, false) })
	fn := newName("blocked")
	newFunction(t, fn)
	obj := permission(newName("public"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "public", Principal: "*"})
	refusals := func() int { return emu.Stats().Errors["AddPermission"]["PublicPolicyException"] }
	before := refusals()
	create(t, obj)

	got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonPublicAccessBlocked)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue ||
		!strings.Contains(c.Message, "Lambda blocked the creation of this policy because it would grant public access") {
		t.Errorf("Stalled = %s, want True with AWS's message", conditionString(c))
	}
	if s := kstatus(t, obj); s != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", s)
	}
	waitEvent(t, obj, lambdav1alpha1.ReasonPublicAccessBlocked)
	// Over two sync periods: the first refusal and at most one retry per
	// period (a loop would make dozens).
	first := refusals() - before
	time.Sleep(2 * syncPeriod)
	if n := refusals() - before; first < 1 || n > first+2 {
		t.Errorf("%d refused AddPermission calls over two sync periods after the first %d, want at most 2 more", n-first, first)
	}

	emu.SetBlockPublicPolicy(account, false)
	forceSyncs(t, 1, obj)
	waitReady(t, obj)
}
