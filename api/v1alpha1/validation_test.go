//go:build integration

package v1alpha1_test

// Admission tests for the LambdaPermission CRD: every object here goes through
// a real kube-apiserver (internal/testing/controlplane) with the generated CRD installed, so the
// OpenAPI limits, enums, defaults and CEL rules are the ones users get.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/golden"
)

const namespace = "admission-tests"

var (
	k8sClient  client.Client
	restConfig *rest.Config
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests starts one control plane for the whole package and stops it on
// every way out, including a failed start.
func runTests(m *testing.M) int {
	logf.SetLogger(logr.Discard())
	env, err := controlplane.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	cfg, err := env.Start()
	restConfig = cfg
	defer stopEnv(env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the control plane:", err)
		return 1
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		fmt.Fprintln(os.Stderr, "creating namespace:", err)
		return 1
	}
	return m.Run()
}

func stopEnv(env *envtest.Environment) {
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// validObject is accepted as it is (TestValidBaseObject); each invalid case
// breaks exactly one thing in it.
func validObject() *v1alpha1.LambdaPermission {
	return &v1alpha1.LambdaPermission{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "lp-", Namespace: namespace},
		Spec: v1alpha1.LambdaPermissionSpec{
			FunctionName: "my-function",
			StatementID:  "s3-invoke",
			Principal:    "s3.amazonaws.com",
		},
	}
}

// create sends obj to the API server. When raw is set, the object is sent as
// unstructured JSON after raw has edited it, for what the typed struct cannot
// express (a missing required member, an explicit empty string).
func create(ctx context.Context, obj *v1alpha1.LambdaPermission, raw func(spec map[string]any)) error {
	if raw == nil {
		return k8sClient.Create(ctx, obj)
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetAPIVersion(v1alpha1.GroupVersion.String())
	u.SetKind("LambdaPermission")
	spec, ok := content["spec"].(map[string]any)
	if !ok {
		return errors.New("no spec in the unstructured object")
	}
	raw(spec)
	return k8sClient.Create(ctx, u)
}

// requireInvalid checks that err is the API server's 422 naming field with
// message.
func requireInvalid(t *testing.T, err error, field, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s refused with %q", field, message)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("err = %v (reason %s), want Invalid", err, apierrors.ReasonForError(err))
	}
	text := err.Error()
	if !strings.Contains(text, field+": ") {
		t.Errorf("message does not name %s:\n%s", field, text)
	}
	if !strings.Contains(text, message) {
		t.Errorf("message does not contain %q:\n%s", message, text)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		t.Fatalf("no status details in %v", err)
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == field && strings.Contains(cause.Message, message) {
			return
		}
	}
	t.Errorf("no cause for field %s with %q in %+v", field, message, status.Status().Details.Causes)
}

// Human messages of the rules, as the CRD states them.
const (
	msgFunctionName    = "functionName must be a function name, name:qualifier, ACCOUNT:function:name or arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier], with a name of at most 64 characters"
	msgFunctionLatest  = "functionName: Lambda does not support policies on $LATEST"
	msgQualifier       = "qualifier must be a version number or an alias name (letters, digits, '-', '_')"
	msgQualifierLatest = "qualifier: Lambda does not support policies on $LATEST"
	msgQualifierMatch  = "qualifier must match the qualifier suffix of functionName"
	msgStatementID     = "statementId must contain only letters, digits, '-' and '_' (Lambda refuses '.')"
	msgCompactedSid    = "statementId must not end in compacted-<dimension>-<16 hex digits>"
	msgAction          = "action must be lambda:ActionName, lambda:* or *"
	msgPrincipal       = "principal must be *, a 12-digit account id, an IAM ARN (arn:aws:iam::123456789012:role/name) or a service principal (s3.amazonaws.com)"
	msgSourceArn       = "sourceArn must be an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
	msgSourceAccount   = "sourceAccount must be a 12-digit AWS account id"
	msgPrincipalOrgID  = "principalOrgID must be an organization id like o-a1b2c3d4e5"
	msgEventSource     = "eventSourceToken must contain only letters, digits, '.', '_' and '-'"
	msgRegion          = "region must be an AWS region such as us-east-2"
	msgRequired        = "Required value"
	msgOperator        = "conditions[].operator must be an IAM condition operator"
	msgConditionKey    = "conditions[].key must be a condition key: a service prefix, a colon and a name"
	msgConditionsOnce  = "conditions may hold each (operator, key) pair only once"
	msgImpliedKey      = "conditions must not name a key that another field sets"
)

// cond is a StatementCondition.
func cond(operator, key string, values ...string) v1alpha1.StatementCondition {
	return v1alpha1.StatementCondition{Operator: operator, Key: key, Values: values}
}

// conditionsOf sets the object's conditions.
func conditionsOf(conditions ...v1alpha1.StatementCondition) func(*v1alpha1.LambdaPermission) {
	return func(o *v1alpha1.LambdaPermission) { o.Spec.Conditions = conditions }
}

// distinctConditions are n conditions with n different keys.
func distinctConditions(n int) []v1alpha1.StatementCondition {
	out := make([]v1alpha1.StatementCondition, n)
	for i := range out {
		out[i] = cond("StringEquals", fmt.Sprintf("aws:RequestTag/tag%d", i), "v")
	}
	return out
}

// manyValues are n different values.
func manyValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.0.%d.0/24", i)
	}
	return out
}

// OpenAPI length messages.
func tooLong(n int) string  { return fmt.Sprintf("Too long: may not be more than %d bytes", n) }
func tooShort(n int) string { return fmt.Sprintf("should be at least %d chars long", n) }

const lambdaARN = "arn:aws:lambda:us-east-2:123456789012:function:"

func TestValidBaseObject(t *testing.T) {
	if err := create(testContext(t), validObject(), nil); err != nil {
		t.Fatalf("the base object of the invalid cases is refused: %v", err)
	}
}

func TestInvalidObjectsAreRefused(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*v1alpha1.LambdaPermission)
		raw         func(spec map[string]any) // optional: edits the JSON sent
		field       string
		wantMessage string
	}{
		// functionName
		{name: "functionName with a space", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "my function" },
			field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName with a slash", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "my/function" },
			field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName ARN with a foreign partition", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:azure:lambda:us-east-2:123456789012:function:f"
		}, field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName ARN with an upper-case region", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws:lambda:US-EAST-2:123456789012:function:f"
		}, field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName ARN with an 11-digit account", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws:lambda:us-east-2:12345678901:function:f"
		}, field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName ARN of another service", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws:s3:us-east-2:123456789012:function:f"
		}, field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName name of 65", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = strings.Repeat("n", 65) },
			field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName ARN name of 65", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = lambdaARN + strings.Repeat("n", 65)
		}, field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName of 257", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = lambdaARN + strings.Repeat("n", 64) + ":" + strings.Repeat("q", 257-len(lambdaARN)-65)
		}, field: "spec.functionName", wantMessage: tooLong(256)},
		{name: "functionName f:a:b", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "f:a:b" },
			field: "spec.functionName", wantMessage: msgFunctionName},
		{name: "functionName empty", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "" },
			field: "spec.functionName", wantMessage: tooShort(1)},
		{name: "functionName missing", raw: func(s map[string]any) { delete(s, "functionName") },
			field: "spec.functionName", wantMessage: msgRequired},
		{name: "functionName ending in $LATEST", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "my-function:$LATEST" },
			field: "spec.functionName", wantMessage: msgFunctionLatest},
		{name: "functionName ARN ending in $LATEST", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = lambdaARN + "my-function:$LATEST"
		}, field: "spec.functionName", wantMessage: msgFunctionLatest},

		// qualifier
		{name: "qualifier with ?", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "invalid-qualifier-with-?-char" },
			field: "spec.qualifier", wantMessage: msgQualifier},
		{name: "qualifier with a dot", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "v1.2" },
			field: "spec.qualifier", wantMessage: msgQualifier},
		{name: "qualifier of 129", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = strings.Repeat("q", 129) },
			field: "spec.qualifier", wantMessage: tooLong(128)},
		{name: "qualifier $LATEST", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "$LATEST" },
			field: "spec.qualifier", wantMessage: msgQualifierLatest},
		{name: "qualifier differs from name:qualifier", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = "my-function:1", "2"
		}, field: "spec.qualifier", wantMessage: msgQualifierMatch},
		{name: "qualifier differs from the ARN's", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = lambdaARN+"my-function:prod", "staging"
		}, field: "spec.qualifier", wantMessage: msgQualifierMatch},
		{name: "qualifier differs from the partial ARN's", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = "123456789012:function:my-function:3", "4"
		}, field: "spec.qualifier", wantMessage: msgQualifierMatch},
		{name: "qualifier differs from ACCOUNT:name:qualifier", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = "123456789012:my-function:3", "4"
		}, field: "spec.qualifier", wantMessage: msgQualifierMatch},

		// statementId
		{name: "statementId with a dot", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "example.com" },
			field: "spec.statementId", wantMessage: msgStatementID},
		{name: "statementId with a space", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "a b" },
			field: "spec.statementId", wantMessage: msgStatementID},
		{name: "statementId of a compacted statement", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "team-compacted-sourcearn-0123456789abcdef" },
			field: "spec.statementId", wantMessage: msgCompactedSid},
		{name: "statementId of 101", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = strings.Repeat("s", 101) },
			field: "spec.statementId", wantMessage: tooLong(100)},

		// action
		{name: "action of another service", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Action = "s3:GetObject" },
			field: "spec.action", wantMessage: msgAction},
		{name: "action prefix only", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Action = "lambda:" },
			field: "spec.action", wantMessage: msgAction},
		{name: "action with a digit", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Action = "lambda:Invoke2" },
			field: "spec.action", wantMessage: msgAction},
		{name: "action empty", raw: func(s map[string]any) { s["action"] = "" },
			field: "spec.action", wantMessage: tooShort(1)},

		// principal
		{name: "principal empty", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "" },
			field: "spec.principal", wantMessage: tooShort(1)},
		{name: "principal missing", raw: func(s map[string]any) { delete(s, "principal") },
			field: "spec.principal", wantMessage: msgRequired},
		{name: "principal with a space", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "s3 .amazonaws.com" },
			field: "spec.principal", wantMessage: msgPrincipal},
		{name: "principal amazonaws.com", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "amazonaws.com" },
			field: "spec.principal", wantMessage: msgPrincipal},
		{name: "principal of another domain", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "invalid.nonaws.com" },
			field: "spec.principal", wantMessage: msgPrincipal},
		{name: "principal malformed IAM ARN", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "arn:aws:iam:000000000000:role/xxxx"
		}, field: "spec.principal", wantMessage: msgPrincipal},
		{name: "principal of 11 digits", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "12345678901" },
			field: "spec.principal", wantMessage: msgPrincipal},
		{name: "principal of 2049", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = strings.Repeat("a", 2049-len(".amazonaws.com")) + ".amazonaws.com"
		}, field: "spec.principal", wantMessage: tooLong(2048)},

		// sourceArn
		{name: "sourceArn not an ARN", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.SourceArn = "my-bucket" },
			field: "spec.sourceArn", wantMessage: msgSourceArn},
		{name: "sourceArn with a 5-digit account", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3::12345:bucket" },
			field: "spec.sourceArn", wantMessage: msgSourceArn},
		{name: "sourceArn with an upper-case region", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:sns:US-EAST-1:123456789012:topic"
		}, field: "spec.sourceArn", wantMessage: msgSourceArn},
		{name: "sourceArn of 10001", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:s3:::" + strings.Repeat("b", 10001-len("arn:aws:s3:::"))
		}, field: "spec.sourceArn", wantMessage: tooLong(10000)},

		// sourceAccount
		{name: "sourceAccount of 11 digits", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.SourceAccount = "12345678901" },
			field: "spec.sourceAccount", wantMessage: msgSourceAccount},
		{name: "sourceAccount of 13 digits", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.SourceAccount = "1234567890123" },
			field: "spec.sourceAccount", wantMessage: tooLong(12)},
		{name: "sourceAccount with a letter", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.SourceAccount = "12345678901a" },
			field: "spec.sourceAccount", wantMessage: msgSourceAccount},

		// principalOrgID
		{name: "principalOrgID without o-", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.PrincipalOrgID = "a1b2c3d4e5" },
			field: "spec.principalOrgID", wantMessage: msgPrincipalOrgID},
		{name: "principalOrgID too short", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.PrincipalOrgID = "o-a1b2c3d4e" },
			field: "spec.principalOrgID", wantMessage: msgPrincipalOrgID},
		{name: "principalOrgID upper case", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.PrincipalOrgID = "o-A1B2C3D4E5" },
			field: "spec.principalOrgID", wantMessage: msgPrincipalOrgID},
		{name: "principalOrgID of 35", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.PrincipalOrgID = "o-" + strings.Repeat("a", 33) },
			field: "spec.principalOrgID", wantMessage: tooLong(34)},

		// eventSourceToken
		{name: "eventSourceToken with a slash", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.EventSourceToken = "a/b" },
			field: "spec.eventSourceToken", wantMessage: msgEventSource},
		{name: "eventSourceToken of 257", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.EventSourceToken = strings.Repeat("t", 257) },
			field: "spec.eventSourceToken", wantMessage: tooLong(256)},

		// enums
		{name: "functionUrlAuthType lower case", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionURLAuthType = "none" },
			field: "spec.functionUrlAuthType", wantMessage: `Unsupported value: "none": supported values: "NONE", "AWS_IAM"`},
		{name: "functionUrlAuthType IAM", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionURLAuthType = "IAM" },
			field: "spec.functionUrlAuthType", wantMessage: `Unsupported value: "IAM": supported values: "NONE", "AWS_IAM"`},
		{name: "deletionPolicy Orphan", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.DeletionPolicy = "Orphan" },
			field: "spec.deletionPolicy", wantMessage: `Unsupported value: "Orphan": supported values: "Delete", "Retain"`},

		// region
		{name: "region upper case", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Region = "US-EAST-1" },
			field: "spec.region", wantMessage: msgRegion},
		{name: "region without dashes", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Region = "useast1" },
			field: "spec.region", wantMessage: msgRegion},
		{name: "region other than the ARN's", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Region = "arn:aws:lambda:us-east-2:123456789012:function:f", "eu-west-1"
		}, field: "spec.region", wantMessage: "region must be the region in functionName's ARN (or in its REGION: prefix), or be left out"},
		{name: "region of 33", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Region = "us-" + strings.Repeat("e", 28) + "-1" },
			field: "spec.region", wantMessage: tooLong(32)},

		// effect
		{name: "effect Permit", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Effect = "Permit" },
			field: "spec.effect", wantMessage: `Unsupported value: "Permit": supported values: "Allow", "Deny"`},
		{name: "effect lower case", mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.Effect = "deny" },
			field: "spec.effect", wantMessage: `Unsupported value: "deny": supported values: "Allow", "Deny"`},

		// conditions
		{name: "condition operator misspelt", mutate: conditionsOf(cond("IpAdress", "aws:SourceIp", "203.0.113.0/24")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator with an unknown set prefix", mutate: conditionsOf(cond("ForSomeValues:StringLike", "aws:PrincipalOrgPaths", "o-a1b2c3d4e5/*")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator with two set prefixes", mutate: conditionsOf(cond("ForAnyValue:ForAllValues:StringLike", "aws:TagKeys", "a")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator in lower case", mutate: conditionsOf(cond("stringequals", "aws:SourceVpce", "vpce-1a2b3c4d")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator IfExists first", mutate: conditionsOf(cond("IfExistsStringEquals", "aws:SourceVpce", "vpce-1a2b3c4d")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator NullIfExists", mutate: conditionsOf(cond("NullIfExists", "aws:SourceVpce", "true")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator ForAnyValue:Null", mutate: conditionsOf(cond("ForAnyValue:Null", "aws:TagKeys", "true")),
			field: "spec.conditions[0].operator", wantMessage: msgOperator},
		{name: "condition operator empty", mutate: conditionsOf(cond("", "aws:SourceIp", "203.0.113.0/24")),
			field: "spec.conditions[0].operator", wantMessage: tooShort(1)},
		{name: "condition operator missing", raw: func(s map[string]any) {
			s["conditions"] = []any{map[string]any{"key": "aws:SourceIp", "values": []any{"203.0.113.0/24"}}}
		}, field: "spec.conditions[0].operator", wantMessage: msgRequired},
		{name: "condition operator of 65", mutate: conditionsOf(cond(strings.Repeat("O", 65), "aws:SourceIp", "203.0.113.0/24")),
			field: "spec.conditions[0].operator", wantMessage: tooLong(64)},
		{name: "condition key without a service prefix", mutate: conditionsOf(cond("IpAddress", "SourceIp", "203.0.113.0/24")),
			field: "spec.conditions[0].key", wantMessage: msgConditionKey},
		{name: "condition key without a name", mutate: conditionsOf(cond("IpAddress", "aws:", "203.0.113.0/24")),
			field: "spec.conditions[0].key", wantMessage: msgConditionKey},
		{name: "condition key with a space", mutate: conditionsOf(cond("IpAddress", "aws:Source Ip", "203.0.113.0/24")),
			field: "spec.conditions[0].key", wantMessage: msgConditionKey},
		{name: "condition key with a dashed prefix", mutate: conditionsOf(cond("StringEquals", "-aws:SourceVpce", "vpce-1a2b3c4d")),
			field: "spec.conditions[0].key", wantMessage: msgConditionKey},
		{name: "condition key of 257", mutate: conditionsOf(cond("StringEquals", "aws:RequestTag/"+strings.Repeat("t", 257-len("aws:RequestTag/")), "v")),
			field: "spec.conditions[0].key", wantMessage: tooLong(256)},
		{name: "condition key missing", raw: func(s map[string]any) {
			s["conditions"] = []any{map[string]any{"operator": "IpAddress", "values": []any{"203.0.113.0/24"}}}
		}, field: "spec.conditions[0].key", wantMessage: msgRequired},
		{name: "condition with no values", mutate: conditionsOf(cond("IpAddress", "aws:SourceIp", []string{}...)),
			field: "spec.conditions[0].values", wantMessage: "should have at least 1 items"},
		{name: "condition values missing", raw: func(s map[string]any) {
			s["conditions"] = []any{map[string]any{"operator": "IpAddress", "key": "aws:SourceIp"}}
		}, field: "spec.conditions[0].values", wantMessage: msgRequired},
		{name: "condition with 65 values", mutate: conditionsOf(cond("IpAddress", "aws:SourceIp", manyValues(65)...)),
			field: "spec.conditions[0].values", wantMessage: "must have at most 64 items"},
		{name: "condition with an empty value", mutate: conditionsOf(cond("IpAddress", "aws:SourceIp", "203.0.113.0/24", "")),
			field: "spec.conditions[0].values[1]", wantMessage: tooShort(1)},
		{name: "condition value of 2049", mutate: conditionsOf(cond("StringLike", "aws:PrincipalOrgPaths", strings.Repeat("v", 2049))),
			field: "spec.conditions[0].values[0]", wantMessage: tooLong(2048)},
		{name: "the second of two conditions wrong", mutate: conditionsOf(
			cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("StringEquals", "SourceVpce", "vpce-1a2b3c4d")),
			field: "spec.conditions[1].key", wantMessage: msgConditionKey},
		{name: "conditions with one (operator, key) twice", mutate: conditionsOf(
			cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("IpAddress", "aws:SourceIp", "198.51.100.0/24")),
			field: "spec.conditions", wantMessage: msgConditionsOnce},
		{name: "conditions with one (operator, key) twice among others", mutate: conditionsOf(
			cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"), cond("Null", "aws:SourceVpc", "false"),
			cond("StringEquals", "aws:SourceVpce", "vpce-9f8e7d6c")),
			field: "spec.conditions", wantMessage: msgConditionsOnce},
		{name: "33 conditions", mutate: conditionsOf(distinctConditions(33)...),
			field: "spec.conditions", wantMessage: "must have at most 32 items"},
		{name: "one (operator, key) twice, the key in another case", mutate: conditionsOf(
			cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("IpAddress", "aws:sourceip", "198.51.100.0/24")),
			field: "spec.conditions", wantMessage: msgConditionsOnce},
		{name: "a condition on the key sourceArn sets", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:s3:::uploads"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("ArnLike", "aws:SourceArn", "arn:aws:s3:::other")}
		}, field: "spec.conditions", wantMessage: msgImpliedKey},
		{name: "a condition on the key sourceAccount sets, in another case and operator", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceAccount = "123456789012"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringLike", "AWS:SOURCEACCOUNT", "2*")}
		}, field: "spec.conditions", wantMessage: msgImpliedKey},
		{name: "a condition on the key invokedViaFunctionUrl sets", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.InvokedViaFunctionURL = true
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("Bool", "lambda:InvokedViaFunctionUrl", "false")}
		}, field: "spec.conditions", wantMessage: msgImpliedKey},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d invalid cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validObject()
			if tt.mutate != nil {
				tt.mutate(obj)
			}
			requireInvalid(t, create(testContext(t), obj, tt.raw), tt.field, tt.wantMessage)
		})
	}
}

func TestImmutability(t *testing.T) {
	tests := []struct {
		name        string
		initial     func(*v1alpha1.LambdaPermission) // applied before create
		update      func(*v1alpha1.LambdaPermission)
		field       string // empty when the update is allowed
		wantMessage string
	}{
		{name: "functionName changed",
			update: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "other-function" },
			field:  "spec.functionName", wantMessage: "functionName is immutable"},
		{name: "functionName changed to the same function's ARN",
			update: func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = lambdaARN + "my-function" },
			field:  "spec.functionName", wantMessage: "functionName is immutable"},
		{name: "qualifier changed",
			initial: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "1" },
			update:  func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "2" },
			field:   "spec.qualifier", wantMessage: "qualifier is immutable once set"},
		{name: "qualifier removed",
			initial: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "prod" },
			update:  func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "" },
			field:   "spec.qualifier", wantMessage: "qualifier is immutable once set"},
		{name: "statementId changed",
			update: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "other-sid" },
			field:  "spec.statementId", wantMessage: "statementId is immutable once set"},
		{name: "statementId removed",
			update: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "" },
			field:  "spec.statementId", wantMessage: "statementId is immutable once set"},
		{name: "qualifier set when empty",
			update: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "prod" }},
		{name: "statementId set when empty",
			initial: func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "" },
			update:  func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "now-named" }},
		{name: "principal and sourceArn changed",
			update: func(o *v1alpha1.LambdaPermission) {
				o.Spec.Principal = "sns.amazonaws.com"
				o.Spec.SourceArn = "arn:aws:sns:us-east-2:123456789012:my-topic"
			}},
		{name: "effect and conditions changed",
			initial: conditionsOf(cond("IpAddress", "aws:SourceIp", "203.0.113.0/24")),
			update: func(o *v1alpha1.LambdaPermission) {
				o.Spec.Effect = v1alpha1.EffectDeny
				o.Spec.Conditions = []v1alpha1.StatementCondition{cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", "198.51.100.7/32")}
			}},
		{name: "conditions removed",
			initial: conditionsOf(cond("IpAddress", "aws:SourceIp", "203.0.113.0/24")),
			update:  func(o *v1alpha1.LambdaPermission) { o.Spec.Conditions = nil }},
		{name: "other fields changed with qualifier and statementId set",
			initial: func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "prod" },
			update: func(o *v1alpha1.LambdaPermission) {
				o.Spec.Principal = "123456789012"
				o.Spec.SourceAccount = "123456789012"
				o.Spec.Action = "lambda:GetFunction"
				o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			obj := validObject()
			if tt.initial != nil {
				tt.initial(obj)
			}
			if err := create(ctx, obj, nil); err != nil {
				t.Fatalf("create: %v", err)
			}
			tt.update(obj)
			want := *obj.Spec.DeepCopy()
			err := k8sClient.Update(ctx, obj)
			if tt.field != "" {
				requireInvalid(t, err, tt.field, tt.wantMessage)
				return
			}
			if err != nil {
				t.Fatalf("update refused: %v", err)
			}
			got := &v1alpha1.LambdaPermission{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(got.Spec, want) {
				t.Errorf("stored spec = %+v, want %+v", got.Spec, want)
			}
		})
	}
}

// requireAccepted creates obj and checks that the stored spec is obj's with
// the defaults filled in.
func requireAccepted(t *testing.T, obj *v1alpha1.LambdaPermission) {
	t.Helper()
	ctx := testContext(t)
	want := *obj.Spec.DeepCopy()
	if want.Action == "" {
		want.Action = "lambda:InvokeFunction"
	}
	if want.DeletionPolicy == "" {
		want.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	}
	if want.ManagementPolicy == "" {
		want.ManagementPolicy = v1alpha1.ManagementPolicyManage
	}
	if want.Effect == "" {
		want.Effect = v1alpha1.EffectAllow
	}
	if err := create(ctx, obj, nil); err != nil {
		t.Fatalf("refused: %v", err)
	}
	got := &v1alpha1.LambdaPermission{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got.Spec, want) {
		t.Errorf("stored spec = %+v, want %+v", got.Spec, want)
	}
}

func TestGoldenCasesAreAccepted(t *testing.T) {
	for _, c := range golden.MustLoad(t) {
		t.Run(c.ID, func(t *testing.T) {
			in := c.Input
			obj := validObject()
			obj.Spec = v1alpha1.LambdaPermissionSpec{
				FunctionName:          in.FunctionName,
				Qualifier:             in.Qualifier,
				StatementID:           in.StatementId,
				Action:                in.Action,
				Principal:             in.Principal,
				SourceArn:             in.SourceArn,
				SourceAccount:         in.SourceAccount,
				PrincipalOrgID:        in.PrincipalOrgID,
				EventSourceToken:      in.EventSourceToken,
				FunctionURLAuthType:   in.FunctionUrlAuthType,
				InvokedViaFunctionURL: in.InvokedViaFunctionUrl,
			}
			requireAccepted(t, obj)
		})
	}
}

func TestValidFormsAreAccepted(t *testing.T) {
	tests := map[string]func(*v1alpha1.LambdaPermission){
		"full ARN":                func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = lambdaARN + "my-function" },
		"full ARN with qualifier": func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = lambdaARN + "my-function:prod" },
		"full ARN and the same qualifier": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = lambdaARN+"my-function:7", "7"
		},
		"full ARN and a qualifier": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = lambdaARN+"my-function", "7"
		},
		"partial ARN":                func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "123456789012:function:my-function" },
		"partial ARN with qualifier": func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "123456789012:function:my-function:3" },
		"region and partial ARN":     func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = "us-west-2:123456789012:function:f" },
		"name:alias and the same qualifier": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Qualifier = "my-function:prod", "prod"
		},
		"name and qualifier":          func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "prod" },
		"qualifier $LATEST.PUBLISHED": func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = "$LATEST.PUBLISHED" },
		"qualifier of 128":            func(o *v1alpha1.LambdaPermission) { o.Spec.Qualifier = strings.Repeat("q", 128) },
		"name of 64":                  func(o *v1alpha1.LambdaPermission) { o.Spec.FunctionName = strings.Repeat("n", 64) },
		"functionName with the longest name and qualifier": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = lambdaARN + strings.Repeat("n", 64) + ":" + strings.Repeat("q", 128)
		},
		"aws-cn ARN": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
		},
		"aws-us-gov ARN with version": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:9"
		},
		"aws-iso ARN": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws-iso:lambda:us-iso-east-1:123456789012:function:f"
		},
		"aws-eusc ARN": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName = "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:f"
		},
		"statementId of 100":  func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = strings.Repeat("s", 100) },
		"statementId omitted": func(o *v1alpha1.LambdaPermission) { o.Spec.StatementID = "" },
		"principal role ARN with path": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "arn:aws:iam::123456789012:role/service-role/my-role"
		},
		"principal root ARN": func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "arn:aws:iam::123456789012:root" },
		"principal aws-cn user ARN": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "arn:aws-cn:iam::123456789012:user/u@example.com"
		},
		"principal assumed role": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "arn:aws:sts::123456789012:assumed-role/r/session"
		},
		"principal alexa":            func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "alexa-appkit.amazon.com" },
		"principal regional service": func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "logs.us-east-1.amazonaws.com" },
		"principal China service":    func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "s3.amazonaws.com.cn" },
		"principal *":                func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "*" },
		"principal account":          func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "223456789012" },
		"principal of 2048": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = strings.Repeat("a", 2048-len(".amazonaws.com")) + ".amazonaws.com"
		},
		"action lambda:*": func(o *v1alpha1.LambdaPermission) { o.Spec.Action = "lambda:*" },
		"action *":        func(o *v1alpha1.LambdaPermission) { o.Spec.Action = "*" },
		"action InvokeFunctionUrl": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Action, o.Spec.FunctionURLAuthType = "lambda:InvokeFunctionUrl", "AWS_IAM"
		},
		"sourceArn with wildcards": func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:execute-api:us-east-2:123456789012:abc/*/POST/x"
		},
		"sourceArn of 10000": func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:s3:::" + strings.Repeat("b", 10000-len("arn:aws:s3:::"))
		},
		"principalOrgID of 34":    func(o *v1alpha1.LambdaPermission) { o.Spec.PrincipalOrgID = "o-" + strings.Repeat("a", 32) },
		"eventSourceToken of 256": func(o *v1alpha1.LambdaPermission) { o.Spec.EventSourceToken = strings.Repeat("t", 256) },
		"region":                  func(o *v1alpha1.LambdaPermission) { o.Spec.Region = "eu-central-1" },
		"region us-gov":           func(o *v1alpha1.LambdaPermission) { o.Spec.Region = "us-gov-west-1" },
		"region equal to the ARN's": func(o *v1alpha1.LambdaPermission) {
			o.Spec.FunctionName, o.Spec.Region = "arn:aws:lambda:us-east-2:123456789012:function:f", "us-east-2"
		},
		"deletionPolicy Retain": func(o *v1alpha1.LambdaPermission) { o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain },
		"invokedViaFunctionUrl": func(o *v1alpha1.LambdaPermission) { o.Spec.InvokedViaFunctionURL = true },

		"effect Allow": func(o *v1alpha1.LambdaPermission) { o.Spec.Effect = v1alpha1.EffectAllow },
		"effect Deny":  func(o *v1alpha1.LambdaPermission) { o.Spec.Effect = v1alpha1.EffectDeny },
		"effect Deny to anyone": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal, o.Spec.Action = v1alpha1.EffectDeny, "*", "lambda:*"
		},
		"effect Deny outside a network": func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal = v1alpha1.EffectDeny, "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24")}
		},
		"condition IpAddress aws:SourceIp": conditionsOf(cond("IpAddress", "aws:SourceIp", "203.0.113.0/24", "2001:db8::/32")),
		"condition ForAnyValue:StringLike aws:PrincipalOrgPaths": conditionsOf(
			cond("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*")),
		"condition StringEqualsIfExists":       conditionsOf(cond("StringEqualsIfExists", "aws:SourceVpce", "vpce-1a2b3c4d")),
		"condition Null":                       conditionsOf(cond("Null", "aws:SourceVpc", "false")),
		"condition ArnLikeIfExists":            conditionsOf(cond("ArnLikeIfExists", "aws:SourceArn", "arn:aws:s3:::uploads-*")),
		"condition ForAllValues:...IfExists":   conditionsOf(cond("ForAllValues:StringNotEqualsIgnoreCaseIfExists", "aws:TagKeys", "secret")),
		"condition Bool":                       conditionsOf(cond("Bool", "aws:SecureTransport", "true")),
		"condition DateLessThan":               conditionsOf(cond("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z")),
		"condition NumericGreaterThanEquals":   conditionsOf(cond("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", "0")),
		"condition lambda:FunctionUrlAuthType": conditionsOf(cond("StringEquals", "lambda:FunctionUrlAuthType", "AWS_IAM")),
		"condition key with a tag":             conditionsOf(cond("StringEquals", "aws:ResourceTag/team", "payments")),
		"condition key with a placeholder":     conditionsOf(cond("StringEquals", "aws:RequestTag/${TagKey}", "x")),
		"condition key of a dashed service":    conditionsOf(cond("StringEquals", "execute-api:ApiStage", "prod")),
		"condition key with =+@ in a tag":      conditionsOf(cond("StringEquals", "aws:ResourceTag/a=b+c@d", "x")),
		"a condition on another key beside sourceAccount": func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceAccount = "123456789012"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d")}
		},
		"condition key of 256":     conditionsOf(cond("StringEquals", "aws:RequestTag/"+strings.Repeat("t", 256-len("aws:RequestTag/")), "v")),
		"condition value of 2048":  conditionsOf(cond("StringLike", "aws:PrincipalOrgPaths", strings.Repeat("v", 2048))),
		"condition with 64 values": conditionsOf(cond("IpAddress", "aws:SourceIp", manyValues(64)...)),
		"one key under two operators": conditionsOf(
			cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("NotIpAddress", "aws:SourceIp", "203.0.113.7/32")),
		"one operator over two keys": conditionsOf(
			cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"), cond("StringEquals", "aws:SourceVpc", "vpc-1a2b3c4d")),
		"32 conditions": conditionsOf(distinctConditions(32)...),
		"conditions beside sourceArn": func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:s3:::uploads"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d")}
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			obj := validObject()
			mutate(obj)
			requireAccepted(t, obj)
		})
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	ctx := testContext(t)
	obj := validObject()
	obj.Spec.Action, obj.Spec.DeletionPolicy = "", ""
	if err := create(ctx, obj, nil); err != nil {
		t.Fatal(err)
	}
	got := &v1alpha1.LambdaPermission{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Action != "lambda:InvokeFunction" {
		t.Errorf("action = %q, want lambda:InvokeFunction", got.Spec.Action)
	}
	if got.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete {
		t.Errorf("deletionPolicy = %q, want Delete", got.Spec.DeletionPolicy)
	}
	if got.Spec.ManagementPolicy != v1alpha1.ManagementPolicyManage {
		t.Errorf("managementPolicy = %q, want Manage", got.Spec.ManagementPolicy)
	}
	if got.Spec.Effect != v1alpha1.EffectAllow {
		t.Errorf("effect = %q, want Allow", got.Spec.Effect)
	}
}

// TestAccountWriteStrategy covers LambdaPermissionAccount's writeStrategy:
// Statements by default, Document when asked, nothing else.
func TestAccountWriteStrategy(t *testing.T) {
	account := func(strategy v1alpha1.WriteStrategy) *v1alpha1.LambdaPermissionAccount {
		return &v1alpha1.LambdaPermissionAccount{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "lpa-"},
			Spec:       v1alpha1.LambdaPermissionAccountSpec{AccountID: "123456789012", WriteStrategy: strategy},
		}
	}
	for strategy, want := range map[v1alpha1.WriteStrategy]v1alpha1.WriteStrategy{
		"":                               v1alpha1.WriteStrategyStatements,
		v1alpha1.WriteStrategyStatements: v1alpha1.WriteStrategyStatements,
		v1alpha1.WriteStrategyDocument:   v1alpha1.WriteStrategyDocument,
	} {
		t.Run("writeStrategy="+label(string(strategy)), func(t *testing.T) {
			ctx := testContext(t)
			obj := account(strategy)
			if err := k8sClient.Create(ctx, obj); err != nil {
				t.Fatalf("refused: %v", err)
			}
			t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), obj) })
			got := &v1alpha1.LambdaPermissionAccount{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			if got.Spec.WriteStrategy != want {
				t.Errorf("writeStrategy = %q, want %q", got.Spec.WriteStrategy, want)
			}
		})
	}
	for _, bad := range []v1alpha1.WriteStrategy{"Documents", "document", "PutResourcePolicy"} {
		t.Run("writeStrategy="+label(string(bad)), func(t *testing.T) {
			obj := account(bad)
			err := k8sClient.Create(testContext(t), obj)
			if err == nil {
				t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), obj) })
			}
			requireInvalid(t, err, "spec.writeStrategy",
				fmt.Sprintf(`Unsupported value: %q: supported values: "Statements", "Document"`, bad))
		})
	}
}

// goValidate is what the controller checks before any AWS call: the spec as
// a policy.Permission (with the Sid it derives and the action default) and
// its target.
func goValidate(spec v1alpha1.LambdaPermissionSpec) error {
	sid := spec.StatementID
	if sid == "" {
		sid = translate.DerivedStatementID(namespace, "derived")
	}
	_, err := policy.ResolveTarget(spec.FunctionName, spec.Qualifier)
	return errors.Join(translate.PermissionOf(spec, sid).Validate(), err)
}

type sample struct {
	name   string
	mutate func(*v1alpha1.LambdaPermission)
}

// label keeps subtest names short for long values.
func label(v string) string {
	if r := []rune(v); len(r) > 40 {
		return fmt.Sprintf("%q+%d_more", string(r[:24]), len(r)-24)
	}
	return fmt.Sprintf("%q", v)
}

func agreementSamples() []sample {
	var out []sample
	add := func(field string, set func(*v1alpha1.LambdaPermission, string), values ...string) {
		for _, v := range values {
			out = append(out, sample{name: field + "=" + label(v), mutate: func(o *v1alpha1.LambdaPermission) { set(o, v) }})
		}
	}
	long := func(prefix string, n int, suffix string) string {
		return prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix
	}
	add("principal", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.Principal = v },
		"*", "**", "123456789012", "12345678901", "1234567890123", "12345678901a",
		"arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:role/a/b/c",
		"arn:aws:iam::123456789012:role", "arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:user/u@example.com",
		"arn:aws-cn:iam::123456789012:root", "arn:aws-us-gov:iam::123456789012:role/r", "arn:aws:sts::123456789012:assumed-role/r/s",
		"arn:aws:iam:000000000000:role/xxxx", "arn:aws:iam::12345678901:root", "arn:aws:s3::123456789012:root",
		"arn:aws:iam::123456789012:role/r!", "arn:azure:iam::123456789012:root",
		"s3.amazonaws.com", "logs.us-east-1.amazonaws.com", "s3.amazonaws.com.cn", "alexa-appkit.amazon.com",
		"alexa-connectedhome.amazon.com", "amazonaws.com", "amazon.com", "invalid.nonaws.com", "S3.amazonaws.com",
		"-s3.amazonaws.com", "s3..amazonaws.com", "s3_x.amazonaws.com", "s3 .amazonaws.com", "s3.amazonaws.com\n",
		"\ts3.amazonaws.com", "s3.amazonaws.com.", "sérvice.amazonaws.com", "example.com",
		long("", 2048, ".amazonaws.com"), long("", 2049, ".amazonaws.com"))
	add("statementId", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.StatementID = v },
		"sns", "a-B_9", "example.com", "a b", "a/b", "a:b", "a$b", "ünïcode", "a\n",
		strings.Repeat("s", 100), strings.Repeat("s", 101))
	add("action", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.Action = v },
		"lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:GetFunction", "lambda:*", "*", "lambda:Foo",
		"s3:GetObject", "lambda:", "lambda:Invoke2", "lambda:Invoke_Function", "Lambda:InvokeFunction",
		"lambda:**", "lambda:Invoke*", "lambda:InvokeFunction ", long("lambda:", 10000, ""), long("lambda:", 10001, ""))
	add("sourceArn", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.SourceArn = v },
		"arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*", "arn:aws:sns:us-east-2:123456789012:topic",
		"arn:aws:execute-api:us-east-2:123456789012:abc/*/POST/x", "arn:aws:logs:us-east-1:644160558196:log-group:/aws/lambda/test:*",
		"arn:aws-cn:s3:::b", "arn:aws-us-gov:sns:us-gov-west-1:123456789012:t", "arn:aws:events:eusc-de-east-1:123456789012:rule/r",
		"arn:aws:s3:::", "arn:aws:s3::", "arn:aws::::x", "arn:aws:s3::12345:bucket", "arn:aws:sns:US-EAST-1:123456789012:topic",
		"arn:aws:sns:*:123456789012:topic", "arn:aws:sns:us-east-2:*:topic", "arn:gcp:s3:::b", "arn:aws:s_3:::b",
		"my-bucket", "arn:aws:s3:::bücket", "arn:aws:s3:::a\nb", "arn:aws:s3:::a b",
		long("arn:aws:s3:::", 10000, ""), long("arn:aws:s3:::", 10001, ""))
	out = append(out, sample{
		name:   "sourceArn of 5013 characters and 10013 bytes",
		mutate: func(o *v1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::" + strings.Repeat("é", 5000) },
	})
	add("sourceAccount", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.SourceAccount = v },
		"123456789012", "000000000000", "12345678901", "1234567890123", "12345678901a", "12345678901 ", "１23456789012")
	add("principalOrgID", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.PrincipalOrgID = v },
		"o-a1b2c3d4e5", "o-"+strings.Repeat("a", 32), "o-"+strings.Repeat("a", 33), "a1b2c3d4e5", "o-a1b2c3d4e",
		"o-A1B2C3D4E5", "o_a1b2c3d4e5", "o-a1b2c3d4e5-", "O-a1b2c3d4e5")
	add("eventSourceToken", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.EventSourceToken = v },
		"amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "a_b-c.d", "a/b", "a b", "a:b", "a+b", "é",
		strings.Repeat("t", 256), strings.Repeat("t", 257))
	add("functionUrlAuthType", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.FunctionURLAuthType = v },
		"NONE", "AWS_IAM", "none", "IAM")
	add("effect", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.Effect = v1alpha1.StatementEffect(v) },
		"Allow", "Deny", "deny", "Permit", "Allow ")
	out = append(out, sample{name: "effect=Deny,principal=*", mutate: func(o *v1alpha1.LambdaPermission) {
		o.Spec.Effect, o.Spec.Principal = v1alpha1.EffectDeny, "*"
	}})

	// conditions: each member alone in one condition, then lists.
	add("conditions[0].operator", func(o *v1alpha1.LambdaPermission, v string) {
		o.Spec.Conditions = []v1alpha1.StatementCondition{cond(v, "aws:SourceIp", "203.0.113.0/24")}
	},
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
		"ForAnyValue:StringLike", "ForAllValues:StringEquals", "StringEqualsIfExists", "ForAnyValue:ArnLikeIfExists",
		"ForAllValues:StringNotEqualsIgnoreCaseIfExists", "BoolIfExists", "IpAddressIfExists",
		"NullIfExists", "ForAnyValue:Null", "ForAllValues:NullIfExists", "IpAdress", "ForSomeValues:StringLike",
		"ForAnyValue:ForAllValues:StringLike", "ForAnyValue:", "IfExists", "StringEqualsIfExistsIfExists", "IfExistsStringEquals",
		"stringequals", "STRINGEQUALS", "StringEquals ", " StringEquals", "String Equals", "StringNotIpAddress", "NumericLike",
		"DateLike", "ArnNotIpAddress", "BoolNot", "NotNull", "StringEqualsIgnorecase", "forAnyValue:StringLike", "")
	add("conditions[0].key", func(o *v1alpha1.LambdaPermission, v string) {
		o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringEquals", v, "x")}
	},
		"aws:SourceIp", "aws:SourceVpce", "aws:PrincipalOrgPaths", "lambda:FunctionUrlAuthType", "AWS:SourceAccount",
		"aws:RequestTag/team", "aws:ResourceTag/cost-center", "aws:RequestTag/${TagKey}", "aws:RequestTag/a.b_c:d",
		"s3:prefix", "ec2:Vpc", "a:b", "SourceIp", "aws:", ":SourceIp", "aws:Source Ip", "aws:SourceIp ", "-aws:SourceIp",
		"execute-api:viaDomainArn", "aws:RequestTag/a=b", "aws:RequestTag/a+b", "aws:RequestTag/a@b", "aws:Söurce",
		"aws:SourceIp\n", "aws:*", "aws:Source*", "",
		long("aws:RequestTag/", 256, ""), long("aws:RequestTag/", 257, ""))
	add("conditions[0].values", func(o *v1alpha1.LambdaPermission, v string) {
		o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringLike", "aws:PrincipalOrgPaths", v)}
	},
		"o-a1b2c3d4e5/*", "*", " ", "é", "", "a\nb", strings.Repeat("v", 2048), strings.Repeat("v", 2049),
		strings.Repeat("é", 2048), strings.Repeat("é", 2049))
	for _, n := range []int{0, 1, 64, 65} {
		out = append(out, sample{name: fmt.Sprintf("conditions[0].values: %d values", n), mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("IpAddress", "aws:SourceIp", manyValues(n)...)}
		}})
	}
	for _, n := range []int{0, 1, 32, 33} {
		out = append(out, sample{name: fmt.Sprintf("conditions: %d conditions", n), mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.Conditions = distinctConditions(n)
		}})
	}
	for name, conditions := range map[string][]v1alpha1.StatementCondition{
		"one (operator, key) twice":   {cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("IpAddress", "aws:SourceIp", "198.51.100.0/24")},
		"one key under two operators": {cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("NotIpAddress", "aws:SourceIp", "203.0.113.7/32")},
		"one operator over two keys":  {cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"), cond("StringEquals", "aws:SourceVpc", "vpc-1")},
		"the second bad":              {cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"), cond("Nul", "aws:SourceVpc", "true")},
		"a key twice apart": {cond("StringEquals", "aws:SourceVpce", "vpce-1"), cond("Null", "aws:SourceVpc", "false"),
			cond("StringEquals", "aws:SourceVpce", "vpce-2")},
	} {
		out = append(out, sample{name: "conditions: " + name, mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.Conditions = conditions
		}})
	}
	// conditions beside the ones other fields imply, on the same keys.
	out = append(out,
		sample{name: "conditions: ArnLike aws:SourceArn beside sourceArn", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceArn = "arn:aws:s3:::uploads"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("ArnLike", "aws:SourceArn", "arn:aws:s3:::other")}
		}},
		sample{name: "conditions: StringEquals AWS:SourceAccount beside sourceAccount", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.SourceAccount = "123456789012"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringEquals", "AWS:SourceAccount", "223456789012")}
		}},
		sample{name: "conditions: StringEquals aws:PrincipalOrgID beside principalOrgID", mutate: func(o *v1alpha1.LambdaPermission) {
			o.Spec.PrincipalOrgID = "o-a1b2c3d4e5"
			o.Spec.Conditions = []v1alpha1.StatementCondition{cond("StringEquals", "aws:PrincipalOrgID", "o-f6g7h8i9j0")}
		}},
	)

	// functionName alone.
	add("functionName", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.FunctionName = v },
		"my-function", "my_function.v2", "f.", ".", "-", "my-function:prod", "my-function:1", "my-function:$LATEST",
		"my-function:$LATEST.PUBLISHED", "my-function:$LATEST.published", "my-function:$NEXT", "my-function:v1.2",
		"123456789012:function:my-function", "123456789012:function:my-function:3",
		"us-west-2:123456789012:function:f", "us-west-2:function:f", "function:f", "function:f:1", "function:",
		"123456789012:my-function", "us-east-1:my-function", "123456789012:my-function:1", "us-east-1:123456789012:my-function:1",
		lambdaARN+"my-function", lambdaARN+"my-function:prod", lambdaARN+"my-function:$LATEST",
		"arn:aws:lambda:us-east-2:123456789012:my-function", "arn::lambda:us-east-2:123456789012:function:f",
		"arn:aws-cn:lambda:cn-north-1:123456789012:function:f", "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:9",
		"arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:f", "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:f",
		"arn:aws:lambda:us-east-2:123456789012:function:f:a:b", "arn:aws:lambda:US-EAST-2:123456789012:function:f",
		"arn:aws:lambda:us-east-2:12345678901:function:f", "arn:aws:s3:us-east-2:123456789012:function:f",
		"arn:azure:lambda:us-east-2:123456789012:function:f", "arn:aws:lambda::123456789012:function:f",
		"my function", "my/function", "f:a:b", "f:", ":f", "f:prod!", "fünction",
		strings.Repeat("n", 64), strings.Repeat("n", 65), strings.Repeat("n", 64)+":"+strings.Repeat("q", 191),
		lambdaARN+strings.Repeat("n", 64)+":"+strings.Repeat("q", 256-len(lambdaARN)-65),
		lambdaARN+strings.Repeat("n", 64), lambdaARN+strings.Repeat("n", 65), lambdaARN+strings.Repeat("n", 65)+":1",
		"123456789012:function:"+strings.Repeat("n", 65), strings.Repeat("n", 65)+":1", lambdaARN+"function",
		"function:function", "function:function:function", "123456789012:"+strings.Repeat("n", 65),
		lambdaARN+strings.Repeat("n", 64)+":"+strings.Repeat("q", 257-len(lambdaARN)-65))

	// qualifier alone and with functionName: every prefix form, with and
	// without a qualifier of its own, against qualifiers that agree,
	// disagree or are absent.
	add("qualifier", func(o *v1alpha1.LambdaPermission, v string) { o.Spec.Qualifier = v },
		"1", "prod", "$LATEST", "$LATEST.PUBLISHED", "valid-with-$-but-doesnotexist", "invalid-qualifier-with-?-char",
		"v1.2", "a:b", strings.Repeat("q", 128), strings.Repeat("q", 129))
	for _, prefix := range []string{"", "us-east-2:", "123456789012:", "us-east-2:123456789012:", "arn:aws:lambda:us-east-2:123456789012:"} {
		for _, function := range []string{"", "function:"} {
			for _, name := range []string{"f", "123456789012", "us-east-2", "function", strings.Repeat("n", 65)} {
				for _, suffix := range []string{"", ":1", ":$LATEST"} {
					for _, qualifier := range []string{"", "1", "2"} {
						fn := prefix + function + name + suffix
						out = append(out, sample{name: "functionName=" + label(fn) + ",qualifier=" + label(qualifier), mutate: func(o *v1alpha1.LambdaPermission) {
							o.Spec.FunctionName, o.Spec.Qualifier = fn, qualifier
						}})
					}
				}
			}
		}
	}
	return out
}

// TestAdmissionAgreesWithGoValidation checks that the API server admits an
// object exactly when the controller's own checks (policy.Permission.Validate
// and policy.ResolveTarget) pass it, so nothing admitted stalls on a spec
// error and nothing the controller could handle is refused.
func TestAdmissionAgreesWithGoValidation(t *testing.T) {
	samples := agreementSamples()
	var accepted, refused int
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			obj := validObject()
			s.mutate(obj)
			goErr := goValidate(*obj.Spec.DeepCopy())
			err := create(testContext(t), obj, nil)
			if err != nil && !apierrors.IsInvalid(err) {
				t.Fatalf("create: %v", err)
			}
			if err == nil {
				accepted++
			} else {
				refused++
			}
			switch {
			case err == nil && goErr != nil:
				t.Errorf("the API server accepts what Go refuses: %v", goErr)
			case err != nil && goErr == nil:
				t.Errorf("the API server refuses what Go accepts: %v", err)
			}
		})
	}
	if accepted == 0 || refused == 0 {
		t.Errorf("%d accepted and %d refused: the samples must mix valid and invalid", accepted, refused)
	}
	t.Logf("%d samples: %d accepted, %d refused", len(samples), accepted, refused)
}
