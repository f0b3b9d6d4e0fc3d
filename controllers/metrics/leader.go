package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var leader = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "lambda_permission_leader",
	Help: "1 on the replica that leads its instance, 0 on the replicas that wait for its leader election Lease, by shard (the instance's --watch-selector; empty for the instance of all objects).",
}, []string{"shard"})

func init() { ctrlmetrics.Registry.MustRegister(leader) }

// Leadership reports this replica of the instance for shard in
// lambda_permission_leader: waiting (0) until elected is closed, then
// leading (1) for as long as the process lives (a replica that loses the
// Lease exits). It runs on every replica, leader or not.
type Leadership struct {
	Shard   string
	Elected <-chan struct{}
}

// Start reports the replica until ctx ends.
func (l Leadership) Start(ctx context.Context) error {
	leader.WithLabelValues(l.Shard).Set(0)
	select {
	case <-l.Elected:
		leader.WithLabelValues(l.Shard).Set(1)
	case <-ctx.Done():
	}
	return nil
}

// NeedLeaderElection is false: the replicas that wait report it too.
func (Leadership) NeedLeaderElection() bool { return false }
