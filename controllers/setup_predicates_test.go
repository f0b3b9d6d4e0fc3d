package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

func TestStatementWritten(t *testing.T) {
	const written = `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:123456789012:function:f"}`
	with := func(statement string, edit func(*lambdav1alpha1.LambdaPermission)) *lambdav1alpha1.LambdaPermission {
		obj := &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team", Generation: 1}}
		obj.Status.Statement, obj.Status.StatementID = statement, "s3"
		if edit != nil {
			edit(obj)
		}
		return obj
	}
	tests := []struct {
		name     string
		old, new *lambdav1alpha1.LambdaPermission
		want     bool
	}{
		{"statement written", with("", nil), with(written, nil), true},
		{"statement changed", with(written, nil), with(written[:len(written)-1]+`:live"}`, nil), true},
		{"statement taken out", with(written, nil), with("", nil), true},
		{"another status write (lastSyncTime)", with(written, nil), with(written, func(o *lambdav1alpha1.LambdaPermission) {
			now := metav1.Now()
			o.Status.LastSyncTime = &now
		}), false},
		{"a condition changed", with(written, nil), with(written, func(o *lambdav1alpha1.LambdaPermission) {
			o.Status.Conditions = []metav1.Condition{{Type: lambdav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: lambdav1alpha1.ReasonThrottled}}
		}), false},
		{"a spec change alone (generation's predicate passes it)", with(written, nil), with(written, func(o *lambdav1alpha1.LambdaPermission) {
			o.Generation, o.Spec.Principal = 2, "sns.amazonaws.com"
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statementWritten.Update(event.UpdateEvent{ObjectOld: tt.old, ObjectNew: tt.new}); got != tt.want {
				t.Errorf("statementWritten = %v, want %v", got, tt.want)
			}
		})
	}
	other := &lambdav1alpha1.LambdaResourcePolicy{}
	if statementWritten.Update(event.UpdateEvent{ObjectOld: other, ObjectNew: other.DeepCopy()}) {
		t.Error("passes an update of another kind")
	}
}
