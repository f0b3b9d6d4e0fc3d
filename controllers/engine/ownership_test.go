package engine

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// The engine's middle layer over a table of objects: who owns a policy,
// who holds a statement, and which Sids an owner keeps for the
// LambdaPermissions it includes. The envtest suite shows the same end to
// end; these show each rule alone.

// A policy has one owner: the first LambdaResourcePolicy created on it,
// ties broken by namespace and name, whoever asks; a LambdaPermission
// finds the owner of the policy it is on, with the operator's region
// filled in for a bare function name.
func TestPolicyOwner(t *testing.T) {
	cluster := &fakeCluster{policies: []lambdav1alpha1.LambdaResourcePolicy{
		lrp("team-b", "later", "orders", 5, nil),
		lrp("team-b", "tie", "orders", 1, nil),
		lrp("team-a", "tie", "orders", 1, nil),
		lrp("team-a", "alias", "orders", 0, func(p *lambdav1alpha1.LambdaResourcePolicy) { p.Spec.Qualifier = "live" }),
		lrp("team-a", "elsewhere", "orders", 0, func(p *lambdav1alpha1.LambdaResourcePolicy) { p.Spec.Region = "eu-west-1" }),
	}}
	e := newTestEngine(cluster, callerOnly{account: own}, Settings{})
	for _, tt := range []struct {
		name      string
		on        lambdav1alpha1.LambdaPermission
		wantOwner string // namespace/name, "" for none
	}{
		{"the first created; a tie goes to the first namespace", lp("app", "x", "orders", 9, nil), "team-a/tie"},
		{"the ARN in the default region is the same policy", lp("app", "x", "arn:aws:lambda:us-east-2:"+own+":function:orders", 9, nil), "team-a/tie"},
		{"an alias is a policy of its own", lp("app", "x", "orders:live", 9, nil), "team-a/alias"},
		{"another region is another policy", lp("app", "x", "orders", 9, func(p *lambdav1alpha1.LambdaPermission) { p.Spec.Region = "eu-west-1" }), "team-a/elsewhere"},
		{"a function nobody owns", lp("app", "x", "billing", 9, nil), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			owner, err := e.ownerOf(context.Background(), &tt.on)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if owner != nil {
				got = owner.Namespace + "/" + owner.Name
			}
			if got != tt.wantOwner {
				t.Errorf("owner %q, want %q", got, tt.wantOwner)
			}
		})
	}
}

// Two LambdaPermissions naming one Sid on one policy: the first created
// keeps it, and every later one is told who has it.
func TestClaimOwner(t *testing.T) {
	withSid := func(sid string) func(*lambdav1alpha1.LambdaPermission) {
		return func(p *lambdav1alpha1.LambdaPermission) { p.Spec.StatementID = sid }
	}
	first := lp("team-a", "first", "orders", 0, withSid("s3"))
	second := lp("team-b", "second", "orders", 3, withSid("s3"))
	otherSid := lp("team-b", "other", "orders", 1, withSid("sns"))
	onAlias := lp("team-b", "alias", "orders:live", 1, withSid("s3"))
	e := newTestEngine(&fakeCluster{permissions: []lambdav1alpha1.LambdaPermission{second, first, otherSid, onAlias}}, callerOnly{account: own}, Settings{})
	for _, tt := range []struct {
		obj  lambdav1alpha1.LambdaPermission
		want string // the other object that has the statement, "" when obj has it
	}{
		{first, ""}, {second, "team-a/first"}, {otherSid, ""}, {onAlias, ""},
	} {
		owner, err := e.claimOwner(context.Background(), &tt.obj)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if owner != nil {
			got = owner.Namespace + "/" + owner.Name
		}
		if got != tt.want {
			t.Errorf("%s/%s: claimed by %q, want %q", tt.obj.Namespace, tt.obj.Name, got, tt.want)
		}
	}
}

// The Sids an owner keeps for the LambdaPermissions it includes: each
// object's Sid from the moment it exists (derived with the operator's
// prefix when it names none), the Sid its status records, and the Sid it
// wrote on this policy before its spec moved; nothing of an object whose
// namespace may not grant on the function, or that is on another policy,
// and nothing at all when the owner includes none.
func TestIncludedSids(t *testing.T) {
	statementOn := func(function, sid string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-2:` + other + `:function:` + function + `"}`
	}
	permissions := []lambdav1alpha1.LambdaPermission{
		lp("payments", "named", "payments-api", 0, func(p *lambdav1alpha1.LambdaPermission) { p.Spec.StatementID = "named" }),
		lp("payments", "derived", "payments-api", 0, nil),
		lp("payments", "moved", "payments-api", 0, func(p *lambdav1alpha1.LambdaPermission) {
			p.Spec.StatementID, p.Status.StatementID, p.Status.Statement = "moved-new", "moved-old", statementOn("payments-api", "moved-old")
		}),
		lp("payments", "came-from-elsewhere", "payments-api", 0, func(p *lambdav1alpha1.LambdaPermission) {
			p.Spec.StatementID, p.Status.Statement = "here", statementOn("payments-batch", "there")
		}),
		lp("web", "not-allowed", "payments-api", 0, func(p *lambdav1alpha1.LambdaPermission) { p.Spec.StatementID = "web" }),
		lp("gone", "namespace-gone", "payments-api", 0, func(p *lambdav1alpha1.LambdaPermission) { p.Spec.StatementID = "orphan" }),
		lp("payments", "other-function", "payments-batch", 0, func(p *lambdav1alpha1.LambdaPermission) { p.Spec.StatementID = "batch" }),
	}
	defaultAccount := testAccount("pay", other, func(s *lambdav1alpha1.LambdaPermissionAccountSpec) { s.Default = true })
	cluster := &fakeCluster{
		accounts:    []lambdav1alpha1.LambdaPermissionAccount{defaultAccount},
		namespaces:  map[string]map[string]string{"payments": payments, "web": {"team": "web"}},
		permissions: permissions,
	}
	e := newTestEngine(cluster, callerOnly{account: own}, Settings{StatementIDPrefix: "east-"})
	for _, tt := range []struct {
		name  string
		owner lambdav1alpha1.LambdaResourcePolicy
		want  []string
	}{
		{"included", lrp("payments", "owner", "payments-api", 0, nil),
			[]string{"east-payments_derived", "here", "moved-new", "moved-old", "named"}},
		{"includePermissions false", lrp("payments", "owner", "payments-api", 0, func(p *lambdav1alpha1.LambdaResourcePolicy) {
			p.Spec.IncludePermissions = ptr.To(false)
		}), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sids, err := e.includedSids(context.Background(), &tt.owner, own)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(sids)); !slices.Equal(got, tt.want) {
				t.Errorf("included %v, want %v", got, tt.want)
			}
		})
	}
}

// Shards: a shard sees only its own LambdaPermissions, and every
// LambdaResourcePolicy. A LambdaPermission on a policy that another
// shard's LambdaResourcePolicy owns is refused before any write, since
// that owner cannot include it and would take its statement out; in the
// owner's shard, or without shards, it is included and written whole.
func TestShardOfThePolicyOwner(t *testing.T) {
	inShard := func(shard string) func(*lambdav1alpha1.LambdaResourcePolicy) {
		return func(p *lambdav1alpha1.LambdaResourcePolicy) {
			p.Labels = map[string]string{lambdav1alpha1.ShardLabel: shard}
		}
	}
	arn := func(function string) string { return "arn:aws:lambda:us-east-2:" + own + ":function:" + function }
	cluster := &fakeCluster{
		namespaces: map[string]map[string]string{"web": {"team": "web"}},
		policies:   []lambdav1alpha1.LambdaResourcePolicy{lrp("web", "owner", arn("orders"), 0, inShard("a"))},
	}
	shard := func(selector string) labels.Selector {
		s, err := labels.Parse(selector)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tt := range []struct {
		name       string
		shard      labels.Selector
		function   string
		wantReason string // "" when written, whole
	}{
		{"no shards", nil, "orders", ""},
		{"the owner's shard", shard(lambdav1alpha1.ShardLabel + "=a"), "orders", ""},
		{"another shard", shard(lambdav1alpha1.ShardLabel + "=b"), "orders", lambdav1alpha1.ReasonExcludedByPolicyOwner},
		{"the main instance beside shards", shard("!" + lambdav1alpha1.ShardLabel), "orders", lambdav1alpha1.ReasonExcludedByPolicyOwner},
		{"another shard, a function nobody owns", shard(lambdav1alpha1.ShardLabel + "=b"), "billing", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(cluster, callerOnly{account: own}, Settings{Shard: tt.shard})
			obj := lp("web", "grant", arn(tt.function), 1, nil)
			want, err := e.DesiredStatement(context.Background(), &obj)
			state := kernel.StateOf(err)
			switch {
			case tt.wantReason == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantReason == "" && tt.function == "orders" && want.Strategy != writer.Document:
				t.Errorf("strategy %s on an owned policy, want Document", want.Strategy)
			case tt.wantReason != "" && (state == nil || state.Reason != tt.wantReason || !kernel.IsStalled(err)):
				t.Fatalf("got %v, want Stalled %s", err, tt.wantReason)
			case tt.wantReason != "" && !strings.Contains(state.Message, lambdav1alpha1.ShardLabel):
				t.Errorf("the refusal does not say which label to set: %s", state.Message)
			}
		})
	}
}
