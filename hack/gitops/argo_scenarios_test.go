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
)

// The Argo CD scenarios: an Application of a directory of our objects,
// synced automatically with prune and self-heal, as platform teams run it.

func TestArgoCD(t *testing.T) {
	startArgo(t)
	repo := startGitServer(t).newRepo(t, "argo")
	const ns = "team-c"
	fn := "argo-orders"
	foreign := createFunction(t, fn)
	files := map[string]string{}
	for _, b := range []string{"uploads", "images", "logs"} {
		files["apps/"+b+".yaml"] = bucketPermissionYAML(ns, b, fn, "argo-"+b)
	}
	revision := repo.commit(t, "three grants", files)
	say("argo cd: committed %s: 3 LambdaPermissions", revision[:8])
	applyYAML(t, applicationYAML("permissions", repo.url, "apps", ns))

	t.Run("Healthy only once every object is Ready", func(t *testing.T) {
		s := waitApplication(t, "permissions", "Synced and Healthy at "+revision[:8], func(s appState) string {
			if s.health == "Healthy" {
				if notReady := notReadyPermissions(t, ns); len(notReady) > 0 {
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
		eventually(t, "the operator puts the statement back", func() string {
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
}

func healthyAt(revision string) func(appState) string {
	return func(s appState) string {
		if s.sync != "Synced" || s.health != "Healthy" || s.revision != revision {
			return fmt.Sprint(s)
		}
		return ""
	}
}
