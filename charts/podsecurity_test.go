//go:build integration

package charts

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restrictedNS enforces the restricted Pod Security Standard: kube-apiserver's
// PodSecurity admission refuses any pod there that does not meet it.
const restrictedNS = "lpo-restricted"

// The operator's pod, from the chart with its defaults and with custom
// values, and from config/default, meets the restricted Pod Security
// Standard: kube-apiserver's PodSecurity admission admits it in a namespace
// that enforces it (make e2e runs it in one), and refuses a pod that lost
// its hardening, so the check is in force.
func TestPodSecurityRestricted(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: restrictedNS, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}}}
	if err := k.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(t.Context(), ns) })
	// The custom values' pod names a PriorityClass; admission wants it to exist.
	priority := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "platform-operators"}, Value: 1000}
	if err := k.Create(t.Context(), priority); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	pods := map[string]corev1.PodSpec{
		"chart defaults": deployment(t, helmTemplate(t, restrictedNS)).Spec.Template.Spec,
		"chart custom values": deployment(t, helmTemplate(t, restrictedNS,
			"--values", filepath.Join(root, "charts", "testdata", "values-custom.yaml"))).Spec.Template.Spec,
		"config/default": deployment(t, decode(t, run(t, tool(t, "kustomize", "KUSTOMIZE"), "build", filepath.Join(root, "config", "default")))).Spec.Template.Spec,
	}
	for name, spec := range pods {
		if err := createPod(t, spec); err != nil {
			t.Errorf("%s: the operator's pod is refused in a namespace enforcing restricted: %v", name, err)
		}
	}

	unhardened := pods["chart defaults"]
	unhardened.Containers = append([]corev1.Container(nil), unhardened.Containers...)
	unhardened.Containers[0].SecurityContext = nil
	err := createPod(t, unhardened)
	if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Errorf("a pod without the container's securityContext: %v; want PodSecurity's refusal, or the check above proves nothing", err)
	}
}

// createPod creates a pod of spec in restrictedNS, as a dry run: admission
// decides, nothing is stored and nothing runs.
func createPod(t *testing.T, spec corev1.PodSpec) error {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "manager-", Namespace: restrictedNS}, Spec: spec}
	return k.Create(t.Context(), pod, client.DryRunAll)
}
