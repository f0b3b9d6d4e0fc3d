//go:build integration

package controllers_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// What the LambdaResourcePolicy tests share: the objects they declare, and
// waiting for what the operator made of them and of the policy.

// raw is a JSON value as the spec's schemaless fields hold it.
func raw(t *testing.T, v any) *apiextensionsv1.JSON {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

// statement is a spec statement from IAM's JSON values.
func statement(t *testing.T, sid, effect string, principal, action any, condition map[string]any) lambdav1alpha1.ResourcePolicyStatement {
	t.Helper()
	st := lambdav1alpha1.ResourcePolicyStatement{Sid: sid, Effect: effect, Principal: *raw(t, principal), Action: *raw(t, action)}
	if condition != nil {
		st.Condition = raw(t, condition)
	}
	return st
}

// The statements the tests declare: a partner account, and a Deny that
// only a whole document can hold.
func partnerStatement(t *testing.T) lambdav1alpha1.ResourcePolicyStatement {
	return statement(t, "partner", "Allow", map[string]any{"AWS": "111122223333"}, "lambda:InvokeFunction", nil)
}

func denyOutsideStatement(t *testing.T) lambdav1alpha1.ResourcePolicyStatement {
	return statement(t, "deny-outside", "Deny", "*", []string{"lambda:InvokeFunction"},
		map[string]any{"NotIpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}})
}

func resourcePolicy(name, function string, statements ...lambdav1alpha1.ResourcePolicyStatement) *lambdav1alpha1.LambdaResourcePolicy {
	return &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: lambdav1alpha1.LambdaResourcePolicySpec{FunctionName: function, Policy: lambdav1alpha1.ResourcePolicyDocument{Statement: statements}}}
}

func withKind(obj *lambdav1alpha1.LambdaResourcePolicy) *lambdav1alpha1.LambdaResourcePolicy {
	obj.SetGroupVersionKind(lambdav1alpha1.GroupVersion.WithKind("LambdaResourcePolicy"))
	return obj
}

// waitPolicyCondition waits until the object's Ready condition has the
// status and reason at its current generation, and returns the object then.
func waitPolicyCondition(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, want metav1.ConditionStatus, reason string) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	var current *lambdav1alpha1.LambdaResourcePolicy
	eventually(t, fmt.Sprintf("%s Ready=%s/%s", obj.Name, want, reason), func() string {
		current = get(t, obj)
		c := meta.FindStatusCondition(current.Status.Conditions, lambdav1alpha1.ConditionReady)
		switch {
		case c == nil:
			return "without Ready"
		case current.Status.ObservedGeneration != current.Generation:
			return fmt.Sprintf("at observedGeneration %d of %d", current.Status.ObservedGeneration, current.Generation)
		case c.Status != want || c.Reason != reason:
			return fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return ""
	})
	return current
}

// waitPolicySynced waits until the object is Ready and has handled
// request: a check made after the request found or made the policy as
// declared.
func waitPolicySynced(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy, request string) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	var current *lambdav1alpha1.LambdaResourcePolicy
	eventually(t, obj.Name+" synced", func() string {
		current = waitPolicyCondition(t, obj, metav1.ConditionTrue, lambdav1alpha1.ReasonSynced)
		if got := current.Status.LastHandledSyncRequest; got != request {
			return fmt.Sprintf("last handled sync request %q, want %q", got, request)
		}
		return ""
	})
	return current
}

// syncPolicyNow asks for a check against a fresh read at once and waits
// until it found or made the policy as declared.
func syncPolicyNow(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) *lambdav1alpha1.LambdaResourcePolicy {
	t.Helper()
	return waitPolicySynced(t, obj, requestSync(t, obj))
}

func deletePolicyObject(t *testing.T, obj *lambdav1alpha1.LambdaResourcePolicy) {
	t.Helper()
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	eventually(t, obj.Name+" deleted", func() string {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), &lambdav1alpha1.LambdaResourcePolicy{}); err == nil {
			return "present"
		}
		return ""
	})
}

// putOutside replaces the whole policy as CloudFormation or Terraform would.
func putOutside(t *testing.T, function, document string) {
	t.Helper()
	if _, err := outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(functionARN(function)), Policy: aws.String(document)}); err != nil {
		t.Fatalf("PutResourcePolicy outside on %s: %v", function, err)
	}
}

// writesTo counts the operator's writes to function's policies, by
// operation, from now on.
type writesTo string

func (fn writesTo) since(before map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range lambdaAPI.WritesByOperation(string(fn)) {
		if d := n - before[op]; d != 0 {
			out[op] = d
		}
	}
	return out
}

func (fn writesTo) now() map[string]int { return lambdaAPI.WritesByOperation(string(fn)) }

func wantPolicySids(t *testing.T, function string, want ...string) {
	t.Helper()
	doc, _ := storedPolicy(function, "")
	slices.Sort(want)
	if got := sids(doc); !slices.Equal(got, want) {
		t.Fatalf("policy of %s holds %v, want exactly %v", function, got, want)
	}
}

func waitPolicySids(t *testing.T, function string, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, "policy of "+function, func() string {
		doc, _ := storedPolicy(function, "")
		if got := sids(doc); !slices.Equal(got, want) {
			return fmt.Sprintf("%v, want %v", got, want)
		}
		return ""
	})
}
