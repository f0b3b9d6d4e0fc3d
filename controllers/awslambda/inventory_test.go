package awslambda_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

func ref(name, qualifier string) policy.FunctionRef {
	return policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: name, Qualifier: qualifier}
}

func arns(refs []policy.FunctionRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.ResourceARN())
	}
	return out
}

func publish(t *testing.T, api *lambda.Client, name string, aliases ...string) {
	t.Helper()
	out, err := api.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, alias := range aliases {
		if _, err := api.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String(alias), FunctionVersion: out.Version}); err != nil {
			t.Fatal(err)
		}
	}
}

func functionURL(t *testing.T, api *lambda.Client, name, qualifier string, auth types.FunctionUrlAuthType) {
	t.Helper()
	in := &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(name), AuthType: auth}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	if _, err := api.CreateFunctionUrlConfig(ctx, in); err != nil {
		t.Fatal(err)
	}
}

// The inventory of an account: its functions, their versions and aliases,
// complete and qualified, and the auth type of each function URL.
func TestInventory(t *testing.T) {
	port, api, emu := newPort(t, emulator.Config{})
	for _, name := range []string{"orders", "billing"} {
		createFunction(t, api, name)
	}
	publish(t, api, "orders", "live")
	publish(t, api, "orders", "beta")
	functionURL(t, api, "orders", "", types.FunctionUrlAuthTypeNone)
	functionURL(t, api, "orders", "live", types.FunctionUrlAuthTypeAwsIam)

	for _, r := range []string{region, ""} { // "" is the configuration's region
		functions, err := port.ListFunctions(ctx, r)
		if want := []string{ref("billing", "").FunctionARN(), ref("orders", "").FunctionARN()}; err != nil || !slices.Equal(arns(functions), want) {
			t.Errorf("ListFunctions(%q) = %v, %v; want %v", r, arns(functions), err, want)
		}
	}
	// By ARN, or by bare name in the configuration's region and the
	// identity's account: the versions come back complete either way.
	for _, fn := range []policy.FunctionRef{ref("orders", ""), ref("orders", "live"), {Name: "orders"}} {
		versions, err := port.ListVersions(ctx, fn)
		if want := []string{ref("orders", "$LATEST").ResourceARN(), ref("orders", "1").ResourceARN(), ref("orders", "2").ResourceARN()}; err != nil || !slices.Equal(arns(versions), want) {
			t.Errorf("ListVersions(%+v) = %v, %v; want %v", fn, arns(versions), err, want)
		}
	}
	aliases, err := port.ListAliases(ctx, ref("orders", ""))
	if want := []string{ref("orders", "beta").ResourceARN(), ref("orders", "live").ResourceARN()}; err != nil || !slices.Equal(arns(aliases), want) {
		t.Errorf("ListAliases = %v, %v; want %v", arns(aliases), err, want)
	}
	if aliases, err := port.ListAliases(ctx, ref("billing", "")); err != nil || len(aliases) != 0 {
		t.Errorf("ListAliases of a function without aliases = %v, %v; want none", aliases, err)
	}
	for target, want := range map[policy.FunctionRef]string{
		ref("orders", ""): "NONE", ref("orders", "live"): "AWS_IAM", ref("orders", "beta"): "", ref("billing", ""): "", ref("missing", ""): "",
	} {
		if got, err := port.FunctionURLAuthType(ctx, target); err != nil || got != want {
			t.Errorf("FunctionURLAuthType(%s) = %q, %v; want %q", target.ResourceARN(), got, err, want)
		}
	}
	calls := emu.Stats().Calls
	if calls["ListFunctions"] != 2 || calls["ListVersionsByFunction"] != 3 || calls["ListAliases"] != 2 || calls["GetFunctionUrlConfig"] != 5 {
		t.Errorf("calls %v; want one per list and per URL read", calls)
	}
}

// Each list reads every page, one call per page.
func TestInventoryReadsEveryPage(t *testing.T) {
	port, api, emu := newPort(t, emulator.Config{})
	const functions, versions, aliases = 73, 57, 53 // Lambda's pages hold 50
	var want []string
	for i := range functions {
		name := fmt.Sprintf("f%03d", i)
		createFunction(t, api, name)
		want = append(want, ref(name, "").FunctionARN())
	}
	for i := range versions {
		var alias []string
		if i < aliases {
			alias = append(alias, fmt.Sprintf("a%03d", i))
		}
		publish(t, api, "f000", alias...)
	}

	got, err := port.ListFunctions(ctx, region)
	if err != nil || !slices.Equal(arns(got), want) {
		t.Fatalf("ListFunctions = %d functions, %v; want %d", len(got), err, functions)
	}
	listed, err := port.ListVersions(ctx, ref("f000", ""))
	if err != nil || len(listed) != versions+1 || listed[0].Qualifier != "$LATEST" || listed[versions].Qualifier != fmt.Sprint(versions) {
		t.Fatalf("ListVersions = %d versions, %v; want $LATEST and %d", len(listed), err, versions)
	}
	named, err := port.ListAliases(ctx, ref("f000", ""))
	if err != nil || len(named) != aliases || named[0].Qualifier != "a000" || !named[aliases-1].Complete() {
		t.Fatalf("ListAliases = %d aliases, %v; want %d", len(named), err, aliases)
	}
	calls := emu.Stats().Calls
	if calls["ListFunctions"] != 2 || calls["ListVersionsByFunction"] != 2 || calls["ListAliases"] != 2 {
		t.Errorf("calls %v; want two pages of each list", calls)
	}
}

// Every failure is classified, under the operation that failed.
func TestInventoryErrorKinds(t *testing.T) {
	calls := map[string]func(awslambda.Inventory) error{
		emulator.OpListFunctions:          func(i awslambda.Inventory) error { _, err := i.ListFunctions(ctx, region); return err },
		emulator.OpListVersionsByFunction: func(i awslambda.Inventory) error { _, err := i.ListVersions(ctx, ref("f", "")); return err },
		emulator.OpListAliases:            func(i awslambda.Inventory) error { _, err := i.ListAliases(ctx, ref("f", "")); return err },
		emulator.OpGetFunctionUrlConfig:   func(i awslambda.Inventory) error { _, err := i.FunctionURLAuthType(ctx, ref("f", "")); return err },
		emulator.OpGetPolicy:              func(i awslambda.Inventory) error { _, err := i.GetPolicy(ctx, ref("f", "")); return err },
	}
	for operation, call := range calls {
		for _, tt := range []struct {
			fault emulator.OperationFaults
			want  awslambda.Kind
		}{
			{emulator.OperationFaults{Throttle: 1}, awslambda.Throttled},
			{emulator.OperationFaults{ServiceError: 1}, awslambda.Unavailable},
		} {
			port, api, emu := newPort(t, emulator.Config{})
			createFunction(t, api, "f")
			emu.SetFaults(emulator.Faults{Operations: map[string]emulator.OperationFaults{operation: tt.fault}})
			err := call(port)
			var lambdaErr *awslambda.Error
			if !errors.As(err, &lambdaErr) || lambdaErr.Kind != tt.want || lambdaErr.Operation != operation {
				t.Errorf("%s: err = %#v, want Kind %s of %s", operation, err, tt.want, operation)
			}
		}
	}
	// A function that is not there: the lists say NotFound; a URL or a
	// policy it does not have is none.
	port, _, _ := newPort(t, emulator.Config{})
	for _, operation := range []string{emulator.OpListVersionsByFunction, emulator.OpListAliases} {
		if err := calls[operation](port); awslambda.KindOf(err) != awslambda.NotFound {
			t.Errorf("%s of a missing function: %v, want NotFound", operation, err)
		}
	}
	for _, operation := range []string{emulator.OpGetFunctionUrlConfig, emulator.OpGetPolicy} {
		if err := calls[operation](port); err != nil {
			t.Errorf("%s of a missing function: %v, want nothing", operation, err)
		}
	}
	// A context that ends while waiting for the limiter.
	limited := awslambda.New(awslambda.Config{AWS: portConfig(t, emulator.New(emulator.Config{Region: region, AccountID: account})),
		Limits: awslambda.Limits{ControlPlane: 0.001}})
	_, _ = limited.ListFunctions(ctx, region) // takes the one token
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := limited.ListFunctions(short, region); awslambda.KindOf(err) != awslambda.Unavailable {
		t.Errorf("ListFunctions past its context: %v, want Unavailable", err)
	}
}

// The lists and GetFunctionUrlConfig count against the control-plane
// quota, GetPolicy against its own: under an account whose control-plane
// quota is 5 per second, a port limited to 5 makes 11 of those calls in
// about two seconds, unthrottled, and its GetPolicy calls wait for none.
func TestInventoryKeepsUnderTheControlPlaneQuota(t *testing.T) {
	// The three calls that set up fit in the quota's burst of 5.
	_, api, emu := newPort(t, emulator.Config{Quotas: map[string]float64{emulator.BucketControlPlane: 5}})
	createFunction(t, api, "f")
	publish(t, api, "f", "live")
	limited := awslambda.New(awslambda.Config{AWS: portConfig(t, emu), Limits: awslambda.Limits{ControlPlane: 5, GetPolicy: 1000}})
	emu.ResetStats()
	start := time.Now()
	for i := range 11 {
		var err error
		switch i % 4 {
		case 0:
			_, err = limited.ListFunctions(ctx, region)
		case 1:
			_, err = limited.ListVersions(ctx, ref("f", ""))
		case 2:
			_, err = limited.ListAliases(ctx, ref("f", ""))
		case 3:
			_, err = limited.FunctionURLAuthType(ctx, ref("f", "live"))
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if elapsed := time.Since(start); elapsed < 1800*time.Millisecond || elapsed > 4*time.Second {
		t.Errorf("11 control-plane calls at 5/s took %s, want about 2s", elapsed)
	}
	start = time.Now()
	for range 10 {
		if _, err := limited.GetPolicy(ctx, ref("f", "")); err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("10 GetPolicy calls took %s: they waited on the control-plane limit", elapsed)
	}
	for operation, byCode := range emu.Stats().Errors {
		if n := byCode["TooManyRequestsException"]; n > 0 {
			t.Errorf("%d %s calls throttled: the limiter let the port exceed the quota", n, operation)
		}
	}
}
