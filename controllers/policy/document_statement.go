package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// What a statement of a whole policy document (PutResourcePolicy) may
// hold: the grammar of SPEC §16.6, items 4 to 10.

// documentActions are the Lambda operations a function's resource-based
// policy may name (SPEC §16.6 item 8), in lower case: IAM matches actions
// without case. "*" stands for lambda:*.
var documentActions = func() map[string]bool {
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

// documentAWSPrincipalARN is an IAM or STS ARN as a document's AWS
// principal (SPEC §16.6 item 7). It is looser than AddPermission's
// iamPrincipal: the part after the account is only required to be there.
var documentAWSPrincipalARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:\S+$`)

// notElements are the negated elements a document may not use.
var notElements = map[string]string{"NotPrincipal": "Principal", "NotAction": "Action", "NotResource": "Resource"}

// ValidateDocumentStatement checks one statement of a policy document
// against the grammar PutResourcePolicy accepts on resourceARN (SPEC §16.6
// items 4–10), and that it has the Sid the operator manages it by. The
// first defect is returned as a *FieldError whose Field is the element
// (Sid, Effect, Principal.AWS, Condition.StringEquals, …) and whose Value
// is the bad value. resourceARN is the function's, version's or alias's
// ARN; for an unqualified one, Resource may also be resourceARN + ":*".
//
// Sid uniqueness across the document is the caller's to check.
func ValidateDocumentStatement(st Statement, resourceARN string) error {
	switch {
	case st.Sid == "":
		return fieldError("Sid", st.Sid, "is required: the operator manages statements by their Sid")
	case !statementIDPattern.MatchString(st.Sid):
		return fieldError("Sid", st.Sid, "must contain only letters, digits, '-' and '_'")
	}
	for _, element := range sortedKeys(st.Unmodelled) {
		value := compact(string(st.Unmodelled[element]))
		if instead, ok := notElements[element]; ok {
			return fieldError(element, value, "is not supported; use "+instead)
		}
		return fieldError(element, value, "is not a statement element; a statement has Sid, Effect, Principal, Action, Resource and Condition")
	}
	if st.Effect != EffectAllow && st.Effect != EffectDeny {
		return fieldError("Effect", st.Effect, `must be "Allow" or "Deny"`)
	}
	if err := validateDocumentPrincipal(st.Principal); err != nil {
		return err
	}
	if len(st.Action) == 0 {
		return fieldError("Action", "", "is required: lambda:<Operation>, lambda:* or *, or a list of them")
	}
	for _, action := range st.Action {
		if !isDocumentAction(action) {
			return fieldError("Action", action, "must be lambda:<Operation> for an operation a function's policy supports (lambda:InvokeFunction, lambda:GetFunction, …), lambda:* or *")
		}
	}
	if err := validateDocumentResource(st.Resource, resourceARN); err != nil {
		return err
	}
	return validateDocumentCondition(st.Condition)
}

func validateDocumentPrincipal(p Principal) error {
	if len(p.IDs) == 0 {
		if p.Anyone {
			return nil
		}
		return fieldError("Principal", "", `is required: "*" or an object of AWS, Service, Federated or CanonicalUser principals`)
	}
	for _, kind := range orderedKeys(p.IDs, principalOrder) {
		ids := p.IDs[kind]
		if !slices.Contains(principalOrder, kind) {
			// ParseStatement keeps a principal string other than "*" under "".
			value := kind
			if kind == "" && len(ids) == 1 {
				value = ids[0]
			}
			return fieldError("Principal", value, `must be "*" or an object of AWS, Service, Federated or CanonicalUser principals`)
		}
		field := "Principal." + kind
		if len(ids) == 0 {
			return fieldError(field, "[]", "must be a principal or a non-empty list of them")
		}
		for _, id := range ids {
			if detail := documentPrincipalProblem(kind, id); detail != "" {
				return fieldError(field, id, detail)
			}
		}
	}
	return nil
}

// documentPrincipalProblem says what is wrong with a principal of the given
// type, or "" (SPEC §16.6 item 7).
func documentPrincipalProblem(kind, id string) string {
	switch kind {
	case "AWS":
		if id != "*" && !accountIDPrincipal.MatchString(id) && !documentAWSPrincipalARN.MatchString(id) {
			return `must be "*", a 12-digit account id or an IAM ARN (arn:PARTITION:iam::ACCOUNT:…)`
		}
	case "Service":
		if !isServicePrincipal(id) {
			return "must be a service principal such as s3.amazonaws.com"
		}
	default: // Federated, CanonicalUser
		if !principalPattern.MatchString(id) {
			return "must be non-empty and without white space"
		}
	}
	return ""
}

// IsDocumentAction reports whether a policy document written whole
// (PutResourcePolicy) may name action: lambda:<Operation> of an operation a
// function's policy supports, lambda:* or "*" (SPEC §16.6 item 8). Partial
// wildcards such as lambda:Get* are not; AddPermission takes any
// lambda:Name (§2).
func IsDocumentAction(action string) bool { return isDocumentAction(action) }

func isDocumentAction(action string) bool {
	if action == "*" {
		return true
	}
	service, operation, ok := strings.Cut(action, ":")
	return ok && strings.EqualFold(service, "lambda") && documentActions[strings.ToLower(operation)]
}

// validateDocumentResource: each value the resource's own ARN, or for an
// unqualified function its ARN with :* (SPEC §16.6 item 9).
func validateDocumentResource(resources []string, resourceARN string) error {
	allowed := resourceARN
	unqualified := isUnqualifiedFunctionARN(resourceARN)
	if unqualified {
		allowed += " or " + resourceARN + ":*"
	}
	if len(resources) == 0 {
		return fieldError("Resource", "", "is required: "+allowed)
	}
	for _, r := range resources {
		if r != resourceARN && (!unqualified || r != resourceARN+":*") {
			return fieldError("Resource", r, "must be "+allowed+", the resource this policy is on")
		}
	}
	return nil
}

func isUnqualifiedFunctionARN(arn string) bool {
	ref, err := ParseFunctionName(arn)
	return err == nil && ref.Qualifier == "" && strings.HasPrefix(arn, "arn:")
}

// validateDocumentCondition: known operators (SPEC §16.6 item 10), each
// with at least one non-empty key, each key with at least one value. Keys
// and values are not checked further: policy variables pass.
func validateDocumentCondition(c Condition) error {
	for _, operator := range sortedKeys(c) {
		if !conditionOperatorPattern.MatchString(operator) {
			return fieldError("Condition", operator,
				"must be an IAM condition operator (StringEquals, ArnLike, IpAddress, Bool, …), optionally with ForAnyValue:/ForAllValues: and IfExists; Null takes neither")
		}
		field := "Condition." + operator
		keys := c[operator]
		if len(keys) == 0 {
			return fieldError(field, "{}", "must hold at least one condition key")
		}
		for _, key := range sortedKeys(keys) {
			if key == "" {
				return fieldError(field, key, "condition keys must not be empty")
			}
			if len(keys[key]) == 0 {
				return fieldError(fmt.Sprintf("%s[%q]", field, key), "[]", "must have at least one value")
			}
		}
	}
	return nil
}
