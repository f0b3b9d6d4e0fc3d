package main

import (
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// samplesByKind reads config/samples as the demo applies it.
func samplesByKind(t *testing.T) (accounts []lambdav1alpha1.LambdaPermissionAccount, permissions []lambdav1alpha1.LambdaPermission) {
	t.Helper()
	samples, err := readSamples(filepath.Join(repo.Root(), samplesDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, sample := range samples {
		switch sample.GetKind() {
		case "LambdaPermissionAccount":
			var a lambdav1alpha1.LambdaPermissionAccount
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(sample.Object, &a, true); err != nil {
				t.Fatalf("%s: %v", objectLabel(sample), err)
			}
			accounts = append(accounts, a)
		case "LambdaPermission":
			var p lambdav1alpha1.LambdaPermission
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(sample.Object, &p, true); err != nil {
				t.Fatalf("%s: %v", objectLabel(sample), err)
			}
			permissions = append(permissions, p)
		default:
			t.Errorf("%s: the demo waits for every sample to be Ready, and this kind has no Ready condition", objectLabel(sample))
		}
	}
	return accounts, permissions
}

// The sample account is the one the demo's emulator has a role for, written
// with the Document strategy, open to the samples' namespace and function;
// the operator's own account stays undeclared (statement by statement).
func TestSampleAccountMatchesTheEmulator(t *testing.T) {
	accounts, _ := samplesByKind(t)
	if len(accounts) != 1 {
		t.Fatalf("%d LambdaPermissionAccount samples, want 1 (for %s)", len(accounts), documentAccountID)
	}
	a := accounts[0]
	if a.Name != documentAccountName || a.Spec.AccountID != documentAccountID || a.Spec.RoleARN != documentRoleARN ||
		a.Spec.ExternalID != documentExternalID || a.Spec.WriteStrategy != lambdav1alpha1.WriteStrategyDocument || a.Spec.Default {
		t.Errorf("the account sample is %s %+v; the demo expects %s: account %s, role %s, external id %s, writeStrategy Document, not default",
			a.Name, a.Spec, documentAccountName, documentAccountID, documentRoleARN, documentExternalID)
	}
	if len(a.Spec.Access) != 1 || !slices.Equal(a.Spec.Access[0].Functions, []string{documentFunctionName}) ||
		a.Spec.Access[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "default" {
		t.Errorf("access %+v: want one rule for the namespace default and the function %s", a.Spec.Access, documentFunctionName)
	}
}

// The demo's expected statements are what the operator renders for the
// samples, statement for statement, and every sample's statement is expected
// in its function's policy.
func TestExpectedStatementsAreTheSamplesRendered(t *testing.T) {
	_, permissions := samplesByKind(t)
	_, included := resourcePolicySampleObjects(t)
	permissions = append(permissions, included...)
	byARN := map[string]demoFunction{}
	for _, f := range demoFunctions {
		byARN[f.arn()] = f
	}
	seen := map[string]map[string]bool{}
	for _, p := range permissions {
		target, err := policy.ResolveTarget(p.Spec.FunctionName, p.Spec.Qualifier)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		target = target.WithDefaults(region, accountID) // a bare name is in the operator's own account
		f, ok := byARN[target.ResourceARN()]
		if !ok {
			t.Errorf("%s grants on %s, a function the demo does not create", p.Name, target.ResourceARN())
			continue
		}
		perm := translate.PermissionOf(p.Spec, p.Spec.StatementID)
		if perm.NeedsDocument() && f.strategy != "Document" {
			t.Errorf("%s needs the Document strategy, and %s is written statement by statement", p.Name, f.name)
		}
		got := policy.DesiredStatement(target, perm).Render()
		if want := f.expected[p.Spec.StatementID]; got != want {
			t.Errorf("%s renders as\n  %s\nthe demo expects\n  %s", p.Name, got, want)
		}
		if seen[f.name] == nil {
			seen[f.name] = map[string]bool{}
		}
		seen[f.name][p.Spec.StatementID] = true
	}
	for _, st := range resourcePolicySampleStatements(t) {
		if seen[ownedFunctionName] == nil {
			seen[ownedFunctionName] = map[string]bool{}
		}
		seen[ownedFunctionName][st.Sid] = true
	}
	for _, f := range demoFunctions {
		for sid := range f.expected {
			if !seen[f.name][sid] {
				t.Errorf("%s: statement %q is expected, and no sample declares it", f.name, sid)
			}
		}
	}
}

// resourcePolicySamples decodes the LambdaResourcePolicy samples strictly
// (a misspelt field fails), by name.
func resourcePolicySampleObjects(t *testing.T) (map[string]lambdav1alpha1.LambdaResourcePolicy, []lambdav1alpha1.LambdaPermission) {
	t.Helper()
	policies := map[string]lambdav1alpha1.LambdaResourcePolicy{}
	var permissions []lambdav1alpha1.LambdaPermission
	for _, file := range resourcePolicySamples {
		samples, err := repo.Objects(filepath.Join(repo.Root(), samplesDir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, sample := range samples {
			switch sample.GetKind() {
			case "LambdaResourcePolicy":
				var p lambdav1alpha1.LambdaResourcePolicy
				if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(sample.Object, &p, true); err != nil {
					t.Fatalf("%s: %v", objectLabel(sample), err)
				}
				policies[p.Name] = p
			case "LambdaPermission":
				var p lambdav1alpha1.LambdaPermission
				if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(sample.Object, &p, true); err != nil {
					t.Fatalf("%s: %v", objectLabel(sample), err)
				}
				permissions = append(permissions, p)
			default:
				t.Errorf("%s: unexpected kind in %s", objectLabel(sample), file)
			}
		}
	}
	return policies, permissions
}

// resourcePolicySampleStatements are payments-api's sample's statements as
// the controller declares them.
func resourcePolicySampleStatements(t *testing.T) []policy.Statement {
	t.Helper()
	policies, _ := resourcePolicySampleObjects(t)
	owned, ok := policies[ownedFunctionName]
	if !ok || owned.Spec.FunctionName != ownedFunctionName || owned.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve {
		t.Fatalf("no LambdaResourcePolicy sample managing %s: %+v", ownedFunctionName, owned.Spec)
	}
	statements, err := translate.DeclaredStatements(owned.Spec.Policy, ownedFunction.asTarget())
	if err != nil {
		t.Fatal(err)
	}
	return statements
}

func (f demoFunction) asTarget() policy.FunctionRef {
	return policy.FunctionRef{Partition: "aws", Region: region, AccountID: f.account, Name: f.name}
}

// The payments-api sample's statements are rendered (and so put) exactly as
// the demo expects them, and the included LambdaPermission's too; the
// billing-api sample observes, and what it must report follows from the
// statements made beforehand.
func TestResourcePolicySamplesMatchTheDemo(t *testing.T) {
	for _, st := range resourcePolicySampleStatements(t) {
		if got, want := st.Render(), ownedExpectedStatements[st.Sid]; got != want {
			t.Errorf("payments-api's %s renders as\n  %s\nthe demo expects\n  %s", st.Sid, got, want)
		}
	}
	policies, permissions := resourcePolicySampleObjects(t)
	if len(permissions) != 1 || permissions[0].Spec.FunctionName != ownedFunctionName {
		t.Fatalf("want one LambdaPermission sample on %s, got %d", ownedFunctionName, len(permissions))
	}
	observed, ok := policies[observedFunctionName]
	if !ok || observed.Spec.ManagementPolicy != lambdav1alpha1.ManagementPolicyObserve {
		t.Fatalf("no LambdaResourcePolicy sample observing %s", observedFunctionName)
	}
	declared, err := translate.DeclaredStatements(observed.Spec.Policy, demoFunction{account: accountID, name: observedFunctionName}.asTarget())
	if err != nil {
		t.Fatal(err)
	}
	var added, removed []string
	existing := map[string]bool{}
	for _, in := range preexistingStatements[observedFunctionName] {
		existing[*in.StatementId] = true
	}
	declaredSids := map[string]bool{}
	for _, st := range declared {
		declaredSids[st.Sid] = true
		if !existing[st.Sid] {
			added = append(added, st.Sid)
		}
	}
	for _, in := range preexistingStatements[observedFunctionName] {
		if !declaredSids[*in.StatementId] {
			removed = append(removed, *in.StatementId)
		}
	}
	if !slices.Equal(added, observedPending["added"]) || !slices.Equal(removed, observedPending["removed"]) {
		t.Errorf("billing-api's sample would add %v and remove %v; the demo expects %v", added, removed, observedPending)
	}
}
