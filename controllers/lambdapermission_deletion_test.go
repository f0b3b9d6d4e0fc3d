//go:build integration

package controllers_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Deleting a LambdaPermission takes its statement out (or, with Retain,
// leaves it), and a function that is gone does not hold the deletion.

func TestDeletion(t *testing.T) {
	fn := newName("delete")
	newFunction(t, fn)
	remove := permission(newName("remove"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "remove-me", Principal: "sns.amazonaws.com", SourceAccount: account})
	retain := permission(newName("retain"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "retain-me", Principal: "sqs.amazonaws.com", SourceAccount: account,
		DeletionPolicy: lambdav1alpha1.DeletionPolicyRetain})
	create(t, remove)
	create(t, retain)
	waitReady(t, remove)
	waitReady(t, retain)

	for _, obj := range []*lambdav1alpha1.LambdaPermission{remove, retain} {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		waitGone(t, obj)
	}
	doc, _ := storedPolicy(fn, "")
	if got := sids(doc); !slices.Equal(got, []string{"foreign-terraform", "retain-me"}) {
		t.Errorf("policy Sids after deletion = %v, want foreign-terraform and retain-me", got)
	}
}

func TestDeletionIsNotHeldByAFunctionThatIsGone(t *testing.T) {
	fn := newName("gone")
	createFunction(t, fn)
	obj := permission(newName("orphan"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)
	if _, err := outside.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitGone(t, obj)
}
