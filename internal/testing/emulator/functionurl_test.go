package emulator

import (
	"context"
	"net/http"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// functionURLPattern is the documented address form (§17.4).
var functionURLPattern = regexp.MustCompile(`^https://[a-z0-9]{32}\.lambda-url\.` + regexp.QuoteMeta(testRegion) + `\.on\.aws/$`)

func (h *harness) createURL(name, qualifier string, edit ...func(*lambda.CreateFunctionUrlConfigInput)) (*lambda.CreateFunctionUrlConfigOutput, error) {
	in := &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(name), AuthType: types.FunctionUrlAuthTypeNone}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	for _, e := range edit {
		e(in)
	}
	return h.client.CreateFunctionUrlConfig(h.ctx, in)
}

func (h *harness) mustCreateURL(name, qualifier string, edit ...func(*lambda.CreateFunctionUrlConfigInput)) *lambda.CreateFunctionUrlConfigOutput {
	h.t.Helper()
	out, err := h.createURL(name, qualifier, edit...)
	if err != nil {
		h.t.Fatalf("CreateFunctionUrlConfig(%s, %q): %v", name, qualifier, err)
	}
	return out
}

func (h *harness) getURL(name, qualifier string) (*lambda.GetFunctionUrlConfigOutput, error) {
	in := &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	return h.client.GetFunctionUrlConfig(h.ctx, in)
}

func (h *harness) deleteURL(name, qualifier string) error {
	in := &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, err := h.client.DeleteFunctionUrlConfig(h.ctx, in)
	return err
}

// TestFunctionURLLifecycle: create, get, the duplicate 409, delete, the
// 404 after it, and a new address when re-created.
func TestFunctionURLLifecycle(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now})
	h.createFunction("fn")
	created := h.mustCreateURL("fn", "")
	wantTime := clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if !functionURLPattern.MatchString(aws.ToString(created.FunctionUrl)) || aws.ToString(created.FunctionArn) != arnOf("fn", "") ||
		created.AuthType != types.FunctionUrlAuthTypeNone || aws.ToString(created.CreationTime) != wantTime ||
		created.InvokeMode != "" || created.Cors != nil {
		t.Errorf("CreateFunctionUrlConfig: %+v", created)
	}
	if _, err := time.Parse(time.RFC3339Nano, aws.ToString(created.CreationTime)); err != nil {
		t.Errorf("CreationTime is not ISO-8601: %v", err)
	}

	clock.Advance(time.Minute)
	got, err := h.getURL("fn", "")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.FunctionUrl) != aws.ToString(created.FunctionUrl) || aws.ToString(got.FunctionArn) != arnOf("fn", "") ||
		got.AuthType != types.FunctionUrlAuthTypeNone || aws.ToString(got.CreationTime) != wantTime ||
		aws.ToString(got.LastModifiedTime) != wantTime || got.InvokeMode != types.InvokeModeBuffered || got.Cors != nil {
		t.Errorf("GetFunctionUrlConfig: %+v", got)
	}

	_, err = h.createURL("fn", "", func(in *lambda.CreateFunctionUrlConfigInput) { in.AuthType = types.FunctionUrlAuthTypeAwsIam })
	assertAPIError(t, err, codeResourceConflict, "Failed to create function url config for [functionArn = "+arnOf("fn", "")+
		"]. Error message:  FunctionUrlConfig exists for this Lambda function")
	if again, err := h.getURL("fn", ""); err != nil || again.AuthType != types.FunctionUrlAuthTypeNone {
		t.Errorf("the refused create changed the URL: %v %+v", err, again)
	}

	mustSucceed(t, h.deleteURL("fn", ""))
	_, err = h.getURL("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	assertAPIError(t, h.deleteURL("fn", ""), codeResourceNotFound, msgResourceMissing)

	recreated := h.mustCreateURL("fn", "")
	if aws.ToString(recreated.FunctionUrl) == aws.ToString(created.FunctionUrl) || !functionURLPattern.MatchString(aws.ToString(recreated.FunctionUrl)) {
		t.Errorf("re-created URL %s, first %s", aws.ToString(recreated.FunctionUrl), aws.ToString(created.FunctionUrl))
	}
}

// TestFunctionURLOnAlias: an alias's URL, named by Qualifier or by the
// name's suffix, with Cors and InvokeMode stored and returned; it is
// separate from the function's own URL.
func TestFunctionURLOnAlias(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.createAlias("fn", "live", h.publishVersion("fn"))
	h.createAlias("fn", "beta", "$LATEST")
	cors := &types.Cors{
		AllowCredentials: aws.Bool(true),
		AllowHeaders:     []string{"X-Custom-Header", "Date"},
		AllowMethods:     []string{"GET", "POST"},
		AllowOrigins:     []string{"https://www.example.com"},
		ExposeHeaders:    []string{"Keep-Alive"},
		MaxAge:           aws.Int32(86400),
	}
	created := h.mustCreateURL("fn", "live", func(in *lambda.CreateFunctionUrlConfigInput) {
		in.AuthType, in.Cors, in.InvokeMode = types.FunctionUrlAuthTypeAwsIam, cors, types.InvokeModeResponseStream
	})
	if aws.ToString(created.FunctionArn) != arnOf("fn", "live") || created.AuthType != types.FunctionUrlAuthTypeAwsIam ||
		created.InvokeMode != types.InvokeModeResponseStream || !reflect.DeepEqual(created.Cors, cors) {
		t.Errorf("CreateFunctionUrlConfig(live): %+v %+v", created, created.Cors)
	}
	// The name's ":beta" suffix works as Qualifier does.
	beta := h.mustCreateURL("fn:beta", "")
	if aws.ToString(beta.FunctionArn) != arnOf("fn", "beta") {
		t.Errorf("fn:beta FunctionArn %s", aws.ToString(beta.FunctionArn))
	}
	own := h.mustCreateURL(arnOf("fn", ""), "")
	urls := map[string]bool{}
	for _, u := range []*string{created.FunctionUrl, beta.FunctionUrl, own.FunctionUrl} {
		urls[aws.ToString(u)] = true
	}
	if len(urls) != 3 {
		t.Errorf("three URLs share addresses: %v", urls)
	}

	got, err := h.getURL(arnOf("fn", "live"), "live")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.FunctionUrl) != aws.ToString(created.FunctionUrl) || got.InvokeMode != types.InvokeModeResponseStream ||
		!reflect.DeepEqual(got.Cors, cors) || got.AuthType != types.FunctionUrlAuthTypeAwsIam {
		t.Errorf("GetFunctionUrlConfig(live): %+v %+v", got, got.Cors)
	}

	// Deleting the function's own URL leaves the aliases' (recorded).
	mustSucceed(t, h.deleteURL("fn", ""))
	for _, alias := range []string{"live", "beta"} {
		if _, err := h.getURL("fn", alias); err != nil {
			t.Errorf("%s's URL after deleting the function's: %v", alias, err)
		}
	}
	mustSucceed(t, h.deleteURL("fn", "beta"))
	_, err = h.getURL("fn:beta", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	if _, err := h.getURL("fn", "live"); err != nil {
		t.Errorf("live's URL after deleting beta's: %v", err)
	}
}

// TestFunctionURLGoesWithItsTarget: deleting an alias deletes its URL, and
// deleting the function deletes all of them; re-created targets have none.
func TestFunctionURLGoesWithItsTarget(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.createAlias("fn", "live", "$LATEST")
	h.createAlias("fn", "keep", "$LATEST")
	h.mustCreateURL("fn", "")
	h.mustCreateURL("fn", "live")
	h.mustCreateURL("fn", "keep")

	if _, err := h.client.DeleteAlias(h.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	h.createAlias("fn", "live", "$LATEST")
	_, err := h.getURL("fn", "live")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	for _, q := range []string{"", "keep"} {
		if _, err := h.getURL("fn", q); err != nil {
			t.Errorf("URL %q after deleting alias live: %v", q, err)
		}
	}

	if _, err := h.client.DeleteFunction(h.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "keep"} {
		_, err := h.getURL("fn", q)
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	}
	h.createFunction("fn")
	h.createAlias("fn", "keep", "$LATEST")
	for _, q := range []string{"", "keep"} {
		_, err := h.getURL("fn", q)
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
		h.mustCreateURL("fn", q) // no leftover makes this a conflict
	}
}

// urlCall runs one of the three operations with a FunctionName and
// Qualifier.
type urlCall struct {
	operation string
	call      func(h *harness, name, qualifier string) error
}

var urlCalls = []urlCall{
	{OpCreateFunctionUrlConfig, func(h *harness, name, qualifier string) error { _, err := h.createURL(name, qualifier); return err }},
	{OpGetFunctionUrlConfig, func(h *harness, name, qualifier string) error { _, err := h.getURL(name, qualifier); return err }},
	{OpDeleteFunctionUrlConfig, func(h *harness, name, qualifier string) error { return h.deleteURL(name, qualifier) }},
}

// TestFunctionURLErrors: the name and qualifier cases LocalStack recorded
// against AWS, for all three operations, plus the emulator's choices.
func TestFunctionURLErrors(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.createAlias("fn", "urlalias", h.publishVersion("fn"))
	qualifierPattern := func(value string) string {
		return validationMsg(value, "qualifier", "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
	}
	// missing is Create's wording for an absent function or alias; Get and
	// Delete use the generic one (recorded).
	for _, tc := range []struct {
		name, functionName, qualifier string
		code, message                 string // message "" means: the operation's not-found text
		status                        int
	}{
		{"function missing", "doesnotexist", "", codeResourceNotFound, "", http.StatusNotFound},
		{"function ARN missing", arnOf("doesnotexist", ""), "", codeResourceNotFound, "", http.StatusNotFound},
		{"version of a missing function", "doesnotexist", "1", codeValidation, qualifierPattern("1"), http.StatusBadRequest},
		{"version", "fn", "1", codeValidation, qualifierPattern("1"), http.StatusBadRequest},
		{"missing version", "fn", "2", codeValidation, qualifierPattern("2"), http.StatusBadRequest},
		{"alias missing", "fn", "v1", codeResourceNotFound, "", http.StatusNotFound},
		{"name and qualifier differ", "fn:urlalias-doesnotmatch", "urlalias", codeInvalidParameterValue, msgQualifierMismatch, http.StatusBadRequest},
		{"$LATEST", "fn", "$LATEST", codeValidation, qualifierPattern("$LATEST"), http.StatusBadRequest},
		// Choices (§17.4): a version or $LATEST in the name is refused as the
		// Qualifier member is.
		{"version in the name", "fn:1", "", codeValidation, qualifierPattern("1"), http.StatusBadRequest},
		{"$LATEST in the name", arnOf("fn", "$LATEST"), "", codeValidation, qualifierPattern("$LATEST"), http.StatusBadRequest},
		{"other region", "arn:aws:lambda:eu-west-1:" + testAccount + ":function:fn", "", codeResourceNotFound,
			"Functions from 'eu-west-1' are not reachable in this region ('us-east-2')", http.StatusNotFound},
		{"other account", "arn:aws:lambda:us-east-2:210987654321:function:fn", "", codeAccessDenied, "", http.StatusForbidden},
		{"dot in the name", "fn.v2", "", codeValidation,
			validationMsg("fn.v2", "functionName", "Member must satisfy regular expression pattern: "+shortFunctionNamePattern.text), http.StatusBadRequest},
	} {
		for _, op := range urlCalls {
			t.Run(tc.name+"/"+op.operation, func(t *testing.T) {
				message := tc.message
				switch {
				case tc.code == codeAccessDenied:
					message = accessDenied("arn:aws:iam::"+testAccount+":user/emulator", "lambda:"+op.operation, tc.functionName)
				case message == "" && op.operation == OpCreateFunctionUrlConfig:
					message = msgFunctionDoesNotExist
				case message == "":
					message = msgResourceMissing
				}
				err := op.call(h, tc.functionName, tc.qualifier)
				assertAPIError(t, err, tc.code, message)
				if httpStatus(err) != tc.status {
					t.Errorf("status %d, want %d", httpStatus(err), tc.status)
				}
			})
		}
	}
	// Nothing above created a URL.
	for _, q := range []string{"", "urlalias"} {
		_, err := h.getURL("fn", q)
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	}
}

// TestFunctionURLBodyValidation: AuthType, Cors and InvokeMode constraints,
// reported in model order.
func TestFunctionURLBodyValidation(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	for _, tc := range []struct {
		name    string
		edit    func(*lambda.CreateFunctionUrlConfigInput)
		message string
	}{
		{"AuthType", func(in *lambda.CreateFunctionUrlConfigInput) { in.AuthType = "OPEN" },
			validationMsg("OPEN", "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]")},
		{"InvokeMode", func(in *lambda.CreateFunctionUrlConfigInput) { in.InvokeMode = "STREAM" },
			validationMsg("STREAM", "invokeMode", "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]")},
		{"Cors MaxAge", func(in *lambda.CreateFunctionUrlConfigInput) { in.Cors = &types.Cors{MaxAge: aws.Int32(86401)} },
			validationMsg("86401", "cors.maxAge", "Member must have value less than or equal to 86400")},
		{"Cors AllowMethods", func(in *lambda.CreateFunctionUrlConfigInput) {
			in.Cors = &types.Cors{AllowMethods: []string{"GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"}}
		}, validationMsg("[GET, PUT, HEAD, POST, PATCH, DELETE, *]", "cors.allowMethods", "Member must have length less than or equal to 6")},
		{"all of them, in model order", func(in *lambda.CreateFunctionUrlConfigInput) {
			in.FunctionName, in.AuthType, in.Cors, in.InvokeMode = aws.String("fn.x"), "OPEN", &types.Cors{MaxAge: aws.Int32(-1)}, "STREAM"
		}, "4 validation errors detected: " +
			"Value 'fn.x' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + shortFunctionNamePattern.text + "; " +
			"Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]; " +
			"Value '-1' at 'cors.maxAge' failed to satisfy constraint: Member must have value greater than or equal to 0; " +
			"Value 'STREAM' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.createURL("fn", "", tc.edit)
			assertAPIError(t, err, codeValidation, tc.message)
		})
	}
	_, err := h.getURL("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)

	// A body that is not JSON (the SDK cannot send one).
	got := rawRequest(t, http.MethodPost, h.url+"/2021-10-31/functions/fn/url", "{")
	if got.status != http.StatusBadRequest || got.header.Get("X-Amzn-ErrorType") != codeInvalidRequestContent {
		t.Errorf("bad JSON: %d %s", got.status, got.body)
	}
}

// TestFunctionURLQuotaStatsFaults: the three operations use the
// control-plane bucket, are counted, and get injected faults; only Create
// and Delete can get updateConflict.
func TestFunctionURLQuotaStatsFaults(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now, Quotas: map[string]float64{BucketControlPlane: 1}})
	h.createFunction("fn") // spends the one token
	for _, op := range urlCalls {
		assertAPIError(t, op.call(h, "fn", ""), codeTooManyRequests, "Rate exceeded")
		clock.Advance(time.Second)
		mustSucceed(t, op.call(h, "fn", ""))
		if s := h.emu.Stats(); s.Calls[op.operation] != 2 || s.Errors[op.operation][codeTooManyRequests] != 1 {
			t.Errorf("%s: calls %d, throttled %d", op.operation, s.Calls[op.operation], s.Errors[op.operation][codeTooManyRequests])
		}
	}

	for _, op := range []string{OpGetFunctionUrlConfig, OpListFunctions, OpListVersionsByFunction, OpListAliases} {
		if err := h.emu.SetFaults(only(op, OperationFaults{UpdateConflict: 1})); err == nil {
			t.Errorf("%s accepted an updateConflict rate", op)
		}
	}
	h2 := newHarness(t, Config{})
	h2.createFunction("fn")
	h2.setFaults(only(OpCreateFunctionUrlConfig, OperationFaults{UpdateConflict: 1}))
	_, err := h2.createURL("fn", "")
	assertAPIError(t, err, codeResourceConflict, msgUpdateInProgress+arnOf("fn", ""))
	// A missing function gets its ordinary 404, with Create's wording.
	_, err = h2.createURL("ghost", "")
	assertAPIError(t, err, codeResourceNotFound, msgFunctionDoesNotExist)
	h2.setFaults(Faults{})
	_, err = h2.getURL("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing) // the conflict applied nothing

	h2.mustCreateURL("fn", "")
	h2.setFaults(only(OpDeleteFunctionUrlConfig, OperationFaults{UpdateConflict: 1}))
	assertAPIError(t, h2.deleteURL("fn", ""), codeResourceConflict, msgUpdateInProgress+arnOf("fn", ""))
	assertAPIError(t, h2.deleteURL("ghost", ""), codeResourceNotFound, msgResourceMissing)
	h2.setFaults(only(OpListFunctions, OperationFaults{ServiceError: 1}))
	_, err = h2.client.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	assertAPIError(t, err, codeService, msgInternalError)
	h2.setFaults(Faults{})
	if _, err := h2.getURL("fn", ""); err != nil {
		t.Errorf("the conflicted delete removed the URL: %v", err)
	}
	if f := h2.emu.Stats().Faults; f[OpCreateFunctionUrlConfig][FaultUpdateConflict] != 1 || f[OpDeleteFunctionUrlConfig][FaultUpdateConflict] != 1 ||
		f[OpListFunctions][FaultServiceError] != 1 {
		t.Errorf("Stats.Faults %v", f)
	}
}
