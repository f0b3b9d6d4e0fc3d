package policy

import (
	"testing"
)

// FuzzParsePolicy: any text is either refused or read into statements that
// render, read back, and compare equal to themselves.
func FuzzParsePolicy(f *testing.F) {
	for _, c := range loadGoldenCases(f) {
		if c.GetPolicy != nil {
			f.Add(c.GetPolicy.Policy)
		}
		if c.StatementRaw != "" {
			f.Add(`{"Version":"2012-10-17","Statement":[` + c.StatementRaw + `]}`)
		}
	}
	f.Add(`{"Version":"2012-10-17","Statement":` + base + `}`)
	f.Add(`{"Statement":[{"Principal":{"AWS":["1","2"]},"Condition":{"Bool":{"k":true}},"NotAction":"x"}]}`)
	f.Add(`{"Statement":[{"Condition":{"NumericLessThan":{"k":[1.5,2]}}}]}`)
	f.Fuzz(func(t *testing.T, policy string) {
		doc, err := ParsePolicy(policy)
		if err != nil {
			return
		}
		for _, st := range doc.Statements {
			if !SameGrant(st.Statement, st.Statement) {
				t.Fatalf("statement differs from itself: %s", st.Raw)
			}
			again, err := ParseStatement(st.Render())
			if err != nil {
				t.Fatalf("rendered statement does not parse: %v\n%s", err, st.Render())
			}
			if d := GrantDifferences(st.Statement, again); len(d) != 0 {
				t.Fatalf("render and parse changed %v:\n%s\n%s", d, st.Raw, st.Render())
			}
		}
		_ = doc.SizeAfter(nil)
	})
}

// FuzzParseFunctionName: any text is either refused or split into parts that
// build a FunctionName which parses back to the same parts.
func FuzzParseFunctionName(f *testing.F) {
	for _, c := range loadGoldenCases(f) {
		f.Add(c.Input.FunctionName, c.Input.Qualifier)
		f.Add(c.FunctionARN, "")
	}
	f.Add("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:9", "9")
	f.Add("123456789012:function:f:$LATEST", "")
	f.Add("function:f", "")
	f.Fuzz(func(t *testing.T, functionName, qualifier string) {
		ref, err := ParseFunctionName(functionName)
		if err != nil {
			return
		}
		if ref.Name == "" {
			t.Fatalf("%q parsed with no name", functionName)
		}
		if ref.Region != "" && ref.AccountID != "" {
			full := ref.WithDefaults("", "")
			rebuilt := full.FunctionARN()
			if full.Qualifier != "" {
				rebuilt = full.ResourceARN()
			}
			back, err := ParseFunctionName(rebuilt)
			if err != nil {
				t.Fatalf("%q → %q does not parse: %v", functionName, rebuilt, err)
			}
			if back != full {
				t.Fatalf("%q → %q → %+v, want %+v", functionName, rebuilt, back, full)
			}
		}
		if target, err := ResolveTarget(functionName, qualifier); err == nil {
			if target.Qualifier == "$LATEST" {
				t.Fatalf("ResolveTarget(%q, %q) allowed $LATEST", functionName, qualifier)
			}
			if qualifier != "" && target.Qualifier != qualifier {
				t.Fatalf("ResolveTarget(%q, %q) dropped the qualifier", functionName, qualifier)
			}
		}
	})
}
