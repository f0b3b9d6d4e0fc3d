package emulator

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

const (
	fnARN = "arn:aws:lambda:us-east-2:123456789012:function:my-function"
	// The Qualifier pattern as AWS prints it (SPEC §2, §5).
	qualifierRegex = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
)

// errorFixture: my-function with version 1, alias "live" -> 1 and statement
// "s3" on $LATEST; empty-fn without any policy.
func errorFixture(t *testing.T, cfg Config) *harness {
	h := newHarness(t, cfg)
	h.createFunction("my-function")
	h.createAlias("my-function", "live", h.publishVersion("my-function"))
	h.allow("my-function", "", "s3")
	h.createFunction("empty-fn")
	return h
}

func add(name, qualifier, sid string, edit ...func(*lambda.AddPermissionInput)) func(context.Context, *lambda.Client) error {
	return func(ctx context.Context, c *lambda.Client) error {
		in := s3Permission(name, qualifier, sid)
		for _, e := range edit {
			e(in)
		}
		_, err := c.AddPermission(ctx, in)
		return err
	}
}

func remove(name, qualifier, sid string) func(context.Context, *lambda.Client) error {
	return func(ctx context.Context, c *lambda.Client) error {
		in := &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := c.RemovePermission(ctx, in)
		return err
	}
}

func getPolicy(name, qualifier string) func(context.Context, *lambda.Client) error {
	return func(ctx context.Context, c *lambda.Client) error {
		in := &lambda.GetPolicyInput{FunctionName: aws.String(name)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := c.GetPolicy(ctx, in)
		return err
	}
}

func withPrincipal(p string) func(*lambda.AddPermissionInput) {
	return func(in *lambda.AddPermissionInput) { in.Principal = aws.String(p) }
}

func validationMsg(value, member, constraint string) string {
	return "1 validation error detected: Value '" + value + "' at '" + member + "' failed to satisfy constraint: " + constraint
}

// TestErrors covers every error row of SPEC §5 through the SDK, except
// PublicPolicyException, which needs the emulator-only BlockPublicPolicy
// switch and has its own tests (publicpolicy_test.go, SPEC §16.8).
// PolicyLengthExceededException has its own test because its message
// carries the computed size.
func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		quotas  map[string]float64
		setup   func(h *harness)
		call    func(context.Context, *lambda.Client) error
		code    string
		message string
	}{
		// Request validation (ValidationException, unmodeled).
		{
			name: "Add: StatementId with a dot", call: add("my-function", "", "example.com"),
			code: codeValidation, message: validationMsg("example.com", "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"),
		},
		{
			name: "Add: bad Qualifier", call: add("my-function", "invalid-qualifier-with-?-char", "x"),
			code: codeValidation, message: validationMsg("invalid-qualifier-with-?-char", "qualifier", "Member must satisfy regular expression pattern: "+qualifierRegex),
		},
		{
			name: "Remove: bad Qualifier", call: remove("my-function", "invalid-qualifier-with-?-char", "s3"),
			code: codeValidation, message: validationMsg("invalid-qualifier-with-?-char", "qualifier", "Member must satisfy regular expression pattern: "+qualifierRegex),
		},
		{
			name: "GetPolicy: bad Qualifier", call: getPolicy("my-function", "invalid-qualifier-with-?-char"),
			code: codeValidation, message: validationMsg("invalid-qualifier-with-?-char", "qualifier", "Member must satisfy regular expression pattern: "+qualifierRegex),
		},
		{
			name: "Add: StatementId too long", call: add("my-function", "", strings.Repeat("a", 101)),
			code: codeValidation, message: validationMsg(strings.Repeat("a", 101), "statementId", "Member must have length less than or equal to 100"),
		},
		{
			name: "Add: Action fails the pattern", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.Action = aws.String("lambda:Invoke-Function") }),
			code: codeValidation, message: validationMsg("lambda:Invoke-Function", "action", "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"),
		},
		{
			name: "Add: Principal with whitespace", call: add("my-function", "", "x", withPrincipal("s3 .amazonaws.com")),
			code: codeValidation, message: validationMsg("s3 .amazonaws.com", "principal", `Member must satisfy regular expression pattern: [^\s]+`),
		},
		{
			name: "Add: SourceArn is not an ARN", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.SourceArn = aws.String("bucket") }),
			code: codeValidation, message: validationMsg("bucket", "sourceArn", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`),
		},
		{
			name: "Add: SourceAccount too short", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.SourceAccount = aws.String("12345") }),
			code: codeValidation, message: validationMsg("12345", "sourceAccount", `Member must satisfy regular expression pattern: \d{12}`),
		},
		{
			name: "Add: EventSourceToken with a slash", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.EventSourceToken = aws.String("a/b") }),
			code: codeValidation, message: validationMsg("a/b", "eventSourceToken", `Member must satisfy regular expression pattern: [a-zA-Z0-9._\-]+`),
		},
		{
			name: "Add: FunctionUrlAuthType outside the enum", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.FunctionUrlAuthType = "BOGUS" }),
			code: codeValidation, message: validationMsg("BOGUS", "functionUrlAuthType", "Member must satisfy enum value set: [NONE, AWS_IAM]"),
		},
		{
			name: "Add: PrincipalOrgID breaks pattern and length", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.PrincipalOrgID = aws.String("o-abc") }),
			code: codeValidation,
			message: "2 validation errors detected: " +
				"Value 'o-abc' at 'principalOrgID' failed to satisfy constraint: Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}; " +
				"Value 'o-abc' at 'principalOrgID' failed to satisfy constraint: Member must have length greater than or equal to 12",
		},
		{
			name: "Add: FunctionName fails the pattern", call: add("my!function", "", "x"),
			code: codeValidation, message: validationMsg("my!function", "functionName", `Member must satisfy regular expression pattern: `+namespacedFunctionNamePattern.text),
		},
		{
			name: "Add: several members", call: add("my-function", "bad?", "a.b"),
			code: codeValidation,
			message: "2 validation errors detected: " +
				"Value 'a.b' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+); " +
				"Value 'bad?' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: " + qualifierRegex,
		},
		// Qualifier checks (§4.2, §4.3).
		{
			name: "Add: name qualifier differs from Qualifier", call: add("my-function:1", "live", "x"),
			code: codeInvalidParameterValue, message: msgQualifierMismatch,
		},
		{
			name: "Add: $LATEST as Qualifier", call: add("my-function", "$LATEST", "x"),
			code: codeInvalidParameterValue, message: "We currently do not support adding policies for $LATEST.",
		},
		{
			name: "Add: $LATEST in the name", call: add("my-function:$LATEST", "", "x"),
			code: codeInvalidParameterValue, message: "We currently do not support adding policies for $LATEST.",
		},
		// Principal (§3.2).
		{
			name: "Add: bare amazonaws.com", call: add("my-function", "", "x", withPrincipal("amazonaws.com")),
			code: codeInvalidParameterValue, message: "The provided principal was invalid. Please check the principal and try again.",
		},
		{
			name: "Add: non-AWS domain", call: add("my-function", "", "x", withPrincipal("invalid.nonaws.com")),
			code: codeInvalidParameterValue, message: "The provided principal was invalid. Please check the principal and try again.",
		},
		{
			name: "Add: malformed IAM ARN", call: add("my-function", "", "x", withPrincipal("arn:aws:iam:000000000000:role/xxxx")),
			code:    codeInvalidParameterValue,
			message: `The provided input'arn:aws:iam:000000000000:role/xxxx'was invalid. Member must satisfy expression: [\w+=,.@-]* Please check your input and try again.`,
		},
		// Resolution (§4.4-4.7).
		{
			name: "Add: function missing", call: add("nope", "", "x"),
			code: codeResourceNotFound, message: "Function not found: arn:aws:lambda:us-east-2:123456789012:function:nope",
		},
		{
			name: "Add: version missing", call: add("my-function", "42", "x"),
			code: codeResourceNotFound, message: "Function not found: " + fnARN + ":42",
		},
		{
			name: "Add: alias missing", call: add("my-function", "ghost", "x"),
			code: codeResourceNotFound, message: "Cannot find alias arn: " + fnARN + ":ghost",
		},
		{
			name: "Add: qualifier that cannot be an alias", call: add("my-function", "valid-with-$-but-doesnotexist", "x"),
			code: codeResourceNotFound, message: "Function not found: " + fnARN + ":valid-with-$-but-doesnotexist",
		},
		{
			name: "Add: ARN from another region", call: add("arn:aws:lambda:us-west-2:123456789012:function:my-function", "", "x"),
			code: codeResourceNotFound, message: "Functions from 'us-west-2' are not reachable in this region ('us-east-2')",
		},
		{
			name: "Add: ARN from another account", call: add("arn:aws:lambda:us-east-2:999999999999:function:my-function", "", "x"),
			code: codeAccessDenied, message: "User: arn:aws:iam::123456789012:user/emulator is not authorized to perform: lambda:AddPermission" +
				" on resource: arn:aws:lambda:us-east-2:999999999999:function:my-function because no resource-based policy allows the lambda:AddPermission action",
		},
		{
			name: "Remove: alias missing", call: remove("my-function", "ghost", "s3"),
			code: codeResourceNotFound, message: "Cannot find alias arn: " + fnARN + ":ghost",
		},
		{
			name: "Remove: function missing", call: remove("nope", "", "s3"),
			code: codeResourceNotFound, message: "No policy found for: arn:aws:lambda:us-east-2:123456789012:function:nope",
		},
		{
			name: "Remove: function without policy", call: remove("empty-fn", "", "s3"),
			code: codeResourceNotFound, message: "No policy is associated with the given resource.",
		},
		{
			name: "Remove: Sid not in the policy", call: remove("my-function", "", "non-existent"),
			code: codeResourceNotFound, message: "Statement non-existent is not found in resource policy.",
		},
		{
			// The dot passes RemovePermission's NamespacedStatementId (§2).
			name: "Remove: dotted Sid passes validation", call: remove("my-function", "", "example.com"),
			code: codeResourceNotFound, message: "Statement example.com is not found in resource policy.",
		},
		{
			name: "GetPolicy: function without policy", call: getPolicy("empty-fn", ""),
			code: codeResourceNotFound, message: msgResourceMissing,
		},
		{
			name:  "GetPolicy: policy emptied",
			setup: func(h *harness) { mustSucceed(h.t, h.remove("my-function", "", "s3", "")) },
			call:  getPolicy("my-function", ""),
			code:  codeResourceNotFound, message: msgResourceMissing,
		},
		{
			name: "GetPolicy: version missing", call: getPolicy("my-function", "77"),
			code: codeResourceNotFound, message: msgResourceMissing,
		},
		{
			name: "GetPolicy: function missing", call: getPolicy("nope", ""),
			code: codeResourceNotFound, message: msgResourceMissing,
		},
		{
			name: "GetPolicy: alias missing", call: getPolicy("my-function", "ghost"),
			code: codeResourceNotFound, message: "Cannot find alias arn: " + fnARN + ":ghost",
		},
		// Conflicts and preconditions.
		{
			name: "Add: Sid already in the policy", call: add("my-function", "", "s3"),
			code: codeResourceConflict, message: "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.",
		},
		{
			name: "Add: stale RevisionId", call: add("my-function", "", "x", func(in *lambda.AddPermissionInput) { in.RevisionId = aws.String("stale") }),
			code: codePreconditionFailed, message: "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
		},
		{
			name: "Remove: stale RevisionId",
			call: func(ctx context.Context, c *lambda.Client) error {
				_, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{
					FunctionName: aws.String("my-function"), StatementId: aws.String("s3"), RevisionId: aws.String("stale"),
				})
				return err
			},
			code: codePreconditionFailed, message: "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
		},
		// Throttling (§8).
		{
			name:   "GetPolicy: throttled",
			quotas: map[string]float64{BucketGetPolicy: 1},
			call: func(ctx context.Context, c *lambda.Client) error {
				if err := getPolicy("my-function", "")(ctx, c); err != nil {
					return err
				}
				return getPolicy("my-function", "")(ctx, c)
			},
			code: codeTooManyRequests, message: "Rate exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := errorFixture(t, Config{Quotas: tt.quotas})
			if tt.setup != nil {
				tt.setup(h)
			}
			policyBefore, revisionBefore, _ := h.emu.Policy("my-function", "")
			assertAPIError(t, tt.call(h.ctx, h.client), tt.code, tt.message)
			if tt.setup == nil {
				policyAfter, revisionAfter, _ := h.emu.Policy("my-function", "")
				if policyAfter != policyBefore || revisionAfter != revisionBefore {
					t.Errorf("a failed call changed the policy")
				}
			}
		})
	}
}

func mustSucceed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPolicyLengthExceeded fills a policy with large statements until the
// next one would pass 20480 bytes (§8).
func TestPolicyLengthExceeded(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	bigArn := "arn:aws:s3:::" + strings.Repeat("b", 9000)
	withBigArn := func(in *lambda.AddPermissionInput) { in.SourceArn = aws.String(bigArn) }
	for _, sid := range []string{"big1", "big2"} {
		mustSucceed(t, add("my-function", "", sid, withBigArn)(h.ctx, h.client))
	}
	policyBefore, revisionBefore := h.mustPolicy("my-function", "")

	err := add("my-function", "", "big3", withBigArn)(h.ctx, h.client)
	third := `{"Sid":"big3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"` + fnARN + `","Condition":{"ArnLike":{"AWS:SourceArn":"` + bigArn + `"}}}`
	size := len(policyBefore) + len(",") + len(third)
	if size <= 20480 {
		t.Fatalf("test setup: size %d does not exceed the limit", size)
	}
	assertAPIError(t, err, codePolicyLengthExceeded,
		"The final policy size ("+strconv.Itoa(size)+") is bigger than the limit (20480).")

	policyAfter, revisionAfter := h.mustPolicy("my-function", "")
	if policyAfter != policyBefore || revisionAfter != revisionBefore {
		t.Error("a rejected statement was stored")
	}
	// A small statement still fits.
	h.allow("my-function", "", "small")
}

// TestErrorWireFormat checks what the SDK hides: status codes, the
// X-Amzn-ErrorType header and the body member casing (§5, §10.8). Rows run
// in order; GetPolicy is limited to one call so the last one is throttled.
func TestErrorWireFormat(t *testing.T) {
	h := errorFixture(t, Config{Quotas: map[string]float64{BucketGetPolicy: 1}})
	tests := []struct {
		name, method, path string
		body               string
		status             int
		header             map[string]string
		wantBody           string
	}{
		{
			name: "ValidationException", method: "POST", path: "/2015-03-31/functions/my-function/policy",
			body:   `{"StatementId":"a.b","Action":"lambda:InvokeFunction","Principal":"*"}`,
			status: 400, header: map[string]string{"X-Amzn-ErrorType": codeValidation},
			wantBody: `{"message":"` + `1 validation error detected: Value 'a.b' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"}`,
		},
		{
			name: "missing required members", method: "POST", path: "/2015-03-31/functions/my-function/policy",
			body:   `{}`,
			status: 400, header: map[string]string{"X-Amzn-ErrorType": codeValidation},
			wantBody: `{"message":"3 validation errors detected: Value null at 'statementId' failed to satisfy constraint: Member must not be null; ` +
				`Value null at 'action' failed to satisfy constraint: Member must not be null; ` +
				`Value null at 'principal' failed to satisfy constraint: Member must not be null"}`,
		},
		{
			name: "ResourceNotFoundException has a capital M", method: "DELETE", path: "/2015-03-31/functions/empty-fn/policy/x",
			status: 404, header: map[string]string{"X-Amzn-ErrorType": codeResourceNotFound},
			wantBody: `{"Type":"User","Message":"No policy is associated with the given resource."}`,
		},
		{
			name: "InvalidParameterValueException", method: "POST", path: "/2015-03-31/functions/my-function/policy?Qualifier=%24LATEST",
			body:   `{"StatementId":"x","Action":"lambda:InvokeFunction","Principal":"*"}`,
			status: 400, header: map[string]string{"X-Amzn-ErrorType": codeInvalidParameterValue},
			wantBody: `{"Type":"User","message":"We currently do not support adding policies for $LATEST."}`,
		},
		{
			name: "AddPermission succeeds with 201", method: "POST", path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-2%3A123456789012%3Afunction%3Amy-function/policy",
			body:   `{"StatementId":"wire","Action":"lambda:InvokeFunction","Principal":"*"}`,
			status: 201, header: map[string]string{"Content-Type": "application/json"},
			wantBody: `{"Statement":"{\"Sid\":\"wire\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"` + fnARN + `\"}"}`,
		},
		{
			name: "RemovePermission succeeds with 204", method: "DELETE", path: "/2015-03-31/functions/my-function/policy/wire",
			status: 204, wantBody: "",
		},
		{
			name: "GetPolicy succeeds", method: "GET", path: "/2015-03-31/functions/my-function/policy",
			status: 200,
		},
		{
			name: "TooManyRequestsException", method: "GET", path: "/2015-03-31/functions/my-function/policy",
			status: 429, header: map[string]string{"X-Amzn-ErrorType": codeTooManyRequests, "Retry-After": "1"},
			wantBody: `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}`,
		},
		{
			name: "unknown operation", method: "GET", path: "/2015-03-31/nothing-here",
			status: 404, header: map[string]string{"X-Amzn-ErrorType": codeUnknownOperation},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, h.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (body %s)", resp.StatusCode, tt.status, body)
			}
			for k, v := range tt.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.wantBody != "" || tt.status == 204 {
				if string(body) != tt.wantBody {
					t.Errorf("body\n got: %s\nwant: %s", body, tt.wantBody)
				}
			}
		})
	}
}

// The SDK also decodes a throttle into a typed error with Retry-After.
func TestThrottleDecodedBySDK(t *testing.T) {
	h := errorFixture(t, Config{Quotas: map[string]float64{BucketGetPolicy: 0.25}})
	_, _ = h.getPolicy("my-function", "")
	_, err := h.getPolicy("my-function", "")
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
	if got := retryAfter(t, err); got != 4 {
		t.Errorf("RetryAfterSeconds = %d, want 4 (one token at 0.25 rps)", got)
	}
}
