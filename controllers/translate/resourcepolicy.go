package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// DeclaredStatements is what a LambdaResourcePolicy's spec.policy declares
// on target (complete: partition, region, account, qualifier): each
// statement in the policy package's model, with Resource defaulting to
// target's ARN, checked against what PutResourcePolicy accepts (SPEC
// §16.6). An error names the first statement the operator would refuse,
// and why. ResourcePolicyStatementOf is its inverse.
func DeclaredStatements(doc lambdav1alpha1.ResourcePolicyDocument, target policy.FunctionRef) ([]policy.Statement, error) {
	seen := map[string]int{}
	statements := make([]policy.Statement, 0, len(doc.Statement))
	for i, s := range doc.Statement {
		where := fmt.Sprintf("spec.policy.Statement[%d] (Sid %q)", i, s.Sid)
		if j, dup := seen[s.Sid]; dup {
			return nil, fmt.Errorf("%s: Sid is already used by Statement[%d]; each statement needs its own", where, j)
		}
		seen[s.Sid] = i
		elements := map[string]json.RawMessage{"Principal": s.Principal.Raw, "Action": s.Action.Raw}
		elements["Sid"], _ = json.Marshal(s.Sid)
		elements["Effect"], _ = json.Marshal(s.Effect)
		elements["Resource"], _ = json.Marshal(target.ResourceARN())
		if s.Resource != nil {
			elements["Resource"] = s.Resource.Raw
		}
		if s.Condition != nil {
			elements["Condition"] = s.Condition.Raw
		}
		for key, raw := range elements {
			if len(raw) == 0 {
				elements[key] = json.RawMessage("null")
			}
		}
		raw, err := json.Marshal(elements)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		st, err := policy.ParseStatement(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, strings.TrimPrefix(err.Error(), "statement element "))
		}
		if err := policy.ValidateDocumentStatement(st, target.ResourceARN()); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		statements = append(statements, st)
	}
	return statements, nil
}

// ResourcePolicyStatementOf is the LambdaResourcePolicy statement that
// declares st, a statement of target's policy as Lambda stores it: the
// inverse of DeclaredStatements. Its elements are Lambda's JSON, compacted,
// and Resource is left out when it is target's ARN (the default). It also
// returns the statement as the operator reads the declaration, or says why
// no LambdaResourcePolicy can hold st: it has no Sid or too long a one,
// PutResourcePolicy would refuse it, it has an element a
// LambdaResourcePolicy statement has no field for (NotPrincipal, …), or it
// would not be written back as stored, directly or after going through
// YAML as kubectl and the API server pass it on.
func ResourcePolicyStatementOf(target policy.FunctionRef, st policy.StoredStatement) (lambdav1alpha1.ResourcePolicyStatement, policy.Statement, error) {
	var s lambdav1alpha1.ResourcePolicyStatement
	arn := target.ResourceARN()
	switch {
	case st.Sid == "":
		return s, policy.Statement{}, fmt.Errorf("it has no Sid, which every statement of a LambdaResourcePolicy needs: the operator manages statements by Sid")
	case len(st.Sid) > lambdav1alpha1.MaxStatementIDLength:
		return s, policy.Statement{}, fmt.Errorf("its Sid is longer than the %d characters a LambdaResourcePolicy takes", lambdav1alpha1.MaxStatementIDLength)
	}
	// What PutResourcePolicy would refuse, and elements that a
	// LambdaResourcePolicy statement has no field for (NotPrincipal, …).
	if err := policy.ValidateDocumentStatement(st.Statement, arn); err != nil {
		return s, policy.Statement{}, err
	}
	var elements map[string]json.RawMessage
	if err := json.Unmarshal([]byte(st.Raw), &elements); err != nil {
		return s, policy.Statement{}, err
	}
	s.Sid, s.Effect = st.Sid, st.Effect
	s.Principal = apiextensionsv1.JSON{Raw: compactElement(elements["Principal"])}
	s.Action = apiextensionsv1.JSON{Raw: compactElement(elements["Action"])}
	if raw := compactElement(elements["Resource"]); raw != nil && !isOnly(st.Resource, arn) {
		s.Resource = &apiextensionsv1.JSON{Raw: raw}
	}
	if raw := compactElement(elements["Condition"]); raw != nil {
		s.Condition = &apiextensionsv1.JSON{Raw: raw}
	}

	// The operator's own reading of the statement must grant what the
	// stored one grants, or applying the object would change the policy.
	declared, err := declaredStatement(s, target)
	if err != nil {
		return s, policy.Statement{}, err
	}
	if diffs := policy.GrantDifferences(declared, st.Statement); len(diffs) > 0 {
		return s, policy.Statement{}, fmt.Errorf("declared, it would grant otherwise than as stored (%s)", strings.Join(diffs, ", "))
	}
	// So must its YAML, as kubectl and the API server pass it on: a JSON
	// number is not kept as written (1.50 comes back as 1.5), and the
	// policy package tells such spellings apart.
	back, err := throughYAML(s)
	if err == nil {
		var again policy.Statement
		if again, err = declaredStatement(back, target); err == nil {
			if diffs := policy.GrantDifferences(again, st.Statement); len(diffs) > 0 {
				err = fmt.Errorf("in YAML, it would not be written as stored (%s: a number such as 1.50 is read back as 1.5)", strings.Join(diffs, ", "))
			}
		}
	}
	if err != nil {
		return s, policy.Statement{}, err
	}
	return s, declared, nil
}

// declaredStatement is DeclaredStatements of a document holding s alone,
// its error without the position a document's has.
func declaredStatement(s lambdav1alpha1.ResourcePolicyStatement, target policy.FunctionRef) (policy.Statement, error) {
	declared, err := DeclaredStatements(lambdav1alpha1.ResourcePolicyDocument{Statement: []lambdav1alpha1.ResourcePolicyStatement{s}}, target)
	if err != nil {
		return policy.Statement{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("spec.policy.Statement[0] (Sid %q): ", s.Sid)))
	}
	return declared[0], nil
}

// throughYAML is s written as YAML, as kubectl lperm import writes it, and
// read back.
func throughYAML(s lambdav1alpha1.ResourcePolicyStatement) (lambdav1alpha1.ResourcePolicyStatement, error) {
	var back lambdav1alpha1.ResourcePolicyStatement
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&s)
	if err != nil {
		return back, err
	}
	text, err := yaml.Marshal(fields)
	if err != nil {
		return back, err
	}
	return back, yaml.Unmarshal(text, &back)
}

// isOnly: values is exactly the one value arn, as a string or a list.
func isOnly(values []string, arn string) bool {
	return len(values) == 1 && values[0] == arn
}

// compactElement is an element's JSON without white space; nil when it is
// missing or null, which a LambdaResourcePolicy writes by leaving it out.
func compactElement(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if len(raw) == 0 || json.Compact(&b, raw) != nil || b.String() == "null" {
		return nil
	}
	return b.Bytes()
}
