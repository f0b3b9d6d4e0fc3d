//go:build integration && gitops

package gitops

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// The scenarios, in the order a platform team lives them: the first commit,
// a refused grant, a file removed, refreshes that must change nothing, and
// a statement removed behind everyone's back.

const team = "team-a"

var kustomizationKind = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}

func TestFlux(t *testing.T) {
	startFlux(t)
	repo := startGitServer(t).newRepo(t, "platform")
	fn, owned := "orders", "payments"
	foreign := createFunction(t, fn)
	createFunction(t, owned) // its foreign statement goes: the LambdaResourcePolicy owns the policy
	buckets := []string{"uploads", "images", "logs"}
	files := map[string]string{
		"accounts/account.yaml":       accountYAML("gitops"),
		"accounts/kustomization.yaml": kustomizationYAML("account.yaml"),
		"teams/namespace.yaml":        namespaceYAML(team),
		"teams/owned.yaml":            resourcePolicyYAML(team, "payments", owned),
	}
	resources := []string{"namespace.yaml", "owned.yaml"}
	for _, b := range buckets {
		files["teams/"+b+".yaml"] = bucketPermissionYAML(team, b, fn, b+"-bucket")
		resources = append(resources, b+".yaml")
	}
	files["teams/kustomization.yaml"] = kustomizationYAML(resources...)
	revision := repo.commit(t, "the platform's first commit", files)
	say("flux: committed %s: an account, %d LambdaPermissions and a LambdaResourcePolicy", revision[:8], len(buckets))

	applyYAML(t, gitRepositoryYAML("platform", repo.url))
	applyYAML(t, kustomizationFluxYAML("accounts", "platform", "./accounts"))
	applyYAML(t, kustomizationFluxYAML("permissions", "platform", "./teams", "accounts"))

	t.Run("Ready only once every object is Ready", func(t *testing.T) {
		readyAt := waitKustomizationReady(t, "permissions", revision, true)
		last := lastReady(t, team)
		say("flux: Kustomization permissions Ready at %s; the last object Ready at %s", readyAt.Format("15:04:05"), last.Format("15:04:05"))
		if readyAt.Before(last) {
			t.Errorf("flux: Kustomization permissions said Ready at %s, before its last object was Ready at %s", readyAt, last)
		}
		wantSids(t, fn, "terraform-events", team+"_uploads", team+"_images", team+"_logs")
		wantSids(t, owned, "partner")
	})
	t.Run("a grant the guardrails refuse fails the health check", func(t *testing.T) {
		files := map[string]string{"teams/public.yaml": publicPermissionYAML(team, "public", fn),
			"teams/kustomization.yaml": kustomizationYAML(append(slices.Clone(resources), "public.yaml")...)}
		refused := repo.commit(t, "a public grant", files)
		fetch(t)
		message := waitKustomization(t, "permissions", "Ready=False naming LambdaPermission public", func(k *unstructured.Unstructured) string {
			c := condition(k, "Ready")
			if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "public") || !strings.Contains(lastAttempted(k), refused) {
				return fmt.Sprintf("Ready %+v", c)
			}
			return ""
		})
		stalled := permissionCondition(t, team, "public", lambdav1alpha1.ConditionStalled)
		say("flux: Kustomization permissions: %s", message)
		say("flux: LambdaPermission %s/public Stalled: %s: %s", team, stalled.Reason, stalled.Message)
		if stalled.Reason != lambdav1alpha1.ReasonPublicAccessDenied {
			t.Errorf("flux: LambdaPermission %s/public Stalled %s, want %s", team, stalled.Reason, lambdav1alpha1.ReasonPublicAccessDenied)
		}
		revision = repo.commit(t, "the public grant goes", map[string]string{"teams/kustomization.yaml": kustomizationYAML(resources...)}, "teams/public.yaml")
		fetch(t)
		waitKustomizationReady(t, "permissions", revision, false)
	})
	t.Run("a file removed: pruned, its statement removed, the foreign one kept", func(t *testing.T) {
		resources = slices.DeleteFunc(resources, func(r string) bool { return r == "logs.yaml" })
		revision = repo.commit(t, "logs no longer invokes orders", map[string]string{"teams/kustomization.yaml": kustomizationYAML(resources...)}, "teams/logs.yaml")
		fetch(t)
		waitKustomizationReady(t, "permissions", revision, false)
		waitGone(t, team, "logs")
		wantSids(t, fn, "terraform-events", team+"_uploads", team+"_images")
		if got := storedStatement(t, fn, "terraform-events"); got != foreign {
			t.Errorf("flux: the foreign statement on %s became %s", fn, got)
		}
	})
	t.Run("refreshes change nothing", func(t *testing.T) {
		before := versions(t, team)
		for i := range 3 {
			for _, k := range []string{"accounts", "permissions"} {
				requestReconcile(t, k)
			}
			say("flux: refresh %d of both Kustomizations done", i+1)
		}
		if after := versions(t, team); !maps.Equal(before, after) {
			t.Errorf("flux: three refreshes changed objects: before %v, after %v", before, after)
		}
	})
	t.Run("a statement removed through Lambda is healed, and Flux stays Ready", func(t *testing.T) {
		if _, err := suite.Outside.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(team + "_uploads")}); err != nil {
			t.Fatal(err)
		}
		say("flux: removed statement %s_uploads from %s through the Lambda API", team, fn)
		harness.Eventually(t, "the operator puts the statement back", func() string {
			if _, ok := storedPolicy(t, fn).Find(team + "_uploads"); !ok {
				return "still missing"
			}
			return ""
		})
		requestReconcile(t, "permissions")
		k := kustomization(t, "permissions")
		if c := condition(k, "Ready"); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(lastApplied(k), revision) {
			t.Errorf("flux: Kustomization permissions after the heal: Ready %+v at %s, want True at %s", c, lastApplied(k), revision)
		}
		say("flux: healed; Kustomization permissions still Ready at %s", revision[:8])
	})
}

// waitKustomizationReady waits until Kustomization name has applied
// revision and says Ready, and returns when it said so. With strict, it
// checks at every poll that Ready is never said before every
// object of the team (LambdaPermission, LambdaResourcePolicy) is Ready.
func waitKustomizationReady(t *testing.T, name, revision string, strict bool) time.Time {
	t.Helper()
	var at time.Time
	waitKustomization(t, name, "Ready at "+revision[:8], func(k *unstructured.Unstructured) string {
		c := condition(k, "Ready")
		if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(lastApplied(k), revision) {
			return fmt.Sprintf("Ready %+v, applied %q", c, lastApplied(k))
		}
		if strict {
			if notReady := notReady(t, team); len(notReady) > 0 {
				t.Fatalf("flux: Kustomization %s says Ready while %v are not", name, notReady)
			}
		}
		at = c.LastTransitionTime.Time
		return ""
	})
	return at
}

func waitKustomization(t *testing.T, name, what string, check func(*unstructured.Unstructured) string) string {
	t.Helper()
	var message string
	harness.Eventually(t, "flux: Kustomization "+name+" "+what, func() string {
		k := kustomization(t, name)
		if why := check(k); why != "" {
			return why
		}
		if c := condition(k, "Ready"); c != nil {
			message = c.Message
		}
		return ""
	})
	return message
}

func kustomization(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	k := &unstructured.Unstructured{}
	k.SetGroupVersionKind(kustomizationKind)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: fluxNamespace, Name: name}, k); err != nil {
		t.Fatal(err)
	}
	return k
}

var gitRepositoryKind = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}

// fetch has Flux fetch the repository now, as flux reconcile source git
// does, instead of at its interval: the Kustomizations then see the commit.
func fetch(t *testing.T) {
	t.Helper()
	requestReconcileOf(t, gitRepositoryKind, "platform")
}

// requestReconcile asks Flux to reconcile Kustomization name now, as flux
// reconcile does, and waits until it has.
func requestReconcile(t *testing.T, name string) {
	t.Helper()
	requestReconcileOf(t, kustomizationKind, name)
}

func requestReconcileOf(t *testing.T, kind schema.GroupVersionKind, name string) {
	t.Helper()
	at := time.Now().Format(time.RFC3339Nano)
	k := &unstructured.Unstructured{}
	k.SetGroupVersionKind(kind)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: fluxNamespace, Name: name}, k); err != nil {
		t.Fatal(err)
	}
	annotate(t, k, "reconcile.fluxcd.io/requestedAt", at)
	harness.Eventually(t, "flux: "+kind.Kind+" "+name+" handles the reconcile request", func() string {
		if err := kube.Get(ctx, client.ObjectKey{Namespace: fluxNamespace, Name: name}, k); err != nil {
			return err.Error()
		}
		if handled, _, _ := unstructured.NestedString(k.Object, "status", "lastHandledReconcileAt"); handled != at {
			return "last handled " + handled
		}
		return ""
	})
}

func condition(obj *unstructured.Unstructured, conditionType string) *metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	var conditions []metav1.Condition
	for _, c := range raw {
		m, _ := c.(map[string]any)
		var cond metav1.Condition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &cond); err == nil {
			conditions = append(conditions, cond)
		}
	}
	return meta.FindStatusCondition(conditions, conditionType)
}

func lastApplied(k *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision")
	return s
}

func lastAttempted(k *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(k.Object, "status", "lastAttemptedRevision")
	return s
}

// lastReady is when the last of the team's objects turned Ready.
func lastReady(t *testing.T, namespace string) time.Time {
	t.Helper()
	var last time.Time
	for _, o := range objectsIn(t, namespace) {
		if c := meta.FindStatusCondition(o.conditions, lambdav1alpha1.ConditionReady); c != nil && c.LastTransitionTime.After(last) {
			last = c.LastTransitionTime.Time
		}
	}
	return last
}

// notReady names the team's objects that are not Ready at their generation.
func notReady(t *testing.T, namespace string) []string {
	t.Helper()
	var out []string
	for _, o := range objectsIn(t, namespace) {
		c := meta.FindStatusCondition(o.conditions, lambdav1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != o.generation {
			out = append(out, o.name)
		}
	}
	return out
}

// object is what the scenarios read of a LambdaPermission or a
// LambdaResourcePolicy: its kind/name, generation and conditions.
type object struct {
	name       string
	generation int64
	conditions []metav1.Condition
}

func objectsIn(t *testing.T, namespace string) []object {
	t.Helper()
	var out []object
	for _, p := range permissions(t, namespace) {
		out = append(out, object{"LambdaPermission/" + p.Name, p.Generation, p.Status.Conditions})
	}
	var policies lambdav1alpha1.LambdaResourcePolicyList
	if err := kube.List(ctx, &policies, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	for _, p := range policies.Items {
		out = append(out, object{"LambdaResourcePolicy/" + p.Name, p.Generation, p.Status.Conditions})
	}
	return out
}

func permissions(t *testing.T, namespace string) []lambdav1alpha1.LambdaPermission {
	t.Helper()
	var list lambdav1alpha1.LambdaPermissionList
	if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func permissionCondition(t *testing.T, namespace, name, conditionType string) metav1.Condition {
	t.Helper()
	var p lambdav1alpha1.LambdaPermission
	if err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &p); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, conditionType); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// getPermission is LambdaPermission namespace/name, if it exists.
func getPermission(t *testing.T, namespace, name string) (lambdav1alpha1.LambdaPermission, bool) {
	t.Helper()
	var p lambdav1alpha1.LambdaPermission
	err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &p)
	if apierrors.IsNotFound(err) {
		return p, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}

// accountReadySince is when LambdaPermissionAccount name became Ready, or
// zero while it is not (or does not exist).
func accountReadySince(t *testing.T, name string) time.Time {
	t.Helper()
	var a lambdav1alpha1.LambdaPermissionAccount
	if err := kube.Get(ctx, client.ObjectKey{Name: name}, &a); apierrors.IsNotFound(err) {
		return time.Time{}
	} else if err != nil {
		t.Fatal(err)
	}
	c := meta.FindStatusCondition(a.Status.Conditions, lambdav1alpha1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != a.Generation {
		return time.Time{}
	}
	return c.LastTransitionTime.Time
}

// eventReasons are the reasons of the Events about object kind
// namespace/name, oldest first.
func eventReasons(t *testing.T, namespace, kind, name string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := kube.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list.Items, func(a, b eventsv1.Event) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

// waitGone waits until LambdaPermission namespace/name is deleted.
func waitGone(t *testing.T, namespace, name string) {
	t.Helper()
	harness.Eventually(t, "LambdaPermission "+namespace+"/"+name+" gone", func() string {
		var p lambdav1alpha1.LambdaPermission
		if err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &p); err == nil {
			return "still there, finalizers " + strings.Join(p.Finalizers, ",")
		}
		return ""
	})
}

// versions are the resourceVersions of everything the engines applied in
// namespace, and of the accounts.
func versions(t *testing.T, namespace string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range permissions(t, namespace) {
		out["LambdaPermission/"+p.Name] = p.ResourceVersion
	}
	var policies lambdav1alpha1.LambdaResourcePolicyList
	if err := kube.List(ctx, &policies, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	for _, p := range policies.Items {
		out["LambdaResourcePolicy/"+p.Name] = p.ResourceVersion
	}
	var accounts lambdav1alpha1.LambdaPermissionAccountList
	if err := kube.List(ctx, &accounts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts.Items {
		out["LambdaPermissionAccount/"+a.Name] = a.ResourceVersion
	}
	return out
}

func storedPolicy(t *testing.T, function string) policy.PolicyDocument {
	t.Helper()
	text, _, ok := suite.Emulator.Policy(function, "")
	if !ok {
		return policy.PolicyDocument{}
	}
	doc, err := policy.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func storedStatement(t *testing.T, function, sid string) string {
	t.Helper()
	st, _ := storedPolicy(t, function).Find(sid)
	return st.Raw
}

func wantSids(t *testing.T, function string, want ...string) {
	t.Helper()
	var got []string
	for _, st := range storedPolicy(t, function).Statements {
		got = append(got, st.Sid)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the policy of %s holds %v, want %v", function, got, want)
	}
}

// Without ordering: one Kustomization applies a partner account's
// LambdaPermissionAccount and a permission in that account together. The
// permission may be seen before its account: it then waits (Stalled,
// AccountNotAllowed, which Flux's health check fails on at once), and the
// operator takes it up again when the account appears; Flux's next try
// finds it Ready.
func TestFluxWithoutOrdering(t *testing.T) {
	startFlux(t)
	repo := startGitServer(t).newRepo(t, "partner")
	fn := createFunctionIn(t, partnerAccount, "partner-orders")
	revision := repo.commit(t, "a partner account and a grant in it, unordered", map[string]string{
		"partner/account.yaml":       otherAccountYAML("partner", partnerAccount, ""),
		"partner/namespace.yaml":     namespaceYAML("team-b"),
		"partner/grant.yaml":         bucketPermissionYAML("team-b", "partner-uploads", fn, "partner-uploads"),
		"partner/kustomization.yaml": kustomizationYAML("namespace.yaml", "account.yaml", "grant.yaml"),
	})
	applyYAML(t, gitRepositoryYAML("partner", repo.url))
	applyYAML(t, kustomizationFluxYAML("unordered", "partner", "./partner"))
	var seen []string
	waitKustomization(t, "unordered", "Ready at "+revision[:8], func(k *unstructured.Unstructured) string {
		c := condition(k, "Ready")
		if c != nil && (len(seen) == 0 || seen[len(seen)-1] != c.Reason) {
			seen = append(seen, c.Reason)
			say("flux: Kustomization unordered: Ready %s %s: %s", c.Status, c.Reason, c.Message)
		}
		if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(lastApplied(k), revision) {
			return fmt.Sprintf("Ready %+v", c)
		}
		return ""
	})
	var p lambdav1alpha1.LambdaPermission
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "team-b", Name: "partner-uploads"}, &p); err != nil {
		t.Fatal(err)
	}
	if !meta.IsStatusConditionTrue(p.Status.Conditions, lambdav1alpha1.ConditionReady) {
		t.Errorf("flux: LambdaPermission team-b/partner-uploads: %+v", p.Status.Conditions)
	}
	say("flux: without ordering, the Kustomization went through %v and converged", seen)
}

// Without dependsOn between two Kustomizations: an application team's grant
// in an account the platform team's Kustomization has not declared yet. The
// grant is Stalled (AccountNotAllowed) and the health check fails at once,
// naming it; once the account's Kustomization applies, the operator takes
// the grant up again and the grants' Kustomization is Ready on its next
// try (retryInterval), with nothing done by hand.
func TestFluxWithoutDependsOn(t *testing.T) {
	startFlux(t)
	repo := startGitServer(t).newRepo(t, "late")
	fn := createFunctionIn(t, lateAccount, "late-orders")
	revision := repo.commit(t, "a grant in an undeclared account, and the account apart", map[string]string{
		"grants/namespace.yaml":     namespaceYAML("team-g"),
		"grants/grant.yaml":         bucketPermissionYAML("team-g", "late-uploads", fn, "late-uploads"),
		"grants/kustomization.yaml": kustomizationYAML("namespace.yaml", "grant.yaml"),
		"account/account.yaml":      otherAccountYAML("late", lateAccount, ""),
	})
	applyYAML(t, gitRepositoryYAML("late", repo.url))
	applyYAML(t, kustomizationFluxYAML("late-grants", "late", "./grants"))
	message := waitKustomization(t, "late-grants", "Ready=False naming LambdaPermission late-uploads", func(k *unstructured.Unstructured) string {
		c := condition(k, "Ready")
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "late-uploads") || !strings.Contains(lastAttempted(k), revision) {
			return fmt.Sprintf("Ready %+v", c)
		}
		return ""
	})
	stalled := permissionCondition(t, "team-g", "late-uploads", lambdav1alpha1.ConditionStalled)
	say("flux: Kustomization late-grants: %s", message)
	say("flux: LambdaPermission team-g/late-uploads Stalled: %s: %s", stalled.Reason, stalled.Message)
	if stalled.Reason != lambdav1alpha1.ReasonAccountNotAllowed {
		t.Errorf("flux: LambdaPermission team-g/late-uploads Stalled %s, want %s", stalled.Reason, lambdav1alpha1.ReasonAccountNotAllowed)
	}
	applyYAML(t, kustomizationFluxYAML("late-account", "late", "./account"))
	waitKustomizationReady(t, "late-account", revision, false)
	readyAt := waitKustomizationReady(t, "late-grants", revision, false)
	say("flux: once Kustomization late-account applied (account Ready at %s), Kustomization late-grants Ready at %s",
		accountReadySince(t, "late").Format("15:04:05"), readyAt.Format("15:04:05"))
	wantSids(t, fn, "team-g_late-uploads")
}
