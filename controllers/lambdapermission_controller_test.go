//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/golden"
)

var s3Spec = lambdav1alpha1.LambdaPermissionSpec{
	StatementID:   "s3",
	Action:        "lambda:InvokeFunction",
	Principal:     "s3.amazonaws.com",
	SourceAccount: "123456789012",
	SourceArn:     "arn:aws:s3:::my-bucket-1xpuxmplzrlbh/*",
}

func predicted(t *testing.T, function, qualifier string, spec lambdav1alpha1.LambdaPermissionSpec) string {
	t.Helper()
	target := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: function, Qualifier: qualifier}
	return policy.DesiredStatement(target, translate.PermissionOf(spec, spec.StatementID)).Render()
}

func TestCreatedPermissionBecomesReadyWithThePredictedStatement(t *testing.T) {
	fn := newName("create")
	newFunction(t, fn)
	obj := permission(newName("s3"), fn, s3Spec)
	create(t, obj)
	// No admission policy gives it its finalizer here (see
	// admission_finalizers_test.go): the operator adds it itself.
	if len(obj.Finalizers) != 0 {
		t.Fatalf("created with finalizers %v, want none", obj.Finalizers)
	}

	got := waitReady(t, obj)
	want := predicted(t, fn, "", s3Spec)
	stored, ok := storedStatement(fn, "", "s3")
	if !ok || stored != want {
		t.Fatalf("policy holds %q, want %q", stored, want)
	}
	if got.Status.Statement != stored {
		t.Errorf("status.statement = %q, want the stored %q", got.Status.Statement, stored)
	}
	if got.Status.StatementID != "s3" || got.Status.FunctionArn != "arn:aws:lambda:us-east-2:123456789012:function:"+fn {
		t.Errorf("status statementId %q functionArn %q", got.Status.StatementID, got.Status.FunctionArn)
	}
	if got.Status.LastSyncTime != nil || !slices.Contains(get(t, obj).Finalizers, lambdav1alpha1.PermissionFinalizer) {
		t.Errorf("lastSyncTime %v (deprecated: never written), finalizers %v", got.Status.LastSyncTime, got.Finalizers)
	}
	waitEvent(t, obj, lambdav1alpha1.EventAdded)
	if s := kstatus(t, obj); s != status.CurrentStatus {
		t.Errorf("kstatus = %s, want Current", s)
	}
}

func TestStatementIDIsDerivedWhenEmpty(t *testing.T) {
	fn := newName("derived")
	newFunction(t, fn)
	spec := s3Spec
	spec.StatementID = ""
	obj := permission(newName("bucket.events"), fn, spec)
	create(t, obj)
	got := waitReady(t, obj)
	want := "default_" + strings.ReplaceAll(obj.Name, ".", "_")
	if got.Status.StatementID != want {
		t.Fatalf("status.statementId = %q, want %q", got.Status.StatementID, want)
	}
	if _, ok := storedStatement(fn, "", want); !ok {
		t.Errorf("no statement %q in the policy", want)
	}
}

// Every recorded AWS case, as an object: Ready with exactly the predicted
// statement, then no write at all over three forced resyncs.
func TestGoldenCasesConvergeAndStayQuiet(t *testing.T) {
	// Some recorded cases are public or grant a service without a source:
	// the account's admin allows that here, for every namespace.
	declareAccount(t, lambdav1alpha1.LambdaPermissionAccountSpec{
		AccountID:  account,
		Access:     []lambdav1alpha1.AccountAccessRule{{}},
		Guardrails: lambdav1alpha1.Guardrails{AllowPublicAccess: ptr.To(true), AllowServiceWithoutSource: ptr.To(true)},
	})
	cases := golden.MustLoad(t)
	var objs []*lambdav1alpha1.LambdaPermission
	var functions []string
	for i, c := range cases {
		in := c.Input
		fn := newName("golden")
		functions = append(functions, fn)
		newFunction(t, fn)
		qualifier := in.Qualifier
		if _, q, ok := strings.Cut(in.FunctionName, ":"); ok {
			qualifier = q
		}
		functionName := fn
		if strings.Contains(in.FunctionName, ":") {
			functionName = fn + ":" + qualifier
		}
		if qualifier != "" {
			publishWithAlias(t, fn, qualifier)
		}
		obj := permission(newName("golden"), functionName, lambdav1alpha1.LambdaPermissionSpec{
			Qualifier: in.Qualifier, StatementID: in.StatementId, Action: in.Action, Principal: in.Principal,
			SourceArn: in.SourceArn, SourceAccount: in.SourceAccount, PrincipalOrgID: in.PrincipalOrgID,
			EventSourceToken: in.EventSourceToken, FunctionURLAuthType: in.FunctionUrlAuthType, InvokedViaFunctionURL: in.InvokedViaFunctionUrl,
		})
		create(t, obj)
		objs = append(objs, obj)
		defer func(i int, fn, qualifier string, obj *lambdav1alpha1.LambdaPermission) {
			if t.Failed() {
				return
			}
			got := get(t, obj)
			want := predicted(t, fn, qualifier, got.Spec)
			if stored, _ := storedStatement(fn, qualifier, got.Status.StatementID); stored != want || got.Status.Statement != want {
				t.Errorf("case %d (%s): stored %q, status %q, want %q", i, cases[i].ID, stored, got.Status.Statement, want)
			}
		}(i, fn, qualifier, obj)
	}
	for _, obj := range objs {
		waitReady(t, obj)
	}
	writesToGolden := func() (n int) {
		for _, fn := range functions {
			n += lambdaAPI.WritesTo(fn)
		}
		return n
	}
	before, reads := writesToGolden(), calls("GetPolicy")
	forceSyncs(t, 3, objs...)
	if got := writesToGolden() - before; got != 0 {
		t.Errorf("%d writes over 3 forced resyncs of %d objects in place, want 0", got, len(objs))
	}
	if got := calls("GetPolicy") - reads; got < 3*len(objs) {
		t.Errorf("only %d GetPolicy calls over 3 resyncs of %d objects: the resyncs did not read the policy", got, len(objs))
	}
}

// publishWithAlias makes qualifier exist: a version, or an alias to one.
func publishWithAlias(t *testing.T, fn, qualifier string) {
	t.Helper()
	v, err := outside.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v.Version) == qualifier {
		return
	}
	if _, err := outside.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(qualifier), FunctionVersion: v.Version}); err != nil {
		t.Fatal(err)
	}
}

func TestSpecChangeReplacesTheStatement(t *testing.T) {
	fn := newName("update")
	newFunction(t, fn)
	obj := permission(newName("xaccount"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "xaccount", Principal: "223456789012"})
	create(t, obj)
	waitReady(t, obj)

	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) {
		o.Spec.Principal = "323456789012"
		o.Spec.PrincipalOrgID = "o-a1b2c3d4e5"
	})
	got := waitReady(t, obj)
	want := predicted(t, fn, "", got.Spec)
	if stored, _ := storedStatement(fn, "", "xaccount"); stored != want || got.Status.Statement != want {
		t.Fatalf("after the change: stored %q, status %q, want %q", stored, got.Status.Statement, want)
	}
	if !strings.Contains(want, "arn:aws:iam::323456789012:root") {
		t.Fatalf("prediction %q lacks the new principal", want)
	}
	waitEvent(t, obj, lambdav1alpha1.EventRemoved)
}

func TestStatementIDChangeMovesTheStatement(t *testing.T) {
	fn := newName("move")
	newFunction(t, fn)
	spec := s3Spec
	spec.StatementID = ""
	obj := permission(newName("mover"), fn, spec)
	create(t, obj)
	derived := waitReady(t, obj).Status.StatementID

	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.StatementID = "explicit" })
	got := waitReady(t, obj)
	doc, _ := storedPolicy(fn, "")
	if got.Status.StatementID != "explicit" || !slices.Equal(sids(doc), []string{"explicit", "foreign-terraform"}) {
		t.Fatalf("statementId %q, policy Sids %v; want the statement moved from %q to explicit", got.Status.StatementID, sids(doc), derived)
	}
}

// The AWS call counter agrees with the calls Lambda received, and the gauge
// of managed statements with the objects that are Ready.
func TestMetricsAgreeWithWhatHappened(t *testing.T) {
	fn := newName("metrics")
	newFunction(t, fn)
	operations := []string{"GetPolicy", "AddPermission", "RemovePermission", "GetFunction", "GetCallerIdentity", "AssumeRole"}
	// Both counts are read while no call of the operator is in flight:
	// Lambda counts a call when it arrives, the operator when it returns.
	var before map[string]int
	counted := map[string]float64{}
	lambdaAPI.Quiesced(func() {
		before = emu.Stats().Calls
		for _, op := range operations {
			counted[op] = metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"operation": op})
		}
	})
	obj := permission(newName("counted"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)
	forceSyncs(t, 1, obj)
	lambdaAPI.Quiesced(func() {
		after := emu.Stats().Calls
		for op, was := range counted {
			got := metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"operation": op}) - was
			if want := float64(after[op] - before[op]); got != want {
				t.Errorf("aws_calls_total{operation=%s} rose by %v, AWS received %v", op, got, want)
			}
		}
	})

	eventually(t, "statements_managed = Ready objects", func() string {
		// This operator's objects: not those of the tests' other operators.
		var list lambdav1alpha1.LambdaPermissionList
		if err := k8s.List(ctx, &list, client.MatchingLabelsSelector{Selector: suiteObjects}); err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, o := range list.Items {
			if c := meta.FindStatusCondition(o.Status.Conditions, lambdav1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue && o.DeletionTimestamp.IsZero() {
				ready++
			}
		}
		if got := metricValue(t, "lambda_permission_statements_managed", nil); got != float64(ready) || ready == 0 {
			return fmt.Sprintf("gauge %v, %d objects Ready", got, ready)
		}
		return ""
	})
}
