package translate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// The Sids of a function URL grant's two statements end in these.
const (
	urlSidSuffix    = "-url"
	invokeSidSuffix = "-invoke"
)

// FunctionURLPermissions are the two LambdaPermissions a function URL grant
// needs, for an operator whose --statement-id-prefix is clusterPrefix:
// lambda:InvokeFunctionUrl with the URL's auth type, and
// lambda:InvokeFunction for calls made through the URL (AWS, October 2025).
// A spec.statementIdPrefix is used as written, without clusterPrefix. The
// objects carry name, spec and nothing else: no namespace, no owner.
func FunctionURLPermissions(url *lambdav1alpha1.LambdaFunctionURLPermission, clusterPrefix string) []lambdav1alpha1.LambdaPermission {
	prefix := url.Spec.StatementIDPrefix
	if prefix == "" {
		prefix = derivedSid(clusterPrefix, url.Namespace, url.Name, lambdav1alpha1.MaxStatementIDLength-len(invokeSidSuffix))
	}
	common := lambdav1alpha1.LambdaPermissionSpec{
		FunctionName:     url.Spec.FunctionName,
		Qualifier:        url.Spec.Qualifier,
		Region:           url.Spec.Region,
		Principal:        url.Spec.Principal,
		PrincipalOrgID:   url.Spec.PrincipalOrgID,
		DeletionPolicy:   url.Spec.DeletionPolicy,
		ManagementPolicy: url.Spec.ManagementPolicy,
	}
	invokeURL, invoke := common, common
	invokeURL.StatementID = prefix + urlSidSuffix
	invokeURL.Action = "lambda:InvokeFunctionUrl"
	invokeURL.FunctionURLAuthType = url.Spec.AuthType
	invoke.StatementID = prefix + invokeSidSuffix
	invoke.Action = "lambda:InvokeFunction"
	invoke.InvokedViaFunctionURL = true
	return []lambdav1alpha1.LambdaPermission{
		{ObjectMeta: metav1.ObjectMeta{Name: url.Name + urlSidSuffix}, Spec: invokeURL},
		{ObjectMeta: metav1.ObjectMeta{Name: url.Name + invokeSidSuffix}, Spec: invoke},
	}
}
