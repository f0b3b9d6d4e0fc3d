package translate_test

import (
	"reflect"
	"testing"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/golden"
)

// goldenTarget is the function, version or alias a case's AddPermission
// named, in the account and region of the function it was recorded on.
func goldenTarget(t *testing.T, c golden.Case) policy.FunctionRef {
	t.Helper()
	fn, err := policy.ParseFunctionName(c.FunctionARN)
	if err != nil {
		t.Fatalf("function_arn: %v", err)
	}
	target, err := policy.ResolveTarget(c.Input.FunctionName, c.Input.Qualifier)
	if err != nil {
		t.Fatal(err)
	}
	target = target.WithDefaults(fn.Region, fn.AccountID)
	if !target.Complete() || target.FunctionARN() != c.FunctionARN {
		t.Fatalf("resolved %+v, want function %s", target, c.FunctionARN)
	}
	return target
}

// goldenPermission is the case's AddPermission request.
func goldenPermission(in golden.Input) policy.Permission {
	return policy.Permission{
		StatementID: in.StatementId, Action: in.Action, Principal: in.Principal,
		SourceArn: in.SourceArn, SourceAccount: in.SourceAccount, PrincipalOrgID: in.PrincipalOrgID,
		EventSourceToken: in.EventSourceToken, FunctionURLAuthType: in.FunctionUrlAuthType,
		InvokedViaFunctionURL: in.InvokedViaFunctionUrl,
	}
}

// recordedStatement is the statement AWS stored for the case. No case is
// skipped: the two marked skip_in_diff print an output their authors
// edited by hand (the policy package's golden test undoes the same two
// edits): Lambda stores SourceArn verbatim and puts the qualifier on
// Resource (SPEC §3.3).
func recordedStatement(t *testing.T, c golden.Case, target policy.FunctionRef) policy.Statement {
	t.Helper()
	raw := c.StatementRaw
	if raw == "" {
		raw = string(c.Statement)
	}
	st, err := policy.ParseStatement(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.SkipInDiff {
		if c.Input.SourceArn != "" {
			for key := range st.Condition["ArnLike"] {
				st.Condition["ArnLike"][key] = []string{c.Input.SourceArn}
			}
		}
		st.Resource = []string{target.ResourceARN()}
	}
	return st
}

// Every recorded AWS case: the spec that declares its request (SpecOf)
// asks for that request again (PermissionOf), names the same function,
// version or alias, and the statement predicted for it grants what AWS
// stored. The import's way in, PermissionFrom the stored statement, gives
// the request back too.
func TestPermissionOfSpecOfRecordedCases(t *testing.T) {
	for _, c := range golden.MustLoad(t) {
		t.Run(c.ID, func(t *testing.T) {
			target := goldenTarget(t, c)
			perm := goldenPermission(c.Input)
			if err := perm.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}

			spec := translate.SpecOf(target, perm)
			back := translate.PermissionOf(spec, spec.StatementID)
			if !reflect.DeepEqual(back, perm) {
				t.Errorf("PermissionOf(SpecOf(p)) = %+v\nwant %+v", back, perm)
			}
			again, err := translate.Target(spec.FunctionName, spec.Qualifier, spec.Region)
			if err != nil || again != target {
				t.Errorf("the spec names %+v (%v), want %+v", again, err, target)
			}

			recorded := recordedStatement(t, c, target)
			desired := policy.DesiredStatement(target, back)
			if !policy.SameGrant(desired, recorded) {
				t.Errorf("predicted %s\nAWS stored %s\ndiffer in %v", desired.Render(), recorded.Render(), policy.GrantDifferences(desired, recorded))
			}

			imported, err := policy.PermissionFrom(target, recorded)
			if err != nil {
				t.Fatalf("PermissionFrom the stored statement: %v", err)
			}
			if spec := translate.SpecOf(target, imported); !policy.SameGrant(policy.DesiredStatement(target, translate.PermissionOf(spec, spec.StatementID)), recorded) {
				t.Errorf("imported as %+v, which does not declare the stored statement", spec)
			}
		})
	}
}

// PermissionOf and SpecOf carry every field of a spec, Deny and conditions
// included, and fill the API's default action.
func TestPermissionOfSpecOf(t *testing.T) {
	target := policy.FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "111122223333", Name: "orders", Qualifier: "live"}
	perm := policy.Permission{StatementID: "deny-outside", Action: "lambda:InvokeFunction", Principal: "*", Effect: policy.EffectDeny,
		Conditions: []policy.ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24", "198.51.100.0/24"}}}}
	spec := translate.SpecOf(target, perm)
	if spec.FunctionName != target.FunctionARN() || spec.Qualifier != "live" || spec.Effect != lambdav1alpha1.EffectDeny || len(spec.Conditions) != 1 {
		t.Errorf("SpecOf = %+v", spec)
	}
	if back := translate.PermissionOf(spec, spec.StatementID); !reflect.DeepEqual(back, perm) {
		t.Errorf("PermissionOf(SpecOf(p)) = %+v\nwant %+v", back, perm)
	}
	for _, effect := range []lambdav1alpha1.StatementEffect{"", lambdav1alpha1.EffectAllow} {
		got := translate.PermissionOf(lambdav1alpha1.LambdaPermissionSpec{Principal: "sns.amazonaws.com", Effect: effect}, "s")
		if got.Action != translate.DefaultAction || got.Effect != "" || got.StatementID != "s" {
			t.Errorf("effect %q: PermissionOf = %+v; want the default action, Allow, Sid s", effect, got)
		}
	}
}
