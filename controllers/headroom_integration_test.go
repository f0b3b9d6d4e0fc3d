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
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

const policySizeGauge = "lambda_permission_policy_size_bytes"

// storedSize is the size of the emulator's policy in Lambda's measure, as
// the operator estimates it.
func storedSize(function string) int {
	doc, _ := storedPolicy(function, "")
	return doc.Size()
}

func sizeGauge(t *testing.T, function string) float64 {
	t.Helper()
	return metricValue(t, policySizeGauge, map[string]string{"function": functionARN(function), "qualifier": ""})
}

// An object in place shows its policy's size and Lambda's limit in its
// status, and the gauge the same: the size of the policy Lambda stores,
// with either write strategy. A foreign statement shows at the next check;
// once the object is deleted, the gauge drops the policy.
func TestPolicySizeInStatusAndGauge(t *testing.T) {
	for _, strategy := range []writer.Strategy{writer.Statements, writer.Document} {
		t.Run(string(strategy), func(t *testing.T) {
			fn := newName("headroom")
			newFunction(t, fn)
			obj := permission(newName("sized"), fn, s3Spec)
			if strategy == writer.Document {
				startDocumentOperator(t)
				obj = documentObject(obj.Name, fn, s3Spec)
			}
			create(t, obj)
			got := waitReady(t, obj)
			want := storedSize(fn)
			if got.Status.PolicySize != int32(want) || got.Status.PolicySizeLimit != policy.MaxPolicySize {
				t.Errorf("status policySize %d of %d, want the stored policy's %d of %d", got.Status.PolicySize, got.Status.PolicySizeLimit, want, policy.MaxPolicySize)
			}
			if g := sizeGauge(t, fn); g != float64(want) {
				t.Errorf("%s = %v, want %d", policySizeGauge, g, want)
			}

			addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("foreign-later"), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String("sns.amazonaws.com"), SourceArn: aws.String("arn:aws:sns:us-east-2:123456789012:later")})
			grown := storedSize(fn)
			update(t, obj, func(o *lambdav1alpha1.LambdaPermission) {
				o.Annotations = map[string]string{lambdav1alpha1.SyncRequestedAnnotation: time.Now().Format(time.RFC3339Nano)}
			})
			eventually(t, "policySize after a foreign statement", func() string {
				if size := get(t, obj).Status.PolicySize; size != int32(grown) {
					return fmt.Sprintf("%d, want %d", size, grown)
				}
				return ""
			})
			if g := sizeGauge(t, fn); g != float64(grown) {
				t.Errorf("%s = %v after the check, want %d", policySizeGauge, g, grown)
			}

			if err := k8s.Delete(ctx, obj); err != nil {
				t.Fatal(err)
			}
			waitGone(t, obj)
			if g := sizeGauge(t, fn); g != 0 {
				t.Errorf("%s = %v after the policy's only object went, want no series", policySizeGauge, g)
			}
		})
	}
}

// The write that takes a policy past 90 % of Lambda's limit warns on its
// object, naming the function and the sizes.
func TestPolicyNearLimitWarnsTheWriteThatCrosses(t *testing.T) {
	fn := newName("nearly-full")
	newFunction(t, fn)
	spec := s3Spec
	spec.StatementID = "large"
	spec.SourceArn = "arn:aws:s3:::" + strings.Repeat("b", 1000) + "/*"
	ours := len(predicted(t, fn, "", spec)) + 1 // and a comma

	// Foreign statements, each smaller than ours, up to 90 %: ours crosses.
	threshold := policy.MaxPolicySize * 9 / 10
	for i := 0; ; i++ {
		sid := fmt.Sprintf("filler-%03d", i)
		addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String(fmt.Sprintf("arn:aws:s3:::filler-bucket-%03d/*", i)), SourceAccount: aws.String(account)})
		if storedSize(fn) > threshold {
			removeOutside(t, fn, sid)
			break
		}
	}
	before := storedSize(fn)
	if before > threshold || before+ours <= threshold || before+ours > policy.MaxPolicySize {
		t.Fatalf("the policy holds %d bytes and ours adds %d: it would not cross %d within %d", before, ours, threshold, policy.MaxPolicySize)
	}

	obj := permission(newName("crossing"), fn, spec)
	create(t, obj)
	got := waitReady(t, obj)
	after := storedSize(fn)
	if got.Status.PolicySize != int32(after) || after <= threshold {
		t.Errorf("status policySize %d, want the stored %d (over %d)", got.Status.PolicySize, after, threshold)
	}
	waitEvent(t, obj, lambdav1alpha1.EventPolicyNearLimit)
	var list eventsv1.EventList
	if err := k8s.List(ctx, &list, client.InNamespace(obj.Namespace)); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		if e.Regarding.Name != obj.Name || e.Reason != lambdav1alpha1.EventPolicyNearLimit {
			continue
		}
		t.Logf("%s %s: %s", e.Type, e.Reason, e.Note)
		if e.Type != "Warning" || !strings.Contains(e.Note, functionARN(fn)) || !strings.Contains(e.Note, fmt.Sprint(after)) || !strings.Contains(e.Note, "20480") {
			t.Errorf("%s %s: %q; want a Warning naming %s, %d and 20480", e.Type, e.Reason, e.Note, functionARN(fn), after)
		}
	}
}
