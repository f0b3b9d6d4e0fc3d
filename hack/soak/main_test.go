//go:build integration && soak

package soak

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

const (
	region  = "us-east-2"
	account = "123456789012"
	// syncPeriod is the operator's --sync-period: how often it re-reads
	// each statement, and so how soon it repairs a policy someone else
	// replaced. Short, so that the soak exercises drift repair all along.
	syncPeriod = 30 * time.Second
	// sidPrefix is the operator's --statement-id-prefix, and the start of
	// every Sid the soak's objects name themselves: every statement the
	// operator owns starts with it, and no foreign one does.
	sidPrefix = "soak-"
)

var (
	ctx   = context.Background()
	suite *harness.Suite
	kube  client.Client
)

// TestMain starts the control plane with the CRDs and the emulator. The
// operator is bin/manager, built by make soak (make manager), not rebuilt
// here.
func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "soak", Region: region, Account: account, InstallCRDs: true, Emulator: true, Quiet: true},
		func(s *harness.Suite) error {
			suite, kube = s, s.Client
			return nil
		})
}

// duration is how long the churn runs: SOAK (a Go duration), 3m when unset
// (make soak sets 30m).
func duration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("SOAK")
	if v == "" {
		return 3 * time.Minute
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		t.Fatalf("SOAK=%q: want a duration of a minute or more (30m, 3m)", v)
	}
	return d
}

// interval is how often the operator is sampled: every minute, or every
// tenth of the run when it is under ten minutes, so that a short run still
// has enough samples for a slope.
func interval(soak time.Duration) time.Duration {
	if soak < 10*time.Minute {
		return soak / 10
	}
	return time.Minute
}

// logf prints a line of the soak's report as it goes, without go test's
// file:line prefix, so that the table stays a table.
func logf(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}
