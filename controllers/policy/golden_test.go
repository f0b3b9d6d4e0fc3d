package policy

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/golden"
)

// goldenCase is one recorded AddPermission request and the statement AWS
// stored for it.
type goldenCase struct{ golden.Case }

func loadGoldenCases(t testing.TB) []goldenCase {
	t.Helper()
	var cases []goldenCase
	for _, c := range golden.MustLoad(t) {
		cases = append(cases, goldenCase{c})
	}
	return cases
}

func permissionOf(in golden.Input) Permission {
	return Permission{
		StatementID: in.StatementId, Action: in.Action, Principal: in.Principal,
		SourceArn: in.SourceArn, SourceAccount: in.SourceAccount, PrincipalOrgID: in.PrincipalOrgID,
		EventSourceToken: in.EventSourceToken, FunctionURLAuthType: in.FunctionUrlAuthType,
		InvokedViaFunctionURL: in.InvokedViaFunctionUrl,
	}
}

// target resolves the case's FunctionName and Qualifier in the account and
// region of the function the case was recorded on.
func (c goldenCase) target(t testing.TB) FunctionRef {
	t.Helper()
	fn, err := ParseFunctionName(c.FunctionARN)
	if err != nil {
		t.Fatalf("function_arn: %v", err)
	}
	ref, err := ResolveTarget(c.Input.FunctionName, c.Input.Qualifier)
	if err != nil {
		t.Fatalf("ResolveTarget: %v", err)
	}
	ref = ref.WithDefaults(fn.Region, fn.AccountID)
	if !ref.Complete() || ref.FunctionARN() != c.FunctionARN {
		t.Fatalf("resolved %+v (%s), want function %s", ref, ref.FunctionARN(), c.FunctionARN)
	}
	return ref
}

// storedStatement is the case's target and the statement AWS stored there,
// parsed.
func (c goldenCase) storedStatement(t testing.TB) (FunctionRef, Statement) {
	t.Helper()
	target := c.target(t)
	stored, err := ParseStatement(c.expectedStatement(t, target))
	if err != nil {
		t.Fatal(err)
	}
	return target, stored
}

// expectedStatement is the case's statement in compact JSON. The two cases
// marked skip_in_diff print an output their authors edited by hand; Lambda
// stores SourceArn verbatim and puts the qualifier on Resource (SPEC §3.3),
// so exactly those two edits are undone.
func (c goldenCase) expectedStatement(t testing.TB, target FunctionRef) string {
	t.Helper()
	if !c.SkipInDiff {
		var b bytes.Buffer
		if err := json.Compact(&b, c.Statement); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	st, err := ParseStatement(string(c.Statement))
	if err != nil {
		t.Fatal(err)
	}
	if c.Input.SourceArn != "" {
		st.Condition["ArnLike"][keySourceArn] = []string{c.Input.SourceArn}
	}
	st.Resource = []string{target.ResourceARN()}
	return st.Render()
}

func TestGoldenCasesPredictTheStoredStatement(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			target := c.target(t)
			p := permissionOf(c.Input)
			if err := p.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			desired := DesiredStatement(target, p)
			got := desired.Render()

			want := c.expectedStatement(t, target)
			if got != want {
				t.Errorf("rendered statement differs from AWS's\n got %s\nwant %s", got, want)
			}
			if c.StatementRaw != "" && !c.SkipInDiff && got != c.StatementRaw {
				t.Errorf("not byte-identical to statement_raw\n got %s\nwant %s", got, c.StatementRaw)
			}
			if !jsonEqual(t, got, want) {
				t.Errorf("not semantically equal: got %s want %s", got, want)
			}

			// What AWS returned must read back as the same grant.
			stored, err := ParseStatement(want)
			if err != nil {
				t.Fatal(err)
			}
			if d := GrantDifferences(stored, desired); len(d) != 0 {
				t.Errorf("comparison says AWS's statement differs in %v", d)
			}
			if c.StatementRaw != "" {
				raw, err := ParseStatement(c.StatementRaw)
				if err != nil {
					t.Fatal(err)
				}
				if SameGrant(raw, desired) == c.SkipInDiff {
					t.Errorf("SameGrant(statement_raw, desired) = %v, want %v (skip_in_diff output is hand-edited)", !c.SkipInDiff, !c.SkipInDiff)
				}
			}
		})
	}
}

func TestGoldenGetPolicyDocumentsContainTheStatement(t *testing.T) {
	seen := 0
	for _, c := range loadGoldenCases(t) {
		if c.GetPolicy == nil {
			continue
		}
		seen++
		t.Run(c.ID, func(t *testing.T) {
			desired := DesiredStatement(c.target(t), permissionOf(c.Input))
			doc, err := ParsePolicy(c.GetPolicy.Policy)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Version != "2012-10-17" || doc.ID != "default" {
				t.Errorf("Version, Id = %q, %q", doc.Version, doc.ID)
			}
			stored, ok := doc.Find(c.Input.StatementId)
			if !ok {
				t.Fatalf("no statement %q in %s", c.Input.StatementId, c.GetPolicy.Policy)
			}
			if stored.Raw != desired.Render() {
				t.Errorf("stored statement\n got %s\nwant %s", stored.Raw, desired.Render())
			}
			if !SameGrant(stored.Statement, desired) {
				t.Errorf("SameGrant = false, differences %v", GrantDifferences(stored.Statement, desired))
			}
			if size := doc.SizeAfter(nil); size != len(c.GetPolicy.Policy) {
				t.Errorf("SizeAfter(nil) = %d, want the document's length %d", size, len(c.GetPolicy.Policy))
			}
		})
	}
	if seen < 3 {
		t.Fatalf("only %d golden cases carry a GetPolicy document", seen)
	}
}

func jsonEqual(t testing.TB, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}
