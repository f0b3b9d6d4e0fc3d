package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// policyDocumentText is a PutResourcePolicy document that passed the
// checks of §16.6, split the way resourcePolicy keeps it: the compact text
// is head + statements joined by "," + tail.
type policyDocumentText struct {
	head, tail string
	sids       []string // "" for a statement without Sid
	statements []string // each statement's compact text, byte for byte
	nodes      []*jsonNode
}

func (d *policyDocumentText) text() string {
	return d.head + strings.Join(d.statements, ",") + d.tail
}

// msgInvalidPolicy starts every InvalidParameterValueException about the
// document's content (§16.6; AWS's texts are [unknown]).
const msgInvalidPolicy = "Invalid policy document: "

func errInvalidPolicy(format string, args ...any) *apiError {
	return errInvalidParameter(msgInvalidPolicy + fmt.Sprintf(format, args...))
}

// The policy grammar the emulator accepts (§16.6).
var (
	policyElements    = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
	principalKinds    = []string{"AWS", "Service", "Federated", "CanonicalUser"}
	policySidPattern  = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	// An IAM or STS principal ARN in any partition: arn:PARTITION:iam::ACCOUNT:...
	policyAWSPrincipalARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:\S+$`)
	// Federated and CanonicalUser values are only required to be non-blank.
	nonBlank = regexp.MustCompile(`^\S+$`)
)

// resourcePolicyActions are the lambda:<Operation> actions a function
// resource policy may name (§16.6): the function-scoped actions of the
// developer guide's "Supported API actions" list and of its cross-account
// list. Matched case-insensitively, as IAM matches actions; keys are lower
// case.
var resourcePolicyActions = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range []string{
		"CreateAlias", "DeleteAlias", "DeleteFunction", "DeleteFunctionConcurrency",
		"DeleteFunctionEventInvokeConfig", "DeleteFunctionUrlConfig", "DeleteProvisionedConcurrencyConfig",
		"GetAlias", "GetFunction", "GetFunctionCodeSigningConfig", "GetFunctionConcurrency",
		"GetFunctionConfiguration", "GetFunctionEventInvokeConfig", "GetFunctionUrlConfig", "GetPolicy",
		"GetProvisionedConcurrencyConfig", "InvokeFunction", "InvokeFunctionUrl", "ListAliases",
		"ListFunctionEventInvokeConfigs", "ListProvisionedConcurrencyConfigs", "ListTags",
		"ListVersionsByFunction", "PublishVersion", "PutFunctionConcurrency", "PutFunctionEventInvokeConfig",
		"PutProvisionedConcurrencyConfig", "TagResource", "UntagResource", "UpdateAlias", "UpdateFunctionCode",
		"UpdateFunctionConfiguration", "UpdateFunctionEventInvokeConfig", "*",
	} {
		m[strings.ToLower(op)] = true
	}
	return m
}()

// conditionOperators are IAM's condition operators (§16.6), each of which
// may also carry a ForAnyValue:/ForAllValues: prefix and an IfExists suffix.
var conditionOperators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true,
	"StringNotEqualsIgnoreCase": true, "StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true,
	"NumericLessThanEquals": true, "NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true,
	"DateLessThanEquals": true, "DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "BinaryEquals": true, "IpAddress": true, "NotIpAddress": true,
	"ArnEquals": true, "ArnLike": true, "ArnNotEquals": true, "ArnNotLike": true, "Null": true,
}

// baseOperator strips a condition operator's set prefix and IfExists
// suffix.
func baseOperator(op string) (base, prefix string, ifExists bool) {
	for _, p := range []string{"ForAnyValue:", "ForAllValues:"} {
		if strings.HasPrefix(op, p) {
			prefix, op = p, strings.TrimPrefix(op, p)
			break
		}
	}
	if strings.HasSuffix(op, "IfExists") {
		ifExists, op = true, strings.TrimSuffix(op, "IfExists")
	}
	return op, prefix, ifExists
}

// parsePolicyDocument checks a PutResourcePolicy Policy (§16.6) for the
// resource it is put on and splits its compact form. resource is the
// canonical ARN of the function, version or alias; an unqualified one also
// admits resource + ":*" in Resource.
func parsePolicyDocument(policy, resource string, unqualified bool) (*policyDocumentText, *apiError) {
	// json.Unmarshal reports where the syntax breaks; json.Compact does not.
	var raw json.RawMessage
	if err := json.Unmarshal([]byte(policy), &raw); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, errInvalidPolicy("the document is not valid JSON: %s (at byte %d).", syntax.Error(), syntax.Offset)
		}
		return nil, errInvalidPolicy("the document is not valid JSON: %s.", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, errInvalidPolicy("the document is not valid JSON: %s.", err)
	}
	root, err := parseJSONTree(compact.Bytes())
	if err != nil {
		var dup *duplicateKeyError
		if errors.As(err, &dup) {
			where := dup.path
			if where == "" {
				where = "the document"
			}
			return nil, errInvalidPolicy("duplicate key %q in %s.", dup.key, where)
		}
		return nil, errInvalidPolicy("the document is not valid JSON: %s.", err)
	}
	if root.kind != kindObject {
		return nil, errInvalidPolicy("the document must be a JSON object.")
	}
	for _, key := range root.keys {
		if !slices.Contains(policyElements, key) {
			return nil, errInvalidPolicy("unsupported element %q; a policy has Version, Id and Statement.", key)
		}
	}
	switch version := root.member("Version"); {
	case version == nil:
		return nil, errInvalidPolicy(`Version is missing; it must be "2012-10-17".`)
	case version.kind != kindString || version.text != "2012-10-17":
		return nil, errInvalidPolicy(`Version must be "2012-10-17", got %s.`, version)
	}
	if id := root.member("Id"); id != nil && id.kind != kindString {
		return nil, errInvalidPolicy("Id must be a string, got %s.", id)
	}
	list := root.member("Statement")
	switch {
	case list == nil:
		return nil, errInvalidPolicy("Statement is missing.")
	case list.kind != kindArray:
		return nil, errInvalidPolicy("Statement must be a list of statements, got %s.", list)
	case len(list.vals) == 0:
		return nil, errInvalidPolicy("Statement is empty; use DeleteResourcePolicy to remove a policy.")
	}
	doc := &policyDocumentText{nodes: list.vals}
	for i, st := range list.vals {
		sid, err := checkStatement(i, st, doc.sids, resource, unqualified)
		if err != nil {
			return nil, err
		}
		doc.sids = append(doc.sids, sid)
	}
	doc.head, doc.tail, doc.statements = splitStatements(compact.Bytes())
	return doc, nil
}

// checkStatement checks statement i and returns its Sid ("" when absent).
// earlier holds the Sids of the statements before it.
func checkStatement(i int, st *jsonNode, earlier []string, resource string, unqualified bool) (string, *apiError) {
	where := fmt.Sprintf("Statement[%d]", i)
	if st.kind != kindObject {
		return "", errInvalidPolicy("%s must be a JSON object, got %s.", where, st)
	}
	var sid string
	if n := st.member("Sid"); n != nil {
		s, ok := n.str()
		switch {
		case !ok:
			return "", errInvalidPolicy("%s: Sid must be a string, got %s.", where, n)
		case !policySidPattern.MatchString(s):
			return "", errInvalidPolicy("%s: Sid %s does not match %s.", where, jsonString(s), policySidPattern)
		}
		sid = s
		where += " (Sid " + jsonString(sid) + ")"
		if j := slices.Index(earlier, sid); j >= 0 {
			return "", errInvalidPolicy("%s: Sid %s is already used by Statement[%d].", where, jsonString(sid), j)
		}
	}
	for _, key := range st.keys {
		switch {
		case key == "NotPrincipal" || key == "NotAction" || key == "NotResource":
			return "", errInvalidPolicy("%s: %s is not supported; use %s.", where, key, strings.TrimPrefix(key, "Not"))
		case !slices.Contains(statementElements, key):
			return "", errInvalidPolicy("%s: unsupported element %q; a statement has Sid, Effect, Principal, Action, Resource and Condition.", where, key)
		}
	}
	switch effect := st.member("Effect"); {
	case effect == nil:
		return "", errInvalidPolicy(`%s: Effect is missing; it must be "Allow" or "Deny".`, where)
	case effect.kind != kindString || (effect.text != "Allow" && effect.text != "Deny"):
		return "", errInvalidPolicy(`%s: Effect must be "Allow" or "Deny", got %s.`, where, effect)
	}
	if err := checkPrincipal(where, st.member("Principal")); err != nil {
		return "", err
	}
	actions, err := stringList(where, "Action", st.member("Action"))
	if err != nil {
		return "", err
	}
	for _, a := range actions {
		if !isResourcePolicyAction(a) {
			return "", errInvalidPolicy("%s: Action %s is not a Lambda action a resource-based policy supports (lambda:<Operation>, lambda:* or *).", where, jsonString(a))
		}
	}
	resources, err := stringList(where, "Resource", st.member("Resource"))
	if err != nil {
		return "", err
	}
	for _, r := range resources {
		if r == resource || (unqualified && r == resource+":*") {
			continue
		}
		allowed := resource
		if unqualified {
			allowed += " or " + resource + ":*"
		}
		return "", errInvalidPolicy("%s: Resource %s is not the resource of this policy; it must be %s.", where, jsonString(r), allowed)
	}
	if err := checkCondition(where, st.member("Condition")); err != nil {
		return "", err
	}
	return sid, nil
}

// isResourcePolicyAction: lambda:<Operation> from resourcePolicyActions
// (lambda:* included), or "*", which AddPermission also stores.
func isResourcePolicyAction(action string) bool {
	if action == "*" {
		return true
	}
	service, operation, ok := strings.Cut(action, ":")
	return ok && strings.EqualFold(service, "lambda") && resourcePolicyActions[strings.ToLower(operation)]
}

// stringList reads an element that is a non-empty string or a non-empty
// list of non-empty strings.
func stringList(where, name string, n *jsonNode) ([]string, *apiError) {
	if n == nil {
		return nil, errInvalidPolicy("%s: %s is missing.", where, name)
	}
	values, ok := nonEmptyStrings(n)
	if !ok {
		return nil, errInvalidPolicy("%s: %s must be a non-empty string or a non-empty list of non-empty strings, got %s.", where, name, n)
	}
	return values, nil
}

func nonEmptyStrings(n *jsonNode) ([]string, bool) {
	if s, ok := n.str(); ok {
		return []string{s}, s != ""
	}
	if n.kind != kindArray || len(n.vals) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(n.vals))
	for _, v := range n.vals {
		s, ok := v.str()
		if !ok || s == "" {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// checkPrincipal: "*", or an object of AWS/Service/Federated/CanonicalUser
// principals (§16.6).
func checkPrincipal(where string, n *jsonNode) *apiError {
	if n == nil {
		return errInvalidPolicy("%s: Principal is missing.", where)
	}
	if s, ok := n.str(); ok && s == "*" {
		return nil
	}
	if n.kind != kindObject || len(n.keys) == 0 {
		return errInvalidPolicy(`%s: Principal must be "*" or an object of AWS, Service, Federated or CanonicalUser principals, got %s.`, where, n)
	}
	for i, kind := range n.keys {
		if !slices.Contains(principalKinds, kind) {
			return errInvalidPolicy("%s: Principal has an unsupported key %q; use AWS, Service, Federated or CanonicalUser.", where, kind)
		}
		values, err := stringList(where, "Principal."+kind, n.vals[i])
		if err != nil {
			return err
		}
		for _, v := range values {
			switch kind {
			case "AWS":
				if v != "*" && !accountIDPrincipal.MatchString(v) && !policyAWSPrincipalARN.MatchString(v) {
					return errInvalidPolicy(`%s: Principal.AWS %s is not "*", a 12-digit account id or an IAM ARN (arn:PARTITION:iam::ACCOUNT:...).`, where, jsonString(v))
				}
			case "Service":
				if !servicePrincipal.MatchString(v) {
					return errInvalidPolicy("%s: Principal.Service %s is not a service principal such as s3.amazonaws.com.", where, jsonString(v))
				}
			default:
				if !nonBlank.MatchString(v) {
					return errInvalidPolicy("%s: Principal.%s %s must not contain whitespace.", where, kind, jsonString(v))
				}
			}
		}
	}
	return nil
}

// checkCondition: an object of known operators, each an object of
// condition keys whose values are strings, numbers, booleans or non-empty
// lists of those (§16.6).
func checkCondition(where string, n *jsonNode) *apiError {
	if n == nil {
		return nil
	}
	if n.kind != kindObject {
		return errInvalidPolicy("%s: Condition must be an object of condition operators, got %s.", where, n)
	}
	for i, op := range n.keys {
		if base, _, _ := baseOperator(op); !conditionOperators[base] {
			return errInvalidPolicy("%s: Condition operator %q is not supported.", where, op)
		}
		block := n.vals[i]
		if block.kind != kindObject || len(block.keys) == 0 {
			return errInvalidPolicy("%s: Condition.%s must be a non-empty object of condition keys, got %s.", where, op, block)
		}
		for j, key := range block.keys {
			if key == "" {
				return errInvalidPolicy("%s: Condition.%s has an empty condition key.", where, op)
			}
			if !isConditionValue(block.vals[j]) {
				return errInvalidPolicy("%s: Condition.%s[%s] must be a string, number, boolean or a non-empty list of those, got %s.",
					where, op, jsonString(key), block.vals[j])
			}
		}
	}
	return nil
}

func isConditionValue(n *jsonNode) bool {
	scalar := func(v *jsonNode) bool { return v.kind == kindString || v.kind == kindNumber || v.kind == kindBool }
	if n.kind != kindArray {
		return scalar(n)
	}
	if len(n.vals) == 0 {
		return false
	}
	for _, v := range n.vals {
		if !scalar(v) {
			return false
		}
	}
	return true
}

// splitStatements cuts a compact document that passed the checks into the
// text before the first statement, each statement, and the text after the
// last. encoding/json's RawMessage keeps each statement's bytes as given.
func splitStatements(doc []byte) (head, tail string, statements []string) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	_, _ = dec.Token() // {
	for dec.More() {
		tok, _ := dec.Token()
		keyEnd := int(dec.InputOffset()) // the ':' follows: the text is compact
		var raw json.RawMessage
		_ = dec.Decode(&raw)
		if tok != "Statement" {
			continue
		}
		start, end := keyEnd+1, int(dec.InputOffset()) // doc[start:end] is "[...]"
		var items []json.RawMessage
		_ = json.Unmarshal(doc[start:end], &items)
		for _, item := range items {
			statements = append(statements, string(item))
		}
		return string(doc[:start+1]), string(doc[end-1:]), statements
	}
	return string(doc), "", nil // unreachable: the document has a Statement list
}
