//go:build integration

package v1alpha1_test

// Tests of config/admission/resource-policy.yaml, the ValidatingAdmissionPolicy
// that checks the shapes of a LambdaResourcePolicy's schemaless statement
// members (Principal, Action, Resource, Condition) and the policy's size,
// through the same real kube-apiserver as the CRD's tests. Every document
// is sent twice, once as YAML and once as JSON, as kubectl users paste them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

const (
	resourcePolicyVAP     = "lambda-resource-policy-validation"
	resourcePolicyVAPFile = "../../config/admission/resource-policy.yaml"
	// vapDenied starts the message of every refusal by the policy.
	vapDenied = "ValidatingAdmissionPolicy '" + resourcePolicyVAP + "' with binding '" + resourcePolicyVAP + "' denied request: "
)

// resourcePolicyYAML is a LambdaResourcePolicy on my-function in YAML with
// the given spec.policy, YAML or JSON text (JSON is YAML) as a user would
// write or paste it, indented with spaces.
func resourcePolicyYAML(policy string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: lambda.permissions.dev/v1alpha1\nkind: LambdaResourcePolicy\nmetadata:\n  generateName: lrp-\n  namespace: ")
	b.WriteString(namespace)
	b.WriteString("\nspec:\n  functionName: my-function\n  policy:\n")
	for _, line := range strings.Split(strings.TrimSpace(policy), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return []byte(b.String())
}

// postResourcePolicy sends body, a LambdaResourcePolicy in YAML or JSON as
// contentType says, to the API server as kubectl create would, and returns
// the object created or the API server's refusal as an API error.
func postResourcePolicy(ctx context.Context, body []byte, contentType string) (*unstructured.Unstructured, error) {
	httpClient, err := rest.HTTPClientFor(restConfig)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(restConfig.Host, "/") + "/apis/lambda.permissions.dev/v1alpha1/namespaces/" + namespace + "/lambdaresourcepolicies"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusCreated {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		return u, nil
	}
	var status metav1.Status
	if err := json.Unmarshal(data, &status); err != nil || status.Kind != "Status" {
		return nil, fmt.Errorf("HTTP %d without a Status: %s", resp.StatusCode, data)
	}
	return nil, &apierrors.StatusError{ErrStatus: status}
}

// inputForms are the two ways each document is sent: as written (YAML), and
// converted to JSON.
var inputForms = []string{"application/yaml", "application/json"}

// bodyAs is doc, a YAML document, in the given content type.
func bodyAs(t *testing.T, doc []byte, contentType string) []byte {
	t.Helper()
	if contentType == "application/yaml" {
		return doc
	}
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("converting to JSON: %v\n%s", err, doc)
	}
	return data
}

// manifest is every object of a YAML file.
func manifest(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var objs []*unstructured.Unstructured
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); err == io.EOF {
			return objs, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(obj.Object) != 0 {
			objs = append(objs, obj)
		}
	}
}

// createManifest creates every object of a YAML file.
func createManifest(ctx context.Context, path string) error {
	objs, err := manifest(path)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := k8sClient.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// waitForRefusal sends doc until the API server refuses it with a message
// holding want: a ValidatingAdmissionPolicy takes effect a moment after it
// is created.
func waitForRefusal(ctx context.Context, doc []byte, want string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := postResourcePolicy(ctx, doc, "application/yaml")
		if err != nil && strings.Contains(err.Error(), want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("never refused with %q; last answer: %v", want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// badPrincipalProbe is a document the policy refuses.
var badPrincipalProbe = resourcePolicyYAML(`{"Statement":[{"Sid":"probe","Effect":"Allow","Principal":5,"Action":"lambda:InvokeFunction"}]}`)

// waitForPolicy waits until the policy refuses badPrincipalProbe.
func waitForPolicy(ctx context.Context) error {
	return waitForRefusal(ctx, badPrincipalProbe, vapDenied+`spec.policy.Statement[0].Principal (Sid "probe")`)
}

var (
	resourcePolicyVAPOnce sync.Once
	resourcePolicyVAPErr  error
)

// installResourcePolicyValidation creates, once for the package, the policy
// and its binding from config/admission, and waits until the policy refuses.
func installResourcePolicyValidation(t *testing.T) {
	t.Helper()
	resourcePolicyVAPOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := createManifest(ctx, resourcePolicyVAPFile); err != nil {
			resourcePolicyVAPErr = err
			return
		}
		resourcePolicyVAPErr = waitForPolicy(ctx)
	})
	if resourcePolicyVAPErr != nil {
		t.Fatal(resourcePolicyVAPErr)
	}
}

// createWithoutPolicy creates doc while the policy's binding is away, as if
// the object predated the policy, and puts the binding back.
func createWithoutPolicy(t *testing.T, doc []byte) *unstructured.Unstructured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	objs, err := manifest(resourcePolicyVAPFile)
	if err != nil {
		t.Fatal(err)
	}
	binding := objs[1]
	if binding.GetKind() != "ValidatingAdmissionPolicyBinding" {
		t.Fatalf("the second object of %s is a %s, want the binding", resourcePolicyVAPFile, binding.GetKind())
	}
	if err := k8sClient.Delete(ctx, binding.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	var created *unstructured.Unstructured
	deadline := time.Now().Add(30 * time.Second)
	for created == nil {
		created, err = postResourcePolicy(ctx, doc, "application/yaml")
		if created == nil && time.Now().After(deadline) {
			t.Errorf("still refused 30s after the binding was deleted: %v", err)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := k8sClient.Create(ctx, binding); err != nil {
		t.Fatalf("putting the binding back: %v", err)
	}
	if err := waitForPolicy(ctx); err != nil {
		t.Fatal(err)
	}
	if created == nil {
		t.FailNow()
	}
	return created
}

// TestAdmissionPolicyReadsSchemalessMembers is the premise of the policy:
// CRD validation rules cannot see schemaless members, but a
// ValidatingAdmissionPolicy can, with their JSON types. A policy of its own,
// limited to objects labelled for it, refuses them with a message built from
// what it read.
func TestAdmissionPolicyReadsSchemalessMembers(t *testing.T) {
	ctx := testContext(t)
	const name = "lrp-schemaless-probe"
	probe := `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ` + name + `
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["lambda.permissions.dev"]
      apiVersions: ["v1alpha1"]
      operations: ["CREATE"]
      resources: ["lambdaresourcepolicies"]
  matchConditions:
  - name: labelled
    expression: "has(object.metadata.labels) && 'schemaless-probe' in object.metadata.labels"
  variables:
  - name: s
    expression: "object.spec.policy.Statement[0]"
  validations:
  - expression: "false"
    messageExpression: >-
      'read:' +
      ' principal=' + (type(variables.s.Principal) == map ? 'map' : 'other') +
      ' service=' + variables.s.Principal.Service +
      ' actions=' + (type(variables.s.Action) == list ? 'list ' + string(size(variables.s.Action)) + ' ' + variables.s.Action[1] : 'other') +
      ' resource=' + (type(variables.s.Resource) == string ? 'string ' + variables.s.Resource : 'other') +
      ' epoch=' + (type(variables.s.Condition.NumericLessThan['aws:EpochTime']) == int ? 'int ' + string(variables.s.Condition.NumericLessThan['aws:EpochTime']) : 'other') +
      ' age=' + (type(variables.s.Condition.NumericGreaterThan['aws:MultiFactorAuthAge']) == double ? 'double ' + string(variables.s.Condition.NumericGreaterThan['aws:MultiFactorAuthAge']) : 'other') +
      ' secure=' + (type(variables.s.Condition.Bool['aws:SecureTransport']) == bool ? 'bool ' + string(variables.s.Condition.Bool['aws:SecureTransport']) : 'other')
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: ` + name + `
spec:
  policyName: ` + name + `
  validationActions: [Deny]
`
	dir := t.TempDir()
	path := dir + "/probe.yaml"
	if err := os.WriteFile(path, []byte(probe), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := createManifest(ctx, path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, kind := range []string{"ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"} {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("admissionregistration.k8s.io/v1")
			u.SetKind(kind)
			u.SetName(name)
			if err := k8sClient.Delete(ctx, u); err != nil {
				t.Errorf("deleting the probe's %s: %v", kind, err)
			}
		}
	})

	doc := bytes.Replace(resourcePolicyYAML(`
Statement:
- Sid: probe
  Effect: Allow
  Principal: {"Service": "s3.amazonaws.com"}
  Action: ["lambda:GetFunction", "lambda:InvokeFunction"]
  Resource: arn:aws:lambda:us-east-2:123456789012:function:my-function
  Condition:
    NumericLessThan: {"aws:EpochTime": 1700000000}
    NumericGreaterThan: {"aws:MultiFactorAuthAge": 1.5}
    Bool: {"aws:SecureTransport": true}
`), []byte("generateName: lrp-\n"), []byte("generateName: lrp-\n  labels:\n    schemaless-probe: \"true\"\n"), 1)
	want := "read: principal=map service=s3.amazonaws.com actions=list 2 lambda:InvokeFunction" +
		" resource=string arn:aws:lambda:us-east-2:123456789012:function:my-function" +
		" epoch=int 1700000000 age=double 1.5 secure=bool true"
	if err := waitForRefusal(ctx, doc, "ValidatingAdmissionPolicy '"+name+"' with binding '"+name+"' denied request: "+want); err != nil {
		t.Fatal(err)
	}
}

// The documents of TestResourcePolicyShapesAccepted: policies as IAM's JSON
// is pasted, and as YAML.
var acceptedResourcePolicies = []struct{ name, policy string }{
	{"public function URL with Principal *", `{"Version":"2012-10-17","Statement":[{"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}]}`},
	{"service principal with ArnLike and StringEquals", `{"Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket"},"StringEquals":{"AWS:SourceAccount":"123456789012"}}}]}`},
	{"AWS principals as a list, Action as a list", `{"Statement":[{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","111122223333"]},"Action":["lambda:InvokeFunction","lambda:GetFunction"]}]}`},
	{"Deny outside a network, with numbers and a boolean", `{"Statement":[{"Sid":"deny-outside","Effect":"Deny","Principal":"*","Action":"lambda:*","Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.7/32"]},"NumericLessThan":{"aws:EpochTime":1700000000,"aws:MultiFactorAuthAge":[3600,7200.5]},"Bool":{"aws:SecureTransport":false}}}]}`},
	{"Resource as an ARN and as a list", `{"Statement":[{"Sid":"one","Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"arn:aws:lambda:us-east-2:123456789012:function:my-function"},{"Sid":"two","Effect":"Allow","Principal":{"Service":["sns.amazonaws.com","events.amazonaws.com"]},"Action":"lambda:InvokeFunction","Resource":["arn:aws:lambda:us-east-2:123456789012:function:my-function","arn:aws:lambda:us-east-2:123456789012:function:my-function:*"]}]}`},
	{"Federated and CanonicalUser principals, actions in any case", `{"Statement":[{"Sid":"fed","Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com","CanonicalUser":["79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"]},"Action":["Lambda:invokefunction","LAMBDA:*"]}]}`},
	{"Condition with an ArnLike list and an empty map of operators", `{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"aws:SourceArn":["arn:aws:events:us-east-2:123456789012:rule/a","arn:aws:events:us-east-2:123456789012:rule/b"]}}},{"Sid":"b","Effect":"Allow","Principal":"*","Action":"lambda:GetFunction","Condition":{}}]}`},
	{"no statements", `{"Version":"2012-10-17"}`},
	{"YAML with quoted account ids", `
Version: "2012-10-17"
Statement:
- Sid: xaccount
  Effect: Allow
  Principal:
    AWS:
    - "111122223333"
    - arn:aws:iam::123456789012:role/orders-reader
  Action:
  - lambda:InvokeFunction
  Condition:
    StringEquals:
      aws:PrincipalOrgID: o-a1b2c3d4e5
    NumericLessThanEquals:
      aws:MultiFactorAuthAge: 3600
- Sid: s3
  Effect: Allow
  Principal: {Service: s3.amazonaws.com}
  Action: lambda:InvokeFunction
  Condition: {ArnLike: {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}}
`},
}

func TestResourcePolicyShapesAccepted(t *testing.T) {
	installResourcePolicyValidation(t)
	for _, tt := range acceptedResourcePolicies {
		for _, form := range inputForms {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				doc := resourcePolicyYAML(tt.policy)
				got, err := postResourcePolicy(testContext(t), bodyAs(t, doc, form), form)
				if err != nil {
					t.Fatalf("refused: %v\n%s", err, doc)
				}
				// Stored as sent (nothing pruned), with the Version defaulted.
				var sent map[string]any
				if err := json.Unmarshal(bodyAs(t, doc, "application/json"), &sent); err != nil {
					t.Fatal(err)
				}
				want := sent["spec"].(map[string]any)["policy"].(map[string]any)
				want["Version"] = "2012-10-17"
				stored, _, err := unstructured.NestedMap(got.Object, "spec", "policy")
				if err != nil {
					t.Fatal(err)
				}
				if !equality.Semantic.DeepEqual(normalizeNumbers(stored), normalizeNumbers(want)) {
					t.Errorf("stored policy\n%v\nwant\n%v", stored, want)
				}
			})
		}
	}
}

// normalizeNumbers turns every number into a float64, so that a policy
// decoded by encoding/json compares with one from the API server's answer.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[k] = normalizeNumbers(item)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = normalizeNumbers(item)
		}
		return out
	case int64:
		return float64(v)
	}
	return v
}

// stmt is a one-statement policy whose statement has Sid "a" and these
// members (JSON), besides the Sid and an Effect.
func stmt(members string) string {
	return `{"Statement":[{"Sid":"a","Effect":"Allow",` + members + `}]}`
}

const (
	okPrincipal = `"Principal":{"Service":"s3.amazonaws.com"}`
	okAction    = `"Action":"lambda:InvokeFunction"`
)

func TestResourcePolicyShapesRefused(t *testing.T) {
	installResourcePolicyValidation(t)
	const (
		principal = `spec.policy.Statement[0].Principal (Sid "a") must be "*" or a map of AWS, Service, Federated or CanonicalUser to a non-empty string or a non-empty list of non-empty strings`
		action    = `spec.policy.Statement[0].Action (Sid "a") must be lambda:ActionName, lambda:* or *, or a non-empty list of them`
		resource  = `spec.policy.Statement[0].Resource (Sid "a") must be an ARN (arn:...) or a non-empty list of ARNs`
		condition = `spec.policy.Statement[0].Condition (Sid "a") must map condition operators (StringEquals, ArnLike, ...) to non-empty maps of condition keys to a string, number or boolean, or a non-empty list of them`
	)
	tests := []struct {
		name, policy, want string
	}{
		// Principal
		{"Principal a number", stmt(`"Principal":5,` + okAction), principal},
		{"Principal a boolean", stmt(`"Principal":true,` + okAction), principal},
		{"Principal an account id, not *", stmt(`"Principal":"123456789012",` + okAction), principal},
		{"Principal empty", stmt(`"Principal":"",` + okAction), principal},
		{"Principal a list", stmt(`"Principal":["*"],` + okAction), principal},
		{"Principal an empty map", stmt(`"Principal":{},` + okAction), principal},
		{"Principal of an unknown type", stmt(`"Principal":{"User":"arn:aws:iam::123456789012:user/u"},` + okAction), principal},
		{"Principal type in the wrong case", stmt(`"Principal":{"aws":"arn:aws:iam::123456789012:root"},` + okAction), principal},
		{"Principal an empty identifier", stmt(`"Principal":{"AWS":""},` + okAction), principal},
		{"Principal an empty list", stmt(`"Principal":{"AWS":[]},` + okAction), principal},
		{"Principal an empty identifier in a list", stmt(`"Principal":{"AWS":["arn:aws:iam::123456789012:root",""]},` + okAction), principal},
		{"Principal a number in a list", stmt(`"Principal":{"AWS":["arn:aws:iam::123456789012:root",111122223333]},` + okAction), principal},
		{"Principal a map in a map", stmt(`"Principal":{"Service":{"name":"s3.amazonaws.com"}},` + okAction), principal},
		// Principal values as PutResourcePolicy takes them (SPEC §16.6 item 7).
		{"Principal.AWS an IAM ARN without a resource", stmt(`"Principal":{"AWS":"arn:aws:iam::123456789012:"},` + okAction), principal},
		{"Principal.AWS a role name", stmt(`"Principal":{"AWS":["123456789012","my-role"]},` + okAction), principal},
		{"Principal.Service a label ending in a dash", stmt(`"Principal":{"Service":"s3-.amazonaws.com"},` + okAction), principal},
		{"Principal.Service of another domain", stmt(`"Principal":{"Service":"invalid.nonaws.com"},` + okAction), principal},
		{"Principal.Federated with white space", stmt(`"Principal":{"Federated":"a b"},` + okAction), principal},
		{"Principal an unquoted account id in YAML", `
Statement:
- Sid: a
  Effect: Allow
  Principal:
    AWS: 111122223333
  Action: lambda:InvokeFunction
`, principal + ` (quote account ids in YAML: "111122223333")`},

		// Action
		{"Action a number", stmt(okPrincipal + `,"Action":5`), action},
		{"Action empty", stmt(okPrincipal + `,"Action":""`), action},
		{"Action of another service", stmt(okPrincipal + `,"Action":"s3:GetObject"`), action},
		{"Action without its service", stmt(okPrincipal + `,"Action":"InvokeFunction"`), action},
		{"Action with a partial wildcard", stmt(okPrincipal + `,"Action":"lambda:Invoke*"`), action},
		{"Action with a dash", stmt(okPrincipal + `,"Action":"lambda:Invoke-Function"`), action},
		{"Action an empty list", stmt(okPrincipal + `,"Action":[]`), action},
		{"Action a number in a list", stmt(okPrincipal + `,"Action":["lambda:InvokeFunction",5]`), action},
		{"Action a bad name in a list", stmt(okPrincipal + `,"Action":["lambda:InvokeFunction","iam:PassRole"]`), action},
		{"Action a map", stmt(okPrincipal + `,"Action":{"lambda":"InvokeFunction"}`), action},
		{"Action an operation a function's policy does not support", stmt(okPrincipal + `,"Action":"lambda:CreateFunction"`), action},
		{"Action an unknown operation in a list", stmt(okPrincipal + `,"Action":["lambda:GetFunction","lambda:Foo"]`), action},

		// Resource
		{"Resource empty", stmt(okPrincipal + `,` + okAction + `,"Resource":""`), resource},
		{"Resource a function name", stmt(okPrincipal + `,` + okAction + `,"Resource":"my-function"`), resource},
		{"Resource a number", stmt(okPrincipal + `,` + okAction + `,"Resource":5`), resource},
		{"Resource an empty list", stmt(okPrincipal + `,` + okAction + `,"Resource":[]`), resource},
		{"Resource a name in a list", stmt(okPrincipal + `,` + okAction + `,"Resource":["arn:aws:lambda:us-east-2:123456789012:function:f","f"]`), resource},
		{"Resource a map", stmt(okPrincipal + `,` + okAction + `,"Resource":{"arn":"arn:aws:lambda:us-east-2:123456789012:function:f"}`), resource},

		// Condition
		{"Condition a string", stmt(okPrincipal + `,` + okAction + `,"Condition":"aws:SourceIp"`), condition},
		{"Condition a list", stmt(okPrincipal + `,` + okAction + `,"Condition":[{"StringEquals":{"aws:SourceAccount":"123456789012"}}]`), condition},
		{"Condition an operator to a string", stmt(okPrincipal + `,` + okAction + `,"Condition":{"StringEquals":"123456789012"}`), condition},
		{"Condition an operator to an empty map", stmt(okPrincipal + `,` + okAction + `,"Condition":{"StringEquals":{}}`), condition},
		{"Condition a key to a map", stmt(okPrincipal + `,` + okAction + `,"Condition":{"StringEquals":{"aws:SourceAccount":{"v":"123456789012"}}}`), condition},
		{"Condition a key to an empty list", stmt(okPrincipal + `,` + okAction + `,"Condition":{"IpAddress":{"aws:SourceIp":[]}}`), condition},
		{"Condition a key to null", stmt(okPrincipal + `,` + okAction + `,"Condition":{"StringEquals":{"aws:SourceAccount":null}}`), condition},
		{"Condition a list holding a list", stmt(okPrincipal + `,` + okAction + `,"Condition":{"IpAddress":{"aws:SourceIp":[["203.0.113.0/24"]]}}`), condition},
		{"Condition an unknown operator", stmt(okPrincipal + `,` + okAction + `,"Condition":{"StringEqual":{"aws:SourceAccount":"123456789012"}}`), condition},
		{"Condition Null with IfExists", stmt(okPrincipal + `,` + okAction + `,"Condition":{"NullIfExists":{"aws:SourceVpc":"true"}}`), condition},
		{"Condition an empty key", stmt(okPrincipal + `,` + okAction + `,"Condition":{"StringEquals":{"":"x"}}`), condition},

		// The statement named is the first bad one, by index and Sid.
		{"the third statement's Action", `{"Statement":[` +
			`{"Sid":"good","Effect":"Allow",` + okPrincipal + `,` + okAction + `},` +
			`{"Sid":"also_good","Effect":"Deny","Principal":"*","Action":"lambda:*"},` +
			`{"Sid":"bad-3","Effect":"Allow",` + okPrincipal + `,"Action":"sns:Publish"},` +
			`{"Sid":"bad-4","Effect":"Allow",` + okPrincipal + `,"Action":"sqs:SendMessage"}]}`,
			`spec.policy.Statement[2].Action (Sid "bad-3") must be lambda:ActionName`},
		{"the second statement's Condition", `{"Statement":[` +
			`{"Sid":"good","Effect":"Allow",` + okPrincipal + `,` + okAction + `,"Condition":{"Bool":{"aws:SecureTransport":true}}},` +
			`{"Sid":"Bad","Effect":"Allow",` + okPrincipal + `,` + okAction + `,"Condition":{"Bool":{"aws:SecureTransport":{}}}}]}`,
			`spec.policy.Statement[1].Condition (Sid "Bad") must map condition operators`},
		// Principal is checked first.
		{"Principal and Action both bad", stmt(`"Principal":5,"Action":5`), principal},
	}
	for _, tt := range tests {
		for _, form := range inputForms {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				doc := resourcePolicyYAML(tt.policy)
				_, err := postResourcePolicy(testContext(t), bodyAs(t, doc, form), form)
				requireRefusedByPolicy(t, err, tt.want)
			})
		}
	}
}

// requireRefusedByPolicy checks that err is the resource policy's refusal,
// 422 Invalid, with a message holding want.
func requireRefusedByPolicy(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refused with %q", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("err = %v (reason %s), want Invalid", err, apierrors.ReasonForError(err))
	}
	if !strings.Contains(err.Error(), vapDenied+want) {
		t.Errorf("message\n%s\ndoes not hold\n%s", err.Error(), vapDenied+want)
	}
}

// An update is checked as a create is; an update that leaves the spec as it
// is (a finalizer, a label: what the controller writes) is not checked at
// all, so objects from before the policy can still be finalized and deleted.
func TestResourcePolicyAdmissionOnUpdate(t *testing.T) {
	installResourcePolicyValidation(t)
	ctx := testContext(t)

	t.Run("a spec update to a bad shape", func(t *testing.T) {
		obj := validResourcePolicy()
		if err := createResourcePolicy(ctx, obj, nil); err != nil {
			t.Fatal(err)
		}
		obj.Spec.Policy.Statement[0].Action = rawJSON(`["lambda:InvokeFunction","s3:GetObject"]`)
		requireRefusedByPolicy(t, k8sClient.Update(ctx, obj), `spec.policy.Statement[0].Action (Sid "s3-invoke") must be lambda:ActionName`)
	})

	t.Run("an object from before the policy", func(t *testing.T) {
		legacy := createWithoutPolicy(t, resourcePolicyYAML(`{"Statement":[{"Sid":"legacy","Effect":"Allow","Principal":123456789012,"Action":"lambda:InvokeFunction"}]}`))
		key := client.ObjectKeyFromObject(legacy)
		obj := &v1alpha1.LambdaResourcePolicy{}
		if err := k8sClient.Get(ctx, key, obj); err != nil {
			t.Fatal(err)
		}
		obj.Finalizers = append(obj.Finalizers, "lambda.permissions.dev/test")
		obj.Labels = map[string]string{"team": "a"}
		if err := k8sClient.Update(ctx, obj); err != nil {
			t.Fatalf("adding a finalizer and a label refused: %v", err)
		}
		obj.Spec.ManagementPolicy = v1alpha1.ManagementPolicyObserve
		requireRefusedByPolicy(t, k8sClient.Update(ctx, obj), `spec.policy.Statement[0].Principal (Sid "legacy") must be "*"`)

		if err := k8sClient.Get(ctx, key, obj); err != nil {
			t.Fatal(err)
		}
		if err := k8sClient.Delete(ctx, obj); err != nil {
			t.Fatalf("delete refused: %v", err)
		}
		if err := k8sClient.Get(ctx, key, obj); err != nil {
			t.Fatal(err)
		}
		obj.Finalizers = nil
		if err := k8sClient.Update(ctx, obj); err != nil {
			t.Fatalf("removing the finalizer of the deleted object refused: %v", err)
		}
		if err := k8sClient.Get(ctx, key, obj); !apierrors.IsNotFound(err) {
			t.Errorf("after its finalizer was removed, the object: %v, want NotFound", err)
		}
	})
}

// sizedPolicy is a policy document (JSON) of statements like those users
// write, Principal, Action, Resource and Condition in each of their forms,
// whose compact JSON as Lambda gets it,
// {"Version":"2012-10-17","Id":"default","Statement":[...]}, is exactly
// size bytes (at least 2000), with escape in one of its strings.
func sizedPolicy(t *testing.T, size int, escape string) []byte {
	t.Helper()
	statements := []map[string]any{}
	add := func(st map[string]any) { statements = append(statements, st) }
	for i := 0; compactPolicySize(t, statements) < size-1500; i++ {
		sid := fmt.Sprintf("Statement-%d", i)
		switch i % 4 {
		case 0:
			add(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]any{"Service": "s3.amazonaws.com"},
				"Action": "lambda:InvokeFunction",
				"Condition": map[string]any{"ArnLike": map[string]any{"AWS:SourceArn": "arn:aws:s3:::bucket-" + sid},
					"StringEquals": map[string]any{"AWS:SourceAccount": "123456789012"}}})
		case 1:
			add(map[string]any{"Sid": sid, "Effect": "Allow",
				"Principal": map[string]any{"AWS": []any{"arn:aws:iam::123456789012:root", "111122223333"}, "Service": []any{"sns.amazonaws.com"}},
				"Action":    []any{"lambda:InvokeFunction", "lambda:GetFunction"},
				"Resource":  "arn:aws:lambda:us-east-2:123456789012:function:my-function"})
		case 2:
			add(map[string]any{"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "lambda:*",
				"Resource": []any{"arn:aws:lambda:us-east-2:123456789012:function:my-function", "arn:aws:lambda:us-east-2:123456789012:function:my-function:*"},
				"Condition": map[string]any{"NotIpAddress": map[string]any{"aws:SourceIp": []any{"203.0.113.0/24", "198.51.100.7/32"}},
					"NumericLessThan": map[string]any{"aws:EpochTime": 1700000000, "aws:MultiFactorAuthAge": []any{3600, 7200.5}},
					"Bool":            map[string]any{"aws:SecureTransport": false}}})
		case 3:
			add(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "*",
				"Condition": map[string]any{}})
		}
	}
	// A last statement padded to the size wanted.
	last := map[string]any{"Sid": "padding", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetFunction",
		"Condition": map[string]any{"StringLike": map[string]any{"aws:PrincipalArn": "arn:aws:iam::123456789012:role/" + escape}}}
	add(last)
	short := size - compactPolicySize(t, statements)
	if short < 0 {
		t.Fatalf("cannot build a policy of %d bytes", size)
	}
	last["Condition"].(map[string]any)["StringLike"].(map[string]any)["aws:PrincipalArn"] = "arn:aws:iam::123456789012:role/" + escape + strings.Repeat("r", short)
	if got := compactPolicySize(t, statements); got != size {
		t.Fatalf("built a policy of %d bytes, want %d", got, size)
	}
	data, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// compactPolicySize is the length of the compact JSON of the policy Lambda
// gets, as controllers/policy measures it.
func compactPolicySize(t *testing.T, statements []map[string]any) int {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": statements}); err != nil {
		t.Fatal(err)
	}
	return len(bytes.TrimSpace(b.Bytes()))
}

// The estimate of the policy's size is its compact JSON's length, exactly
// for ASCII text: a policy up to Lambda's 20480 bytes is accepted, one byte
// more is refused with the estimate in the message. Characters JSON
// escapes, or outside ASCII, are counted once: the estimate is then smaller
// than the real size, never larger.
func TestResourcePolicySizeEstimate(t *testing.T) {
	installResourcePolicyValidation(t)
	estimate := regexp.MustCompile(`spec\.policy: its estimated size, ([0-9]+) bytes of compact JSON \(this object's statements as written\), is over Lambda's policy size limit of 20480 bytes`)
	tests := []struct {
		name     string
		size     int
		escape   string
		estimate int // the estimate in the refusal; 0 when accepted
	}{
		{name: "18000 bytes", size: 18000},
		{name: "20480 bytes, the limit", size: 20480},
		{name: "20481 bytes", size: 20481, estimate: 20481},
		{name: "24000 bytes", size: 24000, estimate: 24000},
		{name: "20481 bytes with escaped quotes", size: 20481, escape: `a\"b\"`}, // two characters counted once each
		{name: "20490 bytes with escaped quotes", size: 20490, escape: `a\"b\"`, estimate: 20488},
		{name: "20500 bytes of which 20 in ten é", size: 20500, escape: strings.Repeat("é", 10), estimate: 20490},
		{name: "20485 bytes of which 10 in five é", size: 20485, escape: strings.Repeat("é", 5)},
	}
	for _, tt := range tests {
		for _, form := range inputForms {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				escape := tt.escape
				if strings.Contains(escape, `\"`) {
					escape = strings.ReplaceAll(escape, `\"`, `"`)
				}
				policy := sizedPolicy(t, tt.size, escape)
				doc := resourcePolicyYAML(string(policy))
				_, err := postResourcePolicy(testContext(t), bodyAs(t, doc, form), form)
				if tt.estimate == 0 {
					if err != nil {
						t.Fatalf("a policy of %d bytes refused: %v", tt.size, err)
					}
					return
				}
				requireRefusedByPolicy(t, err, "spec.policy: its estimated size, ")
				m := estimate.FindStringSubmatch(err.Error())
				if m == nil {
					t.Fatalf("no estimate in %q", err.Error())
				}
				if got, _ := strconv.Atoi(m[1]); got != tt.estimate {
					t.Errorf("estimate %d for a policy of %d bytes, want %d", got, tt.size, tt.estimate)
				}
			})
		}
	}
}

// Every LambdaResourcePolicy among config/samples passes admission, the
// policy's checks included.
func TestResourcePolicySamplesAccepted(t *testing.T) {
	installResourcePolicyValidation(t)
	paths, err := filepath.Glob("../../config/samples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, path := range paths {
		objs, err := manifest(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range objs {
			if obj.GetKind() != "LambdaResourcePolicy" {
				continue
			}
			found++
			t.Run(filepath.Base(path)+"/"+obj.GetName(), func(t *testing.T) {
				obj.SetNamespace(namespace)
				obj.SetGenerateName(obj.GetName() + "-")
				obj.SetName("")
				if err := k8sClient.Create(testContext(t), obj); err != nil {
					t.Errorf("refused: %v", err)
				}
			})
		}
	}
	if found == 0 {
		t.Skip("no LambdaResourcePolicy in config/samples")
	}
}

// A policy whose members hold more than 10240 list elements and map entries
// cannot fit in Lambda's 20480 bytes (each takes two bytes at least): it is
// refused by counting them, before any check looks into them, so that such
// an object costs the API server little (CEL's passes over a list take time
// that grows with the square of its length). Up to 10240, they are checked
// and the policy's size estimated.
func TestResourcePolicyTooManyEntries(t *testing.T) {
	installResourcePolicyValidation(t)
	count := regexp.MustCompile(`spec\.policy: its statements hold ([0-9]+) list elements and map entries \(or more\), more than Lambda's policy size limit of 20480 bytes can hold`)
	repeat := func(item string, n int) string { return strings.TrimSuffix(strings.Repeat(item+",", n), ",") }
	digits := repeat("7", 3500)
	tests := []struct {
		name, policy string
		atLeast      int // the count in the refusal; 0 when refused for its estimated size
	}{
		{"10241 actions", stmt(`"Principal":"*","Action":[` + repeat(`"*"`, 10241) + `]`), 10241},
		{"40000 actions", stmt(`"Principal":"*","Action":[` + repeat(`"*"`, 40000) + `]`), 40000},
		{"4000 principals in each of three statements", `{"Statement":[` + repeat(`{"Sid":"s","Effect":"Allow","Principal":{"AWS":[`+repeat(`"1"`, 4000)+`]},"Action":"*"}`, 3) + `]}`, 12000},
		{"3500 numbers in a condition of each of three statements", `{"Statement":[` +
			`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"*","Condition":{"NumericEquals":{"aws:EpochTime":[` + digits + `]}}},` +
			`{"Sid":"b","Effect":"Allow","Principal":"*","Action":"*","Condition":{"NumericEquals":{"aws:EpochTime":[` + digits + `]}}},` +
			`{"Sid":"c","Effect":"Allow","Principal":"*","Action":"*","Condition":{"NumericEquals":{"aws:EpochTime":[` + digits + `]}}}]}`, 10500},
		{"10240 actions, checked and sized", stmt(`"Principal":"*","Action":[` + repeat(`"*"`, 10240) + `]`), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sids must be unique: number the repeated statements.
			policy := tt.policy
			for i := 0; strings.Contains(policy, `"Sid":"s",`); i++ {
				policy = strings.Replace(policy, `"Sid":"s",`, fmt.Sprintf(`"Sid":"s%d",`, i), 1)
			}
			doc := resourcePolicyYAML(policy)
			_, err := postResourcePolicy(testContext(t), bodyAs(t, doc, "application/json"), "application/json")
			if tt.atLeast == 0 {
				requireRefusedByPolicy(t, err, "spec.policy: its estimated size, ")
				return
			}
			requireRefusedByPolicy(t, err, "spec.policy: its statements hold ")
			m := count.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("no count in %q", err.Error())
			}
			if got, _ := strconv.Atoi(m[1]); got < tt.atLeast {
				t.Errorf("counted %d, want at least %d", got, tt.atLeast)
			}
		})
	}
}
