package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Permission is what a user asks Lambda to grant: the members of an
// AddPermission request other than FunctionName, Qualifier and RevisionId,
// and what only a whole policy document can hold (NeedsDocument).
type Permission struct {
	StatementID           string
	Action                string
	Principal             string
	SourceArn             string
	SourceAccount         string
	PrincipalOrgID        string
	EventSourceToken      string
	FunctionURLAuthType   string // "", "NONE" or "AWS_IAM"
	InvokedViaFunctionURL bool

	// Effect is Allow (also when empty) or Deny. AddPermission writes only
	// Allow statements.
	Effect string
	// Conditions are IAM conditions beside those the members above imply.
	// AddPermission takes none of them.
	Conditions []ConditionEntry
}

// ConditionEntry is one IAM condition: an operator, a key and its values.
type ConditionEntry struct {
	Operator string
	Key      string
	Values   []string
}

// Effects a statement can have.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// NeedsDocument reports whether only a whole policy document
// (PutResourcePolicy) can hold the statement: AddPermission writes single
// Allow statements with a fixed set of conditions (SPEC §16.6).
func (p Permission) NeedsDocument() bool {
	return p.Effect == EffectDeny || len(p.Conditions) > 0
}

// FieldError says which input field is wrong and why. Field uses the
// lowerCamel names of the API (statementId, sourceArn, …).
type FieldError struct {
	Field  string
	Value  string
	Detail string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: invalid value %q: %s", e.Field, e.Value, e.Detail)
}

func fieldError(field, value, detail string) *FieldError {
	return &FieldError{Field: field, Value: value, Detail: detail}
}

// Request member constraints from Lambda's service model (SPEC §2). AWS
// matches each pattern against the whole value.
var (
	statementIDPattern      = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`) // no '.', unlike RemovePermission's path
	actionPattern           = regexp.MustCompile(`^(?:lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
	principalPattern        = regexp.MustCompile(`^[^\s]+$`)
	sourceArnPattern        = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)$`)
	sourceAccountPattern    = regexp.MustCompile(`^\d{12}$`)
	eventSourceTokenPattern = regexp.MustCompile(`^[a-zA-Z0-9._\-]+$`)
	principalOrgIDPattern   = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// IAM's condition operators, each with an optional set prefix and an
// optional IfExists suffix, and the shape of a condition key: a service
// prefix, a colon and a name that may carry a tag key after a slash.
var (
	conditionOperatorPattern = regexp.MustCompile(`^(?:ForAnyValue:|ForAllValues:)?(?:` +
		`String(?:Not)?Equals(?:IgnoreCase)?|String(?:Not)?Like|` +
		`Numeric(?:Not)?Equals|Numeric(?:LessThan|GreaterThan)(?:Equals)?|` +
		`Date(?:Not)?Equals|Date(?:LessThan|GreaterThan)(?:Equals)?|` +
		`Bool|BinaryEquals|(?:Not)?IpAddress|Arn(?:Not)?Equals|Arn(?:Not)?Like` +
		`)(?:IfExists)?$|^Null$`)
	conditionKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*:[a-zA-Z0-9_./:=+@${}-]+$`)
)

// Limits on conditions, the same as admission's.
const (
	maxConditions       = 32
	maxConditionValues  = 64
	maxConditionKey     = 256
	maxConditionValueLn = 2048
)

// Principal forms Lambda accepts (SPEC §3.2). A malformed IAM ARN such as
// arn:aws:iam:000000000000:role/x is refused by AWS, so it is refused here
// before any call.
var (
	accountIDPrincipal = regexp.MustCompile(`^\d{12}$`)
	// The resource type (role, user, assumed-role, federated-user) is in
	// lower case, as every IAM and STS ARN writes it; Lambda refuses
	// arn:aws:iam::123456789012:Role/x as a malformed principal.
	iamPrincipal = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:(?:root|[a-z-]+(?:/[\w+=,.@\-]+)+)$`)
	// DNS labels: none starts or ends with '-' (Lambda refuses s3-.amazonaws.com).
	servicePrincipal    = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:amazonaws\.com(?:\.cn)?|amazon\.com)$`)
	functionURLAuthType = map[string]bool{"NONE": true, "AWS_IAM": true}
)

// Validate checks every member against Lambda's constraints, so a bad object
// is refused with the field named instead of failing at AWS. It returns all
// problems at once, joined.
func (p Permission) Validate() error {
	var errs []error
	check := func(field, value string, required bool, maxLen int, pattern *regexp.Regexp, want string) {
		switch {
		case value == "" && required:
			errs = append(errs, fieldError(field, value, "is required"))
		case value == "":
		case javaLength(value) > maxLen: // Lambda counts UTF-16 code units, as Java's String.length() does
			errs = append(errs, fieldError(field, value, fmt.Sprintf("must be at most %d characters", maxLen)))
		case !pattern.MatchString(value):
			errs = append(errs, fieldError(field, value, want))
		}
	}
	check("statementId", p.StatementID, true, 100, statementIDPattern, "must contain only letters, digits, '-' and '_'")
	check("action", p.Action, true, 10000, actionPattern, "must be lambda:ActionName, lambda:* or *")
	check("principal", p.Principal, true, 2048, principalPattern, "must not contain white space")
	check("sourceArn", p.SourceArn, false, 10000, sourceArnPattern, "must be an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")
	check("sourceAccount", p.SourceAccount, false, 12, sourceAccountPattern, "must be a 12-digit AWS account id")
	check("principalOrgID", p.PrincipalOrgID, false, 34, principalOrgIDPattern, "must be an organization id like o-a1b2c3d4e5")
	check("eventSourceToken", p.EventSourceToken, false, 256, eventSourceTokenPattern, "must contain only letters, digits, '.', '_' and '-'")
	if p.FunctionURLAuthType != "" && !functionURLAuthType[p.FunctionURLAuthType] {
		errs = append(errs, fieldError("functionUrlAuthType", p.FunctionURLAuthType, "must be NONE or AWS_IAM"))
	}
	if p.Principal != "" && principalPattern.MatchString(p.Principal) && principalKind(p.Principal) == "" {
		errs = append(errs, fieldError("principal", p.Principal,
			"must be *, a 12-digit account id, an IAM ARN (arn:aws:iam::123456789012:role/name) or a service principal (s3.amazonaws.com)"))
	}
	if p.Effect != "" && p.Effect != EffectAllow && p.Effect != EffectDeny {
		errs = append(errs, fieldError("effect", p.Effect, "must be Allow or Deny"))
	}
	// A Deny or conditions are written in a whole document, whose grammar
	// takes only the operations a function's policy supports (SPEC §16.6
	// item 8), where AddPermission takes any lambda:Name (§2).
	if p.NeedsDocument() && actionPattern.MatchString(p.Action) && !isDocumentAction(p.Action) {
		errs = append(errs, fieldError("action", p.Action,
			"with effect Deny or conditions, must be an operation a function's policy supports (lambda:InvokeFunction, lambda:GetFunction, …), lambda:* or *"))
	}
	return errors.Join(append(errs, p.validateConditions()...)...)
}

// javaLength is the length of s in UTF-16 code units: a character outside
// the Basic Multilingual Plane counts two.
func javaLength(s string) int { return len(utf16.Encode([]rune(s))) }

// impliedConditionKeys are the condition keys the members set, by member.
func (p Permission) impliedConditionKeys() map[string]string {
	keys := map[string]string{}
	for member, set := range map[string]struct {
		key string
		set bool
	}{
		"sourceArn":             {keySourceArn, p.SourceArn != ""},
		"sourceAccount":         {keySourceAccount, p.SourceAccount != ""},
		"principalOrgID":        {keyPrincipalOrgID, p.PrincipalOrgID != ""},
		"functionUrlAuthType":   {keyFunctionURLAuthType, p.FunctionURLAuthType != ""},
		"eventSourceToken":      {keyEventSourceToken, p.EventSourceToken != ""},
		"invokedViaFunctionUrl": {keyInvokedViaFunctionURL, p.InvokedViaFunctionURL},
	} {
		if set.set {
			keys[strings.ToLower(set.key)] = member
		}
	}
	return keys
}

func (p Permission) validateConditions() []error {
	conditions := p.Conditions
	implied := p.impliedConditionKeys()
	var errs []error
	if len(conditions) > maxConditions {
		errs = append(errs, fieldError("conditions", fmt.Sprint(len(conditions)), fmt.Sprintf("must have at most %d items", maxConditions)))
	}
	seen := map[[2]string]bool{}
	for i, c := range conditions {
		field := func(name string) string { return fmt.Sprintf("conditions[%d].%s", i, name) }
		if !conditionOperatorPattern.MatchString(c.Operator) {
			errs = append(errs, fieldError(field("operator"), c.Operator,
				"must be an IAM condition operator (StringEquals, ArnLike, IpAddress, Bool, …), optionally with ForAnyValue:/ForAllValues: and IfExists"))
		}
		if len(c.Key) > maxConditionKey || !conditionKeyPattern.MatchString(c.Key) {
			errs = append(errs, fieldError(field("key"), c.Key, "must be a condition key such as aws:SourceIp or lambda:FunctionUrlAuthType"))
		}
		if len(c.Values) == 0 || len(c.Values) > maxConditionValues {
			errs = append(errs, fieldError(field("values"), fmt.Sprint(len(c.Values)), fmt.Sprintf("must have 1 to %d values", maxConditionValues)))
		}
		for j, v := range c.Values {
			if v == "" || utf8.RuneCountInString(v) > maxConditionValueLn {
				errs = append(errs, fieldError(fmt.Sprintf("conditions[%d].values[%d]", i, j), v, fmt.Sprintf("must be 1 to %d characters", maxConditionValueLn)))
			}
		}
		// IAM compares condition keys without case.
		key := strings.ToLower(c.Key)
		if seen[[2]string{c.Operator, key}] {
			errs = append(errs, fieldError(field("key"), c.Key, "appears twice with operator "+c.Operator+"; list every value in one condition"))
		}
		seen[[2]string{c.Operator, key}] = true
		if member, ok := implied[key]; ok {
			errs = append(errs, fieldError(field("key"), c.Key, "is set by "+member+"; its values here would widen the grant: say it in one place"))
		}
	}
	return errs
}

// principalKind says under which key Lambda stores a principal: "*" for
// everyone, "AWS" for accounts and IAM identities, "Service" for services,
// and "" for a principal AWS refuses.
func principalKind(principal string) string {
	switch {
	case principal == "*":
		return "*"
	case accountIDPrincipal.MatchString(principal), iamPrincipal.MatchString(principal):
		return "AWS"
	case servicePrincipal.MatchString(principal):
		return "Service"
	default:
		return ""
	}
}

// isServicePrincipal reports whether the principal is an AWS service, such
// as s3.amazonaws.com or logs.us-east-1.amazonaws.com.
func isServicePrincipal(principal string) bool {
	return principalKind(principal) == "Service"
}

// normalizedPrincipal is the value Lambda stores for a principal: an account
// id becomes the account's root ARN in the function's partition; everything
// else is kept verbatim (SPEC §3.2).
func normalizedPrincipal(principal, partition string) string {
	if accountIDPrincipal.MatchString(principal) {
		return rootARN(partition, principal)
	}
	return principal
}

func rootARN(partition, accountID string) string {
	return "arn:" + partition + ":iam::" + accountID + ":root"
}

// partitionOfARN returns the partition of an ARN, or "" when s is not one.
func partitionOfARN(s string) string {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ""
	}
	partition, _, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	return partition
}

// IsPublic reports whether the grant lets anyone invoke: the statement it
// makes is public by SPEC §16.8's rule (Statement.IsPublic), so that a
// LambdaPermission and the same statement in a LambdaResourcePolicy meet
// the same guardrail. A source ARN with a wildcard does not narrow it.
//
// A Deny grants nothing, so it is never public.
func (p Permission) IsPublic() bool { return p.statement().IsPublic() }

// IsServiceWithoutSource reports whether a service is granted without saying
// on behalf of which resource or account (sourceArn, sourceAccount, or a
// condition on aws:SourceArn or aws:SourceAccount): then resources in any
// account can make the service invoke the function (the confused deputy
// problem). It is Statement.IsServiceWithoutSource of the statement the
// grant makes.
//
// A Deny grants nothing, so it needs no source.
func (p Permission) IsServiceWithoutSource() bool { return p.statement().IsServiceWithoutSource() }

// statement is the statement p makes on some function: the guardrails look
// at what it grants, not where.
func (p Permission) statement() Statement {
	return DesiredStatement(FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "000000000000", Name: "f"}, p)
}
