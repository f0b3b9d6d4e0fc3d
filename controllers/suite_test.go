//go:build integration

package controllers_test

import (
	"context"
	"time"

	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

const (
	region     = "us-east-2"
	account    = "123456789012"
	syncPeriod = 5 * time.Second
)

// The suite runs the real controller in a manager against a real
// kube-apiserver and etcd (envtest) and the project's Lambda emulator over
// HTTP, reached through the SDK's standard configuration.
var (
	ctx       = context.Background()
	suite     *harness.Suite
	k8s       client.Client // reads straight from the API server, not a cache: a test sees what is stored now
	emu       *emulator.Server
	awsConfig aws.Config     // the operator's: its own account, through the emulator
	outside   *lambda.Client // another writer to the same policies: the console, Terraform, a colleague
	lambdaAPI *racingLambda  // what the controller calls; a test can run another writer just before a call

	// suiteObjects selects the objects of the suite's operator, not those
	// of the tests' other operators (startOperator).
	suiteObjects labels.Selector
	// suiteQueue knows which keys' changes wait for a policy write in the
	// suite's operator: a test waits for its own, whatever other tests'
	// objects do meanwhile.
	suiteQueue *changeQueue
)

// managerLabel sends an object to a test's own manager instead of the suite's.
const managerLabel = "test.permissions.dev/manager"

// TestMain starts the suite's operator. TEST_VERBOSE_OPERATOR=1 shows its
// whole log; otherwise it logs only errors.
func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "controllers", Region: region, Account: account, InstallCRDs: true, Emulator: true}, startSuiteOperator)
}

func startSuiteOperator(s *harness.Suite) error {
	suite, k8s, emu, awsConfig, outside = s, s.Client, s.Emulator, s.AWS, s.Outside
	// Objects labelled for another manager (see startOperator) are not this one's.
	var err error
	if suiteObjects, err = labels.Parse(managerLabel + " notin (admission,admission-crash,dry-run,document,multi-cluster,prefix-change,url-prefix,shards,compaction)"); err != nil {
		return err
	}
	// The operator's retryer and instrumentation, as main.go sets them;
	// limits above the tests' pace.
	lambdaAPI = &racingLambda{clients: harness.OperatorLambda(s.AWS, awslambda.Limits{GetPolicy: 200, ControlPlane: 200, GetFunction: 200})}
	// It runs as a shard would: the other managers' LambdaResourcePolicies
	// and accounts are not its to reconcile either.
	suiteQueue = &changeQueue{waiting: map[engine.WriteKey]bool{}}
	_, err = s.StartOperator(ctx, controllers.Options{Lambda: lambdaAPI, DefaultRegion: region, SyncPeriod: syncPeriod, MaxConcurrentReconciles: 4,
		OnQueued: suiteQueue.told},
		harness.Shard(suiteObjects))
	return err
}
