package emulator

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestStandardSDKConfiguration: the emulator works through the standard
// configuration path (AWS_ENDPOINT_URL_LAMBDA and env credentials).
func TestStandardSDKConfiguration(t *testing.T) {
	srv := httptest.NewServer(New(Config{Region: "eu-west-1", AccountID: "210987654321"}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_REGION", "eu-west-1")
	// Keep the developer's own AWS setup out of the test.
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := lambda.NewFromConfig(cfg)
	if _, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("env-fn"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: []byte("zip")},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("env-fn"), StatementId: aws.String("s"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com"),
	}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("env-fn")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},` +
		`"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:env-fn"}]}`
	if got := aws.ToString(out.Policy); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}
