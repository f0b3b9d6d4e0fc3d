package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	deployerRole = "arn:aws:iam::" + accountB + ":role/deployer"
	openRole     = "arn:aws:iam::" + accountB + ":role/ci/open" // no external id, any account
	deployerXID  = "ext-123"
)

// stsFixture: keyA in A, keyB in B, the default account testAccount, and
// two roles in B: deployer (external id, trusts A only) and open.
func stsFixture(t *testing.T, clock *fakeClock) *harness {
	cfg := Config{Roles: []Role{
		{ARN: deployerRole, ExternalID: deployerXID, TrustedAccounts: []string{accountA}},
		{ARN: openRole},
	}}
	if clock != nil {
		cfg.Now = clock.Now
	}
	return twoAccounts(t, cfg)
}

func assumeInput(role, session string, edit ...func(*sts.AssumeRoleInput)) *sts.AssumeRoleInput {
	in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String(session)}
	for _, e := range edit {
		e(in)
	}
	return in
}

func withExternalID(id string) func(*sts.AssumeRoleInput) {
	return func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String(id) }
}

func withDuration(seconds int32) func(*sts.AssumeRoleInput) {
	return func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(seconds) }
}

func sessionCreds(out *sts.AssumeRoleOutput) aws.CredentialsProvider {
	c := out.Credentials
	return staticCreds(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// assertSTSError checks an STS error as the SDK decodes it: none of these
// codes is modeled, so each is a smithy.GenericAPIError.
func assertSTSError(t *testing.T, err error, status int, code, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s %q, got success", code, message)
	}
	var apiErr *smithy.GenericAPIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *smithy.GenericAPIError, got %T: %v", err, err)
	}
	if apiErr.Code != code || apiErr.Message != message || httpStatus(err) != status {
		t.Fatalf("got %d %s %q\nwant %d %s %q", httpStatus(err), apiErr.Code, apiErr.Message, status, code, message)
	}
}

// TestAssumeRole: the returned credentials act in the role's account, as
// the assumed-role session.
func TestAssumeRole(t *testing.T) {
	clock := newFakeClock()
	h := stsFixture(t, clock)
	stsA := h.stsAs(staticCreds(keyA, "x", ""))

	who, err := stsA.GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != "arn:aws:iam::"+accountA+":user/emulator" || aws.ToString(who.Account) != accountA ||
		!regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`).MatchString(aws.ToString(who.UserId)) {
		t.Errorf("GetCallerIdentity(A) = %s %s %s", aws.ToString(who.Arn), aws.ToString(who.Account), aws.ToString(who.UserId))
	}

	out, err := stsA.AssumeRole(h.ctx, assumeInput(deployerRole, "operator@cluster", withExternalID(deployerXID)))
	if err != nil {
		t.Fatal(err)
	}
	sessionARN := "arn:aws:sts::" + accountB + ":assumed-role/deployer/operator@cluster"
	roleID := aws.ToString(out.AssumedRoleUser.AssumedRoleId)
	if aws.ToString(out.AssumedRoleUser.Arn) != sessionARN || !regexp.MustCompile(`^AROA[A-Z2-7]{17}:operator@cluster$`).MatchString(roleID) {
		t.Errorf("AssumedRoleUser = %s %s", aws.ToString(out.AssumedRoleUser.Arn), roleID)
	}
	creds := out.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(aws.ToString(creds.AccessKeyId)) ||
		len(aws.ToString(creds.SecretAccessKey)) != 40 || aws.ToString(creds.SessionToken) == "" {
		t.Errorf("Credentials = %+v", creds)
	}
	if want := clock.Now().Add(time.Hour); !aws.ToTime(creds.Expiration).Equal(want) {
		t.Errorf("Expiration = %v, want %v (default 3600 s)", aws.ToTime(creds.Expiration), want)
	}

	// Lambda calls with the session act in B, bare names included.
	session := h.lambdaAs(sessionCreds(out))
	if got := aws.ToString(createFunctionWith(t, h.ctx, session, "f").FunctionArn); got != "arn:aws:lambda:us-east-2:"+accountB+":function:f" {
		t.Errorf("FunctionArn = %s", got)
	}
	if _, err := session.AddPermission(h.ctx, s3Permission("f", "", "from-session")); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := h.emu.Policy("arn:aws:lambda:us-east-2:"+accountB+":function:f", ""); !ok {
		t.Error("the session's statement is not in B")
	}
	if _, err := h.lambdaAs(staticCreds(keyB, "x", "")).GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String("f")}); err != nil {
		t.Errorf("B's own key does not see the session's function: %v", err)
	}
	// ... and are refused elsewhere, naming the session.
	err = add("arn:aws:lambda:us-east-2:"+accountA+":function:f", "", "x")(h.ctx, session)
	assertAPIError(t, err, codeAccessDenied, accessDenied(sessionARN, "lambda:AddPermission", "arn:aws:lambda:us-east-2:"+accountA+":function:f"))

	who, err = h.stsAs(sessionCreds(out)).GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != sessionARN || aws.ToString(who.Account) != accountB || aws.ToString(who.UserId) != roleID {
		t.Errorf("GetCallerIdentity(session) = %s %s %s", aws.ToString(who.Arn), aws.ToString(who.Account), aws.ToString(who.UserId))
	}

	// Every AssumeRole issues new keys; DurationSeconds sets the expiry.
	again, err := stsA.AssumeRole(h.ctx, assumeInput(deployerRole, "operator@cluster", withExternalID(deployerXID), withDuration(900)))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(again.Credentials.AccessKeyId) == aws.ToString(creds.AccessKeyId) {
		t.Error("two AssumeRole calls returned the same access key id")
	}
	if want := clock.Now().Add(900 * time.Second); !aws.ToTime(again.Credentials.Expiration).Equal(want) {
		t.Errorf("Expiration = %v, want %v", aws.ToTime(again.Credentials.Expiration), want)
	}
	// A role without an external id ignores one; an open role trusts anyone.
	for _, key := range []string{keyA, keyB, "AKIDUNMAPPED"} {
		if _, err := h.stsAs(staticCreds(key, "x", "")).AssumeRole(h.ctx, assumeInput(openRole, "s1", withExternalID("whatever"))); err != nil {
			t.Errorf("open role as %s: %v", key, err)
		}
	}
}

// TestAssumeRoleErrors: trust-policy failures are AccessDenied (403);
// malformed input is ValidationError (400).
func TestAssumeRoleErrors(t *testing.T) {
	h := stsFixture(t, nil)
	userA := "arn:aws:iam::" + accountA + ":user/emulator"
	denied := func(user, role string) string {
		return "User: " + user + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	validation := func(value, member, constraint string) string { // one violation, without the count
		return "Value '" + value + "' at '" + member + "' failed to satisfy constraint: " + constraint
	}
	chained, err := h.stsAs(staticCreds(keyA, "x", "")).AssumeRole(h.ctx, assumeInput(openRole, "chain"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		creds  aws.CredentialsProvider
		in     *sts.AssumeRoleInput
		status int
		code   string
		msg    string
	}{
		{"wrong external id", nil, assumeInput(deployerRole, "s1", withExternalID("wrong")), 403, "AccessDenied", denied(userA, deployerRole)},
		{"missing external id", nil, assumeInput(deployerRole, "s1"), 403, "AccessDenied", denied(userA, deployerRole)},
		{"untrusted account", staticCreds(keyB, "x", ""), assumeInput(deployerRole, "s1", withExternalID(deployerXID)), 403, "AccessDenied",
			denied("arn:aws:iam::"+accountB+":user/emulator", deployerRole)},
		{"untrusted default account", staticCreds("AKIDUNMAPPED", "x", ""), assumeInput(deployerRole, "s1", withExternalID(deployerXID)), 403, "AccessDenied",
			denied("arn:aws:iam::"+testAccount+":user/emulator", deployerRole)},
		{"unknown role", nil, assumeInput("arn:aws:iam::"+accountB+":role/ghost", "s1"), 403, "AccessDenied", denied(userA, "arn:aws:iam::"+accountB+":role/ghost")},
		{"untrusted session", sessionCreds(chained), assumeInput(deployerRole, "s1", withExternalID(deployerXID)), 403, "AccessDenied",
			denied("arn:aws:sts::"+accountB+":assumed-role/open/chain", deployerRole)},
		{"invalid session name", nil, assumeInput(deployerRole, "bad name", withExternalID(deployerXID)), 400, "ValidationError",
			"1 validation error detected: " + validation("bad name", "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`)},
		{"session name too short", nil, assumeInput(deployerRole, "s"), 400, "ValidationError",
			"1 validation error detected: " + validation("s", "roleSessionName", "Member must have length greater than or equal to 2")},
		{"session name too long", nil, assumeInput(deployerRole, strings.Repeat("s", 65)), 400, "ValidationError",
			"1 validation error detected: " + validation(strings.Repeat("s", 65), "roleSessionName", "Member must have length less than or equal to 64")},
		{"duration too short", nil, assumeInput(openRole, "s1", withDuration(899)), 400, "ValidationError",
			"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"duration too long", nil, assumeInput(openRole, "s1", withDuration(43201)), 400, "ValidationError",
			"1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"two violations", nil, assumeInput(openRole, "a b", withDuration(1)), 400, "ValidationError",
			"2 validation errors detected: " + validation("a b", "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`) +
				"; Value '1' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"role ARN too short", nil, assumeInput("deployer", "s1"), 400, "ValidationError",
			"1 validation error detected: " + validation("deployer", "roleArn", "Member must have length greater than or equal to 20")},
		{"role ARN not an ARN", nil, assumeInput("role/deployer-in-account-b", "s1"), 400, "ValidationError", "Request ARN is invalid"},
		{"role chaining over 1h", sessionCreds(chained), assumeInput(openRole, "s1", withDuration(3601)), 400, "ValidationError",
			"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := tt.creds
			if creds == nil {
				creds = staticCreds(keyA, "x", "")
			}
			_, err := h.stsAs(creds).AssumeRole(h.ctx, tt.in)
			assertSTSError(t, err, tt.status, tt.code, tt.msg)
		})
	}

	// MaxSessionDuration caps DurationSeconds; the default 1h is fine.
	short := "arn:aws:iam::" + accountB + ":role/short"
	if err := h.emu.AddRole(Role{ARN: short, MaxSessionDuration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	stsA := h.stsAs(staticCreds(keyA, "x", ""))
	_, err = stsA.AssumeRole(h.ctx, assumeInput(short, "s1", withDuration(3601)))
	assertSTSError(t, err, 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	if _, err := stsA.AssumeRole(h.ctx, assumeInput(short, "s1")); err != nil {
		t.Error(err)
	}
}

// TestSTSWireFormat checks the XML the SDK hides: namespace, element names,
// RequestId, Content-Type and the error envelope.
func TestSTSWireFormat(t *testing.T) {
	h := stsFixture(t, nil)
	post := func(key string, form url.Values) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260101/us-east-2/sts/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	status, header, body := post(keyA, url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
	requestID := header.Get("X-Amzn-RequestId")
	want := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws:iam::` + accountA + `:user/emulator</Arn><UserId>` + uniqueID("AIDA", "user:"+accountA) + `</UserId><Account>` + accountA + `</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>` + requestID + `</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	if status != 200 || header.Get("Content-Type") != "text/xml" || body != want {
		t.Errorf("GetCallerIdentity: %d %s\n got: %s\nwant: %s", status, header.Get("Content-Type"), body, want)
	}

	status, header, body = post(keyA, url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
		"RoleArn": {openRole}, "RoleSessionName": {"wire"}, "DurationSeconds": {"900"}})
	shape := regexp.MustCompile(`^<AssumeRoleResponse xmlns="https://sts\.amazonaws\.com/doc/2011-06-15/"><AssumeRoleResult>` +
		`<AssumedRoleUser><Arn>arn:aws:sts::` + accountB + `:assumed-role/open/wire</Arn><AssumedRoleId>AROA[A-Z2-7]{17}:wire</AssumedRoleId></AssumedRoleUser>` +
		`<Credentials><AccessKeyId>ASIA[A-Z2-7]{16}</AccessKeyId><SecretAccessKey>[A-Za-z0-9+/]{40}</SecretAccessKey><SessionToken>[A-Za-z0-9+/]+</SessionToken>` +
		`<Expiration>2026-01-02T03:19:05Z</Expiration></Credentials></AssumeRoleResult>` +
		`<ResponseMetadata><RequestId>` + header.Get("X-Amzn-RequestId") + `</RequestId></ResponseMetadata></AssumeRoleResponse>$`)
	if status != 200 || !shape.MatchString(body) {
		t.Errorf("AssumeRole: %d\n%s", status, body)
	}

	status, header, body = post(keyA, url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
		"RoleArn": {deployerRole}, "RoleSessionName": {"wire"}})
	want = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
		`<Message>User: arn:aws:iam::` + accountA + `:user/emulator is not authorized to perform: sts:AssumeRole on resource: ` + deployerRole + `</Message>` +
		`</Error><RequestId>` + header.Get("X-Amzn-RequestId") + `</RequestId></ErrorResponse>`
	if status != 403 || header.Get("Content-Type") != "text/xml" || body != want {
		t.Errorf("AccessDenied: %d\n got: %s\nwant: %s", status, body, want)
	}

	status, _, body = post(keyA, url.Values{"Action": {"GetSessionToken"}, "Version": {"2011-06-15"}})
	if status != 400 || !strings.Contains(body, "<Code>InvalidAction</Code><Message>Could not find operation GetSessionToken for version 2011-06-15</Message>") {
		t.Errorf("unknown action: %d %s", status, body)
	}
	// Without an Action, "/" is not STS.
	status, header, _ = post(keyA, url.Values{})
	if status != 404 || header.Get("X-Amzn-ErrorType") != codeUnknownOperation {
		t.Errorf("empty POST /: %d %s", status, header.Get("X-Amzn-ErrorType"))
	}
}

// TestExpiredCredentials: session credentials expire at Expiration by
// Config.Now; Lambda then answers 403 ExpiredTokenException and STS 403
// ExpiredToken. A session key sent with another token is invalid.
func TestExpiredCredentials(t *testing.T) {
	clock := newFakeClock()
	h := stsFixture(t, clock)
	out, err := h.stsAs(staticCreds(keyA, "x", "")).AssumeRole(h.ctx, assumeInput(openRole, "short", withDuration(900)))
	if err != nil {
		t.Fatal(err)
	}
	session := h.lambdaAs(sessionCreds(out))
	createFunctionWith(t, h.ctx, session, "f")

	clock.Advance(899 * time.Second)
	if _, err := session.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err = session.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
	assertAPIError(t, err, codeExpiredToken, "The security token included in the request is expired")
	_, err = h.stsAs(sessionCreds(out)).GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{})
	assertSTSError(t, err, 403, "ExpiredToken", "The security token included in the request is expired")

	forged := h.lambdaAs(staticCreds(aws.ToString(out.Credentials.AccessKeyId), "x", "not-the-token"))
	_, err = forged.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
	assertAPIError(t, err, codeUnrecognizedClient, "The security token included in the request is invalid.")
	_, err = h.stsAs(staticCreds(aws.ToString(out.Credentials.AccessKeyId), "x", "")).GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{})
	assertSTSError(t, err, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")

	stats := h.emu.Stats().ByAccount[accountB]
	wantErrors := map[string]map[string]int{
		"GetFunction":       {codeExpiredToken: 1, codeUnrecognizedClient: 1},
		"GetCallerIdentity": {"ExpiredToken": 1, "InvalidClientTokenId": 1},
	}
	if stats.Calls["GetFunction"] != 3 || !equalErrors(stats.Errors, wantErrors) {
		t.Errorf("B's stats %+v", stats)
	}
}

func equalErrors(a, b map[string]map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for op, codes := range a {
		if len(codes) != len(b[op]) {
			return false
		}
		for code, n := range codes {
			if b[op][code] != n {
				return false
			}
		}
	}
	return true
}

// TestOperatorCredentialRefresh uses the SDK's assume-role provider and
// credentials cache exactly as an operator does. The cache decides expiry
// by the wall clock, so the fake clock starts 897 s in the past: the first
// credentials (900 s) expire 3 real seconds from now. Advancing the fake
// clock by 900 s makes the emulator refuse them; once the wall clock passes
// their Expiration the cache calls AssumeRole again, and the call works.
func TestOperatorCredentialRefresh(t *testing.T) {
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second).Add(-897 * time.Second)}
	h := stsFixture(t, clock)
	provider := stscreds.NewAssumeRoleProvider(h.stsAs(staticCreds(keyA, "x", "")), deployerRole, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "lambda-permission-operator"
		o.ExternalID = aws.String(deployerXID)
	})
	cache := aws.NewCredentialsCache(provider)
	operator := h.lambdaAs(cache)
	assumeRoleCalls := func() int { return h.emu.Stats().ByAccount[accountA].Calls["AssumeRole"] }

	createFunctionWith(t, h.ctx, operator, "f")
	if _, err := operator.AddPermission(h.ctx, s3Permission("f", "", "one")); err != nil {
		t.Fatal(err)
	}
	if n := assumeRoleCalls(); n != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1 (cached)", n)
	}
	first, err := cache.Retrieve(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wantExpiry := clock.Now().Add(900 * time.Second); !first.Expires.Equal(wantExpiry) || !first.CanExpire {
		t.Fatalf("first credentials expire %v, want %v", first.Expires, wantExpiry)
	}

	clock.Advance(900 * time.Second)
	_, err = h.lambdaAs(staticCreds(first.AccessKeyID, first.SecretAccessKey, first.SessionToken)).
		GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String("f")})
	assertAPIError(t, err, codeExpiredToken, "The security token included in the request is expired")

	time.Sleep(time.Until(first.Expires) + 50*time.Millisecond) // the cache's wall clock catches up
	out, err := operator.GetPolicy(h.ctx, &lambda.GetPolicyInput{FunctionName: aws.String("f")})
	if err != nil {
		t.Fatalf("after refresh: %v", err)
	}
	if sids(t, aws.ToString(out.Policy))[0] != "one" {
		t.Errorf("policy %s", aws.ToString(out.Policy))
	}
	if n := assumeRoleCalls(); n != 2 {
		t.Errorf("AssumeRole calls = %d, want 2", n)
	}
	second, err := cache.Retrieve(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessKeyID == first.AccessKeyID || !second.Expires.Equal(clock.Now().Add(900*time.Second)) {
		t.Errorf("second credentials %s expire %v", second.AccessKeyID, second.Expires)
	}
}

// TestStandardSDKConfigurationSTS: AWS_ENDPOINT_URL_STS and
// AWS_ENDPOINT_URL_LAMBDA point LoadDefaultConfig's clients at the server,
// and an assumed role acts in its account.
func TestStandardSDKConfigurationSTS(t *testing.T) {
	emu := New(Config{Region: "eu-west-1", AccessKeys: map[string]string{keyA: accountA}, Roles: []Role{{ARN: openRole}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", keyA)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_REGION", "eu-west-1")
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
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != accountA {
		t.Errorf("Account = %s", aws.ToString(who.Account))
	}
	roleCfg := cfg.Copy()
	roleCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), openRole))
	created, err := lambda.NewFromConfig(roleCfg).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("env-fn"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: []byte("zip")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(created.FunctionArn); got != "arn:aws:lambda:eu-west-1:"+accountB+":function:env-fn" {
		t.Errorf("FunctionArn = %s", got)
	}
}
