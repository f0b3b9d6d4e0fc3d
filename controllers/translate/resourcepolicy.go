package translate

import (
	"encoding/json"
	"fmt"
	"strings"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// DeclaredStatements is what a LambdaResourcePolicy's spec.policy declares
// on target (complete: partition, region, account, qualifier): each
// statement in the policy package's model, with Resource defaulting to
// target's ARN, checked against what PutResourcePolicy accepts (SPEC
// §16.6). An error names the first statement the operator would refuse,
// and why. kubectl lperm import --resource-policy reads what it writes
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
