//go:build integration

package v1alpha1_test

// The inputs of the differential admission test (differential_test.go):
// a seeded generator of specs for the four kinds. Each spec starts from
// values a user would write and takes, field by field, a nasty value with
// some probability: Unicode, lengths at Lambda's and the CRDs' limits ± 1,
// every principal form, wildcard ARNs, empty and huge lists, explicit
// empty strings. The same seed gives the same inputs, in the same order.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// Where the generated functions live: the emulator is started in the
// region and account each spec names, these when it names none.
const (
	dfRegion  = "us-east-2"
	dfAccount = "123456789012"
)

// The four kinds, in the order the summary lists them.
const (
	kindPermission = "LambdaPermission"
	kindAccount    = "LambdaPermissionAccount"
	kindURL        = "LambdaFunctionURLPermission"
	kindPolicy     = "LambdaResourcePolicy"
)

var dfKinds = []string{kindPermission, kindAccount, kindURL, kindPolicy}

// dfCase is one input: a spec of one kind, as JSON members (so that an
// explicit empty string or list, which the typed structs drop, can be sent).
type dfCase struct {
	Name string         // metadata.name, also the case's name in reports
	Kind string         // one of dfKinds
	Spec map[string]any // spec as sent to the API server
}

// gen draws values for one kind's specs; nasty is the chance that a field
// takes a nasty value instead of a usual one.
type gen struct {
	r     *rand.Rand
	nasty float64
}

func (g *gen) pick(values ...string) string { return values[g.r.IntN(len(values))] }
func (g *gen) chance(p float64) bool        { return g.r.Float64() < p }
func (g *gen) bad() bool                    { return g.chance(g.nasty) }

// either is usual() usually, and nasty() with the gen's chance.
func (g *gen) either(usual, nasty func() string) string {
	if g.bad() {
		return nasty()
	}
	return usual()
}

// Text helpers.
func repeat(s string, n int) string { return strings.Repeat(s, n) }

// fill is prefix and suffix with x between them, n characters in all.
func fill(prefix string, n int, suffix string) string {
	return prefix + strings.Repeat("x", max(n-len([]rune(prefix))-len([]rune(suffix)), 0)) + suffix
}

// astral is a character outside Unicode's Basic Multilingual Plane: one
// character for Kubernetes and Go, two UTF-16 code units for Lambda (SPEC
// §16.2: lengths in UTF-16 code units, as Java counts them).
const astral = "𝒜"

// Values a spec draws from. "usual" values are what users write; "nasty"
// ones probe a rule.

func (g *gen) region() string {
	return g.pick("us-east-2", "us-east-2", "eu-west-1", "ap-southeast-3", "cn-north-1", "us-gov-west-1", "eusc-de-east-1", "us-isob-east-1")
}

func (g *gen) badRegion() string {
	return g.pick("US-EAST-2", "us-east", "us-east-22", "useast2", "é-east-1", "us-east-2 ", "us-east-2\n", "*", "us-*-1",
		"us-isof-south-1", "eu-isoe-west-1", fill("us-", 33, "-1"), "")
}

func (g *gen) accountID() string { return g.pick(dfAccount, dfAccount, "111122223333", "000000000000") }

func (g *gen) badAccountID() string {
	return g.pick("12345678901", "1234567890123", "12345678901a", "１23456789012", "12345678901 ", "*", "")
}

func (g *gen) name() string {
	return g.pick("my-function", "orders", "orders_v2", "f", "function", "123456789012", "us-east-2", repeat("n", 64))
}

func (g *gen) badName() string {
	return g.pick("a.b", "my_function.v2", repeat("n", 65), repeat("n", 140), "my function", "fünction", "f*", "*", "my/function", "f?", "", "名前",
		"f"+astral, "-", ".", "f\n")
}

// longObjectName pads name to a length at an object name's limits: the
// most any object may have, and for a function URL grant the most its CRD
// admits and one more, since the LambdaPermissions it makes add -url and
// -invoke.
func (g *gen) longObjectName(name, kind string) string {
	lengths := []int{validation.DNS1123SubdomainMaxLength}
	if kind == kindURL {
		lengths = append(lengths, v1alpha1.MaxFunctionURLPermissionNameLength, v1alpha1.MaxFunctionURLPermissionNameLength+1)
	}
	return name + repeat("n", lengths[g.r.IntN(len(lengths))]-len(name))
}

func (g *gen) qualifier() string {
	return g.pick("1", "2", "3", "prod", "live_2", "blue-green", repeat("q", 128))
}

func (g *gen) badQualifier() string {
	return g.pick("$LATEST", "$LATEST.PUBLISHED", "$LATEST.published", "a$b", "0", "007", "v1.2", "prød", repeat("q", 129),
		"1 ", "*", "a:b", "", repeat("9", 128))
}

// functionName is a function in one of Lambda's forms (SPEC §2), with the
// qualifier it may carry; nasty ones break the form, the name or the limits.
func (g *gen) functionName() string {
	name := g.either(g.name, g.badName)
	region, account := g.either(g.region, g.badRegion), g.either(g.accountID, g.badAccountID)
	suffix := ""
	if g.chance(0.2) {
		suffix = ":" + g.either(g.qualifier, g.badQualifier)
	}
	partition := g.pick("aws", "aws", "aws-cn", "aws-us-gov", "", "aws-iso-b")
	if g.bad() {
		partition = g.pick("azure", "AWS", "aws*", "*")
	}
	forms := []string{
		name, name, name,
		account + ":function:" + name,
		account + ":" + name,
		region + ":" + account + ":function:" + name,
		region + ":" + name,
		"function:" + name,
		"arn:" + partition + ":lambda:" + region + ":" + account + ":function:" + name,
		"arn:" + partition + ":lambda:" + region + ":" + account + ":function:" + name,
	}
	fn := forms[g.r.IntN(len(forms))] + suffix
	if g.bad() {
		fn = g.pick(
			"arn:aws:lambda:"+dfRegion+":"+dfAccount+":function:*",
			"arn:aws:lambda:*:"+dfAccount+":function:"+name,
			"arn:aws:lambda:"+dfRegion+":"+dfAccount+":"+name,
			"arn:aws:s3:"+dfRegion+":"+dfAccount+":function:"+name,
			"arn:aws:lambda::"+dfAccount+":function:"+name,
			"arn:aws:lambda:"+dfRegion+":"+dfAccount+":function:"+name+":a:b",
			fill("arn:aws:lambda:"+dfRegion+":"+dfAccount+":function:", 256, ""),
			fill("arn:aws:lambda:"+dfRegion+":"+dfAccount+":function:"+repeat("n", 64)+":", 257, ""),
			fill("arn:aws:lambda:"+dfRegion+":"+dfAccount+":function:"+repeat("n", 64)+":", 256, ""),
			fn+":$LATEST", fn+":", ":"+fn)
	}
	return fn
}

func (g *gen) statementID() string {
	return g.pick("s3-invoke", "AllowS3", "a-B_9", "sns", repeat("s", 100))
}

func (g *gen) badStatementID() string {
	return g.pick(repeat("s", 101), "example.com", "a b", "a/b", "a:b", "ünïcode", "s"+astral, "a\n",
		"x-compacted-principal-0123456789abcdef", "compacted-sourcearn-fedcba9876543210", "")
}

// principal covers every form Lambda takes (SPEC §3.2): *, an account id,
// root and IAM ARNs in several partitions, STS sessions and services.
func (g *gen) principal() string {
	return g.pick("*", "*", dfAccount, "111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/reader",
		"arn:aws:iam::111122223333:role/a/b/c", "arn:aws:iam::111122223333:user/u@example.com", "arn:aws-cn:iam::111122223333:root",
		"arn:aws-us-gov:iam::111122223333:role/r", "arn:aws:sts::111122223333:assumed-role/r/s",
		"arn:aws:iam::111122223333:federated-user/f", "s3.amazonaws.com", "s3.amazonaws.com", "sns.amazonaws.com",
		"logs.us-east-1.amazonaws.com", "events.amazonaws.com", "apigateway.amazonaws.com", "s3.amazonaws.com.cn",
		"alexa-appkit.amazon.com", "elasticloadbalancing.amazonaws.com", "cognito-idp.amazonaws.com")
}

func (g *gen) badPrincipal() string {
	return g.pick("**", "12345678901", "1234567890123", "arn:aws:iam::111122223333:role", "arn:aws:iam::111122223333:role/",
		"arn:aws:iam:000000000000:role/xxxx", "arn:aws:iam::12345678901:root", "arn:aws:s3::111122223333:root",
		"arn:aws:iam::111122223333:role/r!", "arn:azure:iam::111122223333:root", "arn:aws:iam::111122223333:Role/r",
		"arn:aws:iam::111122223333:role_1/r", "arn:aws:iam::111122223333:ROOT", "amazonaws.com", "amazon.com",
		"invalid.nonaws.com", "S3.amazonaws.com", "-s3.amazonaws.com", "s3-.amazonaws.com", "s3.a-.amazonaws.com",
		"s3..amazonaws.com", "s3_x.amazonaws.com", "s3 .amazonaws.com", "s3.amazonaws.com\n", "s3.amazonaws.com.",
		"sérvice.amazonaws.com", "example.com", "ｓ3.amazonaws.com", fill("", 2048, ".amazonaws.com"),
		fill("", 2049, ".amazonaws.com"), "arn:aws:iam::111122223333:role/"+repeat("r", 64), "")
}

func (g *gen) action() string {
	return g.pick("lambda:InvokeFunction", "lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:GetFunction", "lambda:*", "*",
		"lambda:GetPolicy", "lambda:UpdateAlias")
}

func (g *gen) badAction() string {
	return g.pick("lambda:Foo", "s3:GetObject", "lambda:", "lambda:Invoke2", "Lambda:InvokeFunction", "LAMBDA:invokefunction",
		"lambda:invokefunction", "lambda:**", "lambda:Invoke*", "lambda:Get*", "lambda:InvokeFunction ", fill("lambda:", 10000, ""),
		fill("lambda:", 10001, ""), "")
}

// sourceArn: ARNs of the services that invoke functions, with and without
// wildcards, and nasty ones at the length limit counted in UTF-16.
func (g *gen) sourceArn() string {
	return g.pick("arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*", "arn:aws:sns:us-east-2:111122223333:topic",
		"arn:aws:execute-api:us-east-2:111122223333:abc/*/POST/x", "arn:aws:events:us-east-2:111122223333:rule/r",
		"arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/test:*", "arn:aws:s3:::*", "arn:aws:sqs:us-east-2:111122223333:q?",
		"arn:aws-cn:s3:::b", "arn:aws:sns:*:111122223333:topic", "arn:aws:s3:::bücket", "arn:aws:s3:::${aws:username}")
}

func (g *gen) badSourceArn() string {
	return g.pick("arn:aws:s3::", "arn:aws::::x", "arn:aws:s3::12345:bucket", "arn:aws:sns:US-EAST-1:111122223333:topic",
		"arn:aws:sns:us-east-2:*:topic", "arn:gcp:s3:::b", "arn:aws:s_3:::b", "my-bucket", "arn:aws:s3:::a\nb", "*",
		fill("arn:aws:s3:::", 10000, ""), fill("arn:aws:s3:::", 10001, ""), fill("arn:aws:s3:::", 9999, astral),
		fill("arn:aws:s3:::", 10000, astral), "arn:aws:s3:::"+repeat("é", 5000), "arn:aws:s3:::"+repeat(astral, 4993),
		"arn:aws:s3:::"+repeat(astral, 4994), "arn:aws:s3:::"+repeat(astral, 5000), "")
}

func (g *gen) sourceAccount() string { return g.pick("111122223333", dfAccount) }
func (g *gen) principalOrgID() string {
	return g.pick("o-a1b2c3d4e5", "o-"+repeat("a", 32), "o-0123456789")
}

func (g *gen) badPrincipalOrgID() string {
	return g.pick("o-"+repeat("a", 33), "a1b2c3d4e5", "o-a1b2c3d4e", "o-A1B2C3D4E5", "o_a1b2c3d4e5", "o-a1b2c3d4e5-", "O-a1b2c3d4e5",
		"o-ä1b2c3d4e5", "")
}

func (g *gen) eventSourceToken() string {
	return g.pick("amzn1.ask.skill.12345678-1234-1234-1234-123456789012", "a_b-c.d", repeat("t", 256))
}

func (g *gen) badEventSourceToken() string {
	return g.pick("a/b", "a b", "a:b", "a+b", "é", repeat("t", 257), "")
}

var operators = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotLike",
	"NumericLessThan", "DateGreaterThan", "Bool", "IpAddress", "NotIpAddress", "ArnLike", "ArnNotEquals", "Null",
	"ForAnyValue:StringLike", "ForAllValues:StringEquals", "StringEqualsIfExists", "ForAnyValue:ArnLikeIfExists", "BinaryEquals"}

func (g *gen) badOperator() string {
	return g.pick("NullIfExists", "ForAnyValue:Null", "IpAdress", "ForSomeValues:StringLike", "stringequals", "StringEquals ",
		"NumericLike", "ForAnyValue:", "IfExists", "")
}

func (g *gen) conditionKey() string {
	return g.pick("aws:SourceIp", "aws:SourceVpce", "aws:SourceVpc", "aws:PrincipalOrgPaths", "aws:PrincipalArn", "aws:PrincipalAccount",
		"aws:SecureTransport", "aws:RequestTag/team", "aws:ResourceTag/cost-center", "aws:RequestTag/${aws:username}",
		"aws:CurrentTime", "aws:MultiFactorAuthAge", "lambda:FunctionUrlAuthType", "AWS:SourceOwner", "execute-api:viaDomainArn")
}

func (g *gen) badConditionKey() string {
	return g.pick("SourceIp", "aws:", ":SourceIp", "aws:Source Ip", "aws:Söurce", "aws:SourceIp\n", "aws:*", fill("aws:RequestTag/", 256, ""),
		fill("aws:RequestTag/", 257, ""), "aws:SourceArn", "aws:sourceaccount", "")
}

func (g *gen) conditionValue() string {
	return g.pick("203.0.113.0/24", "vpce-1a2b3c4d", "o-a1b2c3d4e5/*", "true", "false", "3600", "2026-01-01T00:00:00Z", "AWS_IAM",
		"NONE", "arn:aws:iam::111122223333:role/*", "team-a", "${aws:PrincipalTag/team}", "é", "*")
}

func (g *gen) badConditionValue() string {
	return g.pick("", " ", "a\nb", repeat("v", 2048), repeat("v", 2049), repeat("é", 2048), repeat("é", 2049), repeat(astral, 2048))
}

// values is a list of n values, n usually small, sometimes at or past the
// limit of 64, or empty.
func (g *gen) values() []string {
	n := 1 + g.r.IntN(3)
	if g.bad() {
		n = []int{0, 64, 65}[g.r.IntN(3)]
	}
	out := make([]string, n)
	for i := range out {
		out[i] = g.either(g.conditionValue, g.badConditionValue)
		if n > 3 {
			out[i] = fmt.Sprintf("10.%d.0.0/16", i)
		}
	}
	return out
}

func (g *gen) conditions() []v1alpha1.StatementCondition {
	n := g.r.IntN(3)
	if g.bad() {
		n = []int{0, 32, 33}[g.r.IntN(3)]
	}
	out := make([]v1alpha1.StatementCondition, n)
	for i := range out {
		out[i] = v1alpha1.StatementCondition{
			Operator: g.either(func() string { return g.pick(operators...) }, g.badOperator),
			Key:      g.either(g.conditionKey, g.badConditionKey),
			Values:   g.values(),
		}
		if n > 3 {
			out[i].Operator, out[i].Key = "StringEquals", fmt.Sprintf("aws:RequestTag/k%d", i)
		}
	}
	if len(out) >= 2 && g.bad() { // the same (operator, key) twice, the key in another case
		out[1].Operator, out[1].Key = out[0].Operator, strings.ToUpper(out[0].Key)
	}
	return out
}

// permissionSpec is a LambdaPermission spec.
func (g *gen) permissionSpec() v1alpha1.LambdaPermissionSpec {
	s := v1alpha1.LambdaPermissionSpec{
		FunctionName: g.functionName(),
		Principal:    g.either(g.principal, g.badPrincipal),
	}
	if g.chance(0.7) {
		s.StatementID = g.either(g.statementID, g.badStatementID)
	}
	if g.chance(0.5) {
		s.Action = g.either(g.action, g.badAction)
	}
	if g.chance(0.2) {
		s.Qualifier = g.either(g.qualifier, g.badQualifier)
	}
	if g.chance(0.2) {
		s.Region = g.either(g.region, g.badRegion)
	}
	if g.chance(0.4) {
		s.SourceArn = g.either(g.sourceArn, g.badSourceArn)
	}
	if g.chance(0.3) {
		s.SourceAccount = g.either(g.sourceAccount, g.badAccountID)
	}
	if g.chance(0.2) {
		s.PrincipalOrgID = g.either(g.principalOrgID, g.badPrincipalOrgID)
	}
	if g.chance(0.1) {
		s.EventSourceToken = g.either(g.eventSourceToken, g.badEventSourceToken)
	}
	if g.chance(0.15) {
		s.FunctionURLAuthType = g.either(func() string { return g.pick("NONE", "AWS_IAM") }, func() string { return g.pick("none", "IAM", "") })
	}
	s.InvokedViaFunctionURL = g.chance(0.1)
	if g.chance(0.2) {
		s.Effect = v1alpha1.StatementEffect(g.either(func() string { return g.pick("Allow", "Deny") }, func() string { return g.pick("deny", "Permit", "") }))
	}
	if g.chance(0.25) {
		s.Conditions = g.conditions()
	}
	return s
}

// urlSpec is a LambdaFunctionURLPermission spec.
func (g *gen) urlSpec() v1alpha1.LambdaFunctionURLPermissionSpec {
	s := v1alpha1.LambdaFunctionURLPermissionSpec{
		FunctionName: g.functionName(),
		AuthType:     g.either(func() string { return g.pick("NONE", "AWS_IAM") }, func() string { return g.pick("none", "IAM", "") }),
	}
	if g.chance(0.6) {
		s.Principal = g.either(g.principal, g.badPrincipal)
	}
	if g.chance(0.2) {
		s.Qualifier = g.either(g.qualifier, g.badQualifier)
	}
	if g.chance(0.2) {
		s.Region = g.either(g.region, g.badRegion)
	}
	if g.chance(0.3) {
		s.PrincipalOrgID = g.either(g.principalOrgID, g.badPrincipalOrgID)
	}
	if g.chance(0.5) {
		s.StatementIDPrefix = g.either(func() string { return g.pick("checkout", "site_1", repeat("p", 90)) },
			func() string { return g.pick(repeat("p", 91), "a.b", "é", "x-compacted-action-0123456789abcdef", "") })
	}
	return s
}

// accountSpec is a LambdaPermissionAccount spec.
func (g *gen) accountSpec() v1alpha1.LambdaPermissionAccountSpec {
	s := v1alpha1.LambdaPermissionAccountSpec{AccountID: g.either(g.accountID, g.badAccountID)}
	if g.chance(0.6) {
		account := s.AccountID
		if g.chance(0.2) {
			account = g.accountID() // maybe another account's role
		}
		s.RoleARN = g.either(func() string {
			return g.pick("arn:aws:iam::"+account+":role/operator", "arn:aws:iam::"+account+":role/path/to/operator",
				"arn:aws-cn:iam::"+account+":role/op", "arn:aws:iam::"+account+":role/"+repeat("r", 64))
		}, func() string {
			return g.pick("arn:aws:iam::"+account+":role/"+repeat("r", 65), "arn:aws:iam::"+account+":role/a//b",
				"arn:aws:iam::"+account+":role/a/", "arn:aws:iam::"+account+":user/u", "arn:aws:iam:"+account+":role/r",
				"arn:aws:iam::"+account+":role/rôle", "arn:aws:iam::"+account+":role/a:b", "arn:aws:iam::"+account+":role/",
				fill("arn:aws:iam::"+account+":role/", 2049, ""), "")
		})
	}
	if g.chance(0.4) {
		s.ExternalID = g.either(func() string { return g.pick("ab", "external-id-1", "a:b/c=d,e.f@g+h", repeat("e", 1224)) },
			func() string { return g.pick("a", repeat("e", 1225), "a b", "é", "a*b", "") })
	}
	if g.chance(0.4) {
		s.SessionName = g.either(func() string { return g.pick("op", "lambda-permission-operator", "a.b@c=d,e+f", repeat("s", 64)) },
			func() string { return g.pick("s", repeat("s", 65), "a b", "a:b", "a/b", "é", "") })
	}
	if g.chance(0.4) {
		s.DefaultRegion = g.either(g.region, g.badRegion)
	}
	s.Default = g.chance(0.3)
	if g.chance(0.3) {
		s.WriteStrategy = v1alpha1.WriteStrategy(g.either(func() string { return g.pick("Statements", "Document") },
			func() string { return g.pick("document", "Documents", "") }))
	}
	n := g.r.IntN(3)
	if g.bad() {
		n = []int{0, 50}[g.r.IntN(2)]
	}
	for range n {
		s.Access = append(s.Access, g.accessRule())
	}
	return s
}

func (g *gen) accessRule() v1alpha1.AccountAccessRule {
	var rule v1alpha1.AccountAccessRule
	switch g.r.IntN(4) {
	case 0: // {} selects every namespace
	case 1:
		rule.NamespaceSelector.MatchLabels = map[string]string{g.labelKey(): g.labelValue()}
	default:
		e := metav1.LabelSelectorRequirement{Key: g.labelKey(), Operator: metav1.LabelSelectorOpIn, Values: []string{g.labelValue()}}
		if g.chance(0.4) {
			e.Operator, e.Values = metav1.LabelSelectorOpExists, nil
		}
		if g.bad() {
			switch g.r.IntN(4) {
			case 0:
				e.Operator = metav1.LabelSelectorOperator(g.pick("Equals", "in", "Gt", ""))
			case 1:
				e.Operator, e.Values = metav1.LabelSelectorOpIn, nil
			case 2:
				e.Operator = metav1.LabelSelectorOpDoesNotExist
				e.Values = []string{"x"}
			default:
				e.Values = []string{"a b"}
			}
		}
		rule.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{e}
	}
	for range g.r.IntN(3) {
		rule.Functions = append(rule.Functions, g.either(
			func() string {
				return g.pick("payments-*", "orders", "*", "f?", "arn:aws:lambda:eu-west-1:"+dfAccount+":function:public-*")
			},
			func() string {
				return g.pick("[a-z", "\\", "pay[", "fünction-*", repeat("f", 256), repeat("f", 257), "")
			}))
	}
	return rule
}

func (g *gen) labelKey() string {
	return g.either(func() string {
		return g.pick("team", "env", "lambda.permissions.dev/grants", "kubernetes.io/metadata.name")
	},
		func() string { return g.pick("a b", "é", "-team", repeat("k", 64), "") })
}

func (g *gen) labelValue() string {
	return g.either(func() string { return g.pick("payments", "prod", "a_b-c.d") },
		func() string { return g.pick("a b", "é", repeat("v", 64), "-x") })
}

// Statements of a LambdaResourcePolicy: schemaless members as JSON.

func (g *gen) jsonOf(v any) apiextensionsv1.JSON {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return apiextensionsv1.JSON{Raw: raw}
}

// oneOrList is v alone, or in a list of its own (IAM takes both), or a list
// of several.
func (g *gen) oneOrList(draw func() string) any {
	switch g.r.IntN(4) {
	case 0:
		return []string{draw()}
	case 1:
		return []string{draw(), draw()}
	default:
		return draw()
	}
}

func (g *gen) documentPrincipal() any {
	if g.bad() {
		return []any{"", []string{}, map[string]any{}, 5, map[string]any{"AWS": ""}, map[string]any{"AWS": []string{}},
			map[string]any{"Foo": dfAccount}, map[string]any{"AWS": []any{5}}, "AWS",
			map[string]any{"AWS": g.badPrincipal()}, map[string]any{"Service": g.badPrincipal()},
			map[string]any{"Federated": "a b"}, map[string]any{"AWS": "arn:aws:iam::111122223333:"},
			map[string]any{"CanonicalUser": "a\x0bb"}, map[string]any{"AWS": []any{"111122223333", ""}},
			map[string]any{"AWS": "arn:aws:iam::111122223333:role/a b"}}[g.r.IntN(16)]
	}
	switch g.r.IntN(6) {
	case 0:
		return "*"
	case 1:
		return map[string]any{"AWS": g.oneOrList(func() string {
			return g.pick("*", "111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/reader",
				"arn:aws:sts::111122223333:assumed-role/r/s", "arn:aws:iam::111122223333:role/Path/ODD+name=1,2@x")
		})}
	case 2:
		return map[string]any{"Service": g.oneOrList(func() string {
			return g.pick("s3.amazonaws.com", "sns.amazonaws.com", "logs.us-east-1.amazonaws.com", "alexa-appkit.amazon.com")
		})}
	case 3:
		return map[string]any{"Federated": "cognito-identity.amazonaws.com"}
	case 4:
		return map[string]any{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
	default:
		return map[string]any{"AWS": "111122223333", "Service": "s3.amazonaws.com"}
	}
}

func (g *gen) documentAction() any {
	if g.bad() {
		return []any{g.badAction(), []string{}, 5, []string{"lambda:InvokeFunction", "s3:GetObject"}, "LAMBDA:INVOKEFUNCTION",
			[]string{"lambda:invokefunctionurl"}}[g.r.IntN(6)]
	}
	return g.oneOrList(g.action)
}

func (g *gen) documentResource(fnARN string) any {
	if g.bad() {
		return []any{"*", []string{}, "arn:aws:lambda:" + dfRegion + ":" + dfAccount + ":function:other", fnARN + ":1", 5,
			"function", []string{fnARN, "arn:aws:s3:::b"}, strings.ToUpper(fnARN)}[g.r.IntN(8)]
	}
	if strings.Count(fnARN, ":") > 6 { // a version or alias: its own ARN only (SPEC §16.6 item 9)
		return []any{fnARN, []string{fnARN}}[g.r.IntN(2)]
	}
	return []any{fnARN, []string{fnARN}, fnARN + ":*", []string{fnARN, fnARN + ":*"}}[g.r.IntN(4)]
}

func (g *gen) documentCondition() any {
	if g.bad() {
		return []any{map[string]any{}, map[string]any{"StringEquals": map[string]any{}}, map[string]any{"Foo": map[string]any{"aws:SourceIp": "x"}},
			map[string]any{"StringEquals": map[string]any{"aws:SourceIp": []string{}}}, map[string]any{"StringEquals": "x"},
			[]string{"x"}, map[string]any{"NullIfExists": map[string]any{"aws:SourceIp": "true"}},
			map[string]any{"StringEquals": map[string]any{"": "x"}}, map[string]any{"StringEquals": map[string]any{"aws:SourceIp": map[string]any{}}},
		}[g.r.IntN(9)]
	}
	c := map[string]any{}
	for range 1 + g.r.IntN(2) {
		op := g.pick(operators...)
		keys, _ := c[op].(map[string]any)
		if keys == nil {
			keys = map[string]any{}
		}
		switch g.r.IntN(5) {
		case 0:
			keys[g.conditionKey()] = 3600
		case 1:
			keys[g.conditionKey()] = true
		default:
			keys[g.conditionKey()] = g.oneOrList(g.conditionValue)
		}
		c[op] = keys
	}
	return c
}

func (g *gen) documentStatement(sid, fnARN string) v1alpha1.ResourcePolicyStatement {
	s := v1alpha1.ResourcePolicyStatement{
		Sid:       sid,
		Effect:    g.either(func() string { return g.pick("Allow", "Allow", "Deny") }, func() string { return g.pick("allow", "Permit", "") }),
		Principal: g.jsonOf(g.documentPrincipal()),
		Action:    g.jsonOf(g.documentAction()),
	}
	if g.chance(0.3) {
		r := g.jsonOf(g.documentResource(fnARN))
		s.Resource = &r
	}
	if g.chance(0.5) {
		c := g.jsonOf(g.documentCondition())
		s.Condition = &c
	}
	return s
}

// policySpec is a LambdaResourcePolicy spec. Resource, when given, names
// the function the spec names in its ARN form.
func (g *gen) policySpec() v1alpha1.LambdaResourcePolicySpec {
	s := v1alpha1.LambdaResourcePolicySpec{FunctionName: g.functionName()}
	if g.chance(0.15) {
		s.Qualifier = g.either(g.qualifier, g.badQualifier)
	}
	if g.chance(0.15) {
		s.Region = g.either(g.region, g.badRegion)
	}
	fnARN := "arn:aws:lambda:" + dfRegion + ":" + dfAccount + ":function:my-function"
	if target, err := translate.Target(s.FunctionName, s.Qualifier, s.Region); err == nil {
		fnARN = target.WithDefaults(dfRegion, dfAccount).ResourceARN()
	}
	n := 1 + g.r.IntN(3)
	if g.bad() {
		n = []int{0, 100, 101}[g.r.IntN(3)]
	}
	for i := range n {
		sid := fmt.Sprintf("Stmt%d", i)
		if i < 3 {
			sid = g.either(func() string { return g.pick(sid, fmt.Sprintf("Allow-%d_x", i), repeat("s", 100)[:99]+fmt.Sprint(i)) }, g.badStatementID)
		}
		st := g.documentStatement(sid, fnARN)
		if n > 3 { // many statements, each small and valid
			st = v1alpha1.ResourcePolicyStatement{Sid: sid, Effect: "Allow", Principal: g.jsonOf(map[string]any{"AWS": "111122223333"}),
				Action: g.jsonOf("lambda:GetFunction")}
		}
		s.Policy.Statement = append(s.Policy.Statement, st)
	}
	if len(s.Policy.Statement) >= 2 && g.bad() { // a Sid twice
		s.Policy.Statement[1].Sid = s.Policy.Statement[0].Sid
	}
	if g.chance(0.2) {
		off := false
		s.IncludePermissions = &off
	}
	return s
}

// specMap is a typed spec as JSON members.
func specMap(spec any) map[string]any {
	raw, err := json.Marshal(spec)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	return m
}

// explicitEmpty sets, now and then, an optional member to "" or [] as a
// YAML author may: the typed spec drops them.
func (g *gen) explicitEmpty(spec map[string]any, kind string) {
	if !g.chance(g.nasty / 2) {
		return
	}
	members := map[string][]string{
		kindPermission: {"statementId", "qualifier", "region", "sourceArn", "sourceAccount", "principalOrgID", "eventSourceToken", "action", "conditions"},
		kindURL:        {"qualifier", "region", "principal", "principalOrgID", "statementIdPrefix"},
		kindAccount:    {"roleArn", "externalID", "sessionName", "defaultRegion", "access"},
		kindPolicy:     {"qualifier", "region"},
	}[kind]
	member := members[g.r.IntN(len(members))]
	if member == "conditions" || member == "access" {
		spec[member] = []any{}
		return
	}
	spec[member] = ""
}

// generate returns n cases of kind, drawn from seed: the same seed and n
// give the same cases.
func generate(kind string, seed uint64, n int) []dfCase {
	stream := uint64(0)
	for i, k := range dfKinds {
		if k == kind {
			stream = uint64(i + 1)
		}
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, stream)), nasty: 0.12}
	prefix := map[string]string{kindPermission: "lp", kindAccount: "lpa", kindURL: "lpurl", kindPolicy: "lrp"}[kind]
	cases := make([]dfCase, n)
	for i := range cases {
		var spec any
		switch kind {
		case kindPermission:
			spec = g.permissionSpec()
		case kindAccount:
			spec = g.accountSpec()
		case kindURL:
			spec = g.urlSpec()
		case kindPolicy:
			spec = g.policySpec()
		}
		m := specMap(spec)
		g.explicitEmpty(m, kind)
		name := fmt.Sprintf("%s-%d-%d", prefix, seed, i)
		if g.bad() {
			name = g.longObjectName(name, kind)
		}
		cases[i] = dfCase{Name: name, Kind: kind, Spec: m}
	}
	return cases
}
