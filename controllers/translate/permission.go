package translate

import (
	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// DefaultAction is the API's default action, for objects stored without one.
const DefaultAction = "lambda:InvokeFunction"

// PermissionOf is the AddPermission request a spec asks for, under sid.
func PermissionOf(spec lambdav1alpha1.LambdaPermissionSpec, sid string) policy.Permission {
	perm := policy.Permission{
		StatementID:           sid,
		Action:                spec.Action,
		Principal:             spec.Principal,
		SourceArn:             spec.SourceArn,
		SourceAccount:         spec.SourceAccount,
		PrincipalOrgID:        spec.PrincipalOrgID,
		EventSourceToken:      spec.EventSourceToken,
		FunctionURLAuthType:   spec.FunctionURLAuthType,
		InvokedViaFunctionURL: spec.InvokedViaFunctionURL,
	}
	if perm.Action == "" {
		perm.Action = DefaultAction
	}
	if spec.Effect != lambdav1alpha1.EffectAllow {
		perm.Effect = string(spec.Effect) // Validate refuses anything but Deny
	}
	for _, c := range spec.Conditions {
		perm.Conditions = append(perm.Conditions, policy.ConditionEntry{Operator: c.Operator, Key: c.Key, Values: c.Values})
	}
	return perm
}

// SpecOf is the LambdaPermission spec that declares perm on target: the
// inverse of PermissionOf. The function is named by ARN, so applying the
// object needs no lookup of region or account.
func SpecOf(target policy.FunctionRef, perm policy.Permission) lambdav1alpha1.LambdaPermissionSpec {
	spec := lambdav1alpha1.LambdaPermissionSpec{
		FunctionName:          target.FunctionARN(),
		Qualifier:             target.Qualifier,
		StatementID:           perm.StatementID,
		Action:                perm.Action,
		Principal:             perm.Principal,
		SourceArn:             perm.SourceArn,
		SourceAccount:         perm.SourceAccount,
		PrincipalOrgID:        perm.PrincipalOrgID,
		EventSourceToken:      perm.EventSourceToken,
		FunctionURLAuthType:   perm.FunctionURLAuthType,
		InvokedViaFunctionURL: perm.InvokedViaFunctionURL,
	}
	if perm.Effect == policy.EffectDeny {
		spec.Effect = lambdav1alpha1.EffectDeny
	}
	for _, c := range perm.Conditions {
		spec.Conditions = append(spec.Conditions, lambdav1alpha1.StatementCondition{Operator: c.Operator, Key: c.Key, Values: c.Values})
	}
	return spec
}
