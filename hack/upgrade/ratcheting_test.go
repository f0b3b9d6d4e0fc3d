//go:build integration

package upgrade

import (
	"fmt"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// TestRatchetingSelfCheck runs the upgrade machinery on a release made up
// here: the current LambdaPermission CRD, in a group of its own, upgraded to
// a copy with one constraint of each shape this project's CRDs use added or
// tightened. It shows that the checks TestUpgrade makes can fail, and pins
// what the API server does with an object stored before each kind of
// change, for the cases a future release will need:
//
//   - a CEL rule on a field (spec.statementId), a tightened maxLength
//     (spec.eventSourceToken), and a CEL rule on a member of an item of an
//     atomic list (spec.conditions[*].key): ratcheted throughout while the
//     field (the list) keeps its value, including a change to another
//     field of spec;
//   - a CEL rule on spec itself, and a field newly required in spec:
//     ratcheted while spec is unchanged (re-apply, label, status patch,
//     finalizer removal), but any change to spec, even to another field, is
//     refused until the object is made valid;
//   - a transition rule (one reading oldSelf) on spec.principal, which an
//     unchanged stored value fails: never ratcheted. Every update is
//     refused, the operator's status patch and finalizer removal included,
//     so a deleted object stays stuck; and a create does not check it. A
//     transition rule must therefore hold whenever self == oldSelf (as
//     self == oldSelf, the immutability rules here, does).
//
// The outcomes are kube-apiserver 1.37's; the test fails if one changes.
func TestRatchetingSelfCheck(t *testing.T) {
	current, err := loadBundle("", "the current CRDs")
	if err != nil {
		t.Fatal(err)
	}
	base := current.crd("lambdapermissions.lambda.permissions.dev")
	if base == nil {
		t.Fatal("no LambdaPermission CRD")
	}
	// A group of its own on each run: the object the transition rule
	// leaves stuck cannot be taken out, nor its CRD.
	selfCheckRuns++
	group := fmt.Sprintf("ratcheting-%d.upgrade-test.dev", selfCheckRuns)
	old := base.DeepCopy()
	old.Spec.Group = group
	old.Name = old.Spec.Names.Plural + "." + group
	new := old.DeepCopy()
	edit(t, new, []string{"spec", "statementId"}, func(s *apiextensionsv1.JSONSchemaProps) {
		s.XValidations = append(s.XValidations, apiextensionsv1.ValidationRule{Rule: "self.size() <= 8", Message: "statementId: at most 8 characters (self-check)"})
	})
	edit(t, new, []string{"spec", "eventSourceToken"}, func(s *apiextensionsv1.JSONSchemaProps) {
		s.MaxLength = ptrTo(int64(8))
	})
	edit(t, new, []string{"spec"}, func(s *apiextensionsv1.JSONSchemaProps) {
		s.XValidations = append(s.XValidations, apiextensionsv1.ValidationRule{
			Rule: "!has(self.sourceArn) || self.sourceArn.startsWith('arn:aws:s3:')", Message: "sourceArn must be an S3 bucket (self-check)"})
		s.Required = append(s.Required, "sourceAccount")
	})
	edit(t, new, []string{"spec", "conditions", "[*]", "key"}, func(s *apiextensionsv1.JSONSchemaProps) {
		s.XValidations = append(s.XValidations, apiextensionsv1.ValidationRule{
			Rule: "!self.startsWith('aws:PrincipalTag/')", Message: "no aws:PrincipalTag keys (self-check)"})
	})
	edit(t, new, []string{"spec", "principal"}, func(s *apiextensionsv1.JSONSchemaProps) {
		s.XValidations = append(s.XValidations, apiextensionsv1.ValidationRule{
			Rule: "!oldSelf.endsWith('.amazon.com')", Message: "principal ending in .amazon.com is frozen (self-check)"})
	})

	from := &bundle{Label: "self-check release 1", CRDs: []*apiextensionsv1.CustomResourceDefinition{old}}
	to := &bundle{Label: "self-check release 2", CRDs: []*apiextensionsv1.CustomResourceDefinition{new}}
	lp := func(name, spec string) string {
		return fmt.Sprintf("apiVersion: %s/v1alpha1\nkind: LambdaPermission\nmetadata:\n  name: %s\n  namespace: default\nspec:\n  functionName: my-function\n%s", group, name, spec)
	}
	const kind = "LambdaPermission/v1alpha1 "
	const frozen = "principal ending in .amazon.com is frozen (self-check)"
	cases := []ruleCase{
		{
			Change:  kind + ".spec.statementId rule: self.size() <= 8",
			Object:  lp("long-sid", "  statementId: much-longer-than-eight\n  principal: \"123456789012\"\n  sourceAccount: \"123456789012\"\n"),
			Refusal: "statementId: at most 8 characters (self-check)",
		},
		{
			Change:  kind + ".spec.eventSourceToken maxLength",
			Object:  lp("long-token", "  statementId: token\n  principal: \"123456789012\"\n  sourceAccount: \"123456789012\"\n  eventSourceToken: a-token-longer-than-eight\n"),
			Refusal: "spec.eventSourceToken: Too long",
		},
		{
			Change:  kind + ".spec rule: !has(self.sourceArn) || self.sourceArn.startsWith('arn:aws:s3:')",
			Object:  lp("sns-source", "  statementId: sns\n  principal: sns.amazonaws.com\n  sourceAccount: \"123456789012\"\n  sourceArn: arn:aws:sns:us-east-2:123456789012:topic\n"),
			Refusal: "sourceArn must be an S3 bucket (self-check)",
			Expect:  expectations{UnrelatedSpec: "sourceArn must be an S3 bucket (self-check)"},
		},
		{
			Change:  kind + ".spec required: sourceAccount",
			Object:  lp("no-account", "  statementId: noacct\n  principal: \"123456789012\"\n"),
			Refusal: "spec.sourceAccount: Required value",
			Expect:  expectations{UnrelatedSpec: "spec.sourceAccount: Required value"},
		},
		{
			Change: kind + ".spec.conditions[*].key rule: !self.startsWith('aws:PrincipalTag/')",
			Object: lp("tag-condition", "  statementId: tag\n  principal: \"123456789012\"\n  sourceAccount: \"123456789012\"\n"+
				"  conditions:\n  - {operator: StringEquals, key: aws:PrincipalTag/team, values: [payments]}\n"),
			Refusal: "no aws:PrincipalTag keys (self-check)",
		},
		{
			Change: kind + ".spec.principal rule: !oldSelf.endsWith('.amazon.com')",
			Object: lp("alexa", "  statementId: alexa\n  principal: alexa-appkit.amazon.com\n  sourceAccount: \"123456789012\"\n  eventSourceToken: skill\n"),
			Expect: expectations{Reapply: frozen, Label: frozen, Status: frozen, UnrelatedSpec: frozen, FinalizerRemoval: frozen},
		},
	}
	u := &upgrade{From: from, To: to, EveryKind: true}
	covered := coverage(t, from, to, cases, nil)
	if len(covered) != len(cases) {
		t.Fatalf("%d of the %d cases match a change of the diff", len(covered), len(cases))
	}
	u.Objects = append(u.Objects, &storedObject{Source: "valid", Manifest: mustObject(t,
		lp("valid", "  statementId: valid\n  principal: s3.amazonaws.com\n  sourceAccount: \"123456789012\"\n  sourceArn: arn:aws:s3:::bucket\n"))})
	for _, c := range covered {
		u.Objects = append(u.Objects, &storedObject{Source: "self-check case", Manifest: mustObject(t, c.Object), Case: c})
	}
	u.run(t)
}

var selfCheckRuns int

// edit changes the node at path (property names, [*] for a list's items)
// of every version's schema.
func edit(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, path []string, f func(*apiextensionsv1.JSONSchemaProps)) {
	t.Helper()
	var walk func(s *apiextensionsv1.JSONSchemaProps, path []string)
	walk = func(s *apiextensionsv1.JSONSchemaProps, path []string) {
		if len(path) == 0 {
			f(s)
			return
		}
		if path[0] == "[*]" {
			if s.Items == nil || s.Items.Schema == nil {
				t.Fatalf("no items at %v", path)
			}
			walk(s.Items.Schema, path[1:])
			return
		}
		p, ok := s.Properties[path[0]]
		if !ok {
			t.Fatalf("no property %s", path[0])
		}
		walk(&p, path[1:])
		s.Properties[path[0]] = p
	}
	for i := range crd.Spec.Versions {
		walk(crd.Spec.Versions[i].Schema.OpenAPIV3Schema, path)
	}
}
