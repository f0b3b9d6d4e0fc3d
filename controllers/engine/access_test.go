package engine

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// The accounts of the access tests: the operator's own, another, a third.
const own, other, third = "123456789012", "210987654321", "333333333333"

// testAccount is a LambdaPermissionAccount that admits namespaces labelled
// team=payments to functions payments-*, as role name, changed by change.
func testAccount(name, id string, change func(*lambdav1alpha1.LambdaPermissionAccountSpec)) lambdav1alpha1.LambdaPermissionAccount {
	spec := lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: id, RoleARN: "arn:aws:iam::" + id + ":role/" + name,
		Access: []lambdav1alpha1.AccountAccessRule{{NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}},
			Functions: []string{"payments-*"}}}}
	if change != nil {
		change(&spec)
	}
	return lambdav1alpha1.LambdaPermissionAccount{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func bare(name string) policy.FunctionRef { return policy.FunctionRef{Name: name} }

func in(id, region, name string) policy.FunctionRef {
	return policy.FunctionRef{Partition: "aws", Region: region, AccountID: id, Name: name}
}

var (
	scoped               = policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceAccount: own}
	public               = policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "*"}
	publicIAM            = policy.Permission{StatementID: "s", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "AWS_IAM"}
	serviceWithoutSource = policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com"}
	payments             = labels.Set{"team": "payments"}
	deny                 = policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "*", Effect: policy.EffectDeny,
		Conditions: []policy.ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}}
	fromNetwork = []policy.ConditionEntry{{Operator: "IpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}
	conditioned = policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceAccount: own,
		Conditions: fromNetwork}
)

func document(s *lambdav1alpha1.LambdaPermissionAccountSpec) {
	s.WriteStrategy = lambdav1alpha1.WriteStrategyDocument
}

// accessCase is one decision of decideAccess.
type accessCase struct {
	name       string
	namespace  labels.Set
	target     policy.FunctionRef
	permission policy.Permission
	accounts   []lambdav1alpha1.LambdaPermissionAccount
	flags      GuardrailSettings
	strategy   writer.Strategy // the operator's --write-strategy
	owned      bool            // a LambdaResourcePolicy owns the policy
	wantWrite  writer.Strategy // "": Statements

	wantReason   string // "" when allowed
	wantInText   string
	wantRole     string
	wantTarget   policy.FunctionRef
	wantAccounts []string // the accounts' names in the order given: never reordered
}

// accessCases: who may grant where, and what.
var accessCases = []accessCase{
	{name: "a bare name is in the operator's own account, as the operator", target: bare("fn"), permission: scoped,
		wantTarget: bare("fn")},
	{name: "an undeclared account other than the operator's own is refused", target: in(other, "us-east-2", "fn"), permission: scoped,
		wantReason: lambdav1alpha1.ReasonAccountNotAllowed, wantInText: "no LambdaPermissionAccount declares account " + other},
	{name: "public access is refused by default", target: bare("fn"), permission: public,
		wantReason: lambdav1alpha1.ReasonPublicAccessDenied, wantInText: "(the operator's flags)"},
	{name: "public access when the flags allow it", target: bare("fn"), permission: public, flags: GuardrailSettings{AllowPublicAccess: true},
		wantTarget: bare("fn")},
	{name: "principal * narrowed by AWS_IAM is not public", target: bare("fn"), permission: publicIAM, wantTarget: bare("fn")},
	{name: "a service without a source is refused by default", target: bare("fn"), permission: serviceWithoutSource,
		wantReason: lambdav1alpha1.ReasonSourceRequired, wantInText: "set sourceArn or sourceAccount"},
	{name: "a declared account admits its namespaces and functions, as its role", namespace: payments,
		target: in(other, "us-east-2", "payments-api"), permission: scoped, accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, nil)},
		wantRole: "arn:aws:iam::" + other + ":role/pay", wantTarget: in(other, "us-east-2", "payments-api")},
	{name: "a namespace no rule selects is refused", namespace: labels.Set{"team": "web"},
		target: in(other, "us-east-2", "payments-api"), permission: scoped, accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, nil)},
		wantReason: lambdav1alpha1.ReasonAccountNotAllowed, wantInText: "namespace team-a may not grant in account " + other},
	{name: "a function outside the patterns is refused, naming them", namespace: payments,
		target: in(other, "us-east-2", "billing"), permission: scoped, accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, nil)},
		wantReason: lambdav1alpha1.ReasonFunctionNotAllowed, wantInText: "[payments-*]"},
	{name: "patterns match the ARN with its qualifier too", namespace: payments,
		target: policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: other, Name: "fn", Qualifier: "live"}, permission: scoped,
		accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, func(s *lambdav1alpha1.LambdaPermissionAccountSpec) {
			s.Access[0].Functions = []string{"arn:aws:lambda:us-east-2:" + other + ":function:fn:*"}
		})},
		wantRole: "arn:aws:iam::" + other + ":role/pay", wantTarget: policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: other, Name: "fn", Qualifier: "live"}},
	{name: "a bare name goes to the default account, in its default region", namespace: payments,
		target: bare("payments-api"), permission: scoped,
		accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, func(s *lambdav1alpha1.LambdaPermissionAccountSpec) {
			s.Default, s.DefaultRegion = true, "eu-west-1"
		})},
		wantRole: "arn:aws:iam::" + other + ":role/pay", wantTarget: in(other, "eu-west-1", "payments-api")},
	{name: "the account's guardrails override the flags: public allowed there", namespace: payments,
		target: in(other, "us-east-2", "payments-api"), permission: public,
		accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, func(s *lambdav1alpha1.LambdaPermissionAccountSpec) {
			s.Guardrails.AllowPublicAccess = ptr.To(true)
		})},
		wantRole: "arn:aws:iam::" + other + ":role/pay", wantTarget: in(other, "us-east-2", "payments-api")},
	{name: "the account's guardrails override the flags: public refused there", namespace: payments,
		target: in(other, "us-east-2", "payments-api"), permission: public, flags: GuardrailSettings{AllowPublicAccess: true},
		accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, func(s *lambdav1alpha1.LambdaPermissionAccountSpec) {
			s.Guardrails.AllowPublicAccess = ptr.To(false)
		})},
		wantReason: lambdav1alpha1.ReasonPublicAccessDenied, wantInText: "(LambdaPermissionAccount pay)"},
	{name: "two accounts for one id: the first by name decides", namespace: payments,
		target: in(other, "us-east-2", "payments-api"), permission: scoped,
		accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("zeta", other, nil), testAccount("alpha", other, nil), testAccount("x", third, nil)},
		wantRole: "arn:aws:iam::" + other + ":role/alpha", wantTarget: in(other, "us-east-2", "payments-api"), wantAccounts: []string{"zeta", "alpha", "x"}},

	{name: "the operator's own account is written as its flag says", target: bare("fn"), permission: scoped, strategy: writer.Document,
		wantTarget: bare("fn"), wantWrite: writer.Document},
	{name: "a declared account is written as it says, whatever the flag", namespace: payments, strategy: writer.Statements,
		target: in(other, "us-east-2", "payments-api"), permission: scoped, accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, document)},
		wantRole: "arn:aws:iam::" + other + ":role/pay", wantTarget: in(other, "us-east-2", "payments-api"), wantWrite: writer.Document},
	{name: "a declared account without a strategy is written statement by statement", namespace: payments, strategy: writer.Document,
		target: in(other, "us-east-2", "payments-api"), permission: scoped, accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, nil)},
		wantRole: "arn:aws:iam::" + other + ":role/pay", wantTarget: in(other, "us-east-2", "payments-api")},
	{name: "a Deny needs a document", target: bare("fn"), permission: deny,
		wantReason: lambdav1alpha1.ReasonRequiresDocumentStrategy, wantInText: "--write-strategy=Document"},
	{name: "conditions need a document, said for the account", namespace: payments,
		target: in(other, "us-east-2", "payments-api"), permission: conditioned, accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, nil)},
		wantReason: lambdav1alpha1.ReasonRequiresDocumentStrategy, wantInText: "set writeStrategy: Document on LambdaPermissionAccount pay"},
	// AddPermission takes any lambda:Name, a document only the operations
	// a function's policy supports: refused before the call, which would
	// have refused the whole document.
	{name: "an action no document takes is written statement by statement", target: bare("fn"),
		permission: policy.Permission{StatementID: "s", Action: "lambda:ListFunctions", Principal: "223456789012"},
		wantTarget: bare("fn")},
	{name: "an action no document takes, written whole", target: bare("fn"), strategy: writer.Document,
		permission: policy.Permission{StatementID: "s", Action: "lambda:ListFunctions", Principal: "223456789012"},
		wantReason: lambdav1alpha1.ReasonInvalidSpec, wantInText: "spec.action lambda:ListFunctions is not an operation a function's policy document supports"},
	{name: "an action no document takes, said for the account", namespace: payments,
		target: in(other, "us-east-2", "payments-api"), accounts: []lambdav1alpha1.LambdaPermissionAccount{testAccount("pay", other, document)},
		permission: policy.Permission{StatementID: "s", Action: "lambda:ListLayers", Principal: "223456789012"},
		wantReason: lambdav1alpha1.ReasonInvalidSpec, wantInText: "or set writeStrategy: Statements on LambdaPermissionAccount pay"},
	{name: "an action no document takes, on a policy a LambdaResourcePolicy owns", target: bare("fn"), owned: true,
		permission: policy.Permission{StatementID: "s", Action: "lambda:ListFunctions", Principal: "223456789012"},
		wantReason: lambdav1alpha1.ReasonInvalidSpec, wantInText: "a LambdaResourcePolicy owns this function's policy"},
	{name: "lambda:* is an action a document takes", target: bare("fn"), strategy: writer.Document,
		permission: policy.Permission{StatementID: "s", Action: "lambda:*", Principal: "223456789012"},
		wantTarget: bare("fn"), wantWrite: writer.Document},
	{name: "a Deny of anyone needs no guardrail opt-in", target: bare("fn"), permission: deny, strategy: writer.Document,
		wantTarget: bare("fn"), wantWrite: writer.Document},
	{name: "a public Allow with a condition that does not narrow it still does", target: bare("fn"), strategy: writer.Document,
		permission: policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "*",
			Conditions: []policy.ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}},
		wantReason: lambdav1alpha1.ReasonPublicAccessDenied, wantInText: "allowPublicAccess"},
	{name: "an Allow of anyone from a fixed network is not public (SPEC §16.8)", target: bare("fn"), strategy: writer.Document,
		permission: policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "*", Conditions: fromNetwork},
		wantTarget: bare("fn"), wantWrite: writer.Document},
	{name: "a wildcard sourceArn does not narrow anyone", target: bare("fn"),
		permission: policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "*", SourceArn: "arn:aws:s3:::*"},
		wantReason: lambdav1alpha1.ReasonPublicAccessDenied, wantInText: "allowPublicAccess"},
	{name: "a service with its source in a condition has one", target: bare("fn"), strategy: writer.Document,
		permission: policy.Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
			Conditions: []policy.ConditionEntry{{Operator: "StringEquals", Key: "aws:SourceAccount", Values: []string{"123456789012"}}}},
		wantTarget: bare("fn"), wantWrite: writer.Document},
}

// Who may grant where, and what, decided before any AWS call: accounts,
// their access rules and guardrails, and the operator's flags.
func TestDecideAccess(t *testing.T) {
	for _, tt := range accessCases {
		t.Run(tt.name, func(t *testing.T) { checkAccess(t, tt) })
	}
}

func checkAccess(t *testing.T, tt accessCase) {
	t.Helper()
	flag := tt.strategy
	if flag == "" {
		flag = writer.Statements
	}
	g, err := decideAccess(accessRequest{Namespace: "team-a", NamespaceLabels: tt.namespace, Target: tt.target, Permission: tt.permission,
		Accounts: tt.accounts, OwnAccount: own, Guardrails: tt.flags, DefaultStrategy: flag, OwnedPolicy: tt.owned})
	state := kernel.StateOf(err)
	switch {
	case tt.wantReason == "" && state != nil:
		t.Fatalf("refused: %v", state)
	case tt.wantReason != "":
		if state == nil || state.Reason != tt.wantReason || !state.Stalled || !strings.Contains(state.Message, tt.wantInText) {
			t.Fatalf("got %v, want stalled %s with %q", state, tt.wantReason, tt.wantInText)
		}
		return
	}
	if g.identity != (awslambda.Identity{RoleARN: tt.wantRole}) || g.target != tt.wantTarget {
		t.Errorf("grant as %+v on %+v; want %q on %+v", g.identity, g.target, tt.wantRole, tt.wantTarget)
	}
	if want := cmp.Or(tt.wantWrite, writer.Statements); g.strategy != want {
		t.Errorf("written with %s, want %s", g.strategy, want)
	}
	if tt.wantAccounts != nil {
		var names []string
		for _, a := range tt.accounts {
			names = append(names, a.Name)
		}
		if !slices.Equal(names, tt.wantAccounts) {
			t.Errorf("accounts reordered to %v", names)
		}
	}
}
