package controllers

import (
	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// DeclaredStatements is what a LambdaResourcePolicy's spec.policy declares
// on target (complete: partition, region, account, qualifier), as the
// controller reads it: each statement in the policy package's model, with
// Resource defaulting to target's ARN, checked against what
// PutResourcePolicy accepts. An error names the first statement the
// controller would refuse (Stalled, InvalidSpec), and why.
//
// It is the controller's own conversion, exported for tools that write
// LambdaResourcePolicies (kubectl lperm import --resource-policy), so that
// what they write is what the controller will declare.
func DeclaredStatements(doc lambdav1alpha1.ResourcePolicyDocument, target policy.FunctionRef) ([]policy.Statement, error) {
	return declaredStatements(doc, target)
}
