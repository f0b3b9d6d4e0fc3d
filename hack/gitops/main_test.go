//go:build integration && gitops

package gitops

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

const (
	region  = "us-east-2"
	account = "123456789012"
	// syncPeriod is the operator's: how soon it heals a statement someone
	// removed through the Lambda API.
	syncPeriod = 5 * time.Second
	// partnerAccount is a second AWS account, which the operator reaches
	// through roleIn(partnerAccount) once a LambdaPermissionAccount declares
	// it. The Argo CD ordering scenarios each use an account of their own.
	partnerAccount   = "210987654321"
	orderedAccount   = "345678901234"
	unorderedAccount = "456789012345"
	lateAccount      = "567890123456"
)

// roleIn is the role the operator assumes to act in account id.
func roleIn(id string) string { return "arn:aws:iam::" + id + ":role/lambda-permission-operator" }

// What every engine's scenarios share: a control plane with the project's
// CRDs, the Lambda emulator, the operator, and a Git server.
var (
	ctx   = context.Background()
	suite *harness.Suite
	kube  client.Client
)

func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "gitops", Region: region, Account: account, InstallCRDs: true, Emulator: true,
		Roles: []emulator.Role{{ARN: roleIn(partnerAccount), TrustedAccounts: []string{account}},
			{ARN: roleIn(orderedAccount), TrustedAccounts: []string{account}}, {ARN: roleIn(unorderedAccount), TrustedAccounts: []string{account}},
			{ARN: roleIn(lateAccount), TrustedAccounts: []string{account}}},
		VerboseEnv: "GITOPS_OPERATOR_LOG"}, setUp)
}

func setUp(s *harness.Suite) error {
	suite, kube = s, s.Client
	lambdaAPI := harness.OperatorLambda(s.AWS, awslambda.Limits{GetPolicy: 100, ControlPlane: 100, GetFunction: 100})
	_, err := s.StartOperator(ctx, controllers.Options{Lambda: lambdaAPI, DefaultRegion: region, SyncPeriod: syncPeriod, MaxConcurrentReconciles: 4})
	return err
}

// say prints a line of the transcript: what the run did and saw.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// createFunctionIn creates a function in another account, as its owners
// would, with their own credentials, and returns its ARN.
func createFunctionIn(t *testing.T, id, name string) string {
	t.Helper()
	key, secret := suite.Emulator.AccessKeyFor(id)
	partner := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(suite.EmulatorURL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), Retryer: aws.NopRetryer{}})
	if _, err := partner.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Handler: aws.String("index.handler"), Role: aws.String("arn:aws:iam::" + id + ":role/fn"), Code: &types.FunctionCode{ZipFile: []byte("code")}}); err != nil {
		t.Fatalf("CreateFunction %s in %s: %v", name, id, err)
	}
	return "arn:aws:lambda:" + region + ":" + id + ":function:" + name
}

// createFunction creates a function with a statement the engines and the
// operator must leave as it is, and returns that statement's text.
func createFunction(t *testing.T, name string) string {
	t.Helper()
	if _, err := suite.Outside.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Handler: aws.String("index.handler"), Role: aws.String("arn:aws:iam::" + account + ":role/fn"), Code: &types.FunctionCode{ZipFile: []byte("code")}}); err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	out, err := suite.Outside.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("terraform-events"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"),
		SourceArn: aws.String("arn:aws:events:" + region + ":" + account + ":rule/nightly")})
	if err != nil {
		t.Fatalf("AddPermission outside on %s: %v", name, err)
	}
	return aws.ToString(out.Statement)
}
