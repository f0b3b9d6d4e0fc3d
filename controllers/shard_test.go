package controllers

import (
	"maps"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

func mustParseShard(t *testing.T, selector string) labels.Selector {
	t.Helper()
	shard, err := ParseShard(selector)
	if err != nil {
		t.Fatal(err)
	}
	return shard
}

// --watch-label-selector: empty is every object; what labels.Parse refuses
// is refused.
func TestParseShard(t *testing.T) {
	for _, empty := range []string{"", "  "} {
		if shard, err := ParseShard(empty); shard != nil || err != nil {
			t.Errorf("ParseShard(%q) = %v, %v; want nil, nil", empty, shard, err)
		}
	}
	for _, bad := range []string{lambdav1alpha1.ShardLabel + "=(a", "=a", lambdav1alpha1.ShardLabel + " in a", "Shard Key=a"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted it", bad)
		}
	}
	shard := mustParseShard(t, lambdav1alpha1.ShardLabel+"=a")
	if !shard.Matches(labels.Set{lambdav1alpha1.ShardLabel: "a"}) || shard.Matches(labels.Set{}) {
		t.Errorf("%s selects the wrong objects", shard)
	}
}

// One lease per selector: the one the operator always had without shards,
// the same for the same selector however it is written, another for
// another; each a valid Lease name.
func TestLeaderElectionID(t *testing.T) {
	if got := LeaderElectionID(nil); got != "lambda-permission-operator.permissions.dev" {
		t.Errorf("without a shard the lease is %q: an upgrade would run two leaders", got)
	}
	a := LeaderElectionID(mustParseShard(t, lambdav1alpha1.ShardLabel+"=a"))
	if again := LeaderElectionID(mustParseShard(t, " "+lambdav1alpha1.ShardLabel+" = a ")); again != a {
		t.Errorf("one selector, two leases: %q and %q", a, again)
	}
	ids := map[string]bool{LeaderElectionID(nil): true}
	for _, selector := range []string{lambdav1alpha1.ShardLabel + "=a", lambdav1alpha1.ShardLabel + "=b", "!" + lambdav1alpha1.ShardLabel} {
		id := LeaderElectionID(mustParseShard(t, selector))
		if ids[id] {
			t.Errorf("%s shares lease %q with another selector", selector, id)
		}
		ids[id] = true
		if errs := validation.IsDNS1123Subdomain(id); len(errs) > 0 {
			t.Errorf("lease %q of %s: %v", id, selector, errs)
		}
	}
}

// A function URL grant's LambdaPermissions take from the grant the labels
// the shard's selector reads, and only those.
func TestFollowShard(t *testing.T) {
	grant := func(labels map[string]string) *metav1.ObjectMeta { return &metav1.ObjectMeta{Labels: labels} }
	for _, tt := range []struct {
		name     string
		selector string
		from     map[string]string
		to, want map[string]string
	}{
		{"no shard: nothing", "", map[string]string{lambdav1alpha1.ShardLabel: "a"}, nil, nil},
		{"a shard's label", lambdav1alpha1.ShardLabel + "=a", map[string]string{lambdav1alpha1.ShardLabel: "a", "team": "web"},
			map[string]string{"own": "x"}, map[string]string{lambdav1alpha1.ShardLabel: "a", "own": "x"}},
		{"the main instance: the label goes", "!" + lambdav1alpha1.ShardLabel, map[string]string{"team": "web"},
			map[string]string{lambdav1alpha1.ShardLabel: "a", "own": "x"}, map[string]string{"own": "x"}},
		{"every key the selector reads", "tier in (gold),team=web", map[string]string{"tier": "gold", "team": "web", "other": "y"},
			nil, map[string]string{"tier": "gold", "team": "web"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			to := grant(maps.Clone(tt.to))
			followShard(mustParseShard(t, tt.selector), grant(tt.from), to)
			if !maps.Equal(to.Labels, tt.want) {
				t.Errorf("labels %v, want %v", to.Labels, tt.want)
			}
			if shard := mustParseShard(t, tt.selector); shard != nil && shard.Matches(labels.Set(tt.from)) != shard.Matches(labels.Set(to.Labels)) {
				t.Errorf("the grant and its LambdaPermission are in different shards")
			}
		})
	}
}
