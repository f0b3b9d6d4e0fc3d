package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// FunctionRef names the resource a policy belongs to: one function, or one of
// its published versions or aliases. Sids are unique per FunctionRef, and each
// has a policy of its own (SPEC §6).
type FunctionRef struct {
	Partition string // "aws", "aws-cn", …; empty until known
	Region    string // empty when FunctionName gave none
	AccountID string // empty when FunctionName gave none
	Name      string
	Qualifier string // version or alias; empty for the unqualified function
}

// Lambda's FunctionName shape (NamespacedFunctionName), made whole-value and
// given capture groups. It accepts a bare name, name:qualifier, a partial ARN
// ACCOUNT:function:name and a full ARN, each with an optional :qualifier.
var functionNamePattern = regexp.MustCompile(`^(?:` +
	`arn:(aws[a-zA-Z-]*)?:lambda:((?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(\d{12}):` +
	`|(?:((?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(\d{12}):)?` +
	`)(?:function:)?([a-zA-Z0-9\-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?$`)

// The Qualifier query parameter's shape (NumericLatestPublishedOrAliasQualifier).
var qualifierPattern = regexp.MustCompile(`^(?:\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_$]+)$`)

const (
	maxFunctionNameLength = 256
	// AWS: "If you specify only the function name, it is limited to 64
	// characters in length." No function name is longer, in any form.
	maxBareNameLength  = 64
	maxQualifierLength = 128
	latestQualifier    = "$LATEST"
)

// ParseFunctionName splits a FunctionName as Lambda accepts it.
func ParseFunctionName(functionName string) (FunctionRef, error) {
	if functionName == "" {
		return FunctionRef{}, fieldError("functionName", functionName, "is required")
	}
	if len(functionName) > maxFunctionNameLength {
		return FunctionRef{}, fieldError("functionName", functionName,
			fmt.Sprintf("must be at most %d characters", maxFunctionNameLength))
	}
	m := functionNamePattern.FindStringSubmatch(functionName)
	if m == nil {
		return FunctionRef{}, fieldError("functionName", functionName,
			"must be a function name, name:qualifier, ACCOUNT:function:name or arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier]")
	}
	ref := FunctionRef{Name: m[6], Qualifier: m[7]}
	if strings.HasPrefix(functionName, "arn:") {
		// The partition is the region's: Lambda names the function, in the
		// statements it stores, by its own ARN (SPEC §3.3), whatever
		// partition the caller wrote (the pattern even lets it be empty).
		// Kept as written, a mistyped one (arn:aws:lambda:cn-north-1:…)
		// would predict a Resource Lambda never stores, and make
		// PutResourcePolicy refuse the document's.
		ref.Region, ref.AccountID = m[2], m[3]
		ref.Partition = partitionOf(ref.Region)
	} else {
		ref.Region, ref.AccountID = m[4], m[5]
	}
	if len(ref.Name) > maxBareNameLength {
		return FunctionRef{}, fieldError("functionName", functionName,
			fmt.Sprintf("the function name part must be at most %d characters", maxBareNameLength))
	}
	return ref, nil
}

// ResolveTarget applies AddPermission's rules for FunctionName and Qualifier
// (SPEC §4): a qualifier may come from either, they must agree when both are
// given, and $LATEST cannot carry a policy.
func ResolveTarget(functionName, qualifier string) (FunctionRef, error) {
	ref, err := ParseFunctionName(functionName)
	if err != nil {
		return FunctionRef{}, err
	}
	if qualifier != "" {
		if err := validateQualifier(qualifier); err != nil {
			return FunctionRef{}, err
		}
		if ref.Qualifier != "" && ref.Qualifier != qualifier {
			return FunctionRef{}, fieldError("qualifier", qualifier,
				fmt.Sprintf("does not match the qualifier %q in functionName", ref.Qualifier))
		}
		ref.Qualifier = qualifier
	}
	// AddPermission's pattern lets a name hold '.', but no function has one:
	// CreateFunction's FunctionName does not take it (nor ListAliases' or
	// the function URL operations', SPEC §17.2), and PutResourcePolicy
	// refuses such an ARN (§16.2).
	if strings.Contains(ref.Name, ".") {
		return FunctionRef{}, fieldError("functionName", functionName,
			"no Lambda function has a '.' in its name (letters, digits, '-' and '_' only)")
	}
	// A qualifier in functionName is held to the Qualifier member's limit
	// too: the operator sends it as that member (and no version or alias
	// has a longer name).
	if ref.Qualifier != "" {
		if err := validateQualifier(ref.Qualifier); err != nil {
			return FunctionRef{}, err
		}
	}
	if ref.Qualifier == latestQualifier {
		return FunctionRef{}, fieldError("qualifier", ref.Qualifier,
			"Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function")
	}
	return ref, nil
}

func validateQualifier(qualifier string) error {
	switch {
	case len(qualifier) > maxQualifierLength:
		return fieldError("qualifier", qualifier, fmt.Sprintf("must be at most %d characters", maxQualifierLength))
	case !qualifierPattern.MatchString(qualifier):
		return fieldError("qualifier", qualifier, "must be a version number or an alias name (letters, digits, '-', '_')")
	}
	return nil
}

// WithDefaults fills what FunctionName left open: a bare name lives in the
// caller's own account and region.
func (f FunctionRef) WithDefaults(region, accountID string) FunctionRef {
	if f.Region == "" {
		f.Region = region
	}
	if f.AccountID == "" {
		f.AccountID = accountID
	}
	if f.Partition == "" && f.Region != "" {
		f.Partition = partitionOf(f.Region)
	}
	return f
}

// Complete reports whether the reference names one function unambiguously.
func (f FunctionRef) Complete() bool {
	return f.Partition != "" && f.Region != "" && f.AccountID != "" && f.Name != ""
}

// FunctionARN is the unqualified function ARN.
func (f FunctionRef) FunctionARN() string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", f.Partition, f.Region, f.AccountID, f.Name)
}

// ResourceARN is the statement's Resource: the function ARN, with the
// qualifier when the policy belongs to a version or alias (SPEC §3.3).
func (f FunctionRef) ResourceARN() string {
	if f.Qualifier == "" {
		return f.FunctionARN()
	}
	return f.FunctionARN() + ":" + f.Qualifier
}

// partitionOf maps a region to its partition, as ARNs spell it.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	default:
		return "aws"
	}
}
