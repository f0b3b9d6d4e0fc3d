//go:build integration

package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// The Statements strategy's guarantees, kept when the policy is written
// whole.

// The guarantees of the Statements strategy hold, now atomic: adoption
// without a write, Observe never writes, deletion with Retain keeps the
// statement, a foreign Sid is never touched.
func TestDocumentAdoptsObservesAndRetains(t *testing.T) {
	startDocumentOperator(t)
	fn := newName("docadopt")
	newFunction(t, fn)
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(s3Spec.Action),
		Principal: aws.String(s3Spec.Principal), SourceArn: aws.String(s3Spec.SourceArn), SourceAccount: aws.String(s3Spec.SourceAccount)})
	adopted := documentObject(newName("adopter"), fn, s3Spec)
	observeSpec := lambdav1alpha1.LambdaPermissionSpec{StatementID: "watched", Principal: "sns.amazonaws.com", SourceAccount: account,
		ManagementPolicy: lambdav1alpha1.ManagementPolicyObserve}
	observed := documentObject(newName("watcher"), fn, observeSpec)
	retainSpec := lambdav1alpha1.LambdaPermissionSpec{StatementID: "kept", Principal: "sqs.amazonaws.com", SourceAccount: account,
		DeletionPolicy: lambdav1alpha1.DeletionPolicyRetain}
	retained := documentObject(newName("retained"), fn, retainSpec)
	createAll(t, []*lambdav1alpha1.LambdaPermission{adopted, observed})
	waitReady(t, adopted)
	waitEvent(t, adopted, lambdav1alpha1.EventAdopted)
	waitCondition(t, observed, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonDriftDetected)
	if n := lambdaAPI.WritesTo(fn); n != 0 {
		t.Errorf("%d writes to adopt one statement and observe another, want 0", n)
	}

	create(t, retained)
	waitReady(t, retained)
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{adopted, observed, retained})
	doc, _ := storedPolicy(fn, "")
	if got := sids(doc); strings.Join(got, ",") != "foreign-terraform,kept" {
		t.Errorf("policy Sids after deletion = %v, want foreign-terraform and kept", got)
	}
}

// The Statements strategy's other guarantees hold when the policy is
// written whole: a Sid two objects claim goes to the older one and nothing
// flaps; a statement removed outside is restored with one write; and a
// batch that would push the document past Lambda's 20,480 bytes is cut
// before it is written, not refused by Lambda.
func TestDocumentKeepsTheGuarantees(t *testing.T) {
	startDocumentOperator(t)
	t.Run("SidConflict", documentSidConflict)
	t.Run("drift healed with one write", documentDriftHealedWithOneWrite)
	t.Run("PolicyTooLarge before the write", documentPolicyTooLargeBeforeTheWrite)
}

// documentSidConflict: a Sid two objects claim goes to the older one, and
// nothing flaps.
func documentSidConflict(t *testing.T) {
	fn := newName("docconflict")
	first, second := claimTwice(t, fn, documentObject)
	writes := lambdaAPI.WritesTo(fn)
	forceSyncs(t, 1, first, second)
	if stored, _ := storedStatement(fn, "", "shared"); stored != predicted(t, fn, "", first.Spec) {
		t.Errorf("policy holds %q, want the first object's statement", stored)
	}
	if n := lambdaAPI.WritesTo(fn) - writes; n != 0 {
		t.Errorf("%d writes while the conflict stood, want 0", n)
	}
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{second, first})
}

// documentDriftHealedWithOneWrite: a statement removed outside is
// restored with one write.
func documentDriftHealedWithOneWrite(t *testing.T) {
	fn := newName("docdrift")
	newFunction(t, fn)
	obj := documentObject(newName("s3"), fn, s3Spec)
	create(t, obj)
	want := waitReady(t, obj).Status.Statement
	writes := lambdaAPI.WritesTo(fn)
	removeOutside(t, fn, "s3")
	forceSyncs(t, 1, obj)
	if stored, _ := storedStatement(fn, "", "s3"); stored != want {
		t.Errorf("policy holds %q, want %q", stored, want)
	}
	if n := lambdaAPI.WritesTo(fn) - writes; n != 1 {
		t.Errorf("%d writes to restore one statement, want 1", n)
	}
	waitEvent(t, obj, lambdav1alpha1.EventDriftCorrected)
	deleteAll(t, []*lambdav1alpha1.LambdaPermission{obj})
}

// documentPolicyTooLargeBeforeTheWrite: a batch that would push the
// document past Lambda's 20,480 bytes is cut before it is written, not
// refused by Lambda.
func documentPolicyTooLargeBeforeTheWrite(t *testing.T) {
	fn := newName("doccrowded")
	newFunction(t, fn)
	long := "arn:aws:s3:::" + strings.Repeat("b", 1800) + "/*"
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 14 {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("big-%02d", i)
		spec.SourceArn = long
		objs = append(objs, documentObject(newName("big"), fn, spec))
	}
	refusedBefore := emu.Stats().Errors["PutResourcePolicy"]["PolicyLengthExceededException"]
	createAll(t, objs) // at once: they meet in one batch
	var ready, tooLarge int
	eventually(t, "every object Ready or PolicyTooLarge", func() string {
		ready, tooLarge = 0, 0
		for _, obj := range objs {
			c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady)
			switch {
			case c == nil:
				return obj.Name + " has no status yet"
			case c.Status == metav1.ConditionTrue:
				ready++
			case c.Reason == lambdav1alpha1.ReasonPolicyTooLarge && strings.Contains(c.Message, "20480"):
				tooLarge++
			default:
				return obj.Name + ": " + conditionString(c)
			}
		}
		return ""
	})
	doc, _ := storedPolicy(fn, "")
	size := doc.SizeAfter(nil)
	t.Logf("%d statements in place (policy %d bytes), %d refused as too large", ready, size, tooLarge)
	if ready == 0 || tooLarge == 0 || len(doc.Statements) != ready+1 || size > policy.MaxPolicySize {
		t.Errorf("%d ready, %d too large of %d; policy has %d statements, %d bytes", ready, tooLarge, len(objs), len(doc.Statements), size)
	}
	if n := emu.Stats().Errors["PutResourcePolicy"]["PolicyLengthExceededException"] - refusedBefore; n != 0 {
		t.Errorf("%d PutResourcePolicy calls reached Lambda's own size check; the operator should cut the batch first", n)
	}
	deleteAll(t, objs)
}
