package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const faultFnARN = "arn:aws:lambda:" + testRegion + ":" + testAccount + ":function:fn"

func (h *harness) setFaults(f Faults) {
	h.t.Helper()
	if err := h.emu.SetFaults(f); err != nil {
		h.t.Fatalf("SetFaults: %v", err)
	}
}

// only faults one operation.
func only(operation string, o OperationFaults) Faults {
	return Faults{Operations: map[string]OperationFaults{operation: o}}
}

// outcome names what an SDK call got: "ok", the error code, or "transport"
// for a connection closed without a response.
func outcome(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return "ok"
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	if isTransportError(err) {
		return "transport"
	}
	t.Fatalf("unexpected error %T: %v", err, err)
	return ""
}

// isTransportError reports a request that got no HTTP response at all.
func isTransportError(err error) bool {
	var sendErr *smithyhttp.RequestSendError
	var apiErr smithy.APIError
	return errors.As(err, &sendErr) && !errors.As(err, &apiErr) && httpStatus(err) == 0
}

// assertNoPolicy checks that nothing was applied to fn's policy.
func (h *harness) assertNoPolicy(name string) {
	h.t.Helper()
	_, err := h.getPolicy(name, "")
	assertAPIError(h.t, err, codeResourceNotFound, msgResourceMissing)
}

// TestFaultKinds: each kind at rate 1, through the SDK, and whether the
// request was applied.
func TestFaultKinds(t *testing.T) {
	t.Run("serviceError", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.createFunction("fn")
		h.setFaults(only(OpAddPermission, OperationFaults{ServiceError: 1}))
		_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		var e *types.ServiceException
		if !errors.As(err, &e) {
			t.Fatalf("want *types.ServiceException, got %T: %v", err, err)
		}
		if aws.ToString(e.Message) != msgInternalError || aws.ToString(e.Type) != "Service" || httpStatus(err) != 500 {
			t.Errorf("got %d %+v", httpStatus(err), e)
		}
		h.assertNoPolicy("fn")

		// The wire format, byte for byte.
		resp := rawRequest(t, http.MethodPost, h.url+"/2015-03-31/functions/fn/policy",
			`{"StatementId":"a","Action":"lambda:InvokeFunction","Principal":"s3.amazonaws.com"}`)
		if resp.status != 500 || resp.header.Get("X-Amzn-ErrorType") != "ServiceException" ||
			resp.body != `{"Type":"Service","Message":"An internal error occurred. Retry the request."}` {
			t.Errorf("wire: %d %v %s", resp.status, resp.header, resp.body)
		}
	})

	t.Run("throttle", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.createFunction("fn")
		f := only(OpAddPermission, OperationFaults{Throttle: 1})
		f.RetryAfterSeconds = 7
		h.setFaults(f)
		_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
		if got := retryAfter(t, err); got != 7 || httpStatus(err) != 429 {
			t.Errorf("Retry-After %d, status %d", got, httpStatus(err))
		}
		h.assertNoPolicy("fn")

		h.setFaults(only(OpAddPermission, OperationFaults{Throttle: 1})) // default Retry-After
		_, err = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		if got := retryAfter(t, err); got != 1 {
			t.Errorf("default Retry-After %d", got)
		}
		resp := rawRequest(t, http.MethodGet, h.url+"/2015-03-31/functions/fn/policy", "")
		if resp.status != 404 { // GetPolicy is not faulted
			t.Errorf("GetPolicy: %d", resp.status)
		}
		resp = rawRequest(t, http.MethodDelete, h.url+"/2015-03-31/functions/fn/policy/a", "")
		if resp.status != 404 {
			t.Errorf("RemovePermission: %d", resp.status)
		}
		resp = rawRequest(t, http.MethodPost, h.url+"/2015-03-31/functions/fn/policy",
			`{"StatementId":"a","Action":"lambda:InvokeFunction","Principal":"s3.amazonaws.com"}`)
		if resp.status != 429 || resp.header.Get("Retry-After") != "1" || resp.header.Get("X-Amzn-ErrorType") != codeTooManyRequests ||
			resp.body != `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}` {
			t.Errorf("wire: %d %v %s", resp.status, resp.header, resp.body)
		}
	})

	t.Run("updateConflict", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.createFunction("fn")
		version := h.publishVersion("fn")
		h.allow("fn", "", "a")
		_, dup := h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		assertAPIError(t, dup, codeResourceConflict, fmt.Sprintf(msgSidExists, "a"))

		h.setFaults(only(AllOperations, OperationFaults{UpdateConflict: 1}))
		inProgress := msgUpdateInProgress + faultFnARN
		_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", "b"))
		assertAPIError(t, err, codeResourceConflict, inProgress)
		var e1, e2 *types.ResourceConflictException
		if !errors.As(err, &e1) || !errors.As(dup, &e2) || e1.ErrorMessage() == e2.ErrorMessage() {
			t.Errorf("the two 409s are not distinguishable: %v / %v", err, dup)
		}
		// The unqualified ARN, also for a qualified request and a full ARN.
		_, err = h.client.AddPermission(h.ctx, s3Permission(faultFnARN+":"+version, "", "b"))
		assertAPIError(t, err, codeResourceConflict, inProgress)
		assertAPIError(t, h.remove("fn", "", "a", ""), codeResourceConflict, inProgress)
		_, err = h.getPolicy("fn", version)
		assertAPIError(t, err, codeResourceConflict, inProgress)
		_, err = h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
		assertAPIError(t, err, codeResourceConflict, inProgress)
		// A missing function gets its ordinary 404, not a fault.
		_, err = h.client.AddPermission(h.ctx, s3Permission("nope", "", "b"))
		assertAPIError(t, err, codeResourceNotFound, "Function not found: arn:aws:lambda:"+testRegion+":"+testAccount+":function:nope")
		// "*" does not give CreateFunction an update conflict.
		h.createFunction("other")

		h.setFaults(Faults{})
		policy, _ := h.mustPolicy("fn", "")
		if got := sids(t, policy); !reflect.DeepEqual(got, []string{"a"}) {
			t.Errorf("faulted requests were applied: %v", got)
		}
		if got := h.emu.Stats().Faults; !reflect.DeepEqual(got, map[string]map[string]int{
			OpAddPermission: {FaultUpdateConflict: 2}, OpRemovePermission: {FaultUpdateConflict: 1},
			OpGetPolicy: {FaultUpdateConflict: 1}, OpGetFunction: {FaultUpdateConflict: 1},
		}) {
			t.Errorf("Stats.Faults %v", got)
		}
	})

	t.Run("drop", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.createFunction("fn")
		h.setFaults(only(OpAddPermission, OperationFaults{Drop: 1}))
		_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		if !isTransportError(err) {
			t.Fatalf("want a transport error, got %T: %v", err, err)
		}
		h.assertNoPolicy("fn")
	})

	t.Run("dropAfterApply", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.createFunction("fn")
		h.setFaults(only(OpAddPermission, OperationFaults{DropAfterApply: 1}))
		_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		if !isTransportError(err) {
			t.Fatalf("want a transport error, got %T: %v", err, err)
		}
		policy, _ := h.mustPolicy("fn", "") // the write happened
		if got := sids(t, policy); !reflect.DeepEqual(got, []string{"a"}) {
			t.Errorf("policy %v", got)
		}
		// The client's retry then meets its own write.
		h.setFaults(Faults{})
		_, err = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
		assertAPIError(t, err, codeResourceConflict, fmt.Sprintf(msgSidExists, "a"))

		h.setFaults(only(OpRemovePermission, OperationFaults{DropAfterApply: 1}))
		if err := h.remove("fn", "", "a", ""); !isTransportError(err) {
			t.Fatalf("want a transport error, got %v", err)
		}
		h.assertNoPolicy("fn")
	})
}

// TestFaultRates: rate 0 never faults, rate 1 always, and rates in
// between fault about as often as asked.
func TestFaultRates(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	get := func() error {
		_, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
		return err
	}
	h.setFaults(only(AllOperations, OperationFaults{}))
	for range 50 {
		if err := get(); err != nil {
			t.Fatalf("rate 0: %v", err)
		}
	}
	h.setFaults(only(AllOperations, OperationFaults{Throttle: 1, ServiceError: 0}))
	for range 50 {
		if got := outcome(t, get()); got != codeTooManyRequests {
			t.Fatalf("rate 1: %s", got)
		}
	}
	h.setFaults(Faults{Seed: 3, Operations: map[string]OperationFaults{OpGetFunction: {ServiceError: 0.25}}})
	faulted := 0
	const n = 400
	for range n {
		if get() != nil {
			faulted++
		}
	}
	if faulted < n/8 || faulted > n*3/8 {
		t.Errorf("rate 0.25: %d of %d faulted", faulted, n)
	}
	if got := h.emu.Stats().Faults[OpGetFunction][FaultServiceError]; got != faulted {
		t.Errorf("Stats.Faults counted %d, want %d", got, faulted)
	}
}

// TestFaultOverrides: an operation's own entry replaces "*" as a whole.
func TestFaultOverrides(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.allow("fn", "", "a")
	h.createAlias("fn", "live", "$LATEST")
	h.setFaults(Faults{Operations: map[string]OperationFaults{
		AllOperations:    {ServiceError: 1},
		OpGetFunction:    {},
		OpPublishVersion: {Latency: time.Millisecond},
		OpGetPolicy:      {Throttle: 1},
		OpGetAlias:       {UpdateConflict: 1},
	}})
	if _, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")}); err != nil {
		t.Errorf("GetFunction (exempt): %v", err)
	}
	h.publishVersion("fn") // exempt from "*" by its own entry
	_, err := h.getPolicy("fn", "")
	assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
	_, err = h.client.GetAlias(h.ctx, &lambda.GetAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live")})
	assertAPIError(t, err, codeResourceConflict, msgUpdateInProgress+faultFnARN)
	_, err = h.client.AddPermission(h.ctx, s3Permission("fn", "", "b"))
	assertAPIError(t, err, codeService, msgInternalError)
	_, err = h.client.DeleteAlias(h.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live")})
	assertAPIError(t, err, codeService, msgInternalError)

	// STS falls under "*" too.
	_, err = h.stsAs(staticCreds("AKID", "SECRET", "")).GetCallerIdentity(h.ctx, &sts.GetCallerIdentityInput{})
	assertSTSError(t, err, http.StatusInternalServerError, stsCodeInternalFailure, msgInternalFailure)
}

// TestFaultsSTS: STS operations fault in the awsQuery format.
func TestFaultsSTS(t *testing.T) {
	h := stsFixture(t, nil)
	client := h.stsAs(staticCreds(keyA, "SECRET", ""))
	call := func() error {
		_, err := client.AssumeRole(h.ctx, assumeInput(openRole, "sess"))
		return err
	}
	h.setFaults(only(OpAssumeRole, OperationFaults{ServiceError: 1}))
	assertSTSError(t, call(), http.StatusInternalServerError, stsCodeInternalFailure, msgInternalFailure)
	h.setFaults(only(OpAssumeRole, OperationFaults{Throttle: 1}))
	assertSTSError(t, call(), http.StatusBadRequest, stsCodeThrottling, "Rate exceeded")
	h.setFaults(only(OpAssumeRole, OperationFaults{Drop: 1}))
	if err := call(); !isTransportError(err) {
		t.Errorf("drop: %v", err)
	}
	h.setFaults(only(OpAssumeRole, OperationFaults{DropAfterApply: 1}))
	if err := call(); !isTransportError(err) {
		t.Errorf("dropAfterApply: %v", err)
	}
	h.setFaults(Faults{})
	if err := call(); err != nil {
		t.Error(err)
	}
	if got := h.emu.Stats().Faults[OpAssumeRole]; !reflect.DeepEqual(got, map[string]int{
		FaultServiceError: 1, FaultThrottle: 1, FaultDrop: 1, FaultDropAfterApply: 1,
	}) {
		t.Errorf("Stats.Faults[AssumeRole] %v", got)
	}
	if err := h.emu.SetFaults(only(OpAssumeRole, OperationFaults{UpdateConflict: 0.5})); err == nil {
		t.Error("updateConflict on AssumeRole accepted")
	}
}

// faultSequence runs n GetFunction calls and lists their outcomes.
func faultSequence(t *testing.T, h *harness, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		_, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
		out[i] = outcome(t, err)
	}
	return out
}

// TestFaultSeed: the same seed and request order give the same faults,
// after SetFaults and from Config alike; another seed does not.
func TestFaultSeed(t *testing.T) {
	faults := func(seed int64) Faults {
		return Faults{Seed: seed, Operations: map[string]OperationFaults{
			AllOperations: {ServiceError: 0.2, Throttle: 0.2, UpdateConflict: 0.2},
		}}
	}
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.setFaults(faults(42))
	first := faultSequence(t, h, 60)
	h.setFaults(faults(42))
	second := faultSequence(t, h, 60)
	if !reflect.DeepEqual(first, second) {
		t.Errorf("seed 42 twice:\n%v\n%v", first, second)
	}
	kinds := map[string]bool{}
	for _, o := range first {
		kinds[o] = true
	}
	if len(kinds) != 4 { // ok and the three error codes
		t.Errorf("outcomes %v", kinds)
	}

	// A server configured with Config.Faults repeats itself as well.
	run := func() []string {
		h := newHarness(t, Config{Faults: only(OpGetFunction, faults(42).Operations[AllOperations])})
		h.createFunction("fn")
		return faultSequence(t, h, 60)
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Config.Faults twice:\n%v\n%v", a, b)
	}
	h.setFaults(faults(43))
	if other := faultSequence(t, h, 60); reflect.DeepEqual(first, other) {
		t.Errorf("seeds 42 and 43 gave the same sequence %v", other)
	}
}

type rawResponse struct {
	status int
	header http.Header
	body   string
}

func rawRequest(t *testing.T, method, url, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{resp.StatusCode, resp.Header, string(b)}
}

// TestFaultsEndpoint: GET, PUT and DELETE /_emulator/faults, validation,
// and that the admin endpoints are never faulted.
func TestFaultsEndpoint(t *testing.T) {
	h := newHarness(t, Config{})
	url := h.url + "/_emulator/faults"
	const off = `{"seed":0,"retryAfterSeconds":1,"operations":{}}`
	if got := rawRequest(t, http.MethodGet, url, ""); got.status != 200 || got.body != off ||
		got.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET initially: %d %s", got.status, got.body)
	}

	const put = `{"seed":42,"retryAfterSeconds":2,"operations":{` +
		`"*":{"serviceError":0.05,"throttle":0.05,"updateConflict":0.05,"drop":0.02,"dropAfterApply":0.02,"latency":"20ms","latencyJitter":"10ms"},` +
		`"GetPolicy":{"throttle":1}}}`
	if got := rawRequest(t, http.MethodPut, url, put); got.status != 200 || got.body != put {
		t.Errorf("PUT: %d %s", got.status, got.body)
	}
	if got := rawRequest(t, http.MethodGet, url, ""); got.body != put {
		t.Errorf("GET after PUT: %s", got.body)
	}
	want := Faults{Seed: 42, RetryAfterSeconds: 2, Operations: map[string]OperationFaults{
		AllOperations: {ServiceError: 0.05, Throttle: 0.05, UpdateConflict: 0.05, Drop: 0.02, DropAfterApply: 0.02,
			Latency: 20 * time.Millisecond, LatencyJitter: 10 * time.Millisecond},
		OpGetPolicy: {Throttle: 1},
	}}
	if got := h.emu.Faults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Faults() = %+v", got)
	}
	h.createFunction("fn")
	resp := rawRequest(t, http.MethodGet, h.url+"/2015-03-31/functions/fn/policy", "")
	if resp.status != 429 || resp.header.Get("Retry-After") != "2" {
		t.Errorf("GetPolicy under PUT faults: %d %v", resp.status, resp.header)
	}

	for _, tc := range []struct{ body, message string }{
		{`{"seed":`, "faults: invalid JSON: unexpected EOF"},
		{``, "faults: invalid JSON: EOF"},
		{`{} {}`, "faults: invalid JSON: data after the object"},
		{`{"operations":{"*":{"throttle":1.5}}}`, "faults: *: throttle rate 1.5 is outside [0,1]"},
		{`{"operations":{"GetPolicy":{"drop":-0.1}}}`, "faults: GetPolicy: drop rate -0.1 is outside [0,1]"},
		{`{"operations":{"GetPolicies":{"drop":0.1}}}`, `faults: unknown operation "GetPolicies"`},
		{`{"operations":{"CreateFunction":{"updateConflict":0.1}}}`, "faults: CreateFunction: updateConflict applies only to operations on a function"},
		{`{"operations":{"*":{"serviceErrors":0.1}}}`, `unknown field "serviceErrors"`},
		{`{"seeds":1}`, `unknown field "seeds"`},
		{`{"operations":{"*":{"latency":"soon"}}}`, `latency: time: invalid duration "soon"`},
		{`{"operations":{"*":{"latency":20}}}`, "cannot unmarshal number"},
		{`{"operations":{"*":{"latency":"-1s"}}}`, "faults: *: latency and latencyJitter must not be negative"},
		{`{"retryAfterSeconds":-1}`, "faults: retryAfterSeconds must not be negative, got -1"},
	} {
		got := rawRequest(t, http.MethodPut, url, tc.body)
		var body struct{ Message string }
		if err := json.Unmarshal([]byte(got.body), &body); err != nil || got.status != 400 || !strings.Contains(body.Message, tc.message) {
			t.Errorf("PUT %s: %d %s, want 400 containing %q", tc.body, got.status, got.body, tc.message)
		}
	}
	if got := h.emu.Faults(); !reflect.DeepEqual(got, want) {
		t.Errorf("a refused PUT changed the faults: %+v", got)
	}

	// The admin namespace is never faulted.
	h.setFaults(only(AllOperations, OperationFaults{Drop: 1, Latency: time.Hour}))
	for range 3 {
		_ = fetchStats(t, h.url)
		if got := rawRequest(t, http.MethodGet, url, ""); got.status != 200 {
			t.Fatalf("GET faults: %d", got.status)
		}
	}

	if got := rawRequest(t, http.MethodDelete, url, ""); got.status != http.StatusNoContent {
		t.Errorf("DELETE: %d", got.status)
	}
	if got := rawRequest(t, http.MethodGet, url, ""); got.body != off {
		t.Errorf("GET after DELETE: %s", got.body)
	}
	if _, err := h.getPolicy("fn", ""); outcome(t, err) != codeResourceNotFound {
		t.Errorf("GetPolicy after DELETE: %v", err)
	}
	if got := rawRequest(t, http.MethodPost, url, "{}"); got.status != 404 {
		t.Errorf("POST: %d", got.status)
	}
}

// TestFaultStats: faulted requests count as calls, their error responses
// as errors, and every fault in Stats.Faults (Go and JSON), until reset.
func TestFaultStats(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.setFaults(only(OpAddPermission, OperationFaults{ServiceError: 1, Latency: time.Millisecond}))
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
	h.setFaults(only(OpAddPermission, OperationFaults{Throttle: 1}))
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
	h.setFaults(only(OpAddPermission, OperationFaults{UpdateConflict: 1}))
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
	h.setFaults(only(OpAddPermission, OperationFaults{Drop: 1}))
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
	h.setFaults(only(OpAddPermission, OperationFaults{DropAfterApply: 1}))
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a")) // applied: a 409, dropped
	h.setFaults(Faults{})

	want := Stats{
		Calls: map[string]int{OpCreateFunction: 1, OpAddPermission: 6},
		Errors: map[string]map[string]int{
			OpAddPermission: {codeService: 1, codeTooManyRequests: 1, codeResourceConflict: 1},
		},
		Faults: map[string]map[string]int{
			OpAddPermission: {FaultLatency: 1, FaultServiceError: 1, FaultThrottle: 1, FaultUpdateConflict: 1,
				FaultDrop: 1, FaultDropAfterApply: 2},
		},
	}
	want.ByAccount = map[string]AccountStats{testAccount: {Calls: want.Calls, Errors: want.Errors}}
	if got := h.emu.Stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stats()\n got: %+v\nwant: %+v", got, want)
	}
	if got := fetchStats(t, h.url); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /_emulator/stats\n got: %+v\nwant: %+v", got, want)
	}
	if raw := fetchRaw(t, h.url+"/_emulator/stats"); !strings.Contains(raw,
		`"faults":{"AddPermission":{"drop":1,"dropAfterApply":2,"latency":1,"serviceError":1,"throttle":1,"updateConflict":1}}`) {
		t.Errorf("JSON %s", raw)
	}
	h.emu.ResetStats()
	if got := h.emu.Stats(); got.Faults != nil {
		t.Errorf("ResetStats left %v", got.Faults)
	}
}

// TestFaultLatency: latency is added before handling, within the jitter.
func TestFaultLatency(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	timed := func() time.Duration {
		start := time.Now()
		if _, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")}); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	h.setFaults(only(OpGetFunction, OperationFaults{Latency: 100 * time.Millisecond}))
	if d := timed(); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("latency 100ms: took %v", d)
	}
	h.setFaults(only(OpGetFunction, OperationFaults{Latency: 150 * time.Millisecond, LatencyJitter: 50 * time.Millisecond}))
	for range 3 {
		if d := timed(); d < 100*time.Millisecond || d > 5*time.Second {
			t.Errorf("latency 150ms±50ms: took %v", d)
		}
	}
	if got := h.emu.Stats().Faults[OpGetFunction][FaultLatency]; got != 4 {
		t.Errorf("latency counted %d times", got)
	}
	// A client that gives up does not keep the handler waiting.
	h.setFaults(only(OpGetFunction, OperationFaults{Latency: time.Hour}))
	ctx, cancel := context.WithTimeout(h.ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn")}); err == nil {
		t.Error("an hour of latency did not time out")
	}
}

// TestFaultsConcurrent: under concurrent writes with every kind of fault,
// exactly the successful and the dropped-after-apply adds are stored.
func TestFaultsConcurrent(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.setFaults(Faults{Seed: 9, Operations: map[string]OperationFaults{OpAddPermission: {
		ServiceError: 0.1, Throttle: 0.1, UpdateConflict: 0.1, Drop: 0.1, DropAfterApply: 0.1, LatencyJitter: time.Millisecond,
	}}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := range 100 {
		wg.Go(func() {
			_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", fmt.Sprintf("sid-%03d", i)))
			mu.Lock()
			defer mu.Unlock()
			outcomes[outcome(t, err)]++
		})
	}
	wg.Wait()
	h.setFaults(Faults{})
	faults := h.emu.Stats().Faults[OpAddPermission]
	policy, _ := h.mustPolicy("fn", "")
	if got, want := len(sids(t, policy)), outcomes["ok"]+faults[FaultDropAfterApply]; got != want {
		t.Errorf("%d statements, want %d (outcomes %v, faults %v)", got, want, outcomes, faults)
	}
	if outcomes["transport"] != faults[FaultDrop]+faults[FaultDropAfterApply] {
		t.Errorf("outcomes %v, faults %v", outcomes, faults)
	}
}

// TestFaultsValidate: Config.Validate and SetFaults refuse bad faults;
// SetFaults then keeps the old ones.
func TestFaultsValidate(t *testing.T) {
	bad := []Faults{
		only(AllOperations, OperationFaults{ServiceError: 1.01}),
		only(AllOperations, OperationFaults{Drop: math.NaN()}),
		only("Invoke", OperationFaults{}),
		only(OpCreateFunction, OperationFaults{UpdateConflict: 1}),
		only(OpGetCallerIdentity, OperationFaults{UpdateConflict: 1}),
		only(OpGetPolicy, OperationFaults{LatencyJitter: -time.Second}),
		{RetryAfterSeconds: -2},
	}
	h := newHarness(t, Config{})
	h.setFaults(only(OpGetPolicy, OperationFaults{Throttle: 0.5}))
	before := h.emu.Faults()
	for _, f := range bad {
		if err := (Config{Faults: f}).Validate(); err == nil {
			t.Errorf("Config.Validate accepted %+v", f)
		}
		if err := h.emu.SetFaults(f); err == nil {
			t.Errorf("SetFaults accepted %+v", f)
		}
	}
	if got := h.emu.Faults(); !reflect.DeepEqual(got, before) {
		t.Errorf("refused SetFaults changed the faults to %+v", got)
	}
	// "*" may carry updateConflict: it applies only where it can.
	if err := (Config{Faults: only(AllOperations, OperationFaults{UpdateConflict: 1})}).Validate(); err != nil {
		t.Error(err)
	}
}
