//go:build integration

package v1alpha1_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// warnings collects the API server's admission warnings.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen
	w.seen = nil
	return seen
}

// installGuardrailWarnings applies config/admission/guardrails.yaml, the
// ValidatingAdmissionPolicy that the kustomize install and the chart ship.
func installGuardrailWarnings(t *testing.T) {
	t.Helper()
	f, err := os.Open("../../config/admission/guardrails.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); err != nil {
			break
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := k8sClient.Create(testContext(t), obj); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("creating %s: %v", obj.GetKind(), err)
		}
	}
}

// The guardrails the operator enforces are also announced at admission, as
// warnings: the object is accepted (an admin may allow it for the account),
// and its author learns at once what will happen.
func TestGuardrailsWarnAtAdmission(t *testing.T) {
	warned, seen := warningClient(t)
	tests := []struct {
		name   string
		mutate func(*v1alpha1.LambdaPermission)
		want   string // "" for no warning
	}{
		{"public", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "*" }, "PublicAccessDenied"},
		{"public function URL", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal, o.Spec.Action, o.Spec.FunctionURLAuthType = "*", "lambda:InvokeFunctionUrl", "NONE"
		}, "PublicAccessDenied"},
		{"service without source", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "sns.amazonaws.com" }, "SourceRequired"},
		{"service with a source", func(o *v1alpha1.LambdaPermission) { o.Spec.SourceArn = "arn:aws:s3:::bucket" }, ""},
		{"public to an organization", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal, o.Spec.PrincipalOrgID = "*", "o-a1b2c3d4e5" }, ""},
		{"IAM-authenticated URL", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal, o.Spec.Action, o.Spec.FunctionURLAuthType = "*", "lambda:InvokeFunctionUrl", "AWS_IAM"
		}, ""},
		{"an account", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal = "223456789012" }, ""},
		// A Deny opens nothing: it is never public and needs no source.
		{"public Deny", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal = v1alpha1.EffectDeny, "*"
		}, ""},
		{"public Deny outside a network", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal, o.Spec.Action = v1alpha1.EffectDeny, "*", "lambda:*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"203.0.113.0/24"}}}
		}, ""},
		{"service Deny without source", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal = v1alpha1.EffectDeny, "sns.amazonaws.com"
		}, ""},
		{"public, Allow said explicitly", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal = v1alpha1.EffectAllow, "*"
		}, "PublicAccessDenied"},
		{"service without source, Allow said explicitly", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Effect, o.Spec.Principal = v1alpha1.EffectAllow, "sns.amazonaws.com"
		}, "SourceRequired"},
		// Lambda's own rule for a public statement (SPEC §16.8): only fixed
		// values under an operator that requires the key narrow "*".
		{"public, wildcard sourceArn", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal, o.Spec.SourceArn = "*", "arn:aws:s3:::*" }, "PublicAccessDenied"},
		{"public, sourceArn with ?", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal, o.Spec.SourceArn = "*", "arn:aws:s3:::bucket-?" }, "PublicAccessDenied"},
		{"public, fixed sourceArn", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal, o.Spec.SourceArn = "*", "arn:aws:s3:::bucket" }, ""},
		{"public, sourceAccount", func(o *v1alpha1.LambdaPermission) { o.Spec.Principal, o.Spec.SourceAccount = "*", "223456789012" }, ""},
		{"public within a network", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "IpAddress", Key: "aws:SourceIp", Values: []string{"203.0.113.0/24"}}}
		}, ""},
		{"public, key in another case", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEquals", Key: "AWS:SourceVpc", Values: []string{"vpc-0a1b2c3d"}}}
		}, ""},
		{"public, ForAnyValue: narrows", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "ForAnyValue:StringEquals", Key: "aws:PrincipalOrgPaths", Values: []string{"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"}}}
		}, ""},
		{"public, ForAllValues: does not narrow", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "ForAllValues:StringEquals", Key: "aws:SourceVpce", Values: []string{"vpce-0a1b2c3d"}}}
		}, "PublicAccessDenied"},
		{"public, IfExists does not narrow", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEqualsIfExists", Key: "aws:SourceVpce", Values: []string{"vpce-0a1b2c3d"}}}
		}, "PublicAccessDenied"},
		{"public, wildcard VPC endpoint", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringLike", Key: "aws:SourceVpce", Values: []string{"vpce-0a1b2c3d", "vpce-*"}}}
		}, "PublicAccessDenied"},
		{"public, policy variable", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEquals", Key: "aws:PrincipalArn", Values: []string{"${aws:username}"}}}
		}, "PublicAccessDenied"},
		{"public, a key that does not narrow", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "*"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEquals", Key: "aws:RequestTag/team", Values: []string{"payments"}}}
		}, "PublicAccessDenied"},
		{"public, URL auth type AWS_IAM as a condition", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal, o.Spec.Action = "*", "lambda:InvokeFunctionUrl"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEquals", Key: "lambda:FunctionUrlAuthType", Values: []string{"AWS_IAM"}}}
		}, ""},
		{"public, URL auth type NONE as a condition", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal, o.Spec.Action = "*", "lambda:InvokeFunctionUrl"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEquals", Key: "lambda:FunctionUrlAuthType", Values: []string{"AWS_IAM", "NONE"}}}
		}, "PublicAccessDenied"},
		{"service with a source condition", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "sns.amazonaws.com"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "ArnLike", Key: "aws:SourceArn", Values: []string{"arn:aws:sns:us-east-1:223456789012:*"}}}
		}, ""},
		{"service with a source account condition, key in lower case", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "sns.amazonaws.com"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEqualsIfExists", Key: "aws:sourceaccount", Values: []string{"223456789012"}}}
		}, ""},
		{"service with another condition", func(o *v1alpha1.LambdaPermission) {
			o.Spec.Principal = "sns.amazonaws.com"
			o.Spec.Conditions = []v1alpha1.StatementCondition{{Operator: "StringEquals", Key: "aws:SourceVpc", Values: []string{"vpc-0a1b2c3d"}}}
		}, "SourceRequired"},
	}
	// The policy takes effect a moment after it is created: wait until it
	// gives each of its warnings as the cases below check them, not just
	// any warning.
	for _, probe := range []struct{ principal, reason string }{
		{"*", "PublicAccessDenied"}, {"sns.amazonaws.com", "SourceRequired"},
	} {
		waitForWarning(t, warned, seen, probe.reason, func(int) client.Object {
			obj := validObject()
			obj.Spec.Principal = probe.principal
			return obj
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := validObject()
			tt.mutate(obj)
			// The warning announces the operator's own decision: the
			// table's expectation is what the controller's guardrails
			// decide for this spec.
			if decided := controllerRefusal(obj); decided != tt.want {
				t.Fatalf("the table says %q, the operator's guardrails decide %q", tt.want, decided)
			}
			if err := warned.Create(testContext(t), obj); err != nil {
				t.Fatalf("refused, want accepted with at most a warning: %v", err)
			}
			checkWarned(t, seen.take(), tt.want)
		})
	}
}

// controllerRefusal is the reason the operator's default guardrails give
// for obj's grant (policy.Permission's IsPublic and IsServiceWithoutSource),
// or "" when they let it through.
func controllerRefusal(obj *v1alpha1.LambdaPermission) string {
	perm := translate.PermissionOf(obj.Spec, obj.Spec.StatementID)
	switch {
	case perm.IsPublic():
		return "PublicAccessDenied"
	case perm.IsServiceWithoutSource():
		return "SourceRequired"
	}
	return ""
}

// warningClient installs the guardrail policy and returns a client whose
// requests' admission warnings seen collects.
func warningClient(t *testing.T) (client.Client, *warnings) {
	t.Helper()
	installGuardrailWarnings(t)
	seen := &warnings{}
	cfg := rest.CopyConfig(restConfig)
	cfg.WarningHandler = seen
	warned, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return warned, seen
}

// waitForWarning creates probe(0), probe(1), … until the API server warns
// about one with reason, for at most 30 seconds: the policy takes effect a
// moment after it is created or changed.
func waitForWarning(t *testing.T, warned client.Client, seen *warnings, reason string, probe func(i int) client.Object) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		obj := probe(i)
		if err := warned.Create(testContext(t), obj); err != nil {
			t.Fatal(err)
		}
		if warnedAbout(strings.Join(seen.take(), "\n"), reason) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guardrail policy never warned %s about %s %s", reason, obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkWarned fails the test unless the warnings warned are those of
// reason (none for ""), and returns them joined.
func checkWarned(t *testing.T, warned []string, reason string) string {
	t.Helper()
	got := strings.Join(warned, "\n")
	switch {
	case reason == "" && got != "":
		t.Errorf("warned %q, want no warning", got)
	case reason != "" && !warnedAbout(got, reason):
		t.Errorf("warnings %q, want one naming spec.principal and %s", got, reason)
	}
	return got
}

// warnedAbout reports whether the warnings got name spec.principal and
// reason, as each guardrail's warning must.
func warnedAbout(got, reason string) bool {
	return strings.Contains(got, reason) && strings.Contains(got, "spec.principal")
}

// A function URL grant is warned about as its two LambdaPermissions would
// be: public unless principalOrgID narrows "*" (authType AWS_IAM narrows
// only the URL's own statement), and a service principal has no source.
// Each case's expectation is the operator's own decision on the two.
func TestFunctionURLGuardrailsWarnAtAdmission(t *testing.T) {
	warned, seen := warningClient(t)
	url := func(name string, spec v1alpha1.LambdaFunctionURLPermissionSpec) *v1alpha1.LambdaFunctionURLPermission {
		spec.FunctionName = "my-function"
		return &v1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: spec}
	}
	// The policy takes effect a moment after it is created (or, created by
	// another test, after it matches this kind too): wait for its warning.
	waitForWarning(t, warned, seen, "PublicAccessDenied", func(i int) client.Object {
		return url(fmt.Sprintf("probe-%d", i), v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "NONE"})
	})
	for _, tt := range []struct {
		name string
		spec v1alpha1.LambdaFunctionURLPermissionSpec
		want string
	}{
		{"public with the default principal", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "NONE"}, "PublicAccessDenied"},
		{"AWS_IAM to anyone", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "*"}, "PublicAccessDenied"},
		{"public to an organization", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "NONE", PrincipalOrgID: "o-a1b2c3d4e5"}, ""},
		{"AWS_IAM to an organization", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", PrincipalOrgID: "o-a1b2c3d4e5"}, ""},
		{"an account", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "223456789012"}, ""},
		{"a role", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "NONE", Principal: "arn:aws:iam::223456789012:role/caller"}, ""},
		{"a service", v1alpha1.LambdaFunctionURLPermissionSpec{AuthType: "AWS_IAM", Principal: "cloudfront.amazonaws.com"}, "SourceRequired"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := url(strings.ToLower(strings.NewReplacer(" ", "-", "_", "-").Replace(tt.name)), tt.spec)
			if err := warned.Create(testContext(t), obj); err != nil {
				t.Fatalf("refused, want accepted with at most a warning: %v", err)
			}
			// Judged as stored: with the CRD's defaults.
			if decided := controllerURLRefusal(obj); decided != tt.want {
				t.Fatalf("the table says %q, the operator's guardrails decide %q", tt.want, decided)
			}
			got := checkWarned(t, seen.take(), tt.want)
			if tt.want == "PublicAccessDenied" && !strings.Contains(got, "without principalOrgID") {
				t.Errorf("warnings %q, want the function URL's words: only principalOrgID narrows it", got)
			}
		})
	}
}

// controllerURLRefusal is the first reason the operator's default
// guardrails give for either of url's two LambdaPermissions, or "".
func controllerURLRefusal(url *v1alpha1.LambdaFunctionURLPermission) string {
	for _, child := range translate.FunctionURLPermissions(url, "") {
		if reason := controllerRefusal(&child); reason != "" {
			return reason
		}
	}
	return ""
}
