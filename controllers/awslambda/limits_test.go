package awslambda_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// Against an account whose GetPolicy quota is 5 per second, a port limited
// to 5 per second makes 15 calls in about two seconds and is never throttled.
func TestLimitsKeepTheOperatorUnderTheQuota(t *testing.T) {
	_, api, emu := newPort(t, emulator.Config{Quotas: map[string]float64{emulator.BucketGetPolicy: 5}})
	createFunction(t, api, "f")
	limited := awslambda.New(awslambda.Config{AWS: portConfig(t, emu), Limits: awslambda.Limits{GetPolicy: 5}})
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	start := time.Now()
	for i := 0; i < 15; i++ {
		if _, err := limited.GetPolicy(ctx, f); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	if elapsed < 1800*time.Millisecond || elapsed > 4*time.Second {
		t.Errorf("15 calls at 5/s took %s, want about 2s", elapsed)
	}
	if n := emu.Stats().Errors["GetPolicy"]["TooManyRequestsException"]; n != 0 {
		t.Errorf("%d throttles: the limiter let the operator exceed the quota", n)
	}
}

// A write turn is one control-plane call: the call made with it does not
// wait again, the one after it waits its own turn, and the pace stays the
// quota's.
func TestAWriteTurnPaysForOneCall(t *testing.T) {
	_, api, emu := newPort(t, emulator.Config{Quotas: map[string]float64{emulator.BucketControlPlane: 4}})
	createFunction(t, api, "f")
	time.Sleep(time.Second) // the quota's bucket fills again after the function's creation
	limited := awslambda.New(awslambda.Config{AWS: portConfig(t, emu), Limits: awslambda.Limits{ControlPlane: 4}})
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	start := time.Now()
	turn, err := limited.TakeWriteTurn(ctx, f, 0)
	if err != nil {
		t.Fatal(err)
	}
	withTurn := awslambda.WithTurn(ctx, turn)
	turnAt := time.Since(start)
	add := func(ctx context.Context, sid string) time.Duration {
		t.Helper()
		before := time.Now()
		if _, err := limited.AddPermission(ctx, f, policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "223456789012"}); err != nil {
			t.Fatalf("%s: %v", sid, err)
		}
		return time.Since(before)
	}
	paid := add(withTurn, "with-turn")   // the turn taken pays for it
	again := add(withTurn, "turn-spent") // the turn is spent: a quarter second
	if turnAt > 100*time.Millisecond || paid > 100*time.Millisecond || again < 200*time.Millisecond || again > time.Second {
		t.Errorf("turn after %s, its call took %s, the next %s; want at once, at once, and about 250ms", turnAt, paid, again)
	}
	if n := emu.Stats().Errors["AddPermission"]["TooManyRequestsException"]; n != 0 {
		t.Errorf("%d throttles: a turn let the operator exceed the quota", n)
	}
}

// A caller that will not wait long gets a turn further off at once, with
// Paced and when it comes; the turn stays the caller's, so the next caller
// gets the one after it.
func TestAFarTurnIsKeptForItsCaller(t *testing.T) {
	_, _, emu := newPort(t, emulator.Config{})
	limited := awslambda.New(awslambda.Config{AWS: portConfig(t, emu), Limits: awslambda.Limits{ControlPlane: 2}})
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}
	if _, err := limited.TakeWriteTurn(ctx, f, 0); err != nil { // the bucket's one token
		t.Fatal(err)
	}
	start := time.Now()
	kept, err := limited.TakeWriteTurn(ctx, f, 100*time.Millisecond)
	var paced *awslambda.Error
	if !errors.As(err, &paced) || paced.Kind != awslambda.Paced || paced.RetryAfter < 300*time.Millisecond || paced.RetryAfter > 500*time.Millisecond ||
		time.Since(start) > 100*time.Millisecond {
		t.Fatalf("a turn 500ms off, taken within 100ms: %v after %s; want Paced at once, retry after about 500ms", err, time.Since(start))
	}
	if d := kept.At.Sub(start); d < 300*time.Millisecond || d > 600*time.Millisecond {
		t.Errorf("the kept turn is at +%s, want about +500ms", d)
	}
	// The kept turn is not given away: the next caller's comes after it.
	next, err := limited.TakeWriteTurn(ctx, f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if gap := next.At.Sub(kept.At); gap < 400*time.Millisecond {
		t.Errorf("the next turn is %s after the kept one, want a turn (500ms) after it", gap)
	}
}

// portConfig is the emulator's endpoint with the operator's retryer.
func portConfig(t *testing.T, emu *emulator.Server) aws.Config {
	t.Helper()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: awslambda.Retryer}
}

// The operator's retryer retries 5xx at once, but hands a throttle straight
// back so that the controller can honour Retry-After.
func TestRetryerRetriesServerErrorsNotThrottles(t *testing.T) {
	var calls atomic.Int32
	answer := func(w http.ResponseWriter, status int, code, body string) {
		w.Header().Set("X-Amzn-ErrorType", code)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); {
		case r.URL.Query().Get("Qualifier") == "throttled":
			answer(w, http.StatusTooManyRequests, "TooManyRequestsException", `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}`)
		case n <= 2:
			answer(w, http.StatusInternalServerError, "ServiceException", `{"Type":"Service","Message":"internal error"}`)
		default:
			_, _ = w.Write([]byte(`{"Policy":"{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[]}","RevisionId":"r1"}`))
		}
	}))
	defer srv.Close()
	port := awslambda.New(awslambda.Config{AWS: aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: awslambda.Retryer}})
	f := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "f"}

	got, err := port.GetPolicy(ctx, f)
	if err != nil || got.RevisionID != "r1" || calls.Load() != 3 {
		t.Fatalf("GetPolicy = %+v, %v after %d calls; want success on the third", got, err, calls.Load())
	}

	calls.Store(10)
	f.Qualifier = "throttled"
	_, err = port.GetPolicy(ctx, f)
	var lambdaErr *awslambda.Error
	if !asError(err, &lambdaErr) || lambdaErr.Kind != awslambda.Throttled || lambdaErr.RetryAfter != 3*time.Second || calls.Load() != 11 {
		t.Fatalf("throttled: %v after %d calls, want one call and Throttled with Retry-After 3s", err, calls.Load()-10)
	}
}

func asError(err error, target **awslambda.Error) bool { return errors.As(err, target) }
