//go:build integration

package doctest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// skippedGroups are the API groups of objects the docs show that this
// control plane does not serve, and why they are not applied here.
var skippedGroups = []struct{ group, why string }{
	{"argoproj.io", "Argo CD's; applied by make gitops against the real Argo CD"},
	{"*.toolkit.fluxcd.io", "Flux's; applied by make gitops against the real Flux"},
	{"kustomize.config.k8s.io", "a kustomize input (kustomization.yaml), not an API object"},
	{"config.kubernetes.io", "a kustomize function's configuration, not an API object"},
}

// skipReason is why objects of a group are not applied, or "".
func skipReason(group string) string {
	for _, s := range skippedGroups {
		if s.group == group || (strings.HasPrefix(s.group, "*.") && strings.HasSuffix(group, s.group[1:])) {
			return s.why
		}
	}
	return ""
}

// checkYAML applies, as a dry run, every YAML block of d holding
// Kubernetes objects, and finds those refused (or, marked refused,
// accepted).
func (c *cluster) checkYAML(ctx context.Context, d doc, logf func(string, ...any)) []finding {
	var found []finding
	for _, b := range parsePage(d).blocks {
		if !yamlLangs[b.lang] {
			continue
		}
		for _, msg := range c.checkBlock(ctx, b, func(format string, args ...any) {
			logf("%s:%d: %s", d.path, b.line, fmt.Sprintf(format, args...))
		}) {
			found = append(found, finding{d.path, b.line, msg})
		}
	}
	return found
}

// checkBlock applies one block's objects and says what is wrong with it.
func (c *cluster) checkBlock(ctx context.Context, b *block, logf func(string, ...any)) []string {
	if reason, skip := b.skipped(); skip {
		logf("skipped: %s", reason)
		return nil
	}
	objs, err := blockObjects(b)
	if err != nil {
		return []string{err.Error()}
	}
	objs = withoutSkippedGroups(objs, logf)
	if len(objs) == 0 {
		if b.refused() {
			return []string{"marked <!-- doctest: refused -->, but it holds no object applied here"}
		}
		return nil
	}
	var refusals, problems, names []string
	for _, obj := range objs {
		refusal, problem := c.dryRun(ctx, obj, logf)
		refusals, problems = appendNonEmpty(refusals, refusal), appendNonEmpty(problems, problem)
		names = append(names, objectName(obj))
	}
	if len(problems) > 0 {
		return problems
	}
	return verdict(b.refused(), names, refusals, logf)
}

// verdict compares the refusals with what the block's marker expects.
func verdict(wantRefused bool, names, refusals []string, logf func(string, ...any)) []string {
	switch {
	case wantRefused && len(refusals) == 0:
		return []string{"marked <!-- doctest: refused -->, but the API server accepted every object"}
	case wantRefused:
		logf("refused, as marked: %s", strings.Join(refusals, "; "))
		return nil
	case len(refusals) == 0:
		logf("accepted: %s", strings.Join(names, ", "))
	}
	return refusals
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

// blockObjects parses a block's YAML documents and keeps those with an
// apiVersion and a kind; the others are fragments, not applied.
func blockObjects(b *block) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(strings.Join(b.body, "\n"))))
	var objs []*unstructured.Unstructured
	for {
		data, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, fmt.Errorf("the YAML does not parse: %w", err)
		}
		content, err := yamlObject(data)
		if err != nil {
			return nil, err
		}
		obj := &unstructured.Unstructured{Object: content}
		switch {
		case obj.GetAPIVersion() != "" && obj.GetKind() != "":
			objs = append(objs, obj)
		case obj.GetAPIVersion() != "" || obj.GetKind() != "":
			return nil, fmt.Errorf("a document has apiVersion %q and kind %q: an object needs both", obj.GetAPIVersion(), obj.GetKind())
		}
	}
}

// yamlObject decodes one YAML document as the API machinery does
// (integers stay integers), refusing duplicate keys; a document that is
// not a mapping (a list, a scalar) is no object.
func yamlObject(data []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("the YAML does not parse: %w", err)
	}
	var content any
	if err := utiljson.Unmarshal(j, &content); err != nil {
		return nil, err
	}
	m, _ := content.(map[string]any)
	return m, nil
}

// withoutSkippedGroups drops, and logs, the objects of skippedGroups.
func withoutSkippedGroups(objs []*unstructured.Unstructured, logf func(string, ...any)) []*unstructured.Unstructured {
	var kept []*unstructured.Unstructured
	for _, obj := range objs {
		if why := skipReason(obj.GroupVersionKind().Group); why != "" {
			logf("%s %s not applied: %s", obj.GetAPIVersion(), obj.GetKind(), why)
			continue
		}
		kept = append(kept, obj)
	}
	return kept
}

// dryRun creates obj as a dry run, with strict field validation (an
// unknown or duplicate field is refused, not dropped), in its namespace
// ("default" when it names none), created first. It returns the API
// server's refusal, or another problem.
func (c *cluster) dryRun(ctx context.Context, obj *unstructured.Unstructured, logf func(string, ...any)) (refusal, problem string) {
	what := objectName(obj)
	namespaced, err := c.client.IsObjectNamespaced(obj)
	if err != nil {
		return "", fmt.Sprintf("%s: %s", what, c.unservedHint(obj, err))
	}
	if namespaced && obj.GetNamespace() == "" {
		obj.SetNamespace("default")
	}
	if namespaced {
		if err := c.ensureNamespace(ctx, obj.GetNamespace()); err != nil {
			return "", err.Error()
		}
	}
	c.warnings.take()
	err = c.client.Create(ctx, obj.DeepCopy(), client.DryRunAll, client.FieldValidation("Strict"))
	for _, w := range c.warnings.take() {
		logf("%s: warning: %s", what, w)
	}
	switch {
	case err == nil, apierrors.IsAlreadyExists(err) && obj.GetKind() == "Namespace":
		return "", "" // a namespace the block's objects are in, created above
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err):
		return fmt.Sprintf("%s refused: %v", what, err), ""
	}
	return "", fmt.Sprintf("%s: %v", what, err)
}

// unservedHint explains a kind the control plane does not serve.
func (c *cluster) unservedHint(obj *unstructured.Unstructured, err error) string {
	if !meta.IsNoMatchError(err) {
		return err.Error()
	}
	hint := "install its CRDs in this test, or add its group to skippedGroups with the reason"
	if obj.GroupVersionKind().Group == "monitoring.coreos.com" && !c.promCRDs {
		hint = promCRDsDir + " is missing: make tools puts the Prometheus operator's CRDs there"
	}
	return fmt.Sprintf("the control plane serves no %s %s (%s)", obj.GetAPIVersion(), obj.GetKind(), hint)
}

func objectName(obj *unstructured.Unstructured) string {
	name := obj.GetName()
	if name == "" {
		name = obj.GetGenerateName() + "*"
	}
	return obj.GetKind() + " " + name
}

// testCluster is the shared cluster, or the test fails.
func testCluster(t *testing.T) (context.Context, *cluster) {
	t.Helper()
	c, err := theCluster()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx, c
}

// TestDocYAMLObjects applies every YAML block of the docs that holds
// Kubernetes objects.
func TestDocYAMLObjects(t *testing.T) {
	ctx, c := testCluster(t)
	_, docs := realDocs(t)
	var found []finding
	for _, d := range docs.blocks {
		found = append(found, c.checkYAML(ctx, d, t.Logf)...)
	}
	report(t, "YAML blocks the API server does not take as marked", found)
}
