//go:build integration && gitops

package gitops

import (
	"fmt"
	"strings"
)

// The platform repository's files, as a team keeps them: an account, a
// namespace of LambdaPermissions, and a LambdaResourcePolicy.

func accountYAML(name string) string {
	return fmt.Sprintf(`apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermissionAccount
metadata:
  name: %s
spec:
  accountID: "%s"
  default: true
  access:
  - namespaceSelector: {}
`, name, account)
}

// otherAccountYAML declares account id and the role to act in it, in Argo
// CD's sync wave if wave is not empty.
func otherAccountYAML(name, id, wave string) string {
	annotations := ""
	if wave != "" {
		annotations = fmt.Sprintf("\n  annotations:\n    argocd.argoproj.io/sync-wave: %q", wave)
	}
	return fmt.Sprintf(`apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermissionAccount
metadata:
  name: %s%s
spec:
  accountID: "%s"
  roleArn: %s
  access:
  - namespaceSelector: {}
`, name, annotations, id, roleIn(id))
}

func namespaceYAML(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
}

// bucketPermissionYAML grants S3 bucket on function.
func bucketPermissionYAML(namespace, name, function, bucket string) string {
	return fmt.Sprintf(`apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: %s
  namespace: %s
spec:
  functionName: %s
  principal: s3.amazonaws.com
  sourceArn: arn:aws:s3:::%s
  sourceAccount: "%s"
`, name, namespace, function, bucket, account)
}

// publicPermissionYAML is what the guardrails refuse: anyone may invoke.
func publicPermissionYAML(namespace, name, function string) string {
	return fmt.Sprintf(`apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: %s
  namespace: %s
spec:
  functionName: %s
  principal: "*"
`, name, namespace, function)
}

// resourcePolicyYAML owns function's policy: one partner account's grant.
func resourcePolicyYAML(namespace, name, function string) string {
	return fmt.Sprintf(`apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaResourcePolicy
metadata:
  name: %s
  namespace: %s
spec:
  functionName: %s
  policy:
    Statement:
    - Sid: partner
      Effect: Allow
      Principal: {AWS: "arn:aws:iam::210987654321:root"}
      Action: lambda:InvokeFunction
`, name, namespace, function)
}

// kustomizationYAML is a list of the files, as a kustomization.yaml.
func kustomizationYAML(files ...string) string {
	return "resources:\n- " + strings.Join(files, "\n- ") + "\n"
}
