//go:build integration

package v1alpha1_test

// The disagreements of TestDifferentialAdmission that the project intends,
// each with its reason, and the inputs that found bugs, kept as
// regression cases.

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Predicates of the rows.

// causeIn: the cause names one of fields (a prefix ending in "[" matches
// any index), and its message holds one of words (any, if none).
func causeIn(fields []string, words ...string) func(*dfResult, apiCause) bool {
	return func(_ *dfResult, c apiCause) bool {
		named := slices.ContainsFunc(fields, func(f string) bool {
			return c.Field == f || strings.HasSuffix(f, "[") && strings.HasPrefix(c.Field, f)
		})
		return named && (len(words) == 0 || slices.ContainsFunc(words, func(w string) bool { return strings.Contains(c.Message, w) }))
	}
}

// causeSays: the cause's message holds one of words.
func causeSays(words ...string) func(*dfResult, apiCause) bool {
	return func(_ *dfResult, c apiCause) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(c.Message, w) })
	}
}

// explicitlyEmpty: the cause is a top-level member written as "".
func explicitlyEmpty(r *dfResult, c apiCause) bool {
	member, ok := strings.CutPrefix(c.Field, "spec.")
	return ok && r.Case.Spec[member] == ""
}

// errSays: the Go validation's error holds one of words.
func errSays(words ...string) func(*dfResult, error) bool {
	return func(_ *dfResult, err error) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(err.Error(), w) })
	}
}

// fieldIs: the Go validation's error is a *policy.FieldError whose field
// matches pattern (a regular expression, whole field).
func fieldIs(pattern string) func(*dfResult, error) bool {
	re := regexp.MustCompile(`^(?:` + pattern + `)$`)
	return func(_ *dfResult, err error) bool {
		var fe *policy.FieldError
		return errors.As(err, &fe) && re.MatchString(fe.Field)
	}
}

// named is where the spec's functionName, qualifier and region lead, as
// Lambda's pattern reads them.
func named(r *dfResult) (region, name, qualifier string) {
	var fn, q, reg string
	switch spec := r.Typed.(type) {
	case v1alpha1.LambdaPermissionSpec:
		fn, q, reg = spec.FunctionName, spec.Qualifier, spec.Region
	case v1alpha1.LambdaFunctionURLPermissionSpec:
		fn, q, reg = spec.FunctionName, spec.Qualifier, spec.Region
	case v1alpha1.LambdaResourcePolicySpec:
		fn, q, reg = spec.FunctionName, spec.Qualifier, spec.Region
	}
	region, _, name, qualifier = rawTarget(fn, q, reg)
	return region, name, qualifier
}

// nameRegion is the region functionName itself names, or "".
func nameRegion(r *dfResult) string {
	var fn string
	switch spec := r.Typed.(type) {
	case v1alpha1.LambdaPermissionSpec:
		fn = spec.FunctionName
	case v1alpha1.LambdaFunctionURLPermissionSpec:
		fn = spec.FunctionName
	case v1alpha1.LambdaResourcePolicySpec:
		fn = spec.FunctionName
	}
	region, _, _, _ := rawTarget(fn, "", "-")
	if region == "-" {
		return ""
	}
	return region
}

// contradiction: refused at admission, and functionName names a region.
func contradiction(r *dfResult) bool { return !r.API.Admitted && nameRegion(r) != "" }

func dottedName(r *dfResult) bool {
	_, name, _ := named(r)
	return strings.Contains(name, ".")
}

// noSuchVersion: a qualifier that names no version or alias the test can
// create.
func noSuchVersion(r *dfResult) bool {
	_, _, q := named(r)
	if strings.Contains(q, "$") && q != "$LATEST" {
		return true
	}
	if !allDigits.MatchString(q) {
		return false
	}
	n, err := strconv.Atoi(q)
	return strings.HasPrefix(q, "0") || err != nil || n > 20
}

// isoPartition: a function in a region whose partition the emulator
// does not know.
func isoPartition(r *dfResult) bool {
	region, _, _ := named(r)
	return strings.HasPrefix(region, "us-isof-") || strings.HasPrefix(region, "eu-isoe-")
}

// needsDocument: a LambdaPermission only a whole document can hold.
func needsDocument(r *dfResult) bool {
	spec, _ := r.Typed.(v1alpha1.LambdaPermissionSpec)
	return spec.Effect == v1alpha1.EffectDeny || len(spec.Conditions) > 0
}

func lambdaSays(words ...string) func(*dfResult) bool {
	return func(r *dfResult) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(r.Lambda.Message, w) })
	}
}

func documentSays(word string) func(*dfResult) bool {
	return func(r *dfResult) bool { return r.Document != nil && strings.Contains(r.Document.Message, word) }
}

func refusedAtAdmission(r *dfResult) bool { return !r.API.Admitted }

// Reasons shared by several kinds' rows.
const (
	reasonExplicitEmpty = `an optional member written as "" is refused at admission (leave it out, or give a value); ` +
		`the Go validation and Lambda read "" as absent`
	reasonDottedName = `a function name with '.': AddPermission's FunctionName pattern takes it (SPEC §2), but no function ` +
		`can have one (CreateFunction's and the URL operations' FunctionName shape, §17.2) and PutResourcePolicy refuses ` +
		`such an ARN (§16.2), so the CRDs and ResolveTarget refuse it; the emulator's CreateFunction, outside the SPEC, ` +
		`creates such a function, and its AddPermission then takes it`
	reasonRegionContradiction = `region and functionName name two regions: the spec contradicts itself, and admission and ` +
		`translate.Target refuse it; Lambda, called with the name as written, would use the name's region`
	reasonNoSuchVersion = `a qualifier Lambda's Qualifier pattern takes (SPEC §2) that names no version or alias the test can ` +
		`create: version 0 or one with leading zeros (versions count from 1), one above the 20 the harness publishes, ` +
		`$LATEST.PUBLISHED (§6: unknown) or an alias with '$' (no alias has one); AddPermission answers 404 (§4.5, §4.6), ` +
		`and the operator reports FunctionNotFound and retries, as for any target not there yet; PutResourcePolicy ` +
		`refuses their ARNs (§16.2: the emulator's choices for $LATEST.PUBLISHED, and a pattern without '$')`
	reasonRegionLength = `a region is at most 32 characters at admission, far more than any AWS region's name; a longer one ` +
		`of Lambda's pattern would have no endpoint, which the test, taking every region of the pattern for one, does not see`
	reasonISOPartitions = `the emulator's partitionOf (internal/testing/emulator/names.go) lacks aws-iso-f (us-isof-*) and ` +
		`aws-iso-e (eu-isoe-*), which controllers/policy has, so it writes and expects arn:aws:… there; the SPEC lists no ` +
		`partitions, so the emulator is left as it is (reported, not changed)`
	reasonGuardrail = `guardrail: the operator refuses a grant Lambda accepts, a public one (principal * without a condition ` +
		`narrowing it to fixed values: PublicAccessDenied) or a service principal without a source (SourceRequired), ` +
		`unless a LambdaPermissionAccount's guardrails allow it — by design`
)

// namedKinds are the kinds that name a function.
var namedKinds = []string{kindPermission, kindURL, kindPolicy}

// forKinds is row once for each of kinds, its ID prefixed with the kind's.
func forKinds(kinds []string, row dfRow) []dfRow {
	prefix := map[string]string{kindPermission: "lp-", kindAccount: "account-", kindURL: "url-", kindPolicy: "rp-"}
	out := make([]dfRow, 0, len(kinds))
	for _, kind := range kinds {
		r := row
		r.ID, r.Kind = prefix[kind]+row.ID, kind
		out = append(out, r)
	}
	return out
}

// documentFields are the LambdaPermission members a whole document does not
// hold to AddPermission's patterns, and the conditions.
const documentFields = `sourceArn|sourceAccount|principalOrgID|eventSourceToken|functionUrlAuthType|action|principal|statementId|` +
	`conditions|conditions\[\d+\]\.(operator|key|values(\[\d+\])?)`

// intendedDisagreements: the disagreements the project intends, with
// their reasons. The first row that fits a disagreement counts it.
var intendedDisagreements = slices.Concat(
	// Every kind that names a function.
	forKinds(namedKinds, dfRow{ID: "explicit-empty", What: []string{refusedGoAccepts, refusedLambdaAccepts},
		Cause: explicitlyEmpty, Reason: reasonExplicitEmpty}),
	forKinds(namedKinds, dfRow{ID: "dotted-name", What: []string{refusedLambdaAccepts, goRefusesLambdaAccepts},
		Cause: causeIn([]string{"spec.functionName"}), GoCause: errSays("'.' in its name", "no function has a '.'"),
		Match: dottedName, Reason: reasonDottedName}),
	forKinds(namedKinds, dfRow{ID: "region-length", What: []string{refusedGoAccepts, refusedLambdaAccepts, goRefusesLambdaAccepts},
		Cause: causeIn([]string{"spec.region"}, "Too long"), GoCause: errSays("spec.region: Too long"), Match: refusedAtAdmission,
		Reason: reasonRegionLength}),
	forKinds(namedKinds, dfRow{ID: "region-contradiction", What: []string{refusedGoAccepts, refusedLambdaAccepts, goRefusesLambdaAccepts},
		Cause:   causeSays("region must be the region in functionName's ARN", "region must be an AWS region"),
		GoCause: errSays("differs from the region", "is not an AWS region", "region must be the region in functionName's ARN", "region must be an AWS region"),
		Match:   contradiction, Reason: reasonRegionContradiction}),
	forKinds(namedKinds, dfRow{ID: "no-such-version", What: []string{admittedNoTarget, documentRefuses, admittedLambdaRefuses, goAcceptsLambdaRefuses},
		Match: noSuchVersion, Reason: reasonNoSuchVersion}),
	forKinds(namedKinds, dfRow{ID: "emulator-iso-partitions", What: []string{documentRefuses, admittedLambdaRefuses, goAcceptsLambdaRefuses, unpredicted},
		Match: isoPartition, Reason: reasonISOPartitions}),

	// LambdaPermission.
	[]dfRow{
		{ID: "lp-guardrail-warned", Kind: kindPermission, What: []string{admittedGuardrail},
			Reason: reasonGuardrail + `; admission warns about it (config/admission/guardrails.yaml), and the test checks ` +
				`that it warns exactly when the guardrail refuses`},
		{ID: "lp-needs-document", Kind: kindPermission, What: []string{admittedNeedsDocument},
			Reason: `effect Deny or conditions need a LambdaPermissionAccount with writeStrategy Document (else ` +
				`RequiresDocumentStrategy): the account says how its policies are written, and admission cannot see it`},
		{ID: "lp-reserved-sid", Kind: kindPermission, What: []string{refusedGoAccepts, refusedLambdaAccepts},
			Cause: causeSays("must not end in compacted-"),
			Reason: `Sids ending in compacted-<dimension>-<16 hex digits> name the statements the operator's compaction ` +
				`writes and rewrites: reserved at admission; Lambda takes them as any Sid, and Permission.Validate is Lambda's rules`},
		{ID: "lp-document-members", Kind: kindPermission, What: []string{refusedLambdaAccepts, goRefusesLambdaAccepts},
			Cause: causeIn([]string{"spec.sourceArn", "spec.sourceAccount", "spec.principalOrgID", "spec.eventSourceToken",
				"spec.functionUrlAuthType", "spec.action", "spec.principal", "spec.statementId"}),
			GoCause: fieldIs(documentFields), Match: needsDocument,
			Reason: `a Deny or conditions go to Lambda in a whole document (PutResourcePolicy), where sourceArn, ` +
				`sourceAccount, principalOrgID, eventSourceToken and functionUrlAuthType are mere condition values, Action is ` +
				`matched without case, a principal is looser, a Sid has no length limit, and conditions are bound by the ` +
				`policy's size alone (SPEC §16.6): the CRD and Permission.Validate hold every LambdaPermission to ` +
				`AddPermission's patterns (§2), so that a spec means the same under either write strategy, and to the ` +
				`condition rules of the next two rows`},
		{ID: "lp-condition-bounds", Kind: kindPermission, What: []string{refusedLambdaAccepts},
			Cause: causeIn([]string{"spec.conditions", "spec.conditions["}, "Too many", "Too long", "should be at least 1", "should have at least 1", "must have at most"),
			Reason: `the CRD bounds conditions (at most 32, each with 1 to 64 values of 1 to 2048 characters), and ` +
				`Permission.Validate with it, to keep objects and CEL's cost bounded; Lambda's only bound is the policy's ` +
				`size (SPEC §16.6 item 10, §16.10)`},
		{ID: "lp-condition-iam-rules", Kind: kindPermission, What: []string{refusedLambdaAccepts},
			Cause: causeSays("conditions[].operator", "conditions[].key", "each (operator, key) pair only once", "must not name a key that another field sets"),
			Reason: `IAM's grammar for conditions, which PutResourcePolicy does not check (SPEC §16.6 item 10: keys are not ` +
				`checked, and Null passes with ForAnyValue:, ForAllValues: or IfExists): a key is service:name, Null takes ` +
				`neither a set prefix nor IfExists (IAM User Guide), an (operator, key) pair appears once, and a key another ` +
				`member sets (sourceArn: aws:SourceArn, …) is not repeated, since its values would widen the grant`},
		{ID: "lp-document-actions", Kind: kindPermission, What: []string{documentRefuses}, Match: documentSays(`Action "`),
			Reason: `AddPermission takes any lambda:Name (SPEC §2), a whole document only the operations a function's ` +
				`policy supports (§16.6 item 8): a Deny or conditions must name one (the CRD and Permission.Validate check ` +
				`it), but a plain Allow may name another, which AddPermission takes under writeStrategy Statements; under ` +
				`Document, the operator refuses it before any call (InvalidSpec, naming spec.action), as Lambda would. The ` +
				`strategy is the account's, which neither admission nor Permission.Validate sees`},
	},

	// LambdaFunctionURLPermission.
	[]dfRow{
		{ID: "url-guardrail-warned", Kind: kindURL, What: []string{admittedGuardrail},
			Reason: reasonGuardrail + `; admission warns about it (config/admission/guardrails.yaml judges a grant as its ` +
				`two LambdaPermissions), and the test checks that it warns exactly when the guardrail refuses either`},
		{ID: "url-prefix-length", Kind: kindURL, What: []string{refusedGoAccepts, refusedLambdaAccepts},
			Cause: causeIn([]string{"spec.statementIdPrefix"}, "Too long"),
			Reason: `statementIdPrefix is held to 90 characters (MaxFunctionURLStatementIDPrefixLength); 93 would still ` +
				`keep PREFIX-invoke within Lambda's 100 (SPEC §2): three characters kept spare`},
		{ID: "url-name-length", Kind: kindURL, What: []string{refusedLambdaAccepts, goRefusesLambdaAccepts},
			Cause:   causeSays("metadata.name must be at most"),
			GoCause: errSays("must be no more than 253 characters"),
			Reason: `a grant's name is held to 246 characters (MaxFunctionURLPermissionNameLength), so that the ` +
				`LambdaPermissions it makes, NAME-url and NAME-invoke, are within an object name's 253; Lambda never ` +
				`sees an object's name, and the operator could not make the second LambdaPermission of a longer one`},
	},

	// LambdaResourcePolicy.
	[]dfRow{
		{ID: "rp-guardrail", Kind: kindPolicy, What: []string{admittedGuardrail},
			Reason: reasonGuardrail + `; admission does not warn about a LambdaResourcePolicy's statements (the ` +
				`guardrail policy covers LambdaPermissions), and the object's status says Stalled with the reason`},
		{ID: "rp-reserved-sid", Kind: kindPolicy, What: []string{refusedGoAccepts, refusedLambdaAccepts},
			Cause: causeSays("must not end in compacted-"),
			Reason: `Sids ending in compacted-<dimension>-<16 hex digits> name the statements the operator compacts from ` +
				`LambdaPermissions: reserved at admission; Lambda takes them as any Sid`},
		{ID: "rp-sid-length", Kind: kindPolicy, What: []string{refusedGoAccepts, refusedLambdaAccepts},
			Cause: causeIn([]string{"spec.policy.Statement["}, "Too long"),
			Reason: `a Sid is at most 100 characters, AddPermission's and RemovePermission's StatementId limit (SPEC §2), ` +
				`as the operator manages statements by Sid; PutResourcePolicy alone sets no limit (§16.6 item 4)`},
		{ID: "rp-statement-count", Kind: kindPolicy, What: []string{refusedGoAccepts, refusedLambdaAccepts},
			Cause: causeIn([]string{"spec.policy.Statement"}, "Too many"),
			Reason: `the CRD holds at most 100 statements, which bounds the admission policy's CEL cost; Lambda's bound ` +
				`is the policy's size (SPEC §16.10), which 101 small statements fit`},
		{ID: "rp-size", Kind: kindPolicy, What: []string{goAcceptsLambdaRefuses, admittedLambdaRefuses},
			Match: lambdaSays("PolicyLengthExceededException", "at 'policy'"),
			Reason: `the policy's size is Lambda's limit on the whole policy (20480, SPEC §8, §16.10): the admission ` +
				`policy estimates it in characters, never more than the bytes Lambda counts (multi-byte text can pass), ` +
				`and the operator checks it when it plans the write, with what includePermissions adds (PolicyTooLarge)`},
		{ID: "rp-resource", Kind: kindPolicy, What: []string{admittedGoRefuses, admittedLambdaRefuses},
			GoCause: errSays(": Resource: "), Match: lambdaSays("Resource "),
			Reason: `Resource must be the function's (version's, alias's) own ARN, or FUNCTION_ARN:* (SPEC §16.6 item 9), ` +
				`whose account (and, for a bare name, region) the API server does not know: the admission policy checks ` +
				`only that it is an ARN, and the operator checks it once it has resolved the function (InvalidSpec)`},
		{ID: "rp-null-operators", Kind: kindPolicy, What: []string{refusedLambdaAccepts, goRefusesLambdaAccepts},
			Cause: causeSays("].Condition (Sid"), GoCause: errSays("Null takes neither"),
			Reason: `Null takes neither a set prefix nor IfExists (IAM User Guide): refused at admission and by ` +
				`ValidateDocumentStatement; PutResourcePolicy lets them through (SPEC §16.6 item 10)`},
	},

	// LambdaPermissionAccount.
	[]dfRow{
		{ID: "account-admission-only", Kind: kindAccount, What: []string{refusedGoAccepts, refusedLambdaAccepts, goAcceptsLambdaRefuses},
			Cause: causeIn([]string{"spec.accountID", "spec.roleArn", "spec.externalID", "spec.sessionName", "spec.defaultRegion", "spec.writeStrategy"}),
			Match: refusedAtAdmission,
			Reason: `a LambdaPermissionAccount's identity and defaults are checked at admission only (cluster admins ` +
				`write it): the operator does not check them again; STS does when the operator takes the identity on ` +
				`(IdentityFailed, WrongAccount), a region no endpoint serves fails its calls, and an unknown writeStrategy ` +
				`reads as Statements`},
		{ID: "account-access-patterns", Kind: kindAccount, What: []string{refusedGoAccepts, refusedLambdaAccepts, goRefusesLambdaAccepts},
			Cause: causeIn([]string{"spec.access["}), GoCause: errSays("syntax error in pattern"), Match: refusedAtAdmission,
			Reason: `an access rule's function patterns are the operator's, not Lambda's (STS, which judges the account, ` +
				`has no say): each at most 256 characters, as long as the longest functionName it is matched against, and ` +
				`one path.Match can read (the operator's, and the CRD's pattern, refuse an unclosed [ or a trailing \\)`},
		{ID: "account-selectors", Kind: kindAccount, What: []string{admittedGoRefuses, goRefusesLambdaAccepts},
			GoCause: errSays("namespaceSelector"),
			Reason: `an access rule whose namespaceSelector the operator cannot read (a key or value no label has, an ` +
				`unknown operator, In without values, Exists with values) selects no namespace: the CRD keeps ` +
				`metav1.LabelSelector's schema, which the API server does not validate for custom resources, and a CEL ` +
				`rule over every key and value of unbounded lists inside an unbounded list is past the CRD's cost budget; ` +
				`the account is then Stalled with InvalidSpec, naming the rule's namespaceSelector`},
	},
)

// dfRegressions are the inputs that found bugs, run first on every run,
// each named after its bug and with the verdict all three judges and
// Lambda now give it. Most are generated inputs as the test printed them
// (seed 29, in the generator of the day); the others are the smallest
// input that shows a bug the test found.
var dfRegressions = []dfRegression{
	// A LambdaFunctionURLPermission's functionName, qualifier, region,
	// principal and principalOrgID were not checked at admission: its two
	// LambdaPermissions were then refused when the operator created them
	// (InvalidSpec), and Lambda would refuse the grant.
	{Name: "url-unchecked-function-name", Kind: kindURL, Want: wantRefused,
		Spec: `{"authType":"AWS_IAM","functionName":"arn:aws:lambda:us-east-2:123456789012:","principal":"111122223333"}`},
	{Name: "url-unchecked-principal", Kind: kindURL, Want: wantRefused,
		Spec: `{"authType":"NONE","functionName":"my-function","principal":"s3 .amazonaws.com","principalOrgID":"o-a1b2c3d4e5"}`},
	{Name: "url-unchecked-region", Kind: kindURL, Want: wantRefused,
		Spec: `{"authType":"AWS_IAM","functionName":"my-function","principal":"111122223333","region":"useast2"}`},
	{Name: "url-unchecked-qualifier", Kind: kindURL, Want: wantRefused,
		Spec: `{"authType":"AWS_IAM","functionName":"my-function:live","qualifier":"prod","principal":"111122223333"}`},
	{Name: "url-unchecked-principal-org-id", Kind: kindURL, Want: wantRefused,
		Spec: `{"authType":"AWS_IAM","functionName":"my-function","principal":"*","principalOrgID":"o-A1B2C3D4E5"}`},
	// A grant whose name left no room for its LambdaPermissions' -invoke:
	// admitted, and the operator could not create the second (names of 247
	// to 253 characters; seed 29, once the generator drew long names).
	{Name: "url-name-over-246-" + strings.Repeat("n", v1alpha1.MaxFunctionURLPermissionNameLength+1-len("url-name-over-246-")),
		Kind: kindURL, Want: dfWant{API: -1, Go: -1, Lambda: 1},
		Spec: `{"authType":"AWS_IAM","functionName":"function:orders_v2"}`},
	{Name: "url-name-of-246-" + strings.Repeat("n", v1alpha1.MaxFunctionURLPermissionNameLength-len("url-name-of-246-")),
		Kind: kindURL, Want: wantAccepted,
		Spec: `{"authType":"AWS_IAM","functionName":"function:orders_v2"}`},
	// A service principal whose label ends in '-': admitted and accepted by
	// Permission.Validate, refused by Lambda (SPEC §3.2; §16.6 item 7).
	{Name: "lp-29-406-service-label-ending-in-a-dash", Kind: kindPermission, Want: wantRefused,
		Spec: `{"action":"lambda:GetFunction","effect":"Allow","functionName":"function:us-east-2","invokedViaFunctionUrl":true,"principal":"s3-.amazonaws.com","sourceArn":"arn:aws:s3:::${aws:username}","statementId":"s3-invoke"}`},
	// An IAM principal whose resource type is not in lower case.
	{Name: "lp-iam-principal-type-in-upper-case", Kind: kindPermission, Want: wantRefused,
		Spec: `{"functionName":"my-function","principal":"arn:aws:iam::111122223333:Role/reader","statementId":"role-case"}`},
	// A function ARN whose partition is not its region's: the operator
	// predicted, and put, a Resource Lambda does not store (SPEC §3.3).
	{Name: "lp-29-334-partition-not-the-regions", Kind: kindPermission, Want: wantAccepted,
		Spec: `{"effect":"Deny","functionName":"arn:aws:lambda:us-isob-east-1:111122223333:function:orders_v2","principal":"arn:aws:iam::111122223333:root","statementId":"a-B_9"}`},
	{Name: "lp-partition-not-the-regions-statement", Kind: kindPermission, Want: wantAccepted,
		Spec: `{"functionName":"arn:aws:lambda:cn-north-1:111122223333:function:orders","principal":"111122223333","statementId":"cross-partition"}`},
	// spec.region not checked by translate.Target: a region no endpoint
	// serves.
	{Name: "lp-29-121-region-not-a-region", Kind: kindPermission, Want: wantRefused,
		Spec: `{"action":"lambda:InvokeFunction","functionName":"123456789012","principal":"elasticloadbalancing.amazonaws.com","region":"us-east","statementId":"AllowS3"}`},
	{Name: "rp-region-not-a-region", Kind: kindPolicy, Want: wantRefused,
		Spec: `{"functionName":"my-function","region":"useast2","policy":{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:GetFunction"}]}}`},
	// A qualifier of over 128 characters in functionName: the operator
	// sends it as the Qualifier member, whose limit it is (SPEC §2).
	{Name: "lp-qualifier-in-function-name-over-128", Kind: kindPermission, Want: wantRefused,
		Spec: `{"functionName":"arn:aws:lambda:us-east-2:123456789012:function:` + strings.Repeat("n", 64) + `:` + strings.Repeat("x", 129) +
			`","principal":"s3.amazonaws.com","sourceAccount":"123456789012","statementId":"long-qualifier"}`},
	// spec.region against a functionName with a REGION: prefix (not an
	// ARN): admitted, refused by translate.Target. (Lambda, called with the
	// name, would use its region: row region-contradiction.)
	{Name: "lp-29-172-region-against-a-region-prefix", Kind: kindPermission, Want: dfWant{API: -1, Go: -1},
		Spec: `{"action":"lambda:UpdateAlias","functionName":"us-east-2:123456789012:function:us-east-2","principal":"apigateway.amazonaws.com","principalOrgID":"o-0123456789","region":"eu-isoe-west-1","statementId":"sns"}`},
	// A function name with '.': no function has one, and PutResourcePolicy
	// refuses its ARN.
	{Name: "lp-29-430-dotted-function-name", Kind: kindPermission, Want: wantRefused,
		Spec: `{"action":"lambda:InvokeFunction","effect":"Deny","functionName":"us-isob-east-1:123456789012:function:a.b","principal":"arn:aws:iam::111122223333:root","statementId":"AllowS3"}`},
	{Name: "rp-dotted-function-name", Kind: kindPolicy, Want: wantRefused,
		Spec: `{"functionName":"my.function","policy":{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:GetFunction"}]}}`},
	// A Deny (or conditions) with an action a whole document does not take.
	{Name: "lp-deny-unknown-action", Kind: kindPermission, Want: wantRefused,
		Spec: `{"action":"lambda:Foo","effect":"Deny","functionName":"my-function","principal":"*","statementId":"deny-foo"}`},
	// A sourceArn of 5013 characters, 10013 UTF-16 code units: Lambda
	// counts the latter (SPEC §16.2, the emulator's doc).
	{Name: "lp-source-arn-over-10000-in-utf-16", Kind: kindPermission, Want: wantRefused,
		Spec: `{"functionName":"my-function","principal":"s3.amazonaws.com","sourceArn":"arn:aws:s3:::` + strings.Repeat(astral, 5000) + `","statementId":"astral"}`},
	// LambdaResourcePolicy values the admission policy did not check:
	// Principal values, actions, condition operators (SPEC §16.6 items 7,
	// 8, 10).
	{Name: "rp-aws-principal-without-resource", Kind: kindPolicy, Want: wantRefused,
		Spec: `{"functionName":"my-function","policy":{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:"},"Action":"lambda:InvokeFunction"}]}}`},
	{Name: "rp-federated-with-white-space", Kind: kindPolicy, Want: wantRefused,
		Spec: `{"functionName":"my-function","policy":{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Federated":"a b"},"Action":"lambda:InvokeFunction"}]}}`},
	{Name: "rp-unknown-action", Kind: kindPolicy, Want: wantRefused,
		Spec: `{"functionName":"my-function","policy":{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["lambda:GetFunction","lambda:Foo"]}]}}`},
	{Name: "rp-unknown-condition-operator", Kind: kindPolicy, Want: wantRefused,
		Spec: `{"functionName":"my-function","policy":{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:GetFunction","Condition":{"Foo":{"aws:SourceIp":"x"}}}]}}`},
	// An account whose role is in another account: the operator acts there,
	// and reports WrongAccount for ever. (The operator has no check of its
	// own of an account's identity: STS is its judge.)
	{Name: "account-role-in-another-account", Kind: kindAccount, Want: dfWant{API: -1, Lambda: -1},
		Spec: `{"accountID":"123456789012","roleArn":"arn:aws:iam::111122223333:role/operator"}`},
	// A role no IAM can hold: a name of 65 characters, an empty path part.
	{Name: "account-role-name-over-64", Kind: kindAccount, Want: dfWant{API: -1, Lambda: -1},
		Spec: `{"accountID":"123456789012","roleArn":"arn:aws:iam::123456789012:role/` + strings.Repeat("r", 65) + `"}`},
	{Name: "account-role-empty-path-part", Kind: kindAccount, Want: dfWant{API: -1, Lambda: -1},
		Spec: `{"accountID":"123456789012","roleArn":"arn:aws:iam::123456789012:role/a//b"}`},
	// A function pattern path.Match cannot read: the rule matched nothing.
	// (STS has no say in access rules.)
	{Name: "account-function-pattern-unclosed", Kind: kindAccount, Want: dfWant{API: -1, Go: -1},
		Spec: `{"accountID":"123456789012","access":[{"namespaceSelector":{},"functions":["payments-*","pay["]}]}`},
}
