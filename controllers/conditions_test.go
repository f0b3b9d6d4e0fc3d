package controllers

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
)

func TestURLChildrenState(t *testing.T) {
	child := func(name string, generation int64, conditions ...metav1.Condition) *lambdav1alpha1.LambdaPermission {
		c := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: generation}}
		c.Status.Conditions = conditions
		return c
	}
	ready := func(generation int64) metav1.Condition {
		return metav1.Condition{Type: lambdav1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: lambdav1alpha1.ReasonSynced, ObservedGeneration: generation}
	}
	notReady := metav1.Condition{Type: lambdav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: lambdav1alpha1.ReasonPublicAccessDenied, Message: "narrow it", ObservedGeneration: 1}
	stalledNow := metav1.Condition{Type: lambdav1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: lambdav1alpha1.ReasonPublicAccessDenied, Message: "narrow it", ObservedGeneration: 1}
	throttled := metav1.Condition{Type: lambdav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: lambdav1alpha1.ReasonThrottled, Message: "slow down", ObservedGeneration: 1}
	for _, tt := range []struct {
		name        string
		children    []*lambdav1alpha1.LambdaPermission
		wantReason  string // "" for done
		wantStalled bool
		wantMessage string
	}{
		{"both Ready: done", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, ready(1)), child("a-invoke", 1, ready(1))}, "", false, ""},
		{"one not reconciled yet", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, ready(1)), child("a-invoke", 1)}, lambdav1alpha1.ReasonProgressing, false, "a-invoke: not reconciled yet"},
		{"one Ready for an older generation", []*lambdav1alpha1.LambdaPermission{child("a-url", 2, ready(1)), child("a-invoke", 1, ready(1))}, lambdav1alpha1.ReasonProgressing, false, "waiting for a-url"},
		{"one retrying", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, throttled), child("a-invoke", 1, ready(1))}, lambdav1alpha1.ReasonProgressing, false, "a-url: slow down"},
		{"one stalled: stalled, with its reason", []*lambdav1alpha1.LambdaPermission{child("a-url", 1, ready(1)), child("a-invoke", 1, notReady, stalledNow)}, lambdav1alpha1.ReasonPublicAccessDenied, true, "LambdaPermission a-invoke: narrow it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := kernel.StateOf(childrenState(tt.children))
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
		{"STS failed otherwise", "", "", errors.New("dial tcp: connection refused"), lambdav1alpha1.ReasonIdentityFailed, "connection refused"},
		{"the role does not trust the operator", "", "", &awslambda.Error{Operation: "GetCallerIdentity", Kind: awslambda.AccessDenied, AssumeRole: true,
			Role: "arn:aws:iam::111111111111:role/op", Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}, lambdav1alpha1.ReasonRoleTrustDenied, "trust policy must allow sts:AssumeRole"},
		{"the role refuses the external id", "", "", &awslambda.Error{Operation: "GetCallerIdentity", Kind: awslambda.AccessDenied, AssumeRole: true, ExternalID: true,
			Role: "arn:aws:iam::111111111111:role/op", Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}, lambdav1alpha1.ReasonExternalIDDenied, "sts:ExternalId equal to"},
		{"the operator's own credentials expired", "", "", &awslambda.Error{Operation: "GetCallerIdentity", Kind: awslambda.InvalidCredentials,
			Code: "ExpiredToken", Message: "The security token included in the request is expired"}, lambdav1alpha1.ReasonCredentialsInvalid, "the operator's own credentials"},
		{"a role in another account", "222222222222", "arn:aws:sts::222222222222:assumed-role/op/s", nil, lambdav1alpha1.ReasonWrongAccount, "set roleArn to a role in 111111111111"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := kernel.StateOf(identityOutcome("111111111111", tt.callerAccount, tt.arn, tt.err))
			switch {
			case tt.wantReason == "" && state != nil:
				t.Errorf("got %v, want verified", state)
			case tt.wantReason != "" && (state == nil || state.Reason != tt.wantReason || !state.Stalled || !strings.Contains(state.Message, tt.wantInText)):
				t.Errorf("got %+v, want stalled %s with %q", state, tt.wantReason, tt.wantInText)
			}
		})
	}
}
