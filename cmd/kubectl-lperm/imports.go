package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// importOptions shape the objects import writes.
type importOptions struct {
	namespace string
	observe   bool // managementPolicy Observe: compare and report, never write
}

// manifestItem is one object to apply, or a statement that cannot be one
// (object nil), with the comment lines that go above it.
type manifestItem struct {
	comments []string
	object   runtime.Object
}

// importManifest turns policies into the objects that adopt every statement
// as it stands: applying them makes no write. The two statements of a
// function URL grant (Sids P-url and P-invoke, as LambdaFunctionURLPermission
// writes them) become one LambdaFunctionURLPermission; a statement no object
// can declare is listed as a comment saying why.
func importManifest(policies []policyRead, opts importOptions) []manifestItem {
	var items []manifestItem
	names := objectNames{}
	for _, p := range policies {
		location := p.Target.ResourceARN()
		declared := map[string]policy.Permission{}
		var order []string
		for _, st := range p.Document.Statements {
			grants, d, ok := grantsOf(st.Statement, func(value string) string { return grantSid(st.Sid, value) })
			switch {
			case !ok:
				lists, combinations := crossProduct(st.Statement)
				items = append(items, notImported(st, location, fmt.Sprintf(
					"lists %s: it grants all %d combinations, a cross product that LambdaPermissions of one grant each do not adopt as it stands; split it by hand into statements that each list values in one respect, and import again",
					lists, combinations)))
				continue
			case d != "":
				items = append(items, listedItems(p.Target, st, d, grants, opts, names)...)
				continue
			}
			perm, err := policy.PermissionFrom(p.Target, st.Statement)
			if err != nil {
				items = append(items, notImported(st, location, err.Error()))
				continue
			}
			declared[st.Sid] = perm
			order = append(order, st.Sid)
		}
		paired := map[string]bool{}
		for _, sid := range order {
			if paired[sid] {
				continue
			}
			if url, ok := urlGrant(p.Target, declared, sid); ok {
				paired[url.Spec.StatementIDPrefix+"-url"], paired[url.Spec.StatementIDPrefix+"-invoke"] = true, true
				url.Name = names.take(p.Target, url.Spec.StatementIDPrefix)
				url.Namespace = opts.namespace
				if opts.observe {
					url.Spec.ManagementPolicy = lambdav1alpha1.ManagementPolicyObserve
				}
				items = append(items, manifestItem{
					comments: []string{fmt.Sprintf("Function URL grant on %s: statements %q and %q.", location, url.Spec.StatementIDPrefix+"-url", url.Spec.StatementIDPrefix+"-invoke")},
					object:   url,
				})
				continue
			}
			items = append(items, permissionItem(p.Target, declared[sid], opts, names, fmt.Sprintf("Statement %q on %s.", sid, location)))
		}
	}
	return items
}

// notImported is the comment for a statement no object declares: why, and
// the statement.
func notImported(st policy.StoredStatement, location, why string) manifestItem {
	return manifestItem{comments: []string{fmt.Sprintf("Not imported: statement %q on %s %s.", st.Sid, location, why), "  " + st.Raw}}
}

// permissionItem is the LambdaPermission that declares perm on target, with
// the comments given and those saying what the operator needs to accept it.
func permissionItem(target policy.FunctionRef, perm policy.Permission, opts importOptions, names objectNames, comments ...string) manifestItem {
	obj := &lambdav1alpha1.LambdaPermission{
		TypeMeta:   metav1.TypeMeta{APIVersion: lambdav1alpha1.GroupVersion.String(), Kind: "LambdaPermission"},
		ObjectMeta: metav1.ObjectMeta{Name: names.take(target, perm.StatementID), Namespace: opts.namespace},
		Spec:       translate.SpecOf(target, perm),
	}
	if opts.observe {
		obj.Spec.ManagementPolicy = lambdav1alpha1.ManagementPolicyObserve
	}
	switch {
	case perm.IsPublic():
		comments = append(comments, "Public (principal * with no source, organization or IAM auth): the operator's guardrail refuses it (Stalled, PublicAccessDenied) unless allowPublicAccess is set for the account (LambdaPermissionAccount guardrails or --allow-public-access).")
	case perm.IsServiceWithoutSource():
		comments = append(comments, "A service with no sourceArn or sourceAccount: the operator's guardrail refuses it (Stalled, SourceRequired) unless allowServiceWithoutSource is set for the account (LambdaPermissionAccount guardrails or --allow-service-without-source).")
	}
	if perm.NeedsDocument() {
		comments = append(comments, fmt.Sprintf("Deny or extra conditions: needs a LambdaPermissionAccount for account %s with writeStrategy: Document; elsewhere it is Stalled (RequiresDocumentStrategy) and writes nothing.", target.AccountID))
	}
	return manifestItem{comments: comments, object: obj}
}

// urlGrant is the LambdaFunctionURLPermission that declares the statement
// pair sid belongs to, when both halves are there and hold nothing else.
func urlGrant(target policy.FunctionRef, declared map[string]policy.Permission, sid string) (*lambdav1alpha1.LambdaFunctionURLPermission, bool) {
	prefix, ok := strings.CutSuffix(sid, "-url")
	if !ok {
		prefix, ok = strings.CutSuffix(sid, "-invoke")
	}
	if !ok || len(prefix) > lambdav1alpha1.MaxFunctionURLStatementIDPrefixLength {
		return nil, false
	}
	url, urlOK := declared[prefix+"-url"]
	invoke, invokeOK := declared[prefix+"-invoke"]
	if !urlOK || !invokeOK || url.Principal != invoke.Principal || url.PrincipalOrgID != invoke.PrincipalOrgID {
		return nil, false
	}
	// Exactly what LambdaFunctionURLPermission writes, field for field.
	wantURL := policy.Permission{StatementID: prefix + "-url", Action: "lambda:InvokeFunctionUrl", Principal: url.Principal,
		PrincipalOrgID: url.PrincipalOrgID, FunctionURLAuthType: url.FunctionURLAuthType}
	wantInvoke := policy.Permission{StatementID: prefix + "-invoke", Action: "lambda:InvokeFunction", Principal: url.Principal,
		PrincipalOrgID: url.PrincipalOrgID, InvokedViaFunctionURL: true}
	if url.FunctionURLAuthType == "" ||
		!policy.SameGrant(policy.DesiredStatement(target, url), policy.DesiredStatement(target, wantURL)) ||
		!policy.SameGrant(policy.DesiredStatement(target, invoke), policy.DesiredStatement(target, wantInvoke)) {
		return nil, false
	}
	return &lambdav1alpha1.LambdaFunctionURLPermission{
		TypeMeta: metav1.TypeMeta{APIVersion: lambdav1alpha1.GroupVersion.String(), Kind: "LambdaFunctionURLPermission"},
		Spec: lambdav1alpha1.LambdaFunctionURLPermissionSpec{
			FunctionName:      target.FunctionARN(),
			Qualifier:         target.Qualifier,
			AuthType:          url.FunctionURLAuthType,
			Principal:         url.Principal,
			PrincipalOrgID:    url.PrincipalOrgID,
			StatementIDPrefix: prefix,
		},
	}, true
}

// objectNames hands out object names derived from the function, qualifier
// and Sid: valid names (lowercase letters, digits, '-' and '.', at most 63
// characters, so that a URL grant's children fit too) and unique within one
// import. A name that loses something in the mapping, or would repeat one,
// ends in a hash of what it names.
type objectNames map[string]bool

var notInName = regexp.MustCompile(`[^a-z0-9-]+`)

const maxObjectName = 63 - len("-invoke") // a URL grant's children add -url or -invoke

func (n objectNames) take(target policy.FunctionRef, sid string) string {
	parts := []string{target.Name}
	if target.Qualifier != "" {
		parts = append(parts, target.Qualifier)
	}
	parts = append(parts, sid)
	readable := strings.Join(parts, "-")
	name := strings.Trim(notInName.ReplaceAllString(strings.ToLower(readable), "-"), "-")
	lossless := name == readable && len(name) <= maxObjectName
	if !lossless || n[name] {
		name = hashed(name, target.ResourceARN()+"\x00"+sid, maxObjectName)
	}
	n[name] = true
	return name
}

// hashed is name cut to fit in limit characters and ended with a hash of
// key, what it names: stable across imports, unique for each key.
func hashed(name, key string, limit int) string {
	sum := sha256.Sum256([]byte(key))
	hash := hex.EncodeToString(sum[:])[:8]
	name = strings.TrimRight(name[:min(len(name), limit-len(hash)-1)], "-.")
	if name == "" {
		return hash
	}
	return name + "-" + hash
}

// renderManifest writes the items as one YAML stream, comments above each.
func renderManifest(w io.Writer, items []manifestItem) error {
	var b bytes.Buffer
	for _, item := range items {
		if item.object == nil {
			for _, c := range item.comments {
				fmt.Fprintf(&b, "# %s\n", c)
			}
			continue
		}
		b.WriteString("---\n")
		for _, c := range item.comments {
			fmt.Fprintf(&b, "# %s\n", c)
		}
		doc, err := objectYAML(item.object)
		if err != nil {
			return err
		}
		b.Write(doc)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// objectYAML is the object as a user writes it: no status, no empty
// metadata fields.
func objectYAML(obj runtime.Object) ([]byte, error) {
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(fields, "status")
	if meta, ok := fields["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
		if meta["namespace"] == "" {
			delete(meta, "namespace")
		}
	}
	return yaml.Marshal(fields)
}
