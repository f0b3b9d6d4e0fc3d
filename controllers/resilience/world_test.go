//go:build integration

package resilience

import (
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// world is one scenario's AWS, for one write strategy: an emulator of its
// own (so its counters are the scenario's alone), reached over loopback
// HTTP through a log of its whole-document writes, its functions, and on
// each function a statement someone else wrote, which must survive whatever
// happens, byte for byte.
type world struct {
	t         *testing.T
	name      string
	variant   variant
	emu       *emulator.Server
	writes    *writeLog       // the whole-document writes of the phase
	ours      map[string]bool // the Sids of every object the scenario made: the operator's
	url       string
	server    *httptest.Server // serves emu (through writes) at url
	functions []string
	foreign   expected       // the statements other writers own, as Lambda stored them
	outside   *lambda.Client // another writer: the console, Terraform, a colleague
	awsConfig aws.Config     // the operator's: the SDK's default chain and the operator's Retryer
	awsEnv    map[string]string

	phaseStarted time.Time
}

// expected is what the policies must hold exactly: function → Sid → statement.
type expected map[string]map[string]string

func (e expected) add(function, sid, statement string) {
	if e[function] == nil {
		e[function] = map[string]string{}
	}
	e[function][sid] = statement
}

func (e expected) merge(other expected) expected {
	out := expected{}
	for _, m := range []expected{e, other} {
		for fn, statements := range m {
			for sid, st := range statements {
				out.add(fn, sid, st)
			}
		}
	}
	return out
}

// newWorld starts an emulator with functions functions and points the SDK's
// standard configuration at it for the test's duration: its endpoint in
// AWS_ENDPOINT_URL_LAMBDA and _STS, a region and dummy keys, and no shared
// files or instance metadata (awsEnv, also given to operator processes).
// The operators the scenario starts write with v's strategy. Functions and
// namespaces are named apart per strategy (…-doc-… for Document).
func newWorld(t *testing.T, name string, functions int, v variant) *world {
	t.Helper()
	w := &world{t: t, name: name, variant: v, emu: emulator.New(emulator.Config{Region: region, AccountID: account}),
		ours: map[string]bool{}, foreign: expected{}}
	w.writes = &writeLog{emu: w.emu}
	server := httptest.NewServer(w.writes.wrap(w.emu)) // loopback only
	t.Cleanup(server.Close)
	w.url, w.server = server.URL, server
	w.awsEnv = harness.AWSEnvironment(w.url, region, t.TempDir())
	for k, v := range w.awsEnv {
		t.Setenv(k, v)
	}
	// No retries for outside: a foreign writer's record of what it did must be exact.
	var err error
	if w.awsConfig, w.outside, err = harness.LoadAWS(ctx, awsconfig.WithRetryer(awslambda.Retryer)); err != nil {
		t.Fatal(err)
	}

	for i := range functions {
		fn := fmt.Sprintf("%s%s-%02d", name, v.suffix(), i)
		w.functions = append(w.functions, fn)
		w.createFunction(fn)
		w.foreign.add(fn, "foreign-terraform", w.addOutside(fn, "foreign-terraform"))
	}
	w.startPhase()
	return w
}

func (w *world) createFunction(name string) {
	w.t.Helper()
	_, err := w.outside.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::" + account + ":role/test"), Code: &types.FunctionCode{ZipFile: []byte("code")},
	})
	if err != nil {
		w.t.Fatalf("CreateFunction %s: %v", name, err)
	}
}

// addOutside adds a statement as another writer would and returns it as
// Lambda stored it.
func (w *world) addOutside(function, sid string) string {
	w.t.Helper()
	out, err := w.outside.AddPermission(ctx, foreignStatement(function, sid))
	if err != nil {
		w.t.Fatalf("AddPermission %s on %s: %v", sid, function, err)
	}
	return aws.ToString(out.Statement)
}

func foreignStatement(function, sid string) *lambda.AddPermissionInput {
	return &lambda.AddPermissionInput{
		FunctionName: aws.String(function), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:" + region + ":" + account + ":rule/" + sid),
	}
}

// plantStale puts under obj's Sid a statement that grants something else,
// as an older tool might have left it: the operator must replace it (a
// RemovePermission guarded by the policy's RevisionId, then AddPermission).
func (w *world) plantStale(obj *lambdav1alpha1.LambdaPermission) {
	w.t.Helper()
	fn, sid, _ := desired(obj)
	if _, err := w.outside.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String(fn), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("999999999999"),
	}); err != nil {
		w.t.Fatalf("planting a stale %s on %s: %v", sid, fn, err)
	}
}

// namespace creates a namespace of its own for the scenario's objects.
// (envtest runs no namespace controller, so namespaces are not deleted;
// each scenario deletes its objects instead.)
func (w *world) namespace(prefix string) string {
	w.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + w.variant.suffix() + "-"}}
	if err := kube.Create(ctx, ns); err != nil {
		w.t.Fatal(err)
	}
	return ns.Name
}

// permissions returns n LambdaPermissions in namespace, spread round-robin
// over the world's functions, each granting something else: a bucket, an
// account, a role, an EventBridge rule. Their Sids start with sidPrefix,
// except every fifth, which names none and gets one derived from its
// namespace and name.
func (w *world) permissions(namespace, sidPrefix string, n int) []*lambdav1alpha1.LambdaPermission {
	objs := make([]*lambdav1alpha1.LambdaPermission, 0, n)
	for i := range n {
		spec := lambdav1alpha1.LambdaPermissionSpec{
			FunctionName: w.functions[i%len(w.functions)],
			StatementID:  fmt.Sprintf("%s-%04d", sidPrefix, i),
			Action:       "lambda:InvokeFunction",
		}
		if i%5 == 4 {
			spec.StatementID = ""
		}
		switch i % 4 {
		case 0:
			spec.Principal, spec.SourceArn, spec.SourceAccount = "s3.amazonaws.com", fmt.Sprintf("arn:aws:s3:::%s-uploads-%d", sidPrefix, i), account
		case 1:
			spec.Principal = fmt.Sprintf("%012d", 210000000000+i)
		case 2:
			spec.Principal = fmt.Sprintf("arn:aws:iam::223456789012:role/%s-caller-%d", sidPrefix, i)
		case 3:
			spec.Principal, spec.SourceArn = "events.amazonaws.com", fmt.Sprintf("arn:aws:events:%s:%s:rule/%s-%d", region, account, sidPrefix, i)
		}
		obj := &lambdav1alpha1.LambdaPermission{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%04d", sidPrefix, i), Namespace: namespace},
			Spec:       spec,
		}
		_, sid, _ := desired(obj)
		w.ours[sid] = true
		objs = append(objs, obj)
	}
	return objs
}

// desired is the statement an object must have in its function's policy,
// exactly as Lambda stores it.
func desired(obj *lambdav1alpha1.LambdaPermission) (function, sid, statement string) {
	spec := obj.Spec
	sid = spec.StatementID
	if sid == "" {
		sid = translate.DerivedStatementID(obj.Namespace, obj.Name)
	}
	target := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: spec.FunctionName}
	return spec.FunctionName, sid, policy.DesiredStatement(target, policy.Permission{
		StatementID: sid, Action: spec.Action, Principal: spec.Principal, SourceArn: spec.SourceArn,
		SourceAccount: spec.SourceAccount, PrincipalOrgID: spec.PrincipalOrgID, EventSourceToken: spec.EventSourceToken,
		FunctionURLAuthType: spec.FunctionURLAuthType, InvokedViaFunctionURL: spec.InvokedViaFunctionURL,
	}).Render()
}

// expect is what the policies must hold: the foreign statements, and the
// desired statement of every object given.
func (w *world) expect(ours ...[]*lambdav1alpha1.LambdaPermission) expected {
	want := w.foreign.merge(nil)
	for _, objs := range ours {
		for _, obj := range objs {
			fn, sid, st := desired(obj)
			want.add(fn, sid, st)
		}
	}
	return want
}

// mismatches compares every function's policy with want, reading the
// emulator's state directly (no call is counted): each statement missing,
// extra, or different from the expected text by a byte counts once. It also
// returns the first few differences, to say what went wrong.
func (w *world) mismatches(want expected) (int, []string) {
	n := 0
	var details []string
	note := func(format string, args ...any) {
		n++
		if len(details) < 10 {
			details = append(details, fmt.Sprintf(format, args...))
		}
	}
	for _, fn := range w.functions {
		got := map[string]string{}
		if raw, _, ok := w.emu.Policy(fn, ""); ok {
			doc, err := policy.ParsePolicy(raw)
			if err != nil {
				w.t.Fatalf("policy of %s: %v", fn, err)
			}
			for _, st := range doc.Statements {
				if _, dup := got[st.Sid]; dup {
					note("%s: Sid %q twice", fn, st.Sid)
				}
				got[st.Sid] = st.Raw
			}
		}
		for _, sid := range slices.Sorted(maps.Keys(want[fn])) {
			switch st, ok := got[sid]; {
			case !ok:
				note("%s: %q missing", fn, sid)
			case st != want[fn][sid]:
				note("%s: %q is %s, want %s", fn, sid, st, want[fn][sid])
			}
		}
		for _, sid := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[fn][sid]; !ok {
				note("%s: %q should not be there: %s", fn, sid, got[sid])
			}
		}
	}
	return n, details
}

// requireNoMismatches fails the test unless the policies hold exactly want,
// and returns the count (0) for the figures. The end state cannot show a
// foreign statement that a whole document took out and put back, so it
// also judges every whole-document write of the operator in the phase, one
// by one: none may touch a statement of anyone else's, replace a policy
// without naming its revision, or change nothing (see writeLog).
func (w *world) requireNoMismatches(what string, want expected) int {
	w.t.Helper()
	n, details := w.mismatches(want)
	if n != 0 {
		w.t.Errorf("%s: %d mismatches between the policies and the expected statements:\n  %s", what, n, strings.Join(details, "\n  "))
	}
	if violations := w.writes.summarize(w.ours).violations; len(violations) > 0 {
		w.t.Errorf("%s: whole-document writes of the operator that broke a rule:\n  %s", what, strings.Join(violations, "\n  "))
	}
	return n
}

// startPhase resets the emulator's counters and the write log, so that the
// next figures are one phase's.
func (w *world) startPhase() {
	w.emu.ResetStats()
	w.writes.reset()
	w.phaseStarted = time.Now()
}

// callCounts are calls by operation, for subtracting another writer's.
type callCounts map[string]int

// logFigures prints one phase's figures on one line: objects, functions,
// faults injected by kind, the operator's retries (every failed call and
// every dropped one) and its errors by operation and code, its calls by
// operation, and the final mismatches.
// others are calls made by someone else than the operator in the phase.
func (w *world) logFigures(phase string, objects, mismatches int, others callCounts, extra ...string) {
	w.t.Helper()
	stats := w.emu.Stats()
	faults := map[string]int{}
	for _, kinds := range stats.Faults {
		for kind, n := range kinds {
			faults[kind] += n
		}
	}
	retries := faults[emulator.FaultDrop] + faults[emulator.FaultDropAfterApply]
	for _, codes := range stats.Errors {
		for _, n := range codes {
			retries += n
		}
	}
	operations := []string{emulator.OpGetCallerIdentity, emulator.OpGetFunction, emulator.OpGetPolicy, emulator.OpAddPermission, emulator.OpRemovePermission}
	if w.variant.strategy == writer.Document {
		operations = append(operations, emulator.OpPutResourcePolicy, emulator.OpDeleteResourcePolicy)
	}
	var calls []string
	for _, op := range operations {
		calls = append(calls, fmt.Sprintf("%s=%d", op, stats.Calls[op]-others[op]))
	}
	var errs []string
	for _, op := range slices.Sorted(maps.Keys(stats.Errors)) {
		for _, code := range slices.Sorted(maps.Keys(stats.Errors[op])) {
			errs = append(errs, fmt.Sprintf("%s/%s=%d", op, strings.TrimSuffix(code, "Exception"), stats.Errors[op][code]))
		}
	}
	var injected []string
	for _, kind := range append(slices.Clone(emulator.FaultKinds), emulator.FaultLatency) {
		injected = append(injected, fmt.Sprintf("%s=%d", kind, faults[kind]))
	}
	line := fmt.Sprintf("FIGURES %s/%s/%s: objects=%d functions=%d faults[%s] retries=%d errors[%s] calls[%s] mismatches=%d took=%s",
		w.name, w.variant.strategy, phase, objects, len(w.functions), strings.Join(injected, " "), retries, strings.Join(errs, " "),
		strings.Join(calls, " "), mismatches, time.Since(w.phaseStarted).Round(100*time.Millisecond))
	if w.variant.strategy == writer.Document {
		extra = append(extra, w.writes.summarize(w.ours).String())
	}
	if len(extra) > 0 {
		line += " " + strings.Join(extra, " ")
	}
	w.t.Log(line)
}

// twentyPercentFaults fails one request in five, of every operation, in
// every way the emulator can: 5 % 500s, 5 % throttles, 4 % "update in
// progress" conflicts, 3 % dropped before and 3 % after the request is
// applied. scaled multiplies every rate.
func twentyPercentFaults(seed int64, scaled float64) emulator.Faults {
	return emulator.Faults{Seed: seed, RetryAfterSeconds: 1, Operations: map[string]emulator.OperationFaults{
		emulator.AllOperations: {ServiceError: 0.05 * scaled, Throttle: 0.05 * scaled, UpdateConflict: 0.04 * scaled,
			Drop: 0.03 * scaled, DropAfterApply: 0.03 * scaled},
	}}
}

func (w *world) setFaults(f emulator.Faults) {
	w.t.Helper()
	if err := w.emu.SetFaults(f); err != nil {
		w.t.Fatal(err)
	}
}
