//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Other writers to the same policy: their changes to the operator's
// statements are corrected, and their races with its writes (412, 409) end
// with both sides' statements in place.

func TestDriftIsCorrected(t *testing.T) {
	fn := newName("drift")
	newFunction(t, fn)
	obj := permission(newName("s3"), fn, s3Spec)
	create(t, obj)
	want := waitReady(t, obj).Status.Statement

	t.Run("removed outside, restored by the periodic sync", func(t *testing.T) {
		corrections := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "missing"})
		removeOutside(t, fn, "s3")
		// The correction is counted after the write that makes it: wait for
		// the count itself, not for the statement it follows.
		eventually(t, "the correction counted", func() string {
			if got := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "missing"}); got != corrections+1 {
				return fmt.Sprintf("drift_corrections_total{drift=missing} went from %v to %v, want +1", corrections, got)
			}
			return ""
		})
		if got, _ := storedStatement(fn, "", "s3"); got != want {
			t.Errorf("policy holds %q, want %q", got, want)
		}
		waitEvent(t, obj, lambdav1alpha1.EventDriftCorrected)
	})
	t.Run("changed outside, corrected", func(t *testing.T) {
		corrections := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "changed"})
		removeOutside(t, fn, "s3")
		addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::attacker-bucket/*")})
		forceSyncs(t, 1, obj)
		if got, _ := storedStatement(fn, "", "s3"); got != want {
			t.Fatalf("policy holds %q, want %q", got, want)
		}
		if got := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "changed"}); got != corrections+1 {
			t.Errorf("drift_corrections_total{drift=changed} went from %v to %v, want +1", corrections, got)
		}
	})
}

// Another writer changes the policy between the controller's GetPolicy and
// its RemovePermission: Lambda answers 412, and the controller reads again
// and converges without losing the other writer's statement.
func TestStaleRevisionFromAConcurrentWriter(t *testing.T) {
	fn := newName("race412")
	newFunction(t, fn)
	obj := permission(newName("racer"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "racer", Principal: "sns.amazonaws.com", SourceAccount: account})
	create(t, obj)
	waitReady(t, obj)

	var concurrent string
	lambdaAPI.BeforeNextRemove(fn, func() {
		concurrent = addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("console-added"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("223456789012")})
	})
	errors412 := emu.Stats().Errors["RemovePermission"]["PreconditionFailedException"]
	stale := metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"operation": "RemovePermission", "outcome": "StaleRevision"})
	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.Principal = "sqs.amazonaws.com" })
	got := waitReady(t, obj)

	if n := emu.Stats().Errors["RemovePermission"]["PreconditionFailedException"] - errors412; n != 1 {
		t.Fatalf("%d RemovePermission calls failed with 412, want the 1 caused by the concurrent writer", n)
	}
	if got := metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"operation": "RemovePermission", "outcome": "StaleRevision"}); got != stale+1 {
		t.Errorf("aws_calls_total{RemovePermission,StaleRevision} went from %v to %v, want +1", stale, got)
	}
	if stored, _ := storedStatement(fn, "", "racer"); stored != predicted(t, fn, "", got.Spec) {
		t.Errorf("policy holds %q", stored)
	}
	if stored, ok := storedStatement(fn, "", "console-added"); !ok || stored != concurrent {
		t.Errorf("the concurrent writer's statement is %q (present %v), want %q", stored, ok, concurrent)
	}
}

// Another writer adds our Sid, with other content, between the controller's
// GetPolicy and its AddPermission: Lambda answers 409, and the controller
// converges to the object's content.
func TestSidAddedConcurrentlyWithOtherContent(t *testing.T) {
	fn := newName("race409")
	newFunction(t, fn)
	lambdaAPI.BeforeNextAdd(fn, func() {
		addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::someone-else/*")})
	})
	conflicts := emu.Stats().Errors["AddPermission"]["ResourceConflictException"]
	obj := permission(newName("s3"), fn, s3Spec)
	create(t, obj)
	got := waitReady(t, obj)
	if n := emu.Stats().Errors["AddPermission"]["ResourceConflictException"] - conflicts; n != 1 {
		t.Fatalf("%d AddPermission calls failed with 409, want 1", n)
	}
	if stored, _ := storedStatement(fn, "", "s3"); stored != predicted(t, fn, "", got.Spec) {
		t.Errorf("policy holds %q, want the object's statement", stored)
	}
}

// The function is deleted and created again outside (a redeploy by another
// tool): its new policy is empty, every statement comes back, and each
// object says its statement went with the whole policy.
func TestFunctionRecreatedOutsideGetsItsStatementsBack(t *testing.T) {
	fn := newName("redeployed")
	createFunction(t, fn)
	var objs []*lambdav1alpha1.LambdaPermission
	for _, sid := range []string{"one", "two", "three"} {
		spec := s3Spec
		spec.StatementID = sid
		obj := permission(newName(sid), fn, spec)
		create(t, obj)
		objs = append(objs, obj)
	}
	for _, obj := range objs {
		waitReady(t, obj)
	}
	if _, err := outside.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	createFunction(t, fn)
	eventually(t, "statements restored on the new function", func() string {
		doc, _ := storedPolicy(fn, "")
		if got := sids(doc); !slices.Equal(got, []string{"one", "three", "two"}) {
			return fmt.Sprintf("Sids %v", got)
		}
		return ""
	})
	for _, obj := range objs {
		waitEvent(t, obj, lambdav1alpha1.EventPolicyReplaced)
	}
}
