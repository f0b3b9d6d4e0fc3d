package engine

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Cluster is what the engine reads of the Kubernetes side: in the operator,
// the manager's informer cache (CacheCluster); in tests, a table.
type Cluster interface {
	// Accounts lists the LambdaPermissionAccounts.
	Accounts(ctx context.Context) ([]lambdav1alpha1.LambdaPermissionAccount, error)
	// NamespaceLabels are the labels of a namespace, or a NotFound error.
	NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error)
	// Permissions lists the LambdaPermissions on the policy key names.
	Permissions(ctx context.Context, key PolicyKey) ([]lambdav1alpha1.LambdaPermission, error)
	// Claimants lists the LambdaPermissions claiming the statement key names.
	Claimants(ctx context.Context, key ClaimKey) ([]lambdav1alpha1.LambdaPermission, error)
	// ResourcePolicies lists the LambdaResourcePolicies on the policy key names.
	ResourcePolicies(ctx context.Context, key PolicyKey) ([]lambdav1alpha1.LambdaResourcePolicy, error)
}

// PolicyKey names a policy by region, function name and qualifier, computed
// from a spec alone (with the operator's default region): two accounts'
// same-named functions in one region share a key, which errs on the side of
// treating a policy as owned.
type PolicyKey struct {
	Region, Function, Qualifier string
}

func policyKeyOf(target policy.FunctionRef) PolicyKey {
	return PolicyKey{Region: target.Region, Function: target.Name, Qualifier: target.Qualifier}
}

// ClaimKey names the statement an object claims: its policy and Sid. Like
// PolicyKey it leaves out the account, which errs on the side of refusing.
type ClaimKey struct {
	PolicyKey
	Sid string
}

// The indexes' values: the keys as strings, which the informer's indexes
// take. Nothing parses them back.
func (k PolicyKey) indexValue() string {
	return strings.Join([]string{k.Region, k.Function, k.Qualifier}, "|")
}

func (k ClaimKey) indexValue() string { return k.PolicyKey.indexValue() + "|" + k.Sid }

// The informer indexes CacheCluster reads: LambdaPermissions by the
// statement they claim and the policy they are on, LambdaResourcePolicies
// by the policy they own.
const (
	claimIndex  = "lambda.permissions.dev/claim"
	policyIndex = "lambda.permissions.dev/target"
)

// IndexFields registers the indexes CacheCluster reads with the manager's
// field indexer, before the manager starts.
func (e *Engine) IndexFields(ctx context.Context, indexer client.FieldIndexer) error {
	err := indexer.IndexField(ctx, &lambdav1alpha1.LambdaPermission{}, claimIndex, func(o client.Object) []string {
		key, ok := e.claimKey(o.(*lambdav1alpha1.LambdaPermission))
		return indexValues(key.indexValue(), ok)
	})
	if err != nil {
		return err
	}
	err = indexer.IndexField(ctx, &lambdav1alpha1.LambdaPermission{}, policyIndex, func(o client.Object) []string {
		key, ok := e.permissionPolicyKey(o.(*lambdav1alpha1.LambdaPermission))
		return indexValues(key.indexValue(), ok)
	})
	if err != nil {
		return err
	}
	return indexer.IndexField(ctx, &lambdav1alpha1.LambdaResourcePolicy{}, policyIndex, func(o client.Object) []string {
		key, ok := e.resourcePolicyKey(o.(*lambdav1alpha1.LambdaResourcePolicy))
		return indexValues(key.indexValue(), ok)
	})
}

func indexValues(value string, ok bool) []string {
	if !ok {
		return nil
	}
	return []string{value}
}

// CacheCluster is the Cluster of the operator: a reader of the manager's
// cache, with the indexes IndexFields registered.
type CacheCluster struct {
	Reader client.Reader
}

var _ Cluster = CacheCluster{}

func (c CacheCluster) Accounts(ctx context.Context) ([]lambdav1alpha1.LambdaPermissionAccount, error) {
	var list lambdav1alpha1.LambdaPermissionAccountList
	err := c.Reader.List(ctx, &list)
	return list.Items, err
}

func (c CacheCluster) NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error) {
	var ns corev1.Namespace
	err := c.Reader.Get(ctx, client.ObjectKey{Name: namespace}, &ns)
	return ns.Labels, err
}

func (c CacheCluster) Permissions(ctx context.Context, key PolicyKey) ([]lambdav1alpha1.LambdaPermission, error) {
	var list lambdav1alpha1.LambdaPermissionList
	err := c.Reader.List(ctx, &list, client.MatchingFields{policyIndex: key.indexValue()})
	return list.Items, err
}

func (c CacheCluster) Claimants(ctx context.Context, key ClaimKey) ([]lambdav1alpha1.LambdaPermission, error) {
	var list lambdav1alpha1.LambdaPermissionList
	err := c.Reader.List(ctx, &list, client.MatchingFields{claimIndex: key.indexValue()})
	return list.Items, err
}

func (c CacheCluster) ResourcePolicies(ctx context.Context, key PolicyKey) ([]lambdav1alpha1.LambdaResourcePolicy, error) {
	var list lambdav1alpha1.LambdaResourcePolicyList
	err := c.Reader.List(ctx, &list, client.MatchingFields{policyIndex: key.indexValue()})
	return list.Items, err
}
