package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// import --resource-policy writes one LambdaResourcePolicy per policy read
// (function, version or alias) holding every statement of it as Lambda
// stores it, in IAM's own form. The migration it is made for is "Observe
// first": apply the objects, which only compare (managementPolicy Observe);
// check that each is Ready with nothing in status.pendingChange, or that
// what is pending is only the statements no LambdaResourcePolicy can hold
// (listed in the manifest's comments); then set managementPolicy: Manage.

// policyImportOptions shape the LambdaResourcePolicies import writes.
type policyImportOptions struct {
	namespace string
	// manage writes managementPolicy Manage: applying makes each policy
	// exactly the imported statements, removing those that cannot be
	// declared. Observe unless asked.
	manage bool
	// deletionPolicy is Retain unless asked. An imported policy was there
	// before the cluster, written by others (the console, Terraform, other
	// teams' pipelines); Delete would take every one of its statements out
	// of the function's policy when the object goes, and an object goes
	// more easily than a policy should: kubectl delete -f on the manifest,
	// a namespace deleted, a GitOps prune. With Retain, deleting the object
	// only ends its management and leaves the policy as it was, so that an
	// import can always be undone without a write to AWS. Delete suits a
	// policy the cluster itself created.
	deletionPolicy lambdav1alpha1.DeletionPolicy
}

// maxPolicyStatements is how many statements a LambdaResourcePolicy holds
// (the CRD's MaxItems).
const maxPolicyStatements = 100

// maxPolicyObjectName is the longest object name: a DNS subdomain's.
const maxPolicyObjectName = 253

// documentVersion is the policy language version, the only one Lambda takes.
const documentVersion = "2012-10-17"

// undeclarable is a statement of a policy that a LambdaResourcePolicy
// cannot hold: Manage would remove it.
type undeclarable struct {
	Resource string // ARN of the function, version or alias whose policy holds it
	Ref      string // "sid" or #N, its position, as status.pendingChange names it
	Reason   string
	Raw      string // the statement as stored, compacted
}

// policyImport is what resourcePolicyManifest made: the items to render,
// and what the user must hear about.
type policyImport struct {
	items        []manifestItem
	objects      int // LambdaResourcePolicies
	declared     int // statements in them
	empty        int // functions, versions and aliases without a policy: no object
	undeclarable []undeclarable
	guarded      []string // statements the operator's default guardrails refuse, as "ARN: statement "sid" …"
}

// resourcePolicyManifest turns each policy into the LambdaResourcePolicy
// that declares every statement of it verbatim. A statement no
// LambdaResourcePolicy can hold is left out, with a comment on the object
// saying why and showing it: Observe reports it as pending removal. A
// function, version or alias without a policy gets no object.
func resourcePolicyManifest(policies []policyRead, opts policyImportOptions) policyImport {
	var out policyImport
	names := objectNames{}
	for _, p := range policies {
		arn := p.Target.ResourceARN()
		if len(p.Document.Statements) == 0 {
			why := fmt.Sprintf("No policy on %s: no LambdaResourcePolicy.", arn)
			if p.Revision != "" {
				why = fmt.Sprintf("The policy of %s holds no statement: no LambdaResourcePolicy.", arn)
			}
			out.empty++
			out.items = append(out.items, manifestItem{comments: []string{why}})
			continue
		}
		obj := &lambdav1alpha1.LambdaResourcePolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: lambdav1alpha1.GroupVersion.String(), Kind: "LambdaResourcePolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: names.takePolicy(p.Target), Namespace: opts.namespace},
			Spec: lambdav1alpha1.LambdaResourcePolicySpec{
				FunctionName:       p.Target.FunctionARN(),
				Qualifier:          p.Target.Qualifier,
				Policy:             lambdav1alpha1.ResourcePolicyDocument{Version: documentVersion},
				IncludePermissions: ptrTo(true),
				ManagementPolicy:   lambdav1alpha1.ManagementPolicyObserve,
				DeletionPolicy:     opts.deletionPolicy,
			},
		}
		if opts.manage {
			obj.Spec.ManagementPolicy = lambdav1alpha1.ManagementPolicyManage
		}
		if obj.Spec.DeletionPolicy == "" {
			obj.Spec.DeletionPolicy = lambdav1alpha1.DeletionPolicyRetain
		}

		var refused []undeclarable
		var guardrails []string
		seen := map[string]int{}
		for i, st := range p.Document.Statements {
			ref := fmt.Sprintf("#%d", i)
			if st.Sid != "" {
				ref = fmt.Sprintf("%q", st.Sid)
			}
			s, declared, err := translate.ResourcePolicyStatementOf(p.Target, st)
			switch j, dup := seen[st.Sid]; {
			case err != nil:
			case dup:
				err = fmt.Errorf("its Sid is statement #%d's too, and a LambdaResourcePolicy's Sids are unique", j)
			case len(obj.Spec.Policy.Statement) == maxPolicyStatements:
				err = fmt.Errorf("a LambdaResourcePolicy holds at most %d statements; import this policy's others as LambdaPermissions (import without --resource-policy), which includePermissions merges in", maxPolicyStatements)
			}
			if err != nil {
				refused = append(refused, undeclarable{Resource: arn, Ref: ref, Reason: err.Error(), Raw: compactJSON(st.Raw)})
				continue
			}
			seen[st.Sid] = i
			obj.Spec.Policy.Statement = append(obj.Spec.Policy.Statement, s)
			switch {
			case declared.IsPublic():
				guardrails = append(guardrails, fmt.Sprintf("Statement %s is public (principal * with no condition that narrows it): the operator's guardrail refuses the whole object (Stalled, PublicAccessDenied) unless allowPublicAccess is set for the account (LambdaPermissionAccount guardrails or --allow-public-access).", ref))
			case declared.IsServiceWithoutSource():
				guardrails = append(guardrails, fmt.Sprintf("Statement %s grants a service with no aws:SourceArn or aws:SourceAccount: the operator's guardrail refuses the whole object (Stalled, SourceRequired) unless allowServiceWithoutSource is set for the account (LambdaPermissionAccount guardrails or --allow-service-without-source).", ref))
			}
		}

		comments := []string{
			fmt.Sprintf("The policy of %s: %d statements (RevisionId %s), %d declared here as stored.", arn, len(p.Document.Statements), p.Revision, len(obj.Spec.Policy.Statement)),
		}
		if obj.Spec.ManagementPolicy == lambdav1alpha1.ManagementPolicyObserve {
			comments = append(comments, "managementPolicy Observe: the object only compares, and reports in status.pendingChange what Manage would change.",
				"Apply it, check that it is Ready and nothing is pending (kubectl get lrp -o yaml), then set managementPolicy: Manage.")
		} else {
			comments = append(comments, "managementPolicy Manage: applying makes the policy exactly these statements (and the included LambdaPermissions').")
		}
		if obj.Spec.DeletionPolicy == lambdav1alpha1.DeletionPolicyRetain {
			comments = append(comments, "deletionPolicy Retain: deleting the object leaves the policy as it is.")
		}
		comments = append(comments, guardrails...)
		if len(refused) > 0 {
			comments = append(comments, fmt.Sprintf("%d statements cannot be declared: Manage would remove them (Observe lists them in status.pendingChange.removed).", len(refused)))
			for _, u := range refused {
				comments = append(comments, fmt.Sprintf("Cannot be declared: statement %s: %s.", u.Ref, u.Reason), "  "+u.Raw)
			}
		}
		for _, g := range guardrails {
			out.guarded = append(out.guarded, arn+": "+g)
		}
		out.undeclarable = append(out.undeclarable, refused...)
		out.objects++
		out.declared += len(obj.Spec.Policy.Statement)
		out.items = append(out.items, manifestItem{comments: comments, object: obj})
	}
	return out
}

// compactJSON is text on one line, fit for a YAML comment.
func compactJSON(text string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(text)) == nil && b.String() != "null" {
		return b.String()
	}
	return strings.Join(strings.Fields(text), " ")
}

// takePolicy names the LambdaResourcePolicy of target's policy: the
// function's name, then ".QUALIFIER" for a version or alias, lowercased as
// object names must be. Lambda's names hold no '.', so the name of version
// 1 of orders is never that of a function orders-1: it is the same in every
// import, whatever else is imported. A name that loses something in the
// mapping (capitals, '_') ends in a hash of the ARN.
func (n objectNames) takePolicy(target policy.FunctionRef) string {
	parts := []string{target.Name}
	if target.Qualifier != "" {
		parts = append(parts, target.Qualifier)
	}
	lossless := true
	var mapped []string
	for _, part := range parts {
		m := strings.Trim(notInName.ReplaceAllString(strings.ToLower(part), "-"), "-")
		lossless = lossless && m == part
		if m != "" {
			mapped = append(mapped, m)
		}
	}
	name := strings.Join(mapped, ".")
	if !lossless || len(name) > maxPolicyObjectName || n[name] {
		name = hashed(name, target.ResourceARN(), maxPolicyObjectName)
	}
	n[name] = true
	return name
}

// checkPolicyFlags checks the flags that go with --resource-policy and
// sets opts from them; it reports the exit code when import is not to run.
func checkPolicyFlags(fs *flag.FlagSet, resourcePolicy bool, lp importOptions, opts *policyImportOptions, deletionPolicy string, stderr io.Writer) (int, bool) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var problem string
	switch {
	case !resourcePolicy && (set["manage"] || set["deletion-policy"]):
		problem = "--manage and --deletion-policy go with --resource-policy"
	case opts.manage && lp.observe:
		problem = "--manage and --observe contradict each other"
	case deletionPolicy != string(lambdav1alpha1.DeletionPolicyRetain) && deletionPolicy != string(lambdav1alpha1.DeletionPolicyDelete):
		problem = fmt.Sprintf("--deletion-policy must be Retain or Delete, not %q", deletionPolicy)
	}
	if problem != "" {
		fmt.Fprintf(stderr, "kubectl lperm import: %s\n", problem)
		return exitUsage, false
	}
	opts.namespace, opts.deletionPolicy = lp.namespace, lambdav1alpha1.DeletionPolicy(deletionPolicy)
	return 0, true
}

// writePolicyImport writes the LambdaResourcePolicies to stdout, and says
// on stderr what applying them will and will not do.
func writePolicyImport(stdout, stderr io.Writer, policies []policyRead, opts policyImportOptions) int {
	out := resourcePolicyManifest(policies, opts)
	if err := renderManifest(stdout, out.items); err != nil {
		return fail(stderr, "import", err)
	}
	mode := "Manage would remove it"
	if opts.manage {
		mode = "managementPolicy Manage: applying removes it"
	}
	for _, u := range out.undeclarable {
		fmt.Fprintf(stderr, "kubectl-lperm: %s: statement %s cannot be declared: %s; %s\n", u.Resource, u.Ref, u.Reason, mode)
	}
	for _, g := range out.guarded {
		fmt.Fprintf(stderr, "kubectl-lperm: %s\n", g)
	}
	management := lambdav1alpha1.ManagementPolicyObserve
	if opts.manage {
		management = lambdav1alpha1.ManagementPolicyManage
	}
	fmt.Fprintf(stderr, "kubectl-lperm: %d policies, %d LambdaResourcePolicies (managementPolicy %s, deletionPolicy %s) declaring %d statements; %d statements cannot be declared (see the comments); %d without a policy\n",
		len(policies)-out.empty, out.objects, management, opts.deletionPolicy, out.declared, len(out.undeclarable), out.empty)
	if len(out.undeclarable) > 0 && !opts.manage {
		fmt.Fprintf(stderr, "kubectl-lperm: Observe first: apply, check that each object's status.pendingChange lists only the statements above (removed), then set managementPolicy: Manage, which removes them\n")
	}
	return exitOK
}

func ptrTo[T any](v T) *T { return &v }
