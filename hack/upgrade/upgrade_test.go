//go:build integration

package upgrade

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
)

var (
	// Set by TestMain, which starts a control plane.
	restConfig *rest.Config
	dyn        dynamic.Interface
	crdClient  apiextensionsclient.Interface
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	logf.SetLogger(logr.Discard())
	env, err := controlplane.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	// No CRDs: the test installs the previous release's.
	env.CRDDirectoryPaths, env.ErrorIfCRDPathMissing = nil, false
	cfg, err := env.Start()
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the control plane:", err)
		return 1
	}
	// The guardrails policy's warnings are expected; they would only
	// clutter the output.
	cfg.WarningHandler = rest.NoWarnings{}
	restConfig = cfg
	if dyn, err = dynamic.NewForConfig(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if crdClient, err = apiextensionsclient.NewForConfig(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// bundle is what a release installs that decides what the API server
// accepts: its CRDs and its admission policies.
type bundle struct {
	Label     string
	CRDs      []*apiextensionsv1.CustomResourceDefinition
	Admission []*unstructured.Unstructured
}

// readFile reads a repository path at commit, or from the working tree when
// commit is "".
func readFile(commit, path string) ([]byte, error) {
	if commit == "" {
		return os.ReadFile(filepath.Join(root, path))
	}
	return fileAt(commit, path)
}

// listFiles lists a repository directory's files ending in suffix, at
// commit or in the working tree.
func listFiles(commit, dir, suffix string) ([]string, error) {
	if commit != "" {
		return filesAt(commit, dir, suffix)
	}
	return filesOnDisk(root, dir, suffix)
}

// loadBundle reads config/crd/bases and the policies config/admission's
// kustomization lists, at commit ("" for the working tree). The chart's
// CRDs are these, copied by hack/sync-chart (CI checks they match).
func loadBundle(commit, label string) (*bundle, error) {
	b := &bundle{Label: label}
	files, err := listFiles(commit, "config/crd/bases", ".yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no CRDs in config/crd/bases", label)
	}
	for _, f := range files {
		docs, err := readDocs(commit, f)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := convert(d.Object, crd); err != nil {
				return nil, fmt.Errorf("%s %s: %w", label, f, err)
			}
			b.CRDs = append(b.CRDs, crd)
		}
	}
	kustomization, err := readFile(commit, "config/admission/kustomization.yaml")
	if err != nil {
		return b, nil // a release without admission policies
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		return nil, fmt.Errorf("%s config/admission/kustomization.yaml: %w", label, err)
	}
	for _, r := range k.Resources {
		docs, err := readDocs(commit, "config/admission/"+r)
		if err != nil {
			return nil, err
		}
		b.Admission = append(b.Admission, docs...)
	}
	return b, nil
}

// readDocs reads every object of a YAML file.
func readDocs(commit, path string) ([]*unstructured.Unstructured, error) {
	data, err := readFile(commit, path)
	if err != nil {
		return nil, err
	}
	docs, err := decodeDocs(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return docs, nil
}

// decodeDocs decodes every object of a YAML stream.
func decodeDocs(data []byte) ([]*unstructured.Unstructured, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var docs []*unstructured.Unstructured
	for {
		obj := map[string]any{}
		if err := decoder.Decode(&obj); errors.Is(err, io.EOF) {
			return docs, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj) != 0 {
			docs = append(docs, &unstructured.Unstructured{Object: obj})
		}
	}
}

func convert(from any, to any) error {
	data, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, to)
}

func (b *bundle) crd(name string) *apiextensionsv1.CustomResourceDefinition {
	for _, c := range b.CRDs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// crdOf is the CRD of an object's group and kind.
func (b *bundle) crdOf(obj *unstructured.Unstructured) *apiextensionsv1.CustomResourceDefinition {
	gvk := obj.GroupVersionKind()
	for _, c := range b.CRDs {
		if c.Spec.Group == gvk.Group && c.Spec.Names.Kind == gvk.Kind {
			return c
		}
	}
	return nil
}

// storedObject is an object stored before the upgrade.
type storedObject struct {
	Source   string                     // where it comes from, for messages
	Manifest *unstructured.Unstructured // as applied: what a re-apply sends
	Owner    string                     // Kind/name of its owner, if any
	Case     *ruleCase                  // the rule it breaks, if any

	gvr        schema.GroupVersionResource
	namespaced bool
	stored     *unstructured.Unstructured // read back after its status patch
}

func (o *storedObject) ref() string {
	return o.Manifest.GetKind() + "/" + o.Manifest.GetName()
}

func (o *storedObject) client() dynamic.ResourceInterface {
	if o.namespaced {
		return dyn.Resource(o.gvr).Namespace(o.Manifest.GetNamespace())
	}
	return dyn.Resource(o.gvr)
}

// resourceOf is the resource and scope an object has under crd, at the
// object's version.
func resourceOf(crd *apiextensionsv1.CustomResourceDefinition, version string) (schema.GroupVersionResource, bool) {
	return schema.GroupVersionResource{Group: crd.Spec.Group, Version: version, Resource: crd.Spec.Names.Plural},
		crd.Spec.Scope == apiextensionsv1.NamespaceScoped
}

// upgrade is one upgrade to run and check.
type upgrade struct {
	From, To *bundle
	Objects  []*storedObject
	// EveryKind: each kind of From must have a stored object.
	EveryKind bool
	// Uninstall: at the end, take the objects' finalizers off and delete
	// the CRDs and admission policies, so that the test can run again in
	// the same control plane (go test -count=2).
	Uninstall bool
	// NewObjects are created after the upgrade: objects of kinds From does
	// not have.
	NewObjects []*unstructured.Unstructured
}

// sentinel is a root property the test adds to each CRD it updates, with
// one allowed value: an object sent with another value is refused only
// once the API server validates with the updated schema (the previous one
// prunes it), which is how the test knows the update is in force.
const sentinel = "upgradeTestSentinel"

// run installs From, stores the objects, upgrades to To and checks.
func (u *upgrade) run(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if u.Uninstall {
		t.Cleanup(func() { u.uninstall(t) })
	}

	// The previous release.
	for _, crd := range u.From.CRDs {
		if _, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd.DeepCopy(), metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: creating CRD %s: %v", u.From.Label, crd.Name, err)
		}
	}
	for _, crd := range u.From.CRDs {
		waitEstablished(ctx, t, crd.Name)
	}
	applyAdmission(ctx, t, nil, u.From, false)
	ensureNamespace(ctx, t)

	for _, o := range u.Objects {
		u.store(ctx, t, o)
	}
	if u.EveryKind {
		for _, crd := range u.From.CRDs {
			if !slices.ContainsFunc(u.Objects, func(o *storedObject) bool { return o.Manifest.GetKind() == crd.Spec.Names.Kind }) {
				t.Errorf("no object of kind %s is stored: add one to extraObjects", crd.Spec.Names.Kind)
			}
		}
	}
	storedVersions := map[string][]string{}
	for _, crd := range u.From.CRDs {
		live, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		storedVersions[crd.Name] = live.Status.StoredVersions
	}
	if t.Failed() {
		t.FailNow()
	}

	// The upgrade, in place.
	var updated []*apiextensionsv1.CustomResourceDefinition
	for _, crd := range u.To.CRDs {
		live, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if _, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd.DeepCopy(), metav1.CreateOptions{}); err != nil {
				t.Fatalf("%s: creating CRD %s: %v", u.To.Label, crd.Name, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		next := withSentinel(crd)
		live.Spec = next.Spec
		live.Labels, live.Annotations = next.Labels, next.Annotations
		if _, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, live, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("%s: updating CRD %s in place: %v", u.To.Label, crd.Name, err)
		}
		updated = append(updated, crd)
	}
	for _, crd := range u.To.CRDs {
		waitEstablished(ctx, t, crd.Name)
	}
	for _, crd := range updated {
		waitSentinel(ctx, t, crd)
	}
	applyAdmission(ctx, t, u.From, u.To, true)

	for _, crd := range u.From.CRDs {
		if u.To.crd(crd.Name) == nil {
			t.Errorf("CRD %s of %s is gone from %s: its objects can no longer be reached", crd.Name, u.From.Label, u.To.Label)
		}
	}
	t.Run("StoredVersions", func(t *testing.T) { checkStoredVersions(ctx, t, u.To, storedVersions) })
	t.Run("List", func(t *testing.T) { u.checkLists(ctx, t, storedVersions) })
	for _, o := range u.Objects {
		t.Run(o.ref(), func(t *testing.T) { u.checkObject(ctx, t, o) })
	}
	t.Run("NewObjects", func(t *testing.T) { u.checkNewObjects(ctx, t) })
}

func waitEstablished(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	var last string
	for {
		crd, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			established, accepted := false, false
			for _, c := range crd.Status.Conditions {
				established = established || (c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue)
				accepted = accepted || (c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionTrue)
			}
			if established && accepted {
				return
			}
			last = fmt.Sprintf("conditions %+v", crd.Status.Conditions)
		} else {
			last = err.Error()
		}
		if !sleep(ctx) {
			t.Fatalf("CRD %s never Established and NamesAccepted: %s", name, last)
		}
	}
}

func sleep(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(100 * time.Millisecond):
		return true
	}
}

// withSentinel is crd with the sentinel property in each version's schema.
func withSentinel(crd *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinition {
	c := crd.DeepCopy()
	for i := range c.Spec.Versions {
		s := c.Spec.Versions[i].Schema
		if s == nil || s.OpenAPIV3Schema == nil {
			continue
		}
		if s.OpenAPIV3Schema.Properties == nil {
			s.OpenAPIV3Schema.Properties = map[string]apiextensionsv1.JSONSchemaProps{}
		}
		s.OpenAPIV3Schema.Properties[sentinel] = apiextensionsv1.JSONSchemaProps{
			Type: "string", Enum: []apiextensionsv1.JSON{{Raw: []byte(`"upgraded"`)}},
		}
	}
	return c
}

// waitSentinel waits until every served version of crd validates with the
// updated schema.
func waitSentinel(ctx context.Context, t *testing.T, crd *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gvr, namespaced := resourceOf(crd, v.Name)
		probe := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": crd.Spec.Group + "/" + v.Name, "kind": crd.Spec.Names.Kind,
			"metadata": map[string]any{"name": "upgrade-sentinel-probe"},
			sentinel:   "not-yet",
		}}
		var client dynamic.ResourceInterface = dyn.Resource(gvr)
		if namespaced {
			client = dyn.Resource(gvr).Namespace(namespace)
		}
		var last error
		for {
			_, last = client.Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if refusesSentinel(last) {
				break
			}
			if !sleep(ctx) {
				t.Fatalf("CRD %s %s: the updated schema never came into force: last answer %v", crd.Name, v.Name, last)
			}
		}
	}
}

// refusesSentinel: err is the refusal of the sentinel's value, which only
// the updated schema knows (the previous one prunes the field).
func refusesSentinel(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == sentinel && cause.Type == metav1.CauseTypeFieldValueNotSupported {
			return true
		}
	}
	return false
}

// admissionGVRs are the resources of the kinds config/admission may hold.
var admissionGVRs = map[string]schema.GroupVersionResource{
	"ValidatingAdmissionPolicy":        {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"},
	"ValidatingAdmissionPolicyBinding": {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"},
	"MutatingAdmissionPolicy":          {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingadmissionpolicies"},
	"MutatingAdmissionPolicyBinding":   {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingadmissionpolicybindings"},
}

// applyAdmission installs to's admission policies, replacing from's (nil
// for none) as helm upgrade does, and waits until each policy that refuses
// does, with its probe. A refusing policy with no probe fails the test when
// required (the current release's): its coming into force could not be
// waited for.
func applyAdmission(ctx context.Context, t *testing.T, from, to *bundle, required bool) {
	t.Helper()
	gvrOf := func(obj *unstructured.Unstructured) schema.GroupVersionResource { return admissionGVRs[obj.GetKind()] }
	has := func(b *bundle, obj *unstructured.Unstructured) bool {
		return slices.ContainsFunc(b.Admission, func(o *unstructured.Unstructured) bool {
			return o.GetKind() == obj.GetKind() && o.GetName() == obj.GetName()
		})
	}
	if from != nil {
		for _, obj := range from.Admission {
			if !has(to, obj) {
				if err := dyn.Resource(gvrOf(obj)).Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil {
					t.Fatalf("deleting %s %s of %s: %v", obj.GetKind(), obj.GetName(), from.Label, err)
				}
			}
		}
	}
	for _, obj := range to.Admission {
		kind := obj.GetKind()
		if _, known := admissionGVRs[kind]; !known {
			t.Fatalf("%s: config/admission has a %s, which the test does not know", to.Label, kind)
		}
		_, err := dyn.Resource(gvrOf(obj)).Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "helm", Force: true})
		if err != nil {
			t.Fatalf("%s: applying %s %s: %v", to.Label, kind, obj.GetName(), err)
		}
	}
	for _, binding := range to.Admission {
		if binding.GetKind() != "ValidatingAdmissionPolicyBinding" {
			continue
		}
		actions, _, _ := unstructured.NestedStringSlice(binding.Object, "spec", "validationActions")
		if !slices.Contains(actions, "Deny") {
			continue // Warn and Audit refuse nothing
		}
		policy, _, _ := unstructured.NestedString(binding.Object, "spec", "policyName")
		p, ok := admissionProbes[policy]
		if !ok {
			if required {
				t.Errorf("%s: ValidatingAdmissionPolicy %s refuses requests (binding %s) but has no probe: add one to admissionProbes",
					to.Label, policy, binding.GetName())
			}
			continue
		}
		waitRefused(ctx, t, p, "ValidatingAdmissionPolicy "+policy)
	}
}

// waitRefused creates p's object (dry run) until it is refused with its
// message.
func waitRefused(ctx context.Context, t *testing.T, p probe, what string) {
	t.Helper()
	obj := mustObject(t, p.YAML)
	client := dyn.Resource(gvrOfCurrent(t, obj)).Namespace(obj.GetNamespace())
	var last error
	for {
		_, last = client.Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if last != nil && strings.Contains(last.Error(), p.Refusal) {
			return
		}
		if !sleep(ctx) {
			t.Fatalf("%s never refused %s with %q: last answer %v", what, obj.GetName(), p.Refusal, last)
		}
	}
}

// gvrOfCurrent is the resource of an object of the project's group, by
// asking the API server (its CRD is installed).
func gvrOfCurrent(t *testing.T, obj *unstructured.Unstructured) schema.GroupVersionResource {
	t.Helper()
	list, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gvk := obj.GroupVersionKind()
	for _, c := range list.Items {
		if c.Spec.Group == gvk.Group && c.Spec.Names.Kind == gvk.Kind {
			return schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: c.Spec.Names.Plural}
		}
	}
	t.Fatalf("no CRD for %s", gvk)
	return schema.GroupVersionResource{}
}

func mustObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	docs, err := decodeDocs([]byte(doc))
	if err != nil || len(docs) != 1 {
		t.Fatalf("want one object (%v):\n%s", err, doc)
	}
	return docs[0]
}

// ensureNamespace waits for the namespace the samples use (kube-apiserver
// makes default itself, a moment after it starts).
func ensureNamespace(ctx context.Context, t *testing.T) {
	t.Helper()
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for {
		_, err := dyn.Resource(nsGVR).Get(ctx, namespace, metav1.GetOptions{})
		if err == nil {
			return
		}
		if !sleep(ctx) {
			t.Fatalf("no namespace %s: %v", namespace, err)
		}
	}
}

// store creates o under the previous release, with the operator's
// finalizer and status, and reads it back.
func (u *upgrade) store(ctx context.Context, t *testing.T, o *storedObject) {
	t.Helper()
	crd := u.From.crdOf(o.Manifest)
	if crd == nil {
		t.Fatalf("%s (%s): no CRD for it in %s", o.ref(), o.Source, u.From.Label)
	}
	o.gvr, o.namespaced = resourceOf(crd, o.Manifest.GroupVersionKind().Version)
	if o.namespaced && o.Manifest.GetNamespace() == "" {
		o.Manifest.SetNamespace(namespace)
	}
	obj := o.Manifest.DeepCopy()
	fins, ok := finalizers[obj.GetKind()]
	if !ok {
		t.Fatalf("%s: no finalizers entry for kind %s in cases_test.go", o.ref(), obj.GetKind())
	}
	obj.SetFinalizers(fins)
	if o.Owner != "" {
		owner := u.object(o.Owner)
		if owner == nil || owner.stored == nil {
			t.Fatalf("%s: owner %s is not stored before it", o.ref(), o.Owner)
		}
		obj.SetOwnerReferences([]metav1.OwnerReference{{
			APIVersion: owner.stored.GetAPIVersion(), Kind: owner.stored.GetKind(), Name: owner.stored.GetName(),
			UID: owner.stored.GetUID(), Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
		}})
	}
	created, err := o.client().Create(ctx, obj, metav1.CreateOptions{FieldManager: "upgrade-test"})
	if err != nil {
		t.Fatalf("%s (%s): %s refuses it: %v", o.ref(), o.Source, u.From.Label, err)
	}
	status, err := statusFor(created)
	if err != nil {
		t.Fatal(err)
	}
	if err := patchStatus(ctx, o, status); err != nil {
		t.Fatalf("%s: status patch under %s: %v", o.ref(), u.From.Label, err)
	}
	if o.stored, err = o.client().Get(ctx, o.Manifest.GetName(), metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	// What the release's schema does not have is pruned (an older operator
	// did not write it); the rest is stored as written.
	storedStatus, _ := o.stored.Object["status"].(map[string]any)
	for key, want := range normalize(t, status).(map[string]any) {
		got, ok := storedStatus[key]
		if !ok {
			t.Logf("%s: status.%s pruned: %s does not have it", o.ref(), key, u.From.Label)
		} else if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: status.%s stored as %s, written as %s", o.ref(), key, toJSON(got), toJSON(want))
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func (u *upgrade) object(ref string) *storedObject {
	for _, o := range u.Objects {
		if o.ref() == ref {
			return o
		}
	}
	return nil
}

// patchStatus writes status as the operator does: a merge patch of the
// status subresource.
func patchStatus(ctx context.Context, o *storedObject, status map[string]any) error {
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	_, err = o.client().Patch(ctx, o.Manifest.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "manager"}, "status")
	return err
}

// normalize is v as JSON decodes it (int64 as float64 and back, as the
// unstructured reader does).
func normalize(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(`{"apiVersion":"v1","kind":"X","v":` + string(data) + `}`)); err != nil {
		t.Fatal(err)
	}
	return u.Object["v"]
}

func toJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// checkStoredVersions: every version objects were stored in is still
// served, and none was dropped from status.storedVersions.
func checkStoredVersions(ctx context.Context, t *testing.T, to *bundle, before map[string][]string) {
	for name, versions := range before {
		live, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("CRD %s: %v", name, err)
			continue
		}
		for _, v := range versions {
			if !slices.Contains(live.Status.StoredVersions, v) {
				t.Errorf("CRD %s: stored version %s dropped from status.storedVersions %v", name, v, live.Status.StoredVersions)
			}
		}
		for _, v := range live.Status.StoredVersions {
			if !slices.ContainsFunc(live.Spec.Versions, func(cv apiextensionsv1.CustomResourceDefinitionVersion) bool {
				return cv.Name == v && cv.Served
			}) {
				t.Errorf("CRD %s: objects are stored as %s, which %s no longer serves", name, v, to.Label)
			}
		}
		t.Logf("CRD %s: storedVersions %v, all served", name, live.Status.StoredVersions)
	}
}

// checkLists lists each kind in each version its objects were stored in,
// across namespaces: every stored object is there.
func (u *upgrade) checkLists(ctx context.Context, t *testing.T, storedVersions map[string][]string) {
	for _, crd := range u.From.CRDs {
		var want []string
		for _, o := range u.Objects {
			if o.Manifest.GetKind() == crd.Spec.Names.Kind && o.Manifest.GroupVersionKind().Group == crd.Spec.Group {
				want = append(want, o.Manifest.GetNamespace()+"/"+o.Manifest.GetName())
			}
		}
		sort.Strings(want)
		for _, v := range storedVersions[crd.Name] {
			gvr, _ := resourceOf(crd, v)
			list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Errorf("listing %s: %v", gvr, err)
				continue
			}
			var got []string
			for _, item := range list.Items {
				got = append(got, item.GetNamespace()+"/"+item.GetName())
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("listing %s: %v, want %v", gvr, got, want)
			}
		}
	}
}

// checkObject runs every check on one stored object, in the order a user
// and the operator would touch it after the upgrade.
func (u *upgrade) checkObject(ctx context.Context, t *testing.T, o *storedObject) {
	var expect expectations
	if o.Case != nil {
		expect = o.Case.Expect
	}
	client := o.client()
	name := o.Manifest.GetName()

	// Read: the object as stored, nothing pruned, no default added.
	got, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading after the upgrade: %v", err)
	}
	read := got.DeepCopy()
	for _, path := range readDefaults {
		fields := strings.Split(path, ".")
		if _, had, _ := unstructured.NestedFieldNoCopy(o.stored.Object, fields...); !had {
			unstructured.RemoveNestedField(read.Object, fields...)
		}
	}
	for _, part := range []string{"spec", "status"} {
		if !reflect.DeepEqual(read.Object[part], o.stored.Object[part]) {
			t.Errorf("%s reads otherwise after the upgrade: a field pruned, or a default added since %s "+
				"(if meant, list its path in readDefaults):\nbefore %s\nafter  %s",
				part, u.From.Label, toJSON(o.stored.Object[part]), toJSON(got.Object[part]))
		}
	}

	// Valid under the new schema: the same object is accepted anew, unless
	// it is a case's, which must be refused (the new rule is in force).
	fresh := got.DeepCopy()
	fresh.SetName(name + "-again")
	fresh.SetResourceVersion("")
	fresh.SetUID("")
	fresh.SetCreationTimestamp(metav1.Time{})
	fresh.SetGeneration(0)
	fresh.SetManagedFields(nil)
	delete(fresh.Object, "status")
	_, err = client.Create(ctx, fresh, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	switch {
	case o.Case == nil && err != nil:
		t.Errorf("no longer valid: %s refuses it as a new object: %v", u.To.Label, err)
	case o.Case != nil:
		expectOutcome(t, "created anew", err, o.Case.Refusal)
		if o.Case.Refusal == "" && o.Case.Expect == (expectations{}) {
			t.Errorf("case %s: neither a create nor an update is refused: nothing shows the rule in force", o.Case.Change)
		}
	}

	// Re-applied as it was, as kubectl apply --server-side does.
	_, err = client.Apply(ctx, name, o.Manifest, metav1.ApplyOptions{FieldManager: "kubectl"})
	expectOutcome(t, "re-applied unchanged", err, expect.Reapply)

	// A label added, spec unchanged (an update of the whole object).
	err = update(ctx, client, name, func(obj *unstructured.Unstructured) {
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["upgrade-test/touched"] = "true"
		obj.SetLabels(labels)
	})
	expectOutcome(t, "label added", err, expect.Label)

	// The operator's next status write.
	status, _ := got.Object["status"].(map[string]any)
	status = runtimeDeepCopy(status)
	if conditions, ok := status["conditions"].([]any); ok {
		for _, c := range conditions {
			if m, ok := c.(map[string]any); ok {
				m["lastTransitionTime"] = time.Now().UTC().Add(time.Minute).Truncate(time.Second).Format(time.RFC3339)
				m["message"] = fmt.Sprint(m["message"], " (after the upgrade)")
			}
		}
	}
	expectOutcome(t, "status patched", patchStatus(ctx, o, status), expect.Status)

	// A spec change to another field.
	change := specChanges[o.Manifest.GetKind()]
	if o.Case != nil && o.Case.Unrelated != nil {
		change = o.Case.Unrelated
	}
	if change == nil {
		t.Errorf("no spec change for kind %s: add one to specChanges", o.Manifest.GetKind())
	} else {
		err = update(ctx, client, name, func(obj *unstructured.Unstructured) {
			spec, _ := obj.Object["spec"].(map[string]any)
			change(spec)
		})
		expectOutcome(t, "spec changed elsewhere", err, expect.UnrelatedSpec)
	}

	// Deleted: the operator takes its finalizer off, and the object goes.
	if err := client.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	if len(o.stored.GetFinalizers()) == 0 {
		waitGone(ctx, t, client, name)
		return
	}
	err = update(ctx, client, name, func(obj *unstructured.Unstructured) {
		if obj.GetDeletionTimestamp() == nil {
			t.Errorf("deleted, but no deletionTimestamp")
		}
		obj.SetFinalizers(nil)
	})
	expectOutcome(t, "finalizer removed after deletion", err, expect.FinalizerRemoval)
	if err == nil {
		waitGone(ctx, t, client, name)
	}
}

func runtimeDeepCopy(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

// update reads, edits and writes back an object (a PUT).
func update(ctx context.Context, client dynamic.ResourceInterface, name string, edit func(*unstructured.Unstructured)) error {
	obj, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	edit(obj)
	_, err = client.Update(ctx, obj, metav1.UpdateOptions{FieldManager: "upgrade-test"})
	return err
}

// expectOutcome checks err against an expected outcome: "" accepted, else
// refused as invalid with that in the message.
func expectOutcome(t *testing.T, what string, err error, refusal string) {
	t.Helper()
	switch {
	case refusal == "" && err != nil:
		t.Errorf("%s: refused after the upgrade: %v", what, err)
	case refusal != "" && err == nil:
		t.Errorf("%s: accepted, want refused with %q", what, refusal)
	case refusal != "" && !strings.Contains(err.Error(), refusal):
		t.Errorf("%s: refused with %v, want %q", what, err, refusal)
	}
}

func waitGone(ctx context.Context, t *testing.T, client dynamic.ResourceInterface, name string) {
	t.Helper()
	for {
		_, err := client.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if !sleep(ctx) {
			t.Fatalf("still there after its finalizers were removed: %v", err)
		}
	}
}

// checkNewObjects creates the objects of kinds added since (accepted, with
// their status) and each such kind's probe (refused: its rules are in
// force).
func (u *upgrade) checkNewObjects(ctx context.Context, t *testing.T) {
	for _, obj := range u.NewObjects {
		crd := u.To.crdOf(obj)
		gvr, namespaced := resourceOf(crd, obj.GroupVersionKind().Version)
		if namespaced && obj.GetNamespace() == "" {
			obj.SetNamespace(namespace)
		}
		o := &storedObject{Manifest: obj, gvr: gvr, namespaced: namespaced}
		created, err := o.client().Create(ctx, obj, metav1.CreateOptions{})
		if err != nil {
			t.Errorf("%s: %s refuses it: %v", o.ref(), u.To.Label, err)
			continue
		}
		status, err := statusFor(created)
		if err != nil {
			t.Error(err)
			continue
		}
		if err := patchStatus(ctx, o, status); err != nil {
			t.Errorf("%s: status patch: %v", o.ref(), err)
		}
	}
	for _, crd := range u.To.CRDs {
		if u.From.crd(crd.Name) != nil {
			continue
		}
		p, ok := newKindProbes[crd.Spec.Names.Kind]
		if !ok {
			t.Errorf("kind %s is new since %s but has no probe: add one to newKindProbes", crd.Spec.Names.Kind, u.From.Label)
			continue
		}
		obj := mustObject(t, p.YAML)
		gvr, _ := resourceOf(crd, obj.GroupVersionKind().Version)
		_, err := dyn.Resource(gvr).Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		expectOutcome(t, crd.Spec.Names.Kind+" breaking a rule", err, p.Refusal)
	}
}

// TestUpgrade upgrades the previous release's CRDs and admission policies
// to the current ones with objects in place.
func TestUpgrade(t *testing.T) {
	prev, err := previousRelease()
	if err != nil && os.Getenv("UPGRADE_FROM") == "" {
		// A clone without the history (a shallow CI checkout): the pinned
		// commit's snapshot, if the pinned commit is still the starting point.
		prev, err = pinnedRelease(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("upgrading from %s (%s), found as %s", prev.Label, prev.Commit, prev.Source)
	from, err := loadBundle(prev.Commit, prev.Label)
	if err != nil {
		t.Fatal(err)
	}
	to, err := loadBundle("", "the current CRDs")
	if err != nil {
		t.Fatal(err)
	}

	covered := coverage(t, from, to, ruleCases, acknowledged)

	// The objects: the previous release's samples, the extra objects of its
	// kinds, and one per case.
	u := &upgrade{From: from, To: to, EveryKind: true, Uninstall: true}
	samples, err := filesAt(prev.Commit, "config/samples", ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range samples {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		docs, err := readDocs(prev.Commit, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			u.Objects = append(u.Objects, &storedObject{Source: f + " at " + prev.Label, Manifest: d})
		}
	}
	for _, e := range extraObjects {
		obj := mustObject(t, e.YAML)
		if from.crdOf(obj) != nil {
			u.Objects = append(u.Objects, &storedObject{Source: "extraObjects", Manifest: obj, Owner: e.Owner})
		} else {
			u.NewObjects = append(u.NewObjects, obj)
		}
	}
	for _, c := range covered {
		u.Objects = append(u.Objects, &storedObject{Source: "ruleCase " + c.Change, Manifest: mustObject(t, c.Object), Case: c})
	}
	// The current samples of the new kinds.
	current, err := listFiles("", "config/samples", ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range current {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		docs, err := readDocs("", f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			if from.crdOf(d) == nil {
				u.NewObjects = append(u.NewObjects, d)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	u.run(t)
}

// coverage diffs the schemas of the kinds both bundles have, logs every
// change, and fails the test for each change that may refuse a stored
// object and is neither covered by a case nor acknowledged. It returns the
// cases of changes in the diff, in the order of their changes.
func coverage(t *testing.T, from, to *bundle, cases []ruleCase, acknowledged map[string]string) []*ruleCase {
	t.Helper()
	changes := map[string]change{}
	for _, old := range from.CRDs {
		if n := to.crd(old.Name); n != nil {
			for _, c := range diffCRD(old, n) {
				changes[c.ID()] = c
			}
		}
	}
	ids := make([]string, 0, len(changes))
	for id := range changes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, crd := range to.CRDs {
		if from.crd(crd.Name) == nil {
			t.Logf("new kind since %s: %s (its rules checked on new objects)", from.Label, crd.Spec.Names.Kind)
		}
	}
	if len(ids) == 0 {
		t.Logf("no schema change since %s in the kinds it has", from.Label)
	}
	byChange := map[string]*ruleCase{}
	for i := range cases {
		c := &cases[i]
		if _, ok := changes[c.Change]; !ok {
			t.Logf("case %s: not a change since %s, not run", c.Change, from.Label)
			continue
		}
		byChange[c.Change] = c
	}
	for id := range acknowledged {
		if _, ok := changes[id]; !ok {
			t.Logf("acknowledged %s: not a change since %s, not used", id, from.Label)
		}
	}
	var covered []*ruleCase
	for _, id := range ids {
		c := changes[id]
		t.Logf("schema change: %s", c)
		if byChange[id] != nil {
			covered = append(covered, byChange[id])
		}
		if c.Class != tighter {
			continue
		}
		if reason, ok := acknowledged[id]; ok {
			t.Logf("  no stored object can fail it: %s", reason)
		} else if byChange[id] == nil {
			t.Errorf("%s may refuse objects stored under %s: add a ruleCase to cases_test.go with an object %s accepts "+
				"and the current CRD refuses, or say in acknowledged why none can exist", c, from.Label, from.Label)
		}
	}
	return covered
}

// uninstall removes what run installed: every object's finalizers, then the
// CRDs (and so the objects) and the admission policies.
func (u *upgrade) uninstall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	crds := append([]*apiextensionsv1.CustomResourceDefinition{}, u.To.CRDs...)
	for _, crd := range u.From.CRDs {
		if u.To.crd(crd.Name) == nil {
			crds = append(crds, crd)
		}
	}
	for _, crd := range crds {
		live, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			t.Errorf("uninstall: %v", err)
			continue
		}
		for _, v := range live.Status.StoredVersions {
			gvr, _ := resourceOf(live, v)
			list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Errorf("uninstall: listing %s: %v", gvr, err)
				continue
			}
			for _, item := range list.Items {
				if len(item.GetFinalizers()) == 0 {
					continue
				}
				_, err := dyn.Resource(gvr).Namespace(item.GetNamespace()).Patch(ctx, item.GetName(), types.MergePatchType,
					[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("uninstall: taking the finalizers off %s %s: %v", gvr.Resource, item.GetName(), err)
				}
			}
		}
		if err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, crd.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("uninstall: deleting CRD %s: %v", crd.Name, err)
		}
	}
	for _, obj := range append(append([]*unstructured.Unstructured{}, u.To.Admission...), u.From.Admission...) {
		if err := dyn.Resource(admissionGVRs[obj.GetKind()]).Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("uninstall: deleting %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	for _, crd := range crds {
		for {
			_, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if !sleep(ctx) {
				t.Errorf("uninstall: CRD %s still there: %v", crd.Name, err)
				break
			}
		}
	}
}
