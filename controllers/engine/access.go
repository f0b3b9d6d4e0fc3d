package engine

import (
	"context"
	"errors"
	"fmt"
	"path"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// GuardrailSettings are the operator-wide guardrails (its flags); a
// LambdaPermissionAccount may override them for its account.
type GuardrailSettings struct {
	AllowPublicAccess         bool
	AllowServiceWithoutSource bool
}

func (g GuardrailSettings) overriddenBy(o lambdav1alpha1.Guardrails) GuardrailSettings {
	if o.AllowPublicAccess != nil {
		g.AllowPublicAccess = *o.AllowPublicAccess
	}
	if o.AllowServiceWithoutSource != nil {
		g.AllowServiceWithoutSource = *o.AllowServiceWithoutSource
	}
	return g
}

// grant is what an object may do in AWS once allowed: act as identity on
// target, writing its policy with strategy.
type grant struct {
	identity   awslambda.Identity
	target     policy.FunctionRef
	strategy   writer.Strategy
	compaction lambdav1alpha1.Compaction
	guardrails GuardrailSettings // in force for the account
}

// authorize decides, before any AWS call but STS's, whether an object in
// namespace may grant perm on target and as whom (see decideAccess). owned:
// a LambdaResourcePolicy owns the target's policy. A LambdaResourcePolicy
// asks with no perm: its statements' guardrails are checked one by one.
func (e *Engine) authorize(ctx context.Context, namespace string, target policy.FunctionRef, perm policy.Permission, owned bool) (grant, error) {
	accounts, err := e.cluster.Accounts(ctx)
	if err != nil {
		return grant{}, err
	}
	own, err := e.ownAccount(ctx)
	if err != nil {
		return grant{}, err
	}
	labels, err := e.cluster.NamespaceLabels(ctx, namespace)
	if err != nil {
		return grant{}, err
	}
	return decideAccess(accessRequest{
		Namespace: namespace, NamespaceLabels: labels, Target: target, Permission: perm,
		Accounts: accounts, OwnAccount: own, Guardrails: e.Guardrails, DefaultStrategy: e.defaultStrategy(), DefaultCompaction: e.Compaction, OwnedPolicy: owned,
	})
}

// ownAccount is the operator's own AWS account (STS, asked once).
func (e *Engine) ownAccount(ctx context.Context) (string, error) {
	own, _, err := e.lambda.Caller(ctx, awslambda.Identity{})
	if err != nil {
		return "", kernel.LambdaFailure(err, "finding the operator's own AWS account")
	}
	return own, nil
}

// accessRequest is everything decideAccess looks at.
type accessRequest struct {
	Namespace       string
	NamespaceLabels labels.Set
	Target          policy.FunctionRef // as the spec names it: region and account may be empty
	Permission      policy.Permission
	Accounts        []lambdav1alpha1.LambdaPermissionAccount
	OwnAccount      string            // the operator's own AWS account
	Guardrails      GuardrailSettings // the operator's flags
	DefaultStrategy writer.Strategy   // the operator's flag, for its own account when no account object declares it
	// DefaultCompaction is the operator's flag, for accounts that do not
	// set their own.
	DefaultCompaction lambdav1alpha1.Compaction
	// OwnedPolicy: a LambdaResourcePolicy owns the target's policy, which
	// is then written as a whole document whatever the account says.
	OwnedPolicy bool
}

// decideAccess decides whether an object may grant and as whom. The
// account is the one in functionName, else the default
// LambdaPermissionAccount's, else the operator's own. A declared account
// admits only the namespaces and functions its rules list, within its
// guardrails; an undeclared one other than the operator's own is refused.
func decideAccess(req accessRequest) (grant, error) {
	accountID := req.Target.AccountID
	if accountID == "" {
		if d := defaultAccount(req.Accounts); d != nil {
			accountID = d.Spec.AccountID
		}
	}
	if accountID == "" {
		accountID = req.OwnAccount // a bare name is in the operator's own account
	}
	g := grant{target: req.Target, strategy: req.DefaultStrategy, compaction: req.DefaultCompaction, guardrails: req.Guardrails}
	if req.OwnedPolicy {
		g.strategy = writer.Document
	}
	account := findAccount(req.Accounts, accountID)
	if account == nil {
		if accountID != req.OwnAccount {
			return grant{}, kernel.Stalled(lambdav1alpha1.ReasonAccountNotAllowed,
				"no LambdaPermissionAccount declares account %s; a cluster admin must declare it before objects may grant in it", accountID)
		}
		if err := checkGuardrails(req.Permission, req.Guardrails, "the operator's flags"); err != nil {
			return grant{}, err
		}
		return g, checkStrategy(req.Permission, g.strategy, "run the operator with --write-strategy=Document (its own account)",
			statementsFix(req, ", or run the operator with --write-strategy=Statements (its own account)"))
	}

	rules := rulesFor(account, req.NamespaceLabels)
	if len(rules) == 0 {
		return grant{}, kernel.Stalled(lambdav1alpha1.ReasonAccountNotAllowed,
			"namespace %s may not grant in account %s: no access rule of LambdaPermissionAccount %s selects it", req.Namespace, account.Spec.AccountID, account.Name)
	}
	g.target.AccountID = account.Spec.AccountID
	if req.Target.Region == "" {
		g.target = g.target.WithDefaults(account.Spec.DefaultRegion, "")
	}
	if !functionAllowed(rules, g.target) {
		return grant{}, kernel.Stalled(lambdav1alpha1.ReasonFunctionNotAllowed,
			"namespace %s may not grant on function %s: LambdaPermissionAccount %s allows it only %v", req.Namespace, g.target.Name, account.Name, allowedPatterns(rules))
	}
	g.identity, g.guardrails = IdentityOf(account), req.Guardrails.overriddenBy(account.Spec.Guardrails)
	g.compaction = compactionOf(account, req.DefaultCompaction)
	if !req.OwnedPolicy {
		g.strategy = strategyOf(account)
	}
	if err := checkGuardrails(req.Permission, g.guardrails, "LambdaPermissionAccount "+account.Name); err != nil {
		return grant{}, err
	}
	return g, checkStrategy(req.Permission, g.strategy, "set writeStrategy: Document on LambdaPermissionAccount "+account.Name,
		statementsFix(req, ", or set writeStrategy: Statements on LambdaPermissionAccount "+account.Name))
}

// checkStrategy refuses what the way the policy is written cannot hold:
// statement by statement, a Deny or more conditions, which AddPermission
// cannot write (toDocument says how to write it whole); written whole, an
// action no policy document takes, which PutResourcePolicy refuses for the
// whole document where AddPermission takes any lambda:Name (toStatements
// says how to write it statement by statement).
func checkStrategy(p policy.Permission, strategy writer.Strategy, toDocument, toStatements string) error {
	switch {
	case p.NeedsDocument() && strategy != writer.Document:
		return kernel.Stalled(lambdav1alpha1.ReasonRequiresDocumentStrategy,
			"effect Deny and conditions can only be written as a whole policy document (PutResourcePolicy), and this account's policies are written statement by statement: %s", toDocument)
	case strategy == writer.Document && p.Action != "" && !policy.IsDocumentAction(p.Action):
		return kernel.Stalled(lambdav1alpha1.ReasonInvalidSpec,
			"spec.action %s is not an operation a function's policy document supports (lambda:InvokeFunction, lambda:GetFunction, …), lambda:* or *, and this function's policy is written as a whole document (PutResourcePolicy), which Lambda would refuse whole: name one of those%s", p.Action, toStatements)
	}
	return nil
}

// statementsFix is how to have the policy written statement by statement:
// fix, unless a LambdaResourcePolicy owns it and always writes it whole.
func statementsFix(req accessRequest, fix string) string {
	if req.OwnedPolicy {
		return "; a LambdaResourcePolicy owns this function's policy, and writes it whole"
	}
	return fix
}

// strategyOf is how the operator writes the policies of an account's
// functions.
func strategyOf(a *lambdav1alpha1.LambdaPermissionAccount) writer.Strategy {
	if a.Spec.WriteStrategy == lambdav1alpha1.WriteStrategyDocument {
		return writer.Document
	}
	return writer.Statements
}

// IdentityOf is who the operator acts as in an account: the role it
// assumes, or its own credentials when the account names none.
func IdentityOf(a *lambdav1alpha1.LambdaPermissionAccount) awslambda.Identity {
	return awslambda.Identity{RoleARN: a.Spec.RoleARN, ExternalID: a.Spec.ExternalID, SessionName: a.Spec.SessionName}
}

// findAccount returns the account object for accountID; with several, the
// first by name.
func findAccount(accounts []lambdav1alpha1.LambdaPermissionAccount, accountID string) *lambdav1alpha1.LambdaPermissionAccount {
	return firstByName(accounts, func(a *lambdav1alpha1.LambdaPermissionAccount) bool { return a.Spec.AccountID == accountID })
}

// defaultAccount is the account of functions named without one, if an admin
// marked one default.
func defaultAccount(accounts []lambdav1alpha1.LambdaPermissionAccount) *lambdav1alpha1.LambdaPermissionAccount {
	return firstByName(accounts, func(a *lambdav1alpha1.LambdaPermissionAccount) bool { return a.Spec.Default })
}

// firstByName is the matching account first by name, so that the choice
// among several is stable.
func firstByName(accounts []lambdav1alpha1.LambdaPermissionAccount, match func(*lambdav1alpha1.LambdaPermissionAccount) bool) *lambdav1alpha1.LambdaPermissionAccount {
	var first *lambdav1alpha1.LambdaPermissionAccount
	for i := range accounts {
		if match(&accounts[i]) && (first == nil || accounts[i].Name < first.Name) {
			first = &accounts[i]
		}
	}
	return first
}

// AccessRuleErrors names each part of account's access rules that cannot
// be read and so grants nothing: a namespaceSelector that is no label
// selector (an unknown operator, In without values; the CRD keeps
// metav1.LabelSelector's schema, which the API server does not check for
// custom resources), or a function pattern path.Match cannot read (which
// the CRD refuses at admission; an object stored before may hold one).
func AccessRuleErrors(account *lambdav1alpha1.LambdaPermissionAccount) error {
	var errs []error
	for i, rule := range account.Spec.Access {
		if _, err := metav1.LabelSelectorAsSelector(&rule.NamespaceSelector); err != nil {
			errs = append(errs, fmt.Errorf("spec.access[%d].namespaceSelector: %w", i, err))
		}
		for j, pattern := range rule.Functions {
			if _, err := path.Match(pattern, ""); err != nil {
				errs = append(errs, fmt.Errorf("spec.access[%d].functions[%d] %q: %w", i, j, pattern, err))
			}
		}
	}
	return errors.Join(errs...)
}

func rulesFor(account *lambdav1alpha1.LambdaPermissionAccount, namespaceLabels labels.Set) []lambdav1alpha1.AccountAccessRule {
	var rules []lambdav1alpha1.AccountAccessRule
	for _, rule := range account.Spec.Access {
		selector, err := metav1.LabelSelectorAsSelector(&rule.NamespaceSelector)
		if err == nil && selector.Matches(namespaceLabels) {
			rules = append(rules, rule)
		}
	}
	return rules
}

// functionAllowed matches the rules' patterns against the function's name
// and, when its region is known, its ARN with and without the qualifier.
func functionAllowed(rules []lambdav1alpha1.AccountAccessRule, target policy.FunctionRef) bool {
	candidates := []string{target.Name}
	if target.Region != "" {
		full := target.WithDefaults("", "")
		candidates = append(candidates, full.FunctionARN(), full.ResourceARN())
	}
	for _, rule := range rules {
		if len(rule.Functions) == 0 {
			return true
		}
		for _, pattern := range rule.Functions {
			for _, c := range candidates {
				if ok, _ := path.Match(pattern, c); ok {
					return true
				}
			}
		}
	}
	return false
}

func allowedPatterns(rules []lambdav1alpha1.AccountAccessRule) []string {
	var patterns []string
	for _, rule := range rules {
		patterns = append(patterns, rule.Functions...)
	}
	return patterns
}

// checkGuardrails refuses a public grant or a service grant without a
// source, unless the settings allow it.
func checkGuardrails(p policy.Permission, g GuardrailSettings, where string) error {
	switch {
	case p.IsPublic() && !g.AllowPublicAccess:
		return kernel.Stalled(lambdav1alpha1.ReasonPublicAccessDenied,
			"principal * with nothing that narrows it to fixed values (a sourceArn or sourceAccount without wildcards, principalOrgID, functionUrlAuthType AWS_IAM, or a condition such as aws:SourceIp) lets anyone invoke the function; "+
				"narrow it with one of those, or have a cluster admin set allowPublicAccess (%s)", where)
	case p.IsServiceWithoutSource() && !g.AllowServiceWithoutSource:
		return kernel.Stalled(lambdav1alpha1.ReasonSourceRequired,
			"service principal %s without sourceArn or sourceAccount lets resources in any account make the service invoke the function; "+
				"set sourceArn or sourceAccount, or have a cluster admin set allowServiceWithoutSource (%s)", p.Principal, where)
	}
	return nil
}

// checkStatementGuardrails applies the account's guardrails to each Allow
// statement of a LambdaResourcePolicy, as to a LambdaPermission's.
func checkStatementGuardrails(statements []policy.Statement, g GuardrailSettings) error {
	for _, st := range statements {
		switch {
		case st.IsPublic() && !g.AllowPublicAccess:
			return kernel.Stalled(lambdav1alpha1.ReasonPublicAccessDenied,
				"statement %q allows principal * with no condition that narrows it, so anyone may call the function; "+
					"narrow it (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, lambda:FunctionUrlAuthType AWS_IAM), or have a cluster admin set allowPublicAccess", st.Sid)
		case st.IsServiceWithoutSource() && !g.AllowServiceWithoutSource:
			return kernel.Stalled(lambdav1alpha1.ReasonSourceRequired,
				"statement %q allows a service principal without an aws:SourceArn or aws:SourceAccount condition, so resources in any account can make the service call the function; "+
					"add one, or have a cluster admin set allowServiceWithoutSource", st.Sid)
		}
	}
	return nil
}
