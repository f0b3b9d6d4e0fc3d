package metrics

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A replica reports 0 while it waits for the Lease and 1 once elected, in
// its shard's series only.
func TestLeadership(t *testing.T) {
	const shard = "lambda.permissions.dev/shard=a"
	elected := make(chan struct{})
	waiting, stop := context.WithCancel(context.Background())
	stop() // Start returns when ctx ends, having reported the wait
	if err := (Leadership{Shard: shard, Elected: elected}).Start(waiting); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(leader.WithLabelValues(shard)); got != 0 {
		t.Errorf("waiting for the Lease: %v, want 0", got)
	}
	close(elected)
	if err := (Leadership{Shard: shard, Elected: elected}).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(leader.WithLabelValues(shard)); got != 1 {
		t.Errorf("elected: %v, want 1", got)
	}
	if n := testutil.CollectAndCount(leader); n != 1 {
		t.Errorf("%d series, want only the shard's", n)
	}
	if (Leadership{}).NeedLeaderElection() {
		t.Error("Leadership waits for the election: it must not need it")
	}
}
