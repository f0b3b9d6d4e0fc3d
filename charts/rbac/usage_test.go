//go:build integration

package rbac

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// grant is what a rule allows: verb on group/resource, in namespace (""
// for a ClusterRole's: every namespace).
type grant struct{ namespace, group, resource, verb string }

func (g grant) String() string {
	where := "every namespace"
	if g.namespace != "" {
		where = "namespace " + g.namespace
	}
	return fmt.Sprintf("%s %s in %s", g.verb, target{g.group, g.resource}, where)
}

// grantUsage compares what the chart's roles grant with what the manager
// did with it in the runs with every rule (from the API server's audit log).
type grantUsage struct {
	granted map[grant][]string // grant → the roles that grant it
	used    map[request]bool   // user and code zeroed
}

func (u *grantUsage) addRoles(roles []installedRole) {
	if u.granted == nil {
		u.granted = map[grant][]string{}
	}
	for _, role := range roles {
		for _, rule := range role.rules {
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					for _, verb := range rule.Verbs {
						key := grant{role.namespace, g, res, verb}
						if name := role.kind + " " + role.name; !slices.Contains(u.granted[key], name) {
							u.granted[key] = append(u.granted[key], name)
						}
					}
				}
			}
		}
	}
}

func (u *grantUsage) addRequests(requests []request) {
	for _, r := range requests {
		if r.code < 400 {
			r.user, r.code = "", 0
			u.used[r] = true
		}
	}
}

// uses says whether a request of verb on group/resource within the grant's
// namespace was made.
func (u *grantUsage) uses(g grant, verbs ...string) bool {
	for r := range u.used {
		if r.group == g.group && r.resource == g.resource && slices.Contains(verbs, r.verb) &&
			(g.namespace == "" || r.namespace == g.namespace) {
			return true
		}
	}
	return false
}

// unusedReason says why a grant the manager never used in the full runs
// is still needed, or "" when nothing does. A read verb adds nothing when
// the manager already reads the resource another way; patch and update
// each allow every change the other does.
func (u *grantUsage) unusedReason(g grant) string {
	base, _, _ := strings.Cut(g.resource, "/")
	switch {
	case strings.HasSuffix(g.resource, "/finalizers") && g.verb == "update" && caseFor(false, target{g.group, g.resource}) != nil:
		return "no request of its own: OwnerReferencesPermissionEnforcement checks it when the manager sets blockOwnerDeletion " +
			"on an owner reference to " + base + " (its case in the table shows what fails without it)"
	case g.verb == "get" || g.verb == "list" || g.verb == "watch":
		var reads []string
		for _, verb := range []string{"get", "list", "watch"} {
			if u.uses(grant{g.namespace, g.group, base, ""}, verb) {
				reads = append(reads, verb)
			}
		}
		if len(reads) > 0 {
			return g.verb + " reads nothing that the manager's " + strings.Join(reads, " and ") + " of " + base + " does not " +
				"(informers stream their initial list through a watch; the manager's client reads from their cache)"
		}
	case g.verb == "patch" && base == "events":
		return "an Event recorded again is patched (its count, or its series) instead of created: not within a short run"
	case g.verb == "patch" && u.uses(g, "update"):
		return "allows no change that update, which the manager uses, does not"
	case g.verb == "update" && u.uses(g, "patch"):
		return "allows no change that patch, which the manager uses, does not"
	}
	return ""
}

// check fails for every grant that no run used and nothing justifies, and
// logs what each grant is for.
func (u *grantUsage) check(t *testing.T) {
	t.Helper()
	if len(u.used) == 0 {
		t.Fatal("no full run recorded its requests")
	}
	grants := make([]grant, 0, len(u.granted))
	for g := range u.granted {
		grants = append(grants, g)
	}
	slices.SortFunc(grants, func(a, b grant) int { return strings.Compare(a.String(), b.String()) })
	var report strings.Builder
	for _, g := range grants {
		switch reason := u.unusedReason(g); {
		case u.uses(g, g.verb):
			fmt.Fprintf(&report, "  used      %s\n", g)
		case reason != "":
			fmt.Fprintf(&report, "  unused    %s: %s\n", g, reason)
		default:
			fmt.Fprintf(&report, "  UNNEEDED  %s\n", g)
			t.Errorf("%s grants %s, which the manager never used: remove it, or say in usage_test.go why it is needed",
				strings.Join(u.granted[g], " and "), g)
		}
	}
	t.Logf("what the chart's roles grant, against the requests of the full runs:\n%s", report.String())
}

// kubeconfigClient is a client with a kubeconfig's credentials.
func kubeconfigClient(t *testing.T, path string) client.Client {
	t.Helper()
	config, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
