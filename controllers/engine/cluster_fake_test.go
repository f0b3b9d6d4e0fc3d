package engine

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
)

// fakeCluster is a Cluster of tables: what the informer cache would hold,
// filtered by the keys the engine computes, as its indexes are.
type fakeCluster struct {
	engine      *Engine
	accounts    []lambdav1alpha1.LambdaPermissionAccount
	namespaces  map[string]map[string]string // a namespace not here is NotFound
	permissions []lambdav1alpha1.LambdaPermission
	policies    []lambdav1alpha1.LambdaResourcePolicy
}

func (c *fakeCluster) Accounts(context.Context) ([]lambdav1alpha1.LambdaPermissionAccount, error) {
	return c.accounts, nil
}

func (c *fakeCluster) NamespaceLabels(_ context.Context, namespace string) (map[string]string, error) {
	labels, ok := c.namespaces[namespace]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, namespace)
	}
	return labels, nil
}

func (c *fakeCluster) Permissions(_ context.Context, key PolicyKey) ([]lambdav1alpha1.LambdaPermission, error) {
	return keyed(c.permissions, c.engine.permissionPolicyKey, key), nil
}

func (c *fakeCluster) Claimants(_ context.Context, key ClaimKey) ([]lambdav1alpha1.LambdaPermission, error) {
	return keyed(c.permissions, c.engine.claimKey, key), nil
}

func (c *fakeCluster) ResourcePolicies(_ context.Context, key PolicyKey) ([]lambdav1alpha1.LambdaResourcePolicy, error) {
	return keyed(c.policies, c.engine.resourcePolicyKey, key), nil
}

// keyed are the objects whose key (as keyOf computes it for the index) is
// want.
func keyed[T any, K comparable](objects []T, keyOf func(*T) (K, bool), want K) []T {
	var found []T
	for i := range objects {
		if k, ok := keyOf(&objects[i]); ok && k == want {
			found = append(found, objects[i])
		}
	}
	return found
}

// callerOnly is a Provider that knows who the operator is and makes no
// Lambda call: the decisions under test make none.
type callerOnly struct {
	account string
	err     error
}

func (c callerOnly) For(awslambda.Identity) awslambda.Lambda { return nil }

func (c callerOnly) Caller(context.Context, awslambda.Identity) (string, string, error) {
	return c.account, "arn:aws:iam::" + c.account + ":role/operator", c.err
}

// newTestEngine is an engine over cluster, in us-east-2, whose own account
// is own.
func newTestEngine(cluster *fakeCluster, caller callerOnly, settings Settings) *Engine {
	if settings.DefaultRegion == "" {
		settings.DefaultRegion = "us-east-2"
	}
	e := New(Config{Settings: settings, Lambda: caller, Cluster: cluster})
	cluster.engine = e
	return e
}

// epoch is the creation time of the first object of a test; later ones
// are created a second apart, as the API server stamps them.
var epoch = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func created(seconds int) metav1.Time {
	return metav1.NewTime(epoch.Add(time.Duration(seconds) * time.Second))
}

// lp is a LambdaPermission in namespace/name on function, created seconds
// after epoch.
func lp(namespace, name, function string, seconds int, change func(*lambdav1alpha1.LambdaPermission)) lambdav1alpha1.LambdaPermission {
	obj := lambdav1alpha1.LambdaPermission{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name), CreationTimestamp: created(seconds)},
		Spec:       lambdav1alpha1.LambdaPermissionSpec{FunctionName: function, Principal: "s3.amazonaws.com", SourceAccount: own},
	}
	if change != nil {
		change(&obj)
	}
	return obj
}

// lrp is a LambdaResourcePolicy in namespace/name on function, created
// seconds after epoch.
func lrp(namespace, name, function string, seconds int, change func(*lambdav1alpha1.LambdaResourcePolicy)) lambdav1alpha1.LambdaResourcePolicy {
	obj := lambdav1alpha1.LambdaResourcePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name), CreationTimestamp: created(seconds)},
		Spec:       lambdav1alpha1.LambdaResourcePolicySpec{FunctionName: function},
	}
	if change != nil {
		change(&obj)
	}
	return obj
}
