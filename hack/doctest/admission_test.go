//go:build integration

package doctest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// probeNamespace holds the objects that test whether a policy is in force.
const probeNamespace = "doctest-probes"

// inForce tells, for each admission policy of config/admission, whether
// the API server applies it yet: "" once a probe gets exactly what the
// policy does, else what the probe got. A policy takes effect a moment
// after it is created; a new policy needs its probe here.
var inForce = map[string]func(ctx context.Context, c *cluster, policy string) string{
	"lambda-resource-policy-validation": refusesNumericPrincipal,
	"lambda-permission-guardrails":      warnsOfPublicPrincipal,
	"lambda-permission-finalizers":      addsFinalizer,
}

// waitInForce waits until the policy's probe passes.
func (c *cluster) waitInForce(ctx context.Context, policy string) error {
	probe, ok := inForce[policy]
	if !ok {
		return fmt.Errorf("config/admission has policy %s, which inForce has no probe for: add one", policy)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		why := probe(ctx, c, policy)
		if why == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("admission policy %s not in force after 30s: %s", policy, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// refusesNumericPrincipal: a LambdaResourcePolicy statement whose
// Principal is a number is denied by the policy.
func refusesNumericPrincipal(ctx context.Context, c *cluster, policy string) string {
	statement := map[string]any{"Sid": "probe", "Effect": "Allow", "Principal": int64(5), "Action": "lambda:InvokeFunction"}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": lambdav1alpha1.GroupVersion.String(),
		"kind":       "LambdaResourcePolicy",
		"metadata":   map[string]any{"generateName": "probe-", "namespace": probeNamespace},
		"spec":       map[string]any{"functionName": "probe", "policy": map[string]any{"Statement": []any{statement}}},
	}}
	err := c.client.Create(ctx, obj, client.DryRunAll)
	want := fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding", policy)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "denied request") {
		return fmt.Sprintf("a Principal of 5 got %v", err)
	}
	return ""
}

// probePermission is a LambdaPermission for principal, in the probes'
// namespace.
func probePermission(principal string) *lambdav1alpha1.LambdaPermission {
	return &lambdav1alpha1.LambdaPermission{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: probeNamespace},
		Spec:       lambdav1alpha1.LambdaPermissionSpec{FunctionName: "probe", StatementID: "probe", Principal: principal},
	}
}

// warnsOfPublicPrincipal: a LambdaPermission for principal * is warned
// about by the policy.
func warnsOfPublicPrincipal(ctx context.Context, c *cluster, policy string) string {
	c.warnings.take()
	if err := c.client.Create(ctx, probePermission("*"), client.DryRunAll); err != nil {
		return err.Error()
	}
	warned := strings.Join(c.warnings.take(), "\n")
	if !strings.Contains(warned, "'"+policy+"'") || !strings.Contains(warned, "PublicAccessDenied") {
		return fmt.Sprintf("principal * got the warnings %q", warned)
	}
	return ""
}

// addsFinalizer: a LambdaPermission gets its finalizer from the policy on
// create.
func addsFinalizer(ctx context.Context, c *cluster, _ string) string {
	obj := probePermission("s3.amazonaws.com")
	if err := c.client.Create(ctx, obj, client.DryRunAll); err != nil {
		return err.Error()
	}
	c.warnings.take()
	if !slices.Contains(obj.Finalizers, lambdav1alpha1.PermissionFinalizer) {
		return "a create got the finalizers " + strings.Join(obj.Finalizers, ",")
	}
	return ""
}
