package engine

import (
	"context"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// Where an object's statements go, as far as its spec alone tells.

// namedTarget is the function, version or alias a spec names, with the
// region and account it gives (either may still be empty); a spec that
// names none is stalled, InvalidSpec.
func namedTarget(functionName, qualifier, region string) (policy.FunctionRef, error) {
	target, err := translate.Target(functionName, qualifier, region)
	if err != nil {
		return policy.FunctionRef{}, kernel.Stalled(lambdav1alpha1.ReasonInvalidSpec, "%v", err)
	}
	return target, nil
}

func permissionTarget(obj *lambdav1alpha1.LambdaPermission) (policy.FunctionRef, error) {
	return namedTarget(obj.Spec.FunctionName, obj.Spec.Qualifier, obj.Spec.Region)
}

func resourcePolicyTarget(obj *lambdav1alpha1.LambdaResourcePolicy) (policy.FunctionRef, error) {
	return namedTarget(obj.Spec.FunctionName, obj.Spec.Qualifier, obj.Spec.Region)
}

// permissionPolicyKey names the policy obj's statement is on; false when
// its spec names no function.
func (e *Engine) permissionPolicyKey(obj *lambdav1alpha1.LambdaPermission) (PolicyKey, bool) {
	target, err := permissionTarget(obj)
	if err != nil {
		return PolicyKey{}, false
	}
	return policyKeyOf(target.WithDefaults(e.DefaultRegion, "")), true
}

// resourcePolicyKey names the policy obj owns; false when its spec names no
// function.
func (e *Engine) resourcePolicyKey(obj *lambdav1alpha1.LambdaResourcePolicy) (PolicyKey, bool) {
	target, err := resourcePolicyTarget(obj)
	if err != nil {
		return PolicyKey{}, false
	}
	return policyKeyOf(target.WithDefaults(e.DefaultRegion, "")), true
}

// claimKey names the statement obj claims: its policy and Sid.
func (e *Engine) claimKey(obj *lambdav1alpha1.LambdaPermission) (ClaimKey, bool) {
	key, ok := e.permissionPolicyKey(obj)
	return ClaimKey{PolicyKey: key, Sid: e.StatementID(obj)}, ok
}

// StatementID is obj's Sid: spec.statementId as written, or derived with
// the operator's prefix.
func (e *Engine) StatementID(obj *lambdav1alpha1.LambdaPermission) string {
	if obj.Spec.StatementID != "" {
		return obj.Spec.StatementID
	}
	return translate.PrefixedStatementID(e.StatementIDPrefix, obj.Namespace, obj.Name)
}

// resolve completes the target a grant allows with the operator's default
// region and, for a function named without its account, the account and
// partition Lambda gives (looked up once per function).
func (e *Engine) resolve(ctx context.Context, g grant) (policy.FunctionRef, error) {
	target := g.target.WithDefaults(e.DefaultRegion, "")
	if target.AccountID != "" {
		return target, nil
	}
	target, err := e.functions.resolve(ctx, g.identity, e.lambda.For(g.identity), target)
	if err != nil {
		return target, kernel.LambdaFailure(err, "looking up function %s in %s", target.Name, target.Region)
	}
	return target, nil
}
