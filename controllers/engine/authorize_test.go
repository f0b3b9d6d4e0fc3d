package engine

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// authorize reads what decideAccess decides from: the accounts and the
// namespace's labels from the cluster, the operator's own account from
// STS. What it cannot read is a failure of its own, not a decision.
func TestAuthorize(t *testing.T) {
	cluster := &fakeCluster{
		accounts:   []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, document)},
		namespaces: map[string]map[string]string{"payments": payments, "web": {"team": "web"}},
	}
	throttled := &awslambda.Error{Kind: awslambda.Throttled, Operation: "GetCallerIdentity", Message: "Rate exceeded"}
	for _, tt := range []struct {
		name       string
		caller     callerOnly
		namespace  string
		target     string // functionName
		owned      bool
		wantRole   string
		wantWrite  writer.Strategy
		wantReason string // "" when allowed
		wantGone   bool   // the namespace is not found
	}{
		{name: "the operator's own account, named bare", caller: callerOnly{account: own}, namespace: "web", target: "fn", wantWrite: writer.Statements},
		{name: "a declared account, for a namespace its rules select", caller: callerOnly{account: own}, namespace: "payments",
			target: "arn:aws:lambda:us-east-2:" + other + ":function:payments-api", wantRole: "arn:aws:iam::" + other + ":role/pay", wantWrite: writer.Document},
		{name: "the same for a namespace they do not", caller: callerOnly{account: own}, namespace: "web",
			target: "arn:aws:lambda:us-east-2:" + other + ":function:payments-api", wantReason: lambdav1alpha1.ReasonAccountNotAllowed},
		{name: "an owned policy is written whole", caller: callerOnly{account: own}, namespace: "web", target: "fn", owned: true, wantWrite: writer.Document},
		{name: "STS throttled: retried, not refused", caller: callerOnly{err: throttled}, namespace: "web", target: "fn", wantReason: lambdav1alpha1.ReasonThrottled},
		{name: "a namespace gone: an error to retry", caller: callerOnly{account: own}, namespace: "gone", target: "fn", wantGone: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(cluster, tt.caller, Settings{})
			named, err := namedTarget(tt.target, "", "")
			if err != nil {
				t.Fatal(err)
			}
			g, err := e.authorize(context.Background(), tt.namespace, named, scoped, tt.owned)
			state := kernel.StateOf(err)
			switch {
			case tt.wantGone:
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want the namespace's NotFound", err)
				}
			case tt.wantReason != "":
				if state == nil || state.Reason != tt.wantReason {
					t.Fatalf("got %v, want %s", state, tt.wantReason)
				}
			case err != nil:
				t.Fatalf("refused: %v", err)
			case g.identity.RoleARN != tt.wantRole || g.strategy != tt.wantWrite:
				t.Errorf("acting as %q, writing with %s; want %q, %s", g.identity.RoleARN, g.strategy, tt.wantRole, tt.wantWrite)
			}
		})
	}
}
