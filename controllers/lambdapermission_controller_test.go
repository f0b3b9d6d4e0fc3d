//go:build integration

package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
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
	if got.Status.LastSyncTime == nil || !slices.Contains(get(t, obj).Finalizers, lambdav1alpha1.PermissionFinalizer) {
		t.Errorf("lastSyncTime %v, finalizers %v", got.Status.LastSyncTime, got.Finalizers)
	}
	waitEvent(t, obj, "Added")
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
	waitEvent(t, obj, "Removed")
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

func TestDriftIsCorrected(t *testing.T) {
	fn := newName("drift")
	newFunction(t, fn)
	obj := permission(newName("s3"), fn, s3Spec)
	create(t, obj)
	want := waitReady(t, obj).Status.Statement

	t.Run("removed outside, restored by the periodic sync", func(t *testing.T) {
		corrections := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "missing"})
		removeOutside(t, fn, "s3")
		// The correction is counted after the write that makes it: wait for
		// the count itself, not for the statement it follows.
		eventually(t, "the correction counted", func() string {
			if got := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "missing"}); got != corrections+1 {
				return fmt.Sprintf("drift_corrections_total{drift=missing} went from %v to %v, want +1", corrections, got)
			}
			return ""
		})
		if got, _ := storedStatement(fn, "", "s3"); got != want {
			t.Errorf("policy holds %q, want %q", got, want)
		}
		waitEvent(t, obj, "DriftCorrected")
	})
	t.Run("changed outside, corrected", func(t *testing.T) {
		corrections := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "changed"})
		removeOutside(t, fn, "s3")
		addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::attacker-bucket/*")})
		forceSyncs(t, 1, obj)
		if got, _ := storedStatement(fn, "", "s3"); got != want {
			t.Fatalf("policy holds %q, want %q", got, want)
		}
		if got := metricValue(t, "lambda_permission_drift_corrections_total", map[string]string{"drift": "changed"}); got != corrections+1 {
			t.Errorf("drift_corrections_total{drift=changed} went from %v to %v, want +1", corrections, got)
		}
	})
}

func TestDeletion(t *testing.T) {
	fn := newName("delete")
	newFunction(t, fn)
	remove := permission(newName("remove"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "remove-me", Principal: "sns.amazonaws.com", SourceAccount: account})
	retain := permission(newName("retain"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "retain-me", Principal: "sqs.amazonaws.com", SourceAccount: account,
		DeletionPolicy: lambdav1alpha1.DeletionPolicyRetain})
	create(t, remove)
	create(t, retain)
	waitReady(t, remove)
	waitReady(t, retain)

	for _, obj := range []*lambdav1alpha1.LambdaPermission{remove, retain} {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		waitGone(t, obj)
	}
	doc, _ := storedPolicy(fn, "")
	if got := sids(doc); !slices.Equal(got, []string{"foreign-terraform", "retain-me"}) {
		t.Errorf("policy Sids after deletion = %v, want foreign-terraform and retain-me", got)
	}
}

func TestDeletionIsNotHeldByAFunctionThatIsGone(t *testing.T) {
	fn := newName("gone")
	createFunction(t, fn)
	obj := permission(newName("orphan"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)
	if _, err := outside.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitGone(t, obj)
}

func TestSidConflict(t *testing.T) {
	fn := newName("conflict")
	newFunction(t, fn)
	first := permission(newName("first"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "shared", Principal: "sns.amazonaws.com", SourceAccount: account})
	create(t, first)
	waitReady(t, first)
	time.Sleep(1100 * time.Millisecond) // creation times have a one-second resolution
	second := permission(newName("second"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "shared", Principal: "sqs.amazonaws.com", SourceAccount: account})
	create(t, second)

	got := waitCondition(t, second, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, first.Name) {
		t.Errorf("Stalled = %+v, want True naming %s", c, first.Name)
	}
	if s := kstatus(t, second); s != status.FailedStatus {
		t.Errorf("kstatus of the loser = %s, want Failed", s)
	}
	waitEvent(t, second, lambdav1alpha1.ReasonSidConflict)

	// Neither flaps: over two sync periods the first keeps its statement
	// and nothing is written.
	before := lambdaAPI.WritesTo(fn)
	time.Sleep(2 * syncPeriod)
	want := predicted(t, fn, "", get(t, first).Spec)
	if stored, _ := storedStatement(fn, "", "shared"); stored != want {
		t.Errorf("policy holds %q, want the first object's %q", stored, want)
	}
	if got := lambdaAPI.WritesTo(fn) - before; got != 0 {
		t.Errorf("%d writes while the conflict stood, want 0", got)
	}
	if s := kstatus(t, first); s != status.CurrentStatus {
		t.Errorf("kstatus of the owner = %s, want Current", s)
	}

	// A loser that asks for exactly the owner's statement is refused too, and
	// deleting it leaves the owner's statement in place.
	removals := lambdaAPI.WritesTo(fn)
	twin := permission(newName("twin"), fn, get(t, first).Spec)
	create(t, twin)
	waitCondition(t, twin, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonSidConflict)
	if err := k8s.Delete(ctx, twin); err != nil {
		t.Fatal(err)
	}
	waitGone(t, twin)
	if stored, _ := storedStatement(fn, "", "shared"); stored != want {
		t.Errorf("deleting a losing twin left the policy with %q, want the owner's %q", stored, want)
	}
	if n := lambdaAPI.WritesTo(fn) - removals; n != 0 {
		t.Errorf("deleting a losing twin made %d writes, want 0", n)
	}

	// When the first goes, the second takes the Sid over.
	if err := k8s.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	got = waitReady(t, second)
	if stored, _ := storedStatement(fn, "", "shared"); stored != predicted(t, fn, "", got.Spec) {
		t.Errorf("after the owner left, policy holds %q", stored)
	}
}

func TestFunctionNotFoundUntilItAppears(t *testing.T) {
	fn := newName("later")
	notFound := metricValue(t, "lambda_permission_reconcile_errors_total", map[string]string{"reason": "FunctionNotFound"})
	obj := permission(newName("early"), fn, s3Spec)
	create(t, obj)
	got := waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonFunctionNotFound)
	if c := meta.FindStatusCondition(got.Status.Conditions, lambdav1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling = %+v, want True while waiting for the function", c)
	}
	if s := kstatus(t, obj); s != status.InProgressStatus {
		t.Errorf("kstatus = %s, want InProgress", s)
	}
	waitEvent(t, obj, lambdav1alpha1.ReasonFunctionNotFound)
	eventually(t, "the failure counted", func() string {
		if got := metricValue(t, "lambda_permission_reconcile_errors_total", map[string]string{"reason": "FunctionNotFound"}); got <= notFound {
			return fmt.Sprintf("reconcile_errors_total{reason=FunctionNotFound} at %v", got)
		}
		return ""
	})

	newFunction(t, fn)
	waitReady(t, obj)
	if s := kstatus(t, obj); s != status.CurrentStatus {
		t.Errorf("kstatus = %s, want Current", s)
	}
}

func TestAliasNotFoundUntilItAppears(t *testing.T) {
	fn := newName("aliased")
	newFunction(t, fn)
	spec := s3Spec
	spec.Qualifier = "live"
	obj := permission(newName("on-alias"), fn, spec)
	create(t, obj)
	waitCondition(t, obj, lambdav1alpha1.ConditionReady, metav1.ConditionFalse, lambdav1alpha1.ReasonFunctionNotFound)
	publishWithAlias(t, fn, "live")
	got := waitReady(t, obj)
	if stored, _ := storedStatement(fn, "live", "s3"); stored != got.Status.Statement || !strings.Contains(stored, ":function:"+fn+":live\"") {
		t.Errorf("alias policy holds %q, status %q", stored, got.Status.Statement)
	}
	if _, onFunction := storedStatement(fn, "", "s3"); onFunction {
		t.Error("the statement landed on the unqualified function too")
	}
}

// Another writer changes the policy between the controller's GetPolicy and
// its RemovePermission: Lambda answers 412, and the controller reads again
// and converges without losing the other writer's statement.
func TestStaleRevisionFromAConcurrentWriter(t *testing.T) {
	fn := newName("race412")
	newFunction(t, fn)
	obj := permission(newName("racer"), fn, lambdav1alpha1.LambdaPermissionSpec{StatementID: "racer", Principal: "sns.amazonaws.com", SourceAccount: account})
	create(t, obj)
	waitReady(t, obj)

	var concurrent string
	lambdaAPI.BeforeNextRemove(fn, func() {
		concurrent = addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("console-added"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("223456789012")})
	})
	errors412 := emu.Stats().Errors["RemovePermission"]["PreconditionFailedException"]
	stale := metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"operation": "RemovePermission", "outcome": "StaleRevision"})
	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) { o.Spec.Principal = "sqs.amazonaws.com" })
	got := waitReady(t, obj)

	if n := emu.Stats().Errors["RemovePermission"]["PreconditionFailedException"] - errors412; n != 1 {
		t.Fatalf("%d RemovePermission calls failed with 412, want the 1 caused by the concurrent writer", n)
	}
	if got := metricValue(t, "lambda_permission_aws_calls_total", map[string]string{"operation": "RemovePermission", "outcome": "StaleRevision"}); got != stale+1 {
		t.Errorf("aws_calls_total{RemovePermission,StaleRevision} went from %v to %v, want +1", stale, got)
	}
	if stored, _ := storedStatement(fn, "", "racer"); stored != predicted(t, fn, "", got.Spec) {
		t.Errorf("policy holds %q", stored)
	}
	if stored, ok := storedStatement(fn, "", "console-added"); !ok || stored != concurrent {
		t.Errorf("the concurrent writer's statement is %q (present %v), want %q", stored, ok, concurrent)
	}
}

// Another writer adds our Sid, with other content, between the controller's
// GetPolicy and its AddPermission: Lambda answers 409, and the controller
// converges to the object's content.
func TestSidAddedConcurrentlyWithOtherContent(t *testing.T) {
	fn := newName("race409")
	newFunction(t, fn)
	lambdaAPI.BeforeNextAdd(fn, func() {
		addOutside(t, fn, "", &lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::someone-else/*")})
	})
	conflicts := emu.Stats().Errors["AddPermission"]["ResourceConflictException"]
	obj := permission(newName("s3"), fn, s3Spec)
	create(t, obj)
	got := waitReady(t, obj)
	if n := emu.Stats().Errors["AddPermission"]["ResourceConflictException"] - conflicts; n != 1 {
		t.Fatalf("%d AddPermission calls failed with 409, want 1", n)
	}
	if stored, _ := storedStatement(fn, "", "s3"); stored != predicted(t, fn, "", got.Spec) {
		t.Errorf("policy holds %q, want the object's statement", stored)
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

// The function is deleted and created again outside (a redeploy by another
// tool): its new policy is empty, every statement comes back, and each
// object says its statement went with the whole policy.
func TestFunctionRecreatedOutsideGetsItsStatementsBack(t *testing.T) {
	fn := newName("redeployed")
	createFunction(t, fn)
	var objs []*lambdav1alpha1.LambdaPermission
	for _, sid := range []string{"one", "two", "three"} {
		spec := s3Spec
		spec.StatementID = sid
		obj := permission(newName(sid), fn, spec)
		create(t, obj)
		objs = append(objs, obj)
	}
	for _, obj := range objs {
		waitReady(t, obj)
	}
	if _, err := outside.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	createFunction(t, fn)
	eventually(t, "statements restored on the new function", func() string {
		doc, _ := storedPolicy(fn, "")
		if got := sids(doc); !slices.Equal(got, []string{"one", "three", "two"}) {
			return fmt.Sprintf("Sids %v", got)
		}
		return ""
	})
	for _, obj := range objs {
		waitEvent(t, obj, lambdav1alpha1.EventPolicyReplaced)
	}
}

// Objects that would push a policy past Lambda's 20 KB are refused before
// any write, with PolicyTooLarge; the others are unaffected.
func TestPolicyTooLargeIsRefusedBeforeAnyWrite(t *testing.T) {
	fn := newName("crowded")
	newFunction(t, fn)
	long := "arn:aws:s3:::" + strings.Repeat("b", 1800) + "/*"
	var objs []*lambdav1alpha1.LambdaPermission
	for i := range 14 {
		spec := s3Spec
		spec.StatementID = fmt.Sprintf("big-%02d", i)
		spec.SourceArn = long
		obj := permission(newName("big"), fn, spec)
		create(t, obj)
		objs = append(objs, obj)
		// One at a time, so which ones fit is deterministic.
		eventually(t, obj.Name+" settled", func() string {
			c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady)
			if c == nil || (c.Status != metav1.ConditionTrue && c.Reason != lambdav1alpha1.ReasonPolicyTooLarge) {
				return conditionString(c)
			}
			return ""
		})
	}
	var ready, tooLarge int
	for _, obj := range objs {
		switch c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady); {
		case c.Status == metav1.ConditionTrue:
			ready++
		case c.Reason == lambdav1alpha1.ReasonPolicyTooLarge && strings.Contains(c.Message, "20480"):
			tooLarge++
		}
	}
	doc, _ := storedPolicy(fn, "")
	size := doc.SizeAfter(nil)
	t.Logf("%d statements in place (policy %d bytes), %d refused as too large", ready, size, tooLarge)
	if ready == 0 || tooLarge == 0 || ready+tooLarge != len(objs) || len(doc.Statements) != ready+1 || size > 20480 {
		t.Errorf("%d ready, %d too large of %d; policy has %d statements, %d bytes", ready, tooLarge, len(objs), len(doc.Statements), size)
	}
	if n := emu.Stats().Errors["AddPermission"]["PolicyLengthExceededException"]; n != 0 {
		t.Errorf("%d AddPermission calls reached Lambda's own size check; the operator should refuse first", n)
	}
}

// A periodic check that cannot read the policy (here every GetPolicy is
// throttled) does not flip a statement that is in place to not Ready: GitOps
// health would flap with every throttle. The failed check is an Event, and
// is retried.
func TestAFailedCheckDoesNotUnreadyAStatementInPlace(t *testing.T) {
	fn := newName("steady")
	newFunction(t, fn)
	obj := permission(newName("steady"), fn, s3Spec)
	create(t, obj)
	waitReady(t, obj)

	if err := emu.SetFaults(emulator.Faults{Seed: 1, Operations: map[string]emulator.OperationFaults{"GetPolicy": {Throttle: 1}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.SetFaults(emulator.Faults{}) })
	update(t, obj, func(o *lambdav1alpha1.LambdaPermission) {
		o.Annotations = map[string]string{lambdav1alpha1.SyncRequestedAnnotation: time.Now().Format(time.RFC3339Nano)}
	})
	waitEvent(t, obj, lambdav1alpha1.ReasonThrottled)
	if c := meta.FindStatusCondition(get(t, obj).Status.Conditions, lambdav1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s after a throttled check, want True", conditionString(c))
	}
}
