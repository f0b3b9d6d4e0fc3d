//go:build integration && gitops

package gitops

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// The Argo CD scenarios: an Application of a directory of our objects,
// synced automatically with prune and self-heal, as platform teams run it.

func TestArgoCD(t *testing.T) {
	startArgo(t)
	repo := startGitServer(t).newRepo(t, "argo")
	const ns = "team-c"
	fn, owned := "argo-orders", "argo-payments"
	foreign := createFunction(t, fn)
	createFunction(t, owned) // its foreign statement goes: the LambdaResourcePolicy owns the policy
	files := map[string]string{"apps/owned.yaml": resourcePolicyYAML(ns, "payments", owned)}
	for _, b := range []string{"uploads", "images", "logs"} {
		files["apps/"+b+".yaml"] = bucketPermissionYAML(ns, b, fn, "argo-"+b)
	}
	revision := repo.commit(t, "three grants", files)
	say("argo cd: committed %s: 3 LambdaPermissions and a LambdaResourcePolicy", revision[:8])
	applyYAML(t, applicationYAML("permissions", repo.url, "apps", ns))

	t.Run("Healthy only once every object is Ready", func(t *testing.T) {
		s := waitApplication(t, "permissions", "Synced and Healthy at "+revision[:8], func(s appState) string {
			if s.health == "Healthy" {
				if notReady := notReady(t, ns); len(notReady) > 0 {
					t.Fatalf("argo cd: Application permissions is Healthy while %v are not Ready", notReady)
				}
			}
			if s.sync != "Synced" || s.health != "Healthy" || s.revision != revision {
				return s.String()
			}
			return ""
		})
		say("argo cd: Application permissions %s; the last object Ready at %s", s, lastReady(t, ns).Format("15:04:05"))
		wantSids(t, fn, "terraform-events", ns+"_uploads", ns+"_images", ns+"_logs")
		wantSids(t, owned, "partner")
	})
	t.Run("a grant the guardrails refuse is Degraded, with its message", func(t *testing.T) {
		refused := repo.commit(t, "a public grant", map[string]string{"apps/public.yaml": publicPermissionYAML(ns, "public", fn)})
		refreshApplication(t, "permissions")
		defer func() {
			if t.Failed() {
				op, _, _ := unstructured.NestedMap(application(t, "permissions").Object, "status", "operationState")
				t.Logf("argo cd: operationState %v", op)
			}
		}()
		s := waitApplication(t, "permissions", "Degraded at "+refused[:8], func(s appState) string {
			if s.health != "Degraded" || s.revision != refused || !strings.Contains(s.message, "principal *") {
				return s.String()
			}
			return ""
		})
		say("argo cd: Application permissions %s", s)
		revision = repo.commit(t, "the public grant goes", nil, "apps/public.yaml")
		refreshApplication(t, "permissions")
		waitApplication(t, "permissions", "Healthy again at "+revision[:8], healthyAt(revision))
	})
	t.Run("a file removed: pruned, its statement removed, the foreign one kept", func(t *testing.T) {
		revision = repo.commit(t, "logs no longer invokes argo-orders", nil, "apps/logs.yaml")
		refreshApplication(t, "permissions")
		waitApplication(t, "permissions", "Synced at "+revision[:8], healthyAt(revision))
		waitGone(t, ns, "logs")
		wantSids(t, fn, "terraform-events", ns+"_uploads", ns+"_images")
		if got := storedStatement(t, fn, "terraform-events"); got != foreign {
			t.Errorf("argo cd: the foreign statement on %s became %s", fn, got)
		}
		say("argo cd: pruned logs; its statement is gone, the foreign statement kept")
	})
	t.Run("refreshes stay Synced and change nothing", func(t *testing.T) {
		before := versions(t, ns)
		for i := range 3 {
			refreshApplication(t, "permissions")
			if s := stateOf(application(t, "permissions")); s.sync != "Synced" || s.health != "Healthy" {
				t.Errorf("argo cd: after refresh %d, Application permissions is %s", i+1, s)
			}
			say("argo cd: refresh %d: %s", i+1, stateOf(application(t, "permissions")))
		}
		if after := versions(t, ns); !maps.Equal(before, after) {
			t.Errorf("argo cd: three refreshes changed objects: before %v, after %v", before, after)
		}
	})
	t.Run("a statement removed through Lambda is healed, and Argo CD stays Synced", func(t *testing.T) {
		if _, err := suite.Outside.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(ns + "_uploads")}); err != nil {
			t.Fatal(err)
		}
		say("argo cd: removed statement %s_uploads from %s through the Lambda API", ns, fn)
		harness.Eventually(t, "the operator puts the statement back", func() string {
			if _, ok := storedPolicy(t, fn).Find(ns + "_uploads"); !ok {
				return "still missing"
			}
			return ""
		})
		refreshApplication(t, "permissions")
		s := stateOf(application(t, "permissions"))
		if s.sync != "Synced" || s.health != "Healthy" || s.revision != revision {
			t.Errorf("argo cd: after the heal, Application permissions is %s, want Synced/Healthy at %.8s", s, revision)
		}
		say("argo cd: healed; Application permissions %s", s)
	})
	t.Run("sync waves put the account before its grant", func(t *testing.T) { argoSyncWaves(t, repo) })
	t.Run("without waves the grant waits for its account, then converges", func(t *testing.T) { argoWithoutWaves(t, repo) })
}

// argoSyncWaves syncs a partner account's LambdaPermissionAccount in wave
// -1 and a grant in that account in wave 0: Argo CD applies the grant only
// once the account is Healthy, that is Ready, so the grant never waits.
func argoSyncWaves(t *testing.T, repo *gitRepo) {
	const ns = "team-d"
	fn := createFunctionIn(t, orderedAccount, "ordered-orders")
	revision := repo.commit(t, "an account in wave -1, its grant in wave 0", map[string]string{
		"ordered/account.yaml": otherAccountYAML("argo-ordered", orderedAccount, "-1"),
		"ordered/grant.yaml":   bucketPermissionYAML(ns, "ordered-uploads", fn, "ordered-uploads"),
	})
	applyYAML(t, applicationYAML("ordered", repo.url, "ordered", ns))
	s := waitApplication(t, "ordered", "Synced and Healthy at "+revision[:8], func(s appState) string {
		if grant, ok := getPermission(t, ns, "ordered-uploads"); ok {
			if ready := accountReadySince(t, "argo-ordered"); ready.IsZero() {
				t.Fatalf("argo cd: Application ordered created LambdaPermission %s/%s at %s, before LambdaPermissionAccount argo-ordered (wave -1) was Ready",
					ns, grant.Name, grant.CreationTimestamp.Format("15:04:05"))
			}
		}
		return healthyAt(revision)(s)
	})
	grant, _ := getPermission(t, ns, "ordered-uploads")
	ready := accountReadySince(t, "argo-ordered")
	if grant.CreationTimestamp.Time.Before(ready) {
		t.Errorf("argo cd: LambdaPermission %s/ordered-uploads created at %s, before its account was Ready at %s", ns, grant.CreationTimestamp.Format("15:04:05"), ready.Format("15:04:05"))
	}
	say("argo cd: Application ordered %s: the account Ready at %s, its grant created at %s", s, ready.Format("15:04:05"), grant.CreationTimestamp.Format("15:04:05"))
	wantSids(t, fn, ns+"_ordered-uploads")
}

// argoWithoutWaves is what happens with no ordering: an application team's
// Application syncs a grant in an account that the platform team's
// Application has not declared yet. The grant waits, Stalled with
// AccountNotAllowed, and the Application is Degraded with that message;
// once the account's Application syncs, the operator takes the grant up
// again and both turn Healthy, with nothing retried by hand.
func argoWithoutWaves(t *testing.T, repo *gitRepo) {
	const ns = "team-e"
	fn := createFunctionIn(t, unorderedAccount, "unordered-orders")
	revision := repo.commit(t, "a grant in an undeclared account, and the account apart", map[string]string{
		"unordered/grants/grant.yaml":    bucketPermissionYAML(ns, "unordered-uploads", fn, "unordered-uploads"),
		"unordered/account/account.yaml": otherAccountYAML("argo-unordered", unorderedAccount, ""),
	})
	applyYAML(t, applicationYAML("unordered-grants", repo.url, "unordered/grants", ns))
	s := waitApplication(t, "unordered-grants", "Degraded: the grant waits for its account", func(s appState) string {
		if s.health != "Degraded" || s.revision != revision || !strings.Contains(s.message, "no LambdaPermissionAccount declares account "+unorderedAccount) {
			return s.String()
		}
		return ""
	})
	say("argo cd: Application unordered-grants %s", s)
	applyYAML(t, applicationYAML("unordered-account", repo.url, "unordered/account", ns))
	waitApplication(t, "unordered-account", "Synced and Healthy at "+revision[:8], healthyAt(revision))
	s = waitApplication(t, "unordered-grants", "Synced and Healthy at "+revision[:8], healthyAt(revision))
	grant, _ := getPermission(t, ns, "unordered-uploads")
	say("argo cd: once the account's Application synced (account Ready at %s), Application unordered-grants %s; the grant's events: %v",
		accountReadySince(t, "argo-unordered").Format("15:04:05"), s, eventReasons(t, ns, "LambdaPermission", grant.Name))
	wantSids(t, fn, ns+"_unordered-uploads")
}

func healthyAt(revision string) func(appState) string {
	return func(s appState) string {
		if s.sync != "Synced" || s.health != "Healthy" || s.revision != revision {
			return fmt.Sprint(s)
		}
		return ""
	}
}
