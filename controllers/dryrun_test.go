//go:build integration

package controllers_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
)

// startOperator runs a second operator for the LambdaPermissions labelled
// managerLabel=label, until the test ends: its options are the suite's
// Lambda and the given workers, as configure changes them.
func startOperator(t *testing.T, label string, workers int, configure func(*controllers.Options)) {
	t.Helper()
	o := controllers.Options{Lambda: lambdaAPI, DefaultRegion: region, SyncPeriod: syncPeriod, MaxConcurrentReconciles: workers,
		Kinds: []controllers.Kind{controllers.LambdaPermissionKind}}
	configure(&o)
	suite.RunOperator(t, o, ownOperator(t, label, &lambdav1alpha1.LambdaPermission{})...)
}

func TestDryRunReportsThePlanAndNeverWrites(t *testing.T) {
	startOperator(t, "dry-run", 2, func(o *controllers.Options) { o.DryRun = true })
	fn := newName("plan")
	newFunction(t, fn)
	obj := permission(newName("planned"), fn, s3Spec)
	obj.Labels = map[string]string{managerLabel: "dry-run"}
	create(t, obj)

	got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonDryRun)
	want := predicted(t, fn, "", s3Spec)
	if msg := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReady).Message; !strings.Contains(msg, `would add statement "s3"`) || !strings.Contains(msg, want) {
		t.Errorf("plan %q does not say it would add %s", msg, want)
	}
	waitEvent(t, obj, lambdav1alpha1.ReasonDryRun)
	if _, ok := storedStatement(fn, "", "s3"); ok {
		t.Fatal("a dry run added the statement")
	}

	// A different statement under the Sid: the plan is a replacement.
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(s3Spec.Action),
		Principal: aws.String(s3Spec.Principal), SourceArn: aws.String("arn:aws:s3:::elsewhere/*"), SourceAccount: aws.String(account)})
	forceSyncs(t, 1, obj)
	eventually(t, "replacement planned", func() string {
		msg := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady).Message
		if !strings.Contains(msg, `would replace statement "s3"`) || !strings.Contains(msg, "[Condition]") {
			return "plan " + msg
		}
		return ""
	})

	// In place: Ready. Deleting the object plans the removal but makes none.
	removeOutside(t, fn, "s3")
	addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String(s3Spec.Action),
		Principal: aws.String(s3Spec.Principal), SourceArn: aws.String(s3Spec.SourceArn), SourceAccount: aws.String(account)})
	forceSyncs(t, 1, obj)
	waitReady(t, obj)
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitGone(t, obj)
	if _, ok := storedStatement(fn, "", "s3"); !ok {
		t.Error("a dry run removed the statement")
	}
	if n := lambdaAPI.WritesTo(fn); n != 0 {
		t.Errorf("%d writes in a dry run, want 0", n)
	}
}
