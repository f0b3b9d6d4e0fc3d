package controllers

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// kstatusOf is what GitOps tools (Argo CD, Flux, kpt) compute for obj.
func kstatusOf(t *testing.T, obj runtime.Object, kind string) status.Status {
	t.Helper()
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(lambdav1alpha1.GroupVersion.WithKind(kind))
	result, err := status.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	return result.Status
}

// The four kinds show the outcome of a reconcile with the same conditions,
// so kstatus and the Argo CD check read them alike, and each condition
// moves as the outcome does.
func TestConditionsOfTheFourKinds(t *testing.T) {
	outcomes := []struct {
		name        string
		outcome     error
		wantReady   metav1.ConditionStatus
		wantReason  string
		wantKstatus status.Status
	}{
		{"retrying", retrying(ReasonThrottled, nil, "throttled"), metav1.ConditionFalse, ReasonThrottled, status.InProgressStatus},
		{"stalled", stalled(ReasonSidConflict, "taken"), metav1.ConditionFalse, ReasonSidConflict, status.FailedStatus},
		{"done", nil, metav1.ConditionTrue, "", status.CurrentStatus},
		{"a plain error is retried", errors.New("the API server is away"), metav1.ConditionFalse, ReasonRetrying, status.InProgressStatus},
		{"stalled again", stalled(ReasonInvalidSpec, "bad"), metav1.ConditionFalse, ReasonInvalidSpec, status.FailedStatus},
		{"done again", nil, metav1.ConditionTrue, "", status.CurrentStatus},
	}
	type kind struct {
		name       string
		obj        runtime.Object
		conditions *[]metav1.Condition
		set        func(outcome error)
		doneReason string
	}
	permission := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	url := &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	account := &lambdav1alpha1.LambdaPermissionAccount{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	owner := &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	kinds := []kind{
		{"LambdaPermission", permission, &permission.Status.Conditions, func(outcome error) {
			permission.Status.ObservedGeneration = 3
			setConditions(&permission.Status.Conditions, 3, outcome, ReasonSynced, "in place")
		}, ReasonSynced},
		{"LambdaFunctionURLPermission", url, &url.Status.Conditions, func(outcome error) {
			url.Status.ObservedGeneration = 3
			setConditions(&url.Status.Conditions, 3, outcome, ReasonSynced, "both in place")
		}, ReasonSynced},
		{"LambdaPermissionAccount", account, &account.Status.Conditions, func(outcome error) {
			account.Status.ObservedGeneration = 3
			setConditions(&account.Status.Conditions, 3, outcome, ReasonIdentityVerified, "acting as someone")
		}, ReasonIdentityVerified},
		{"LambdaResourcePolicy", owner, &owner.Status.Conditions, func(outcome error) {
			owner.Status.ObservedGeneration = 3
			setConditions(&owner.Status.Conditions, 3, outcome, ReasonSynced, "exactly as declared")
		}, ReasonSynced},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for _, o := range outcomes {
				k.set(o.outcome)
				ready := meta.FindStatusCondition(*k.conditions, ConditionReady)
				wantReason := o.wantReason
				if wantReason == "" {
					wantReason = k.doneReason
				}
				if ready == nil || ready.Status != o.wantReady || ready.Reason != wantReason || ready.ObservedGeneration != 3 {
					t.Errorf("%s: Ready = %+v, want %s/%s at generation 3", o.name, ready, o.wantReady, wantReason)
				}
				stalledCondition := meta.IsStatusConditionTrue(*k.conditions, ConditionStalled)
				reconciling := meta.IsStatusConditionTrue(*k.conditions, ConditionReconciling)
				if stalledCondition != (o.wantKstatus == status.FailedStatus) || reconciling != (o.wantKstatus == status.InProgressStatus) {
					t.Errorf("%s: Stalled %v, Reconciling %v", o.name, stalledCondition, reconciling)
				}
				if got := kstatusOf(t, k.obj, k.name); got != o.wantKstatus {
					t.Errorf("%s: kstatus %s, want %s", o.name, got, o.wantKstatus)
				}
			}
		})
	}
}

func TestURLChildrenState(t *testing.T) {
	child := func(name string, generation int64, conditions ...metav1.Condition) *lambdav1alpha1.LambdaPermission {
		c := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: generation}}
		c.Status.Conditions = conditions
		return c
	}
	ready := func(generation int64) metav1.Condition {
		return metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonSynced, ObservedGeneration: generation}
	}
	notReady := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonPublicAccessDenied, Message: "narrow it", ObservedGeneration: 1}
	stalledNow := metav1.Condition{Type: ConditionStalled, Status: metav1.ConditionTrue, Reason: ReasonPublicAccessDenied, Message: "narrow it", ObservedGeneration: 1}
	throttled := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonThrottled, Message: "slow down", ObservedGeneration: 1}
	for _, tt := range []struct {
		name        string
		children    []*lambdav1alpha1.LambdaPermission
		wantReason  string // "" for done
		wantStalled bool
		wantMessage string
	}{
		{"both Ready: done", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, ready(1)), child("a-invoke", 1, ready(1))}, "", false, ""},
		{"one not reconciled yet", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, ready(1)), child("a-invoke", 1)}, ReasonProgressing, false, "a-invoke: not reconciled yet"},
		{"one Ready for an older generation", []*lambdav1alpha1.LambdaPermission{child("a-url", 2, ready(1)), child("a-invoke", 1, ready(1))}, ReasonProgressing, false, "waiting for a-url"},
		{"one retrying", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, throttled), child("a-invoke", 1, ready(1))}, ReasonProgressing, false, "a-url: slow down"},
		{"one stalled: stalled, with its reason", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, ready(1)), child("a-invoke", 1, notReady, stalledNow)}, ReasonPublicAccessDenied, true, "LambdaPermission a-invoke: narrow it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := stateOf(childrenState(tt.children))
			switch {
			case tt.wantReason == "" && state != nil:
				t.Errorf("got %v, want done", state)
			case tt.wantReason != "" && (state == nil || state.Reason != tt.wantReason || state.Stalled != tt.wantStalled || !strings.Contains(state.Message, tt.wantMessage)):
				t.Errorf("got %+v, want %s stalled=%v with %q", state, tt.wantReason, tt.wantStalled, tt.wantMessage)
			}
		})
	}
}

func TestIdentityOutcome(t *testing.T) {
	for _, tt := range []struct {
		name                   string
		callerAccount, arn     string
		err                    error
		wantReason, wantInText string
	}{
		{"the identity acts in the declared account", "111111111111", "arn:aws:sts::111111111111:assumed-role/op/s", nil, "", ""},
		{"AssumeRole failed", "", "", errors.New("AccessDenied: not authorized to perform sts:AssumeRole"), ReasonIdentityFailed, "not authorized"},
		{"a role in another account", "222222222222", "arn:aws:sts::222222222222:assumed-role/op/s", nil, ReasonWrongAccount, "set roleArn to a role in 111111111111"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := stateOf(identityOutcome("111111111111", tt.callerAccount, tt.arn, tt.err))
			switch {
			case tt.wantReason == "" && state != nil:
				t.Errorf("got %v, want verified", state)
			case tt.wantReason != "" && (state == nil || state.Reason != tt.wantReason || !state.Stalled || !strings.Contains(state.Message, tt.wantInText)):
				t.Errorf("got %+v, want stalled %s with %q", state, tt.wantReason, tt.wantInText)
			}
		})
	}
}
