//go:build integration

package monitoring

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

const (
	region  = "us-east-2"
	account = "123456789012"
	// deniedRole is a role in another account that does not trust the
	// operator's: assuming it is AccessDenied.
	deniedAccount = "210987654321"
	deniedRole    = "arn:aws:iam::" + deniedAccount + ":role/lambda-permission-operator"
)

var (
	ctx   = context.Background()
	suite *harness.Suite
	kube  client.Client
)

func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "monitoring", Region: region, Account: account, InstallCRDs: true, Emulator: true, BuildManager: true,
		Roles: []emulator.Role{{ARN: deniedRole, TrustedAccounts: []string{"999999999999"}}}, Quiet: true}, func(s *harness.Suite) error {
		suite, kube = s, s.Client
		return nil
	})
}
