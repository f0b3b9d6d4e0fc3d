package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Kinds of finding, as audit prints them and --fail-on names them.
const (
	findingPublic           = "public"             // anyone may invoke: * without a narrowing condition
	findingConfusedDeputy   = "confused-deputy"    // a service granted without saying on behalf of which resource or account
	findingURLMissingInvoke = "url-missing-invoke" // a function URL grant without the lambda:InvokeFunction statement URLs need since November 2026
	findingNearLimit        = "near-limit"         // a policy above 80 % of Lambda's 20,480 limit
	findingUnmanaged        = "unmanaged"          // a Sid no LambdaPermission or managing LambdaResourcePolicy declares
)

var findingKinds = []string{findingPublic, findingConfusedDeputy, findingURLMissingInvoke, findingNearLimit, findingUnmanaged}

// nearLimit is the share of Lambda's policy limit above which audit warns.
const nearLimit = 0.8

type finding struct {
	Resource string `json:"resource"` // the function, version or alias ARN
	Sid      string `json:"sid,omitempty"`
	// Value is the grant's own value when the statement lists several
	// (source ARNs, source accounts, AWS principals or actions) and the
	// finding is about that one grant.
	Value  string `json:"value,omitempty"`
	Kind   string `json:"finding"`
	Detail string `json:"detail"`
}

// audit lists what is risky or unmanaged in the policies. managed holds the
// statements LambdaPermissions manage, by managedKey, and the grants of
// compacted statements they manage, by memberKey; nil when no cluster was
// asked, and then no statement is called unmanaged.
func audit(policies []policyRead, managed map[string]bool) []finding {
	var findings []finding
	for _, p := range policies {
		if size := p.Document.SizeAfter(nil); float64(size) > nearLimit*policy.MaxPolicySize {
			findings = append(findings, finding{Resource: p.Target.ResourceARN(), Kind: findingNearLimit, Detail: fmt.Sprintf(
				"the policy is %d of Lambda's %d (%d %%): a few more statements and AddPermission fails",
				size, policy.MaxPolicySize, size*100/policy.MaxPolicySize)})
		}
		for _, st := range p.Document.Statements {
			findings = append(findings, auditStatement(p, st, managed)...)
		}
	}
	return findings
}

// auditStatement checks one statement of p's policy. One that lists several
// values in one respect (compacted, by the operator or by hand) is checked
// grant by grant: one risky or unmanaged value is not hidden by the others,
// and each finding names its value.
func auditStatement(p policyRead, st policy.StoredStatement, managed map[string]bool) []finding {
	resource := p.Target.ResourceARN()
	grants, d, _ := grantsOf(st.Statement, func(string) string { return st.Sid })
	if len(grants) == 0 {
		grants = []listedGrant{{statement: st.Statement}} // one grant, or a cross product: read whole
	}
	var findings []finding
	for _, g := range grants {
		add := func(kind, format string, args ...any) {
			findings = append(findings, finding{Resource: resource, Sid: st.Sid, Value: g.value, Kind: kind, Detail: fmt.Sprintf(format, args...)})
		}
		service := serviceWithoutSource(g.statement)
		switch {
		case isPublic(g.statement):
			add(findingPublic, "anyone may call %s: principal * with no condition on the source, organization, network or authentication",
				strings.Join(g.statement.Action, ", "))
		case service != "":
			add(findingConfusedDeputy, "%s may invoke on behalf of any resource in any account: add sourceArn or sourceAccount", service)
		}
		if p.URLAuthType != "" {
			for _, who := range urlPrincipalsWithoutInvoke(p.Document, g.statement) {
				add(findingURLMissingInvoke, "the function URL (AuthType %s) lets %s call lambda:InvokeFunctionUrl, but no statement grants it lambda:InvokeFunction: since November 2026 the URL refuses its calls; add one limited to lambda:InvokedViaFunctionUrl (a LambdaFunctionURLPermission declares both)",
					p.URLAuthType, who)
			}
		}
		switch {
		case managed == nil || managed[managedKey(resource, st.Sid)]:
		case g.value == "":
			add(findingUnmanaged, "no LambdaPermission or LambdaResourcePolicy (Manage) in the cluster manages this statement")
		case !managed[memberKey(resource, st.Sid, d, g.value)]:
			add(findingUnmanaged, "no LambdaPermission in the cluster holds this grant of the statement (status.compacted naming its Sid and this value), and no LambdaResourcePolicy (Manage) manages the statement")
		}
	}
	return findings
}

func managedKey(resourceARN, sid string) string { return resourceARN + "\x00" + sid }

// principals lists who a statement names: "*" for anyone, else the ids.
func principals(st policy.Statement, kind string) []string {
	var ids []string
	if st.Principal.Anyone {
		ids = append(ids, "*")
	}
	for k, values := range st.Principal.IDs {
		if kind == "" || k == kind {
			ids = append(ids, values...)
		}
	}
	return ids
}

func conditionKeys(st policy.Statement) []string {
	var keys []string
	for _, byKey := range st.Condition {
		for key := range byKey {
			keys = append(keys, strings.ToLower(key))
		}
	}
	return keys
}

// isPublic: an Allow for anyone with no condition but those that only say
// the call comes through a function URL, or that the URL needs no
// authentication.
func isPublic(st policy.Statement) bool {
	if st.Effect != policy.EffectAllow || !slices.Contains(principals(st, "AWS"), "*") {
		return false
	}
	for operator, byKey := range st.Condition {
		for key, values := range byKey {
			switch strings.ToLower(key) {
			case "lambda:invokedviafunctionurl":
			case "lambda:functionurlauthtype":
				if !(operator == "StringEquals" && len(values) == 1 && values[0] == "NONE") {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// serviceWithoutSource names the service an Allow grants with no source
// condition (the confused deputy problem), or "".
func serviceWithoutSource(st policy.Statement) string {
	services := st.Principal.IDs["Service"]
	if st.Effect != policy.EffectAllow || len(services) == 0 {
		return ""
	}
	for _, key := range conditionKeys(st) {
		switch key {
		case "aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths":
			return ""
		}
	}
	return strings.Join(services, ", ")
}

// urlPrincipalsWithoutInvoke lists the principals st lets call a function
// URL (lambda:InvokeFunctionUrl) that no Allow in the document lets call
// lambda:InvokeFunction, which a URL has needed too since November 2026.
func urlPrincipalsWithoutInvoke(doc policy.PolicyDocument, st policy.Statement) []string {
	if st.Effect != policy.EffectAllow || !grantsAction(st, "lambda:invokefunctionurl") {
		return nil
	}
	var missing []string
	for _, who := range principals(st, "") {
		covered := slices.ContainsFunc(doc.Statements, func(other policy.StoredStatement) bool {
			named := principals(other.Statement, "")
			return other.Effect == policy.EffectAllow && grantsAction(other.Statement, "lambda:invokefunction") &&
				(slices.Contains(named, who) || slices.Contains(named, "*"))
		})
		if !covered {
			missing = append(missing, who)
		}
	}
	return missing
}

// grantsAction: the statement's actions include action (lowercase), by
// name or wildcard.
func grantsAction(st policy.Statement, action string) bool {
	return slices.ContainsFunc(st.Action, func(a string) bool {
		a = strings.ToLower(a)
		return a == action || a == "lambda:*" || a == "*"
	})
}

// failing counts the findings of the kinds named (or of any kind, "any").
func failing(findings []finding, kinds []string) int {
	n := 0
	for _, f := range findings {
		if slices.Contains(kinds, "any") || slices.Contains(kinds, f.Kind) {
			n++
		}
	}
	return n
}

func renderFindings(w io.Writer, findings []finding, format string) error {
	if format == "json" {
		if findings == nil {
			findings = []finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(findings)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tSID\tVALUE\tFINDING\tDETAIL")
	for _, f := range findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Resource, orDash(f.Sid), orDash(f.Value), f.Kind, f.Detail)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
