package engine

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Ownership: a LambdaResourcePolicy owns the policy of one function,
// version or alias; the LambdaPermissions on it are then written through
// it, and it keeps their statements as long as it includes them.

// policyOwner is the LambdaResourcePolicy that owns the policy key names:
// the first created of those on it. Later ones are refused with
// PolicyOwnerConflict, so that neither flaps.
func (e *Engine) policyOwner(ctx context.Context, key PolicyKey) (*lambdav1alpha1.LambdaResourcePolicy, error) {
	list, err := e.cluster.ResourcePolicies(ctx, key)
	if err != nil {
		return nil, err
	}
	var owner *lambdav1alpha1.LambdaResourcePolicy
	for i := range list {
		if owner == nil || createdEarlier(&list[i], owner) {
			owner = &list[i]
		}
	}
	return owner, nil
}

// inShard reports whether this operator's shard reconciles obj (without a
// shard, it reconciles every object). The owner of a policy may be another
// shard's: every shard reads every LambdaResourcePolicy.
func (e *Engine) inShard(obj metav1.Object) bool {
	return e.Shard == nil || e.Shard.Matches(labels.Set(obj.GetLabels()))
}

// ownerOf is the owner of the policy a LambdaPermission is on, or nil.
func (e *Engine) ownerOf(ctx context.Context, obj *lambdav1alpha1.LambdaPermission) (*lambdav1alpha1.LambdaResourcePolicy, error) {
	key, ok := e.permissionPolicyKey(obj)
	if !ok {
		return nil, nil
	}
	return e.policyOwner(ctx, key)
}

// PermissionsOnPolicyOf lists the LambdaPermissions on the policy a
// LambdaResourcePolicy is on: their write strategy, and whether they may
// write at all, follow it.
func (e *Engine) PermissionsOnPolicyOf(ctx context.Context, obj *lambdav1alpha1.LambdaResourcePolicy) ([]lambdav1alpha1.LambdaPermission, error) {
	key, ok := e.resourcePolicyKey(obj)
	if !ok {
		return nil, nil
	}
	return e.cluster.Permissions(ctx, key)
}

// ResourcePoliciesOnPolicyOf lists the LambdaResourcePolicies on the policy
// a LambdaPermission or a LambdaResourcePolicy is on.
func (e *Engine) ResourcePoliciesOnPolicyOf(ctx context.Context, obj client.Object) ([]lambdav1alpha1.LambdaResourcePolicy, error) {
	var key PolicyKey
	var ok bool
	switch o := obj.(type) {
	case *lambdav1alpha1.LambdaPermission:
		key, ok = e.permissionPolicyKey(o)
	case *lambdav1alpha1.LambdaResourcePolicy:
		key, ok = e.resourcePolicyKey(o)
	}
	if !ok {
		return nil, nil
	}
	return e.cluster.ResourcePolicies(ctx, key)
}

// includedSids are the Sids that the LambdaPermissions on owner's policy
// declare and may keep there: those of objects whose namespace the account's
// access rules let grant on the function. An object's Sid counts from the
// moment it exists until it is gone (its finalizer removes its statement
// first), and so does the Sid it wrote before its spec moved it, so that
// the owner never takes out what an object is about to write or still holds.
func (e *Engine) includedSids(ctx context.Context, owner *lambdav1alpha1.LambdaResourcePolicy, ownAccount string) (map[string]bool, error) {
	sids := map[string]bool{}
	if !owner.Includes() {
		return sids, nil
	}
	objs, err := e.PermissionsOnPolicyOf(ctx, owner)
	if err != nil {
		return nil, err
	}
	accounts, err := e.cluster.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	labelsOf := map[string]map[string]string{}
	for i := range objs {
		obj := &objs[i]
		if _, seen := labelsOf[obj.Namespace]; !seen {
			labels, err := e.cluster.NamespaceLabels(ctx, obj.Namespace)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			labelsOf[obj.Namespace] = labels
		}
		target, err := permissionTarget(obj)
		if err != nil {
			continue
		}
		if _, err := decideAccess(accessRequest{Namespace: obj.Namespace, NamespaceLabels: labelsOf[obj.Namespace], Target: target,
			Accounts: accounts, OwnAccount: ownAccount, Guardrails: e.Guardrails, OwnedPolicy: true}); err != nil {
			continue // its namespace may not grant here: nothing of it stays
		}
		sids[e.StatementID(obj)] = true
		if obj.Status.StatementID != "" {
			sids[obj.Status.StatementID] = true
		}
		if written, ok := writtenStatement(obj); ok && policyKeyOf(written.target) == policyKeyOf(target.WithDefaults(e.DefaultRegion, "")) {
			sids[written.sid] = true
		}
	}
	return sids, nil
}

// declares reports whether owner's own statements include sid: on an owned
// policy the owner's statement wins, and a LambdaPermission claiming the Sid
// is refused (SidConflict) instead of fighting it.
func declares(owner *lambdav1alpha1.LambdaResourcePolicy, sid string) bool {
	for _, st := range owner.Spec.Policy.Statement {
		if st.Sid == sid {
			return true
		}
	}
	return false
}

// location is a statement a LambdaPermission wrote, read back from its
// status.
type location struct {
	target    policy.FunctionRef
	sid       string
	statement policy.Statement
}

func writtenStatement(obj *lambdav1alpha1.LambdaPermission) (location, bool) {
	if obj.Status.Statement == "" {
		return location{}, false
	}
	st, err := policy.ParseStatement(obj.Status.Statement)
	if grant, ok := compactedGrantOf(obj); ok {
		st = grant // its own grant, under its own Sid, not the list's
	}
	if err != nil || len(st.Resource) != 1 {
		return location{}, false
	}
	target, err := policy.ParseFunctionName(st.Resource[0])
	if err != nil || !target.Complete() {
		return location{}, false
	}
	return location{target: target, sid: st.Sid, statement: st}, true
}
