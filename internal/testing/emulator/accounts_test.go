package emulator

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
	keyA     = "AKIAACCOUNTAAAAAAAAA"
	keyB     = "AKIAACCOUNTBBBBBBBBB"
)

// twoAccounts: keyA acts in accountA, keyB in accountB, any other key in
// testAccount.
func twoAccounts(t *testing.T, cfg Config) *harness {
	cfg.AccessKeys = map[string]string{keyA: accountA, keyB: accountB}
	return newHarness(t, cfg)
}

func staticCreds(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}

// lambdaAs is a Lambda client signing with creds.
func (h *harness) lambdaAs(creds aws.CredentialsProvider) *lambda.Client {
	return lambda.New(lambda.Options{
		Region: h.emu.cfg.Region, BaseEndpoint: aws.String(h.url), Credentials: creds, Retryer: aws.NopRetryer{},
	})
}

// stsAs is an STS client signing with creds, on the same server.
func (h *harness) stsAs(creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region: h.emu.cfg.Region, BaseEndpoint: aws.String(h.url), Credentials: creds, Retryer: aws.NopRetryer{},
	})
}

func createFunctionWith(t *testing.T, ctx context.Context, c *lambda.Client, name string) *lambda.CreateFunctionOutput {
	t.Helper()
	out, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: []byte("zip")},
	})
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	return out
}

func accessDenied(callerARN, action, resource string) string {
	return "User: " + callerARN + " is not authorized to perform: " + action + " on resource: " + resource +
		" because no resource-based policy allows the " + action + " action"
}

// TestAccountsKeptApart: the same function name in two accounts holds two
// independent functions and policies; bare names resolve in the caller's
// account, its own ARN works, and an unmapped key acts in the default one.
func TestAccountsKeptApart(t *testing.T) {
	h := twoAccounts(t, Config{})
	a, b := h.lambdaAs(staticCreds(keyA, "x", "")), h.lambdaAs(staticCreds(keyB, "x", ""))
	arnA, arnB := "arn:aws:lambda:us-east-2:"+accountA+":function:f", "arn:aws:lambda:us-east-2:"+accountB+":function:f"

	if got := aws.ToString(createFunctionWith(t, h.ctx, a, "f").FunctionArn); got != arnA {
		t.Errorf("A's FunctionArn %s", got)
	}
	if got := aws.ToString(createFunctionWith(t, h.ctx, b, "f").FunctionArn); got != arnB {
		t.Errorf("B's FunctionArn %s", got)
	}
	_, err := a.CreateFunction(h.ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("f"), Role: aws.String(testRole), Code: &types.FunctionCode{}})
	assertAPIError(t, err, codeResourceConflict, "Function already exist: f")

	if _, err := a.AddPermission(h.ctx, s3Permission("f", "", "only-a")); err != nil {
		t.Fatal(err)
	}
	// B uses its own full ARN, which is allowed.
	if _, err := b.AddPermission(h.ctx, s3Permission(arnB, "", "only-b")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client   *lambda.Client
		name     string
		sid, arn string
	}{{a, "f", "only-a", arnA}, {a, arnA, "only-a", arnA}, {b, "f", "only-b", arnB}, {b, accountB + ":function:f", "only-b", arnB}} {
		out, err := tc.client.GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String(tc.name)})
		if err != nil {
			t.Fatalf("GetPolicy(%s): %v", tc.name, err)
		}
		want := `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"` + tc.sid + `","Effect":"Allow",` +
			`"Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + tc.arn + `"}]}`
		if got := aws.ToString(out.Policy); got != want {
			t.Errorf("GetPolicy(%s)\n got: %s\nwant: %s", tc.name, got, want)
		}
		if stored, _, _ := h.emu.Policy(tc.arn, ""); stored != want {
			t.Errorf("Policy(%s) = %s", tc.arn, stored)
		}
	}
	// The same Sid can be added in the other account.
	if _, err := b.AddPermission(h.ctx, s3Permission("f", "", "only-a")); err != nil {
		t.Fatal(err)
	}

	// The default account (unmapped key) has no "f"; Policy's bare names
	// resolve there too.
	_, err = h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
	assertAPIError(t, err, codeResourceNotFound, "Function not found: arn:aws:lambda:us-east-2:"+testAccount+":function:f")
	if _, _, ok := h.emu.Policy("f", ""); ok {
		t.Error("Policy(f) found a policy in the default account")
	}

	// Deleting A's function leaves B's.
	if _, err := a.DeleteFunction(h.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := h.emu.Policy(arnA, ""); ok {
		t.Error("A's policy survived DeleteFunction")
	}
	if _, _, ok := h.emu.Policy(arnB, ""); !ok {
		t.Error("B's policy went with A's function")
	}
}

// TestCrossAccountAccessDenied: an ARN naming another account than the
// caller's is refused by IAM on every operation, even when the function
// exists there; the resource is qualified when a qualifier applies.
func TestCrossAccountAccessDenied(t *testing.T) {
	h := twoAccounts(t, Config{})
	a, b := h.lambdaAs(staticCreds(keyA, "x", "")), h.lambdaAs(staticCreds(keyB, "x", ""))
	createFunctionWith(t, h.ctx, b, "f")
	if _, err := b.AddPermission(h.ctx, s3Permission("f", "", "s3")); err != nil {
		t.Fatal(err)
	}
	userA := "arn:aws:iam::" + accountA + ":user/emulator"
	fnB := "arn:aws:lambda:us-east-2:" + accountB + ":function:f"
	tests := []struct {
		name, action, resource string
		call                   func(context.Context, *lambda.Client) error
	}{
		{"AddPermission full ARN", "lambda:AddPermission", fnB, add(fnB, "", "x")},
		{"AddPermission partial ARN", "lambda:AddPermission", fnB, add(accountB+":function:f", "", "x")},
		{"AddPermission with qualifier", "lambda:AddPermission", fnB + ":live", add(fnB, "live", "x")},
		{"GetPolicy qualified ARN", "lambda:GetPolicy", fnB + ":1", getPolicy(fnB+":1", "")},
		{"RemovePermission", "lambda:RemovePermission", fnB, remove(fnB, "", "s3")},
		{"GetFunction", "lambda:GetFunction", fnB, func(ctx context.Context, c *lambda.Client) error {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnB)})
			return err
		}},
		{"CreateFunction", "lambda:CreateFunction", "arn:aws:lambda:us-east-2:" + accountB + ":function:g", func(ctx context.Context, c *lambda.Client) error {
			_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
				FunctionName: aws.String("arn:aws:lambda:us-east-2:" + accountB + ":function:g"), Role: aws.String(testRole), Code: &types.FunctionCode{},
			})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, revision, _ := h.emu.Policy(fnB, "")
			assertAPIError(t, tt.call(h.ctx, a), codeAccessDenied, accessDenied(userA, tt.action, tt.resource))
			if after, revisionAfter, _ := h.emu.Policy(fnB, ""); after != before || revisionAfter != revision {
				t.Error("a refused call changed B's policy")
			}
		})
	}

	// The wire format: 403, X-Amzn-ErrorType, {"Message":...}.
	req, _ := http.NewRequest(http.MethodGet, h.url+"/2015-03-31/functions/"+strings.ReplaceAll(fnB, ":", "%3A")+"/policy", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyA+"/20260101/us-east-2/lambda/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	wantBody := `{"Message":"` + accessDenied(userA, "lambda:GetPolicy", fnB) + `"}`
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != codeAccessDenied || string(body) != wantBody {
		t.Errorf("got %d %q %s\nwant 403 %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, codeAccessDenied, wantBody)
	}
	// A foreign region is still reported before the account.
	err = add("arn:aws:lambda:us-west-2:"+accountB+":function:f", "", "x")(h.ctx, a)
	assertAPIError(t, err, codeResourceNotFound, "Functions from 'us-west-2' are not reachable in this region ('us-east-2')")
}

// TestStatsByAccount: totals stay as before; ByAccount splits calls and
// errors, STS calls included, by the caller's account.
func TestStatsByAccount(t *testing.T) {
	h := twoAccounts(t, Config{Roles: []Role{{ARN: "arn:aws:iam::" + accountB + ":role/deployer"}}})
	a, b := h.lambdaAs(staticCreds(keyA, "x", "")), h.lambdaAs(staticCreds(keyB, "x", ""))
	createFunctionWith(t, h.ctx, a, "f")
	createFunctionWith(t, h.ctx, b, "f")
	_, _ = a.AddPermission(h.ctx, s3Permission("arn:aws:lambda:us-east-2:"+accountB+":function:f", "", "x")) // 403
	_, _ = b.GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String("f")})                         // 404
	_, _ = h.client.GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String("f")})                  // 404, default account
	stsA := h.stsAs(staticCreds(keyA, "x", ""))
	if _, err := stsA.GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	out, err := stsA.AssumeRole(h.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + accountB + ":role/deployer"), RoleSessionName: aws.String("s")})
	if err == nil {
		t.Fatalf("a one-character session name was accepted: %+v", out)
	}
	out, err = stsA.AssumeRole(h.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + accountB + ":role/deployer"), RoleSessionName: aws.String("ok")})
	if err != nil {
		t.Fatal(err)
	}
	// The session acts in B.
	session := h.lambdaAs(staticCreds(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)))
	if _, err := session.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}

	want := Stats{
		Calls: map[string]int{"CreateFunction": 2, "AddPermission": 1, "GetPolicy": 2, "GetFunction": 1, "GetCallerIdentity": 1, "AssumeRole": 2},
		Errors: map[string]map[string]int{
			"AddPermission": {codeAccessDenied: 1},
			"GetPolicy":     {codeResourceNotFound: 2},
			"AssumeRole":    {"ValidationError": 1},
		},
		ByAccount: map[string]AccountStats{
			accountA: {
				Calls:  map[string]int{"CreateFunction": 1, "AddPermission": 1, "GetCallerIdentity": 1, "AssumeRole": 2},
				Errors: map[string]map[string]int{"AddPermission": {codeAccessDenied: 1}, "AssumeRole": {"ValidationError": 1}},
			},
			accountB: {
				Calls:  map[string]int{"CreateFunction": 1, "GetPolicy": 1, "GetFunction": 1},
				Errors: map[string]map[string]int{"GetPolicy": {codeResourceNotFound: 1}},
			},
			testAccount: {
				Calls:  map[string]int{"GetPolicy": 1},
				Errors: map[string]map[string]int{"GetPolicy": {codeResourceNotFound: 1}},
			},
		},
	}
	if got := h.emu.Stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stats()\n got: %+v\nwant: %+v", got, want)
	}
	if got := fetchStats(t, h.url); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /_emulator/stats\n got: %+v\nwant: %+v", got, want)
	}
	h.emu.ResetStats()
	if got := h.emu.Stats(); len(got.ByAccount) != 0 {
		t.Errorf("ResetStats left %+v", got.ByAccount)
	}
}

// TestQuotasPerAccount: each account has its own token buckets (AWS's
// quotas are per account and region).
func TestQuotasPerAccount(t *testing.T) {
	h := twoAccounts(t, Config{Quotas: map[string]float64{BucketGetPolicy: 1}})
	a, b := h.lambdaAs(staticCreds(keyA, "x", "")), h.lambdaAs(staticCreds(keyB, "x", ""))
	get := func(c *lambda.Client) error {
		_, err := c.GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String("f")})
		return err
	}
	assertAPIError(t, get(a), codeResourceNotFound, msgResourceMissing)
	assertAPIError(t, get(a), codeTooManyRequests, "Rate exceeded")
	assertAPIError(t, get(b), codeResourceNotFound, msgResourceMissing)
}

// TestAccessKeyFor: configured keys are returned; other accounts get a new
// key that then acts in them.
func TestAccessKeyFor(t *testing.T) {
	h := twoAccounts(t, Config{})
	if key, _ := h.emu.AccessKeyFor(accountA); key != keyA {
		t.Errorf("AccessKeyFor(A) = %s, want %s", key, keyA)
	}
	key, secret := h.emu.AccessKeyFor("333333333333")
	if again, _ := h.emu.AccessKeyFor("333333333333"); again != key || len(key) != 20 || !strings.HasPrefix(key, "AKIA") || secret == "" {
		t.Errorf("AccessKeyFor(333333333333) = %s, %s; then %s", key, secret, again)
	}
	out, err := h.stsAs(staticCreds(key, secret, "")).GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "333333333333" || aws.ToString(out.Arn) != "arn:aws:iam::333333333333:user/emulator" {
		t.Errorf("GetCallerIdentity = %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
	defer func() {
		if recover() == nil {
			t.Error("AccessKeyFor(bad account) did not panic")
		}
	}()
	h.emu.AccessKeyFor("12345")
}

func TestConfigValidateAccounts(t *testing.T) {
	for _, cfg := range []Config{
		{AccessKeys: map[string]string{"K": "123"}},
		{AccessKeys: map[string]string{"": accountA}},
		{Roles: []Role{{ARN: "arn:aws:iam::123:role/x"}}},
		{Roles: []Role{{ARN: "arn:aws:iam::" + accountA + ":user/x"}}},
		{Roles: []Role{{ARN: "arn:aws:iam::" + accountA + ":role/x", TrustedAccounts: []string{"x"}}}},
		{Roles: []Role{{ARN: "arn:aws:iam::" + accountA + ":role/x", ExternalID: "x"}}},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", cfg)
		}
	}
	emu := New(Config{})
	if err := emu.AddRole(Role{ARN: "nope"}); err == nil {
		t.Error("AddRole accepted a malformed ARN")
	}
	if err := emu.AddRole(Role{ARN: "arn:aws:iam::" + accountA + ":role/path/to/x"}); err != nil {
		t.Error(err)
	}
	if err := (Config{Roles: []Role{{ARN: "arn:aws:iam::" + accountA + ":role/x", MaxSessionDuration: time.Minute}}}).Validate(); err == nil {
		t.Error("a MaxSessionDuration under 1h is valid")
	}
}
