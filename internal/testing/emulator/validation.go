package emulator

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// pattern is a model constraint: text is printed in error messages exactly
// as AWS prints it; match tests the WHOLE value (§2: "example.com" fails
// ([a-zA-Z0-9-_]+)).
type pattern struct {
	text  string
	match func(string) bool
}

func wholeMatch(text string) pattern { return wholeMatchAs(text, text) }

// wholeMatchAs prints text but matches with the RE2 expression re, for model
// patterns that RE2 spells differently.
func wholeMatchAs(text, re string) pattern {
	compiled := regexp.MustCompile(`^(?:` + re + `)$`)
	return pattern{text: text, match: compiled.MatchString}
}

// Model patterns (§2).
var (
	namespacedFunctionNamePattern = wholeMatch(`(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`)
	statementIDPattern            = wholeMatch(`([a-zA-Z0-9-_]+)`)  // AddPermission body: no dot
	namespacedStatementIDPattern  = wholeMatch(`([a-zA-Z0-9-_.]+)`) // RemovePermission path: dot allowed
	actionPattern                 = wholeMatch(`(lambda:[*]|lambda:[a-zA-Z]+|[*])`)
	// Java's \s also matches \x0B, RE2's does not.
	principalPattern     = wholeMatchAs(`[^\s]+`, `[^\s\x0B]+`)
	sourceArnPattern     = wholeMatch(`arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`)
	sourceAccountPattern = wholeMatch(`\d{12}`)
	eventSourceTokenPat  = wholeMatch(`[a-zA-Z0-9._\-]+`)
	qualifierPattern     = wholeMatch(`\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`)
	principalOrgIDPat    = wholeMatch(`o-[a-z0-9]{10,32}`)
	versionPattern       = wholeMatch(`(\$LATEST(\.PUBLISHED)?|[0-9]+)`)
	// The 2026 whole-document operations (§16.2): a complete
	// function ARN, no bare name or partial ARN; a policy of any characters;
	// a lower-case UUID RevisionId.
	policyResourceArnPattern = wholeMatch(`arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_])+)?`)
	resourcePolicyPattern    = wholeMatch(`[\s\S]+`)
	revisionIDPattern        = wholeMatch(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	// The FunctionName shape of ListAliases and the function URL operations
	// (§17.2): no dot in the name, no eusc partition, at most 140.
	shortFunctionNamePattern = wholeMatch(`(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`)
	masterRegionPattern      = wholeMatch(`ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}`)
	// FunctionUrlQualifier: an alias name; RE2 lacks the lookahead (§17.4).
	functionURLQualifierPattern = pattern{
		text:  `((?!^\d+$)^[0-9a-zA-Z-_]+$)`,
		match: func(s string) bool { return isAliasShaped(s) },
	}
	// The alias pattern uses a lookahead RE2 lacks: a name, but not all digits.
	aliasPattern = pattern{
		text:  `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
		match: func(s string) bool { return isAliasShaped(s) },
	}
)

var (
	aliasChars  = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	digitsOnly  = regexp.MustCompile(`^[0-9]+$`)
	functionURL = []string{"NONE", "AWS_IAM"} // FunctionUrlAuthType, model order
	invokeModes = []string{"BUFFERED", "RESPONSE_STREAM"}
	allVersions = []string{"ALL"} // ListFunctions' FunctionVersion enum
)

// isAliasShaped reports whether a qualifier could name an alias (§4.5).
func isAliasShaped(q string) bool { return aliasChars.MatchString(q) && !digitsOnly.MatchString(q) }

// isVersionNumber reports whether a qualifier names a published version.
func isVersionNumber(q string) bool { return digitsOnly.MatchString(q) }

// field describes one request member and its model constraints.
type field struct {
	wireName string  // lowerCamel name used in ValidationException text (§2)
	value    *string // nil when the member is absent
	required bool
	minLen   int
	maxLen   int // 0: no maximum
	pattern  *pattern
	enum     []string
}

// violations returns Coral-style constraint violations for f, the pattern
// (or enum) before the length ([unknown] order, see doc.go).
func (f field) violations() []string {
	if f.value == nil {
		if f.required {
			return []string{fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", f.wireName)}
		}
		return nil
	}
	v := *f.value
	var out []string
	fail := func(constraint string) {
		out = append(out, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", v, f.wireName, constraint))
	}
	if f.pattern != nil && !f.pattern.match(v) {
		fail("Member must satisfy regular expression pattern: " + f.pattern.text)
	}
	if f.enum != nil && !slices.Contains(f.enum, v) {
		fail("Member must satisfy enum value set: [" + strings.Join(f.enum, ", ") + "]")
	}
	n := javaLength(v)
	if n < f.minLen {
		fail(fmt.Sprintf("Member must have length greater than or equal to %d", f.minLen))
	}
	if f.maxLen > 0 && n > f.maxLen {
		fail(fmt.Sprintf("Member must have length less than or equal to %d", f.maxLen))
	}
	return out
}

// constrained is one request member with model constraints: a field, an
// integerField or the Cors structure (§17).
type constrained interface{ violations() []string }

// validate checks members in the given order and returns one
// ValidationException listing every violation, or nil.
func validate(members ...constrained) *apiError {
	var all []string
	for _, m := range members {
		all = append(all, m.violations()...)
	}
	if len(all) == 0 {
		return nil
	}
	return errValidation(all)
}

// javaLength counts UTF-16 code units, as Java's String.length() does.
func javaLength(s string) int { return len(utf16.Encode([]rune(s))) }

// Member constraints shared by several operations (§2).

func functionNameField(name string) field {
	return field{wireName: "functionName", value: &name, required: true, minLen: 1, maxLen: 256, pattern: &namespacedFunctionNamePattern}
}

func qualifierField(q *string) field {
	return field{wireName: "qualifier", value: q, minLen: 1, maxLen: 128, pattern: &qualifierPattern}
}

// The members of the 2026 whole-document operations (§16.2).

func resourceArnField(arn string) field {
	return field{wireName: "resourceArn", value: &arn, required: true, maxLen: 256, pattern: &policyResourceArnPattern}
}

func resourcePolicyField(policy *string) field {
	return field{wireName: "policy", value: policy, required: true, minLen: 1, maxLen: policySizeLimit, pattern: &resourcePolicyPattern}
}

func revisionIDField(revisionID *string) field {
	return field{wireName: "revisionId", value: revisionID, minLen: 36, maxLen: 36, pattern: &revisionIDPattern}
}

// shortFunctionNameField is the FunctionName shape (§17.2), as opposed to
// the NamespacedFunctionName of functionNameField.
func shortFunctionNameField(name string) field {
	return field{wireName: "functionName", value: &name, required: true, minLen: 1, maxLen: 140, pattern: &shortFunctionNamePattern}
}

// integerField is an integer member sent as text (a query parameter), with
// the model's inclusive range (§17.1).
type integerField struct {
	wireName string
	value    *string // nil when absent
	min, max int
}

// violations words a range violation as Coral does. A value that is not
// an integer at all gets "Member must be an integer" ([unknown] wording:
// the SDK never sends one).
func (f integerField) violations() []string {
	if f.value == nil {
		return nil
	}
	v := *f.value
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return []string{fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", v, f.wireName)}
	case n < f.min:
		return []string{fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, f.wireName, f.min)}
	case n > f.max:
		return []string{fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, f.wireName, f.max)}
	}
	return nil
}

// intOr returns the member's value, or fallback when it is absent. Call it
// after validation.
func (f integerField) intOr(fallback int) int {
	if f.value == nil {
		return fallback
	}
	n, _ := strconv.Atoi(*f.value)
	return n
}
