package emulator

import (
	"slices"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// The operator checks each statement of a LambdaResourcePolicy with
// policy.ValidateDocumentStatement before it writes, and judges it with
// Statement.IsPublic; the emulator, standing in for AWS, checks the same
// document with parsePolicyDocument and isPublicStatement. These tests hold
// the two to one grammar (SPEC §16.6) and one definition of public
// (§16.8), and list where they differ and why.

// crossCase is one statement on resource, what each side says of it, and
// why they differ where they do.
type crossCase struct {
	name        string
	resource    string
	unqualified bool
	statement   string
	emulator    bool // parsePolicyDocument accepts the one-statement document
	operator    bool // ParseStatement and ValidateDocumentStatement accept it
	why         string
	// renderRefused: the operator accepts the statement, but the emulator
	// refuses even the operator's rendering of it.
	renderRefused bool
}

// stmt is a statement on fnARN with a Sid, Allow, an account principal and
// InvokeFunction, with elements (raw JSON) replaced, added or, when
// empty, removed. The elements keep the order Lambda writes.
func stmt(elements ...string) string {
	members := map[string]string{
		"Sid": `"ok"`, "Effect": `"Allow"`, "Principal": `{"AWS":"111122223333"}`,
		"Action": `"lambda:InvokeFunction"`, "Resource": `"` + fnARN + `"`,
	}
	order := []string{"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
	for i := 0; i+1 < len(elements); i += 2 {
		if !slices.Contains(order, elements[i]) {
			order = append(order, elements[i])
		}
		members[elements[i]] = elements[i+1]
	}
	s := "{"
	for _, key := range order {
		if v := members[key]; v != "" {
			if len(s) > 1 {
				s += ","
			}
			s += `"` + key + `":` + v
		}
	}
	return s + "}"
}

func crossCases() []crossCase {
	const (
		version = fnARN + ":1"
		alias   = fnARN + ":live"
	)
	both := func(name, statement string, accepted bool) crossCase {
		return crossCase{name: name, resource: fnARN, unqualified: true, statement: statement, emulator: accepted, operator: accepted}
	}
	on := func(resource string, c crossCase) crossCase {
		c.resource, c.unqualified = resource, resource == fnARN
		return c
	}
	return []crossCase{
		// Item 4: Sid.
		both("valid", stmt(), true),
		{name: "no Sid", resource: fnARN, unqualified: true, statement: stmt("Sid", ""), emulator: true, operator: false,
			why: "by design: the operator manages statements by Sid, so it requires one; the grammar makes it optional"},
		both("Sid with dash and underscore", stmt("Sid", `"Allow-partner_1"`), true),
		both("Sid with a dot", stmt("Sid", `"a.b"`), false),
		both("Sid empty", stmt("Sid", `""`), false),
		both("Sid a number", stmt("Sid", `1`), false),
		// Item 5: elements.
		both("NotPrincipal", stmt("NotPrincipal", `{"AWS":"111122223333"}`), false),
		both("NotAction", stmt("NotAction", `"lambda:DeleteFunction"`), false),
		both("NotResource", stmt("NotResource", `"`+fnARN+`:1"`), false),
		both("unknown element", stmt("Foo", `1`), false),
		both("element in lower case", stmt("condition", `{}`), false),
		// Item 6: Effect.
		both("Deny", stmt("Effect", `"Deny"`), true),
		both("Effect in lower case", stmt("Effect", `"allow"`), false),
		both("Effect missing", stmt("Effect", ""), false),
		{name: "Effect twice", resource: fnARN, unqualified: true, statement: `{"Sid":"ok","Effect":"Deny","Effect":"Allow","Principal":"*","Action":"*","Resource":"` + fnARN + `"}`,
			emulator: false, operator: true,
			why: "ParseStatement keeps the last of duplicate keys; the document check refuses them. The operator builds the statement from the object's fields and writes its own rendering, which has each key once"},
		// Item 7: Principal.
		both("principal *", stmt("Principal", `"*"`), true),
		both("AWS *", stmt("Principal", `{"AWS":"*"}`), true),
		both("AWS list", stmt("Principal", `{"AWS":["111122223333","arn:aws:iam::111122223333:role/deployer","arn:aws:sts::111122223333:assumed-role/r/s"]}`), true),
		both("AWS ARN with anything after the account", stmt("Principal", `{"AWS":"arn:aws-us-gov:iam::111122223333:role/*"}`), true),
		both("AWS short account", stmt("Principal", `{"AWS":"12345"}`), false),
		both("AWS malformed ARN", stmt("Principal", `{"AWS":"arn:aws:iam:111122223333:role/x"}`), false),
		both("AWS ARN of another service", stmt("Principal", `{"AWS":"arn:aws:s3::111122223333:x"}`), false),
		both("AWS unique id", stmt("Principal", `{"AWS":"AROAEXAMPLEID"}`), false),
		both("AWS empty list", stmt("Principal", `{"AWS":[]}`), false),
		both("AWS empty string in a list", stmt("Principal", `{"AWS":["111122223333",""]}`), false),
		{name: "AWS account as a number", resource: fnARN, unqualified: true, statement: stmt("Principal", `{"AWS":111122223333}`), emulator: false, operator: true,
			why: "the policy model keeps scalars as text; the operator renders the account as the string the document check wants"},
		both("services", stmt("Principal", `{"Service":["s3.amazonaws.com","logs.us-east-1.amazonaws.com","s3.amazonaws.com.cn","alexa-appkit.amazon.com"]}`), true),
		both("service bare domain", stmt("Principal", `{"Service":"amazonaws.com"}`), false),
		both("service other domain", stmt("Principal", `{"Service":"invalid.nonaws.com"}`), false),
		both("service in upper case", stmt("Principal", `{"Service":"S3.amazonaws.com"}`), false),
		both("service label ending in a dash", stmt("Principal", `{"Service":"s3-.amazonaws.com"}`), false),
		both("Federated and CanonicalUser", stmt("Principal", `{"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`), true),
		both("Federated with a space", stmt("Principal", `{"Federated":"a b"}`), false),
		{name: "Federated a boolean", resource: fnARN, unqualified: true, statement: stmt("Principal", `{"Federated":true}`), emulator: false, operator: true,
			why: "the policy model keeps scalars as text; the operator renders the value as a string"},
		both("principal empty object", stmt("Principal", `{}`), false),
		both("principal a bare account", stmt("Principal", `"111122223333"`), false),
		both("principal of an unknown type", stmt("Principal", `{"User":"bob"}`), false),
		both("principal missing", stmt("Principal", ""), false),
		// Item 8: Action.
		both("action in another case", stmt("Action", `"LAMBDA:invokefunction"`), true),
		both("actions lambda:* and *", stmt("Action", `["lambda:*","*"]`), true),
		both("action list", stmt("Action", `["lambda:InvokeFunctionUrl","lambda:GetFunction","lambda:UpdateFunctionEventInvokeConfig"]`), true),
		both("action partial wildcard", stmt("Action", `"lambda:Get*"`), false),
		both("action of another service", stmt("Action", `"s3:GetObject"`), false),
		both("action not on a function", stmt("Action", `["lambda:InvokeFunction","lambda:ListFunctions"]`), false),
		both("action without a service", stmt("Action", `"InvokeFunction"`), false),
		both("action empty list", stmt("Action", `[]`), false),
		both("action missing", stmt("Action", ""), false),
		// Item 9: Resource.
		both("resource and :*", stmt("Resource", `["`+fnARN+`","`+fnARN+`:*"]`), true),
		both("resource *", stmt("Resource", `"*"`), false),
		both("resource another function", stmt("Resource", `"arn:aws:lambda:us-east-2:123456789012:function:other"`), false),
		both("resource an alias of the function", stmt("Resource", `"`+alias+`"`), false),
		both("resource missing", stmt("Resource", ""), false),
		on(alias, both("alias", stmt("Resource", `"`+alias+`"`), true)),
		on(alias, both("alias with :*", stmt("Resource", `"`+alias+`:*"`), false)),
		on(alias, both("the function on an alias", stmt(), false)),
		on(version, both("version", stmt("Resource", `"`+version+`"`), true)),
		// Item 10: Condition.
		both("conditions", stmt("Condition", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24"]},"Bool":{"aws:SecureTransport":true},`+
			`"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600},"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/*"},`+
			`"ForAllValues:StringNotLikeIfExists":{"aws:TagKeys":"x"},"ArnNotLike":{"AWS:SourceArn":"arn:aws:s3:::a-*"},"Null":{"aws:SourceVpc":"false"}}`), true),
		both("policy variable", stmt("Condition", `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`), true),
		both("empty condition", stmt("Condition", `{}`), true),
		both("operator misspelt", stmt("Condition", `{"StringEqual":{"aws:SourceAccount":"111122223333"}}`), false),
		both("operator in lower case", stmt("Condition", `{"stringequals":{"aws:SourceAccount":"111122223333"}}`), false),
		both("two set prefixes", stmt("Condition", `{"ForAnyValue:ForAllValues:StringLike":{"aws:TagKeys":"x"}}`), false),
		both("IfExists twice", stmt("Condition", `{"StringEqualsIfExistsIfExists":{"aws:TagKeys":"x"}}`), false),
		{name: "NullIfExists", resource: fnARN, unqualified: true, statement: stmt("Condition", `{"NullIfExists":{"aws:SourceVpc":"true"}}`), emulator: true, operator: false,
			why: "§16.6 item 10 lets every operator, Null too, take IfExists and a set prefix; IAM does not take them on Null, and neither does the policy package (as for LambdaPermission conditions)"},
		{name: "ForAnyValue:Null", resource: fnARN, unqualified: true, statement: stmt("Condition", `{"ForAnyValue:Null":{"aws:TagKeys":"true"}}`), emulator: true, operator: false,
			why: "as NullIfExists"},
		both("operator without keys", stmt("Condition", `{"StringEquals":{}}`), false),
		both("empty condition key", stmt("Condition", `{"StringEquals":{"":"x"}}`), false),
		both("condition key without values", stmt("Condition", `{"IpAddress":{"aws:SourceIp":[]}}`), false),
		both("condition value null", stmt("Condition", `{"StringEquals":{"aws:SourceAccount":null}}`), false),
		both("condition value an object", stmt("Condition", `{"StringEquals":{"aws:SourceAccount":{"a":"b"}}}`), false),
		both("condition not an object", stmt("Condition", `"x"`), false),
	}
}

func emulatorAccepts(statement, resource string, unqualified bool) (bool, string) {
	_, err := parsePolicyDocument(document(statement), resource, unqualified)
	if err != nil {
		return false, err.message
	}
	return true, ""
}

func operatorAccepts(statement, resource string) (bool, policy.Statement, string) {
	st, err := policy.ParseStatement(statement)
	if err != nil {
		return false, st, err.Error()
	}
	if err := policy.ValidateDocumentStatement(st, resource); err != nil {
		return false, st, err.Error()
	}
	return true, st, ""
}

// TestDocumentGrammarAgreesWithThePolicyPackage: the emulator's document
// check and policy.ValidateDocumentStatement accept the same statements,
// except where the table says why not; and whatever the operator accepts,
// the emulator accepts as the operator renders it.
func TestDocumentGrammarAgreesWithThePolicyPackage(t *testing.T) {
	cases := crossCases()
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			emu, emuMessage := emulatorAccepts(c.statement, c.resource, c.unqualified)
			op, st, opMessage := operatorAccepts(c.statement, c.resource)
			if emu != c.emulator {
				t.Errorf("emulator accepts = %v, want %v (%s) for %s", emu, c.emulator, emuMessage, c.statement)
			}
			if op != c.operator {
				t.Errorf("operator accepts = %v, want %v (%s) for %s", op, c.operator, opMessage, c.statement)
			}
			if (c.emulator != c.operator) != (c.why != "") {
				t.Errorf("the table must say why exactly where the two differ: emulator %v, operator %v, why %q", c.emulator, c.operator, c.why)
			}
			if !op {
				return
			}
			rendered := st.Render()
			if ok, message := emulatorAccepts(rendered, c.resource, c.unqualified); ok == c.renderRefused {
				t.Errorf("emulator accepts the operator's rendering %s = %v, want %v (%s)", rendered, ok, !c.renderRefused, message)
			}
			if emu {
				checkSamePublic(t, c.statement)
			}
		})
	}
}

// checkSamePublic compares the emulator's and the policy package's verdict
// on a statement both accept.
func checkSamePublic(t *testing.T, statement string) {
	t.Helper()
	node, err := parseJSONTree([]byte(compactJSON(t, statement)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := policy.ParseStatement(statement)
	if err != nil {
		t.Fatal(err)
	}
	if emu, op := isPublicStatement(node), st.IsPublic(); emu != op {
		t.Errorf("public: emulator %v, Statement.IsPublic %v for %s", emu, op, statement)
	}
}

// TestPublicStatementAgreesWithThePolicyPackage: §16.8's definition of a
// public statement, as the emulator's switch applies it and as the
// operator's guardrail does.
func TestPublicStatementAgreesWithThePolicyPackage(t *testing.T) {
	tests := []struct {
		name, effect, principal, condition string
		public                             bool
	}{
		{"star", "Allow", `"*"`, "", true},
		{"AWS star", "Allow", `{"AWS":"*"}`, "", true},
		{"AWS list with star", "Allow", `{"AWS":["111122223333","*"]}`, "", true},
		{"star beside a service", "Allow", `{"AWS":"*","Service":"s3.amazonaws.com"}`, "", true},
		{"Deny star", "Deny", `"*"`, "", false},
		{"account", "Allow", `{"AWS":"111122223333"}`, "", false},
		{"Federated star", "Allow", `{"Federated":"*"}`, "", false},
		{"source account", "Allow", `"*"`, `{"StringEquals":{"AWS:SourceAccount":"111122223333"}}`, false},
		{"source account as a number", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":111122223333}}`, false},
		{"source account in lower case", "Allow", `"*"`, `{"StringEquals":{"aws:sourceaccount":"111122223333"}}`, false},
		{"source ARN", "Allow", `"*"`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}`, false},
		{"source ARN with a wildcard", "Allow", `"*"`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket-*"}}`, true},
		{"source ARN with a ?", "Allow", `"*"`, `{"StringLike":{"aws:SourceArn":"arn:aws:s3:::bucket-?"}}`, true},
		{"one value with a wildcard", "Allow", `"*"`, `{"ArnEquals":{"aws:SourceArn":["arn:aws:s3:::a","arn:aws:s3:::b*"]}}`, true},
		{"empty value", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":""}}`, true},
		{"policy variable", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, true},
		{"source owner", "Allow", `"*"`, `{"StringEquals":{"aws:SourceOwner":"111122223333"}}`, false},
		{"organization", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`, false},
		{"organization ignoring case", "Allow", `"*"`, `{"StringEqualsIgnoreCase":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`, false},
		{"organization path, ForAnyValue", "Allow", `"*"`, `{"ForAnyValue:StringEquals":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/"]}}`, false},
		{"organization path with a wildcard", "Allow", `"*"`, `{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/*"]}}`, true},
		{"principal account", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`, false},
		{"principal ARN", "Allow", `"*"`, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/r"}}`, false},
		{"VPC", "Allow", `"*"`, `{"StringEquals":{"aws:SourceVpc":"vpc-1a2b3c4d"}}`, false},
		{"VPC endpoint", "Allow", `"*"`, `{"StringLike":{"aws:SourceVpce":"vpce-1a2b3c4d"}}`, false},
		{"source IP", "Allow", `"*"`, `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, false},
		{"not the source IP", "Allow", `"*"`, `{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, true},
		{"negated operator", "Allow", `"*"`, `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, true},
		{"IfExists", "Allow", `"*"`, `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, true},
		{"ForAllValues", "Allow", `"*"`, `{"ForAllValues:StringEquals":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/"]}}`, true},
		{"Null", "Allow", `"*"`, `{"Null":{"aws:SourceAccount":"false"}}`, true},
		{"other key", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalTag/team":"a"}}`, true},
		{"function URL NONE", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}`, true},
		{"function URL AWS_IAM", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}`, false},
		{"function URL value in another case", "Allow", `"*"`, `{"StringEqualsIgnoreCase":{"lambda:FunctionUrlAuthType":"aws_iam"}}`, true},
		{"function URL AWS_IAM or NONE", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":["AWS_IAM","NONE"]}}`, true},
		{"invoked via function URL", "Allow", `"*"`, `{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}`, true},
		{"event source token", "Allow", `"*"`, `{"StringEquals":{"lambda:EventSourceToken":"tok"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statement := stmt("Effect", `"`+tt.effect+`"`, "Principal", tt.principal, "Action", `"*"`, "Condition", tt.condition)
			if ok, message := emulatorAccepts(statement, fnARN, true); !ok {
				t.Fatalf("the document check refuses %s: %s", statement, message)
			}
			node, err := parseJSONTree([]byte(statement))
			if err != nil {
				t.Fatal(err)
			}
			if got := isPublicStatement(node); got != tt.public {
				t.Errorf("emulator: public = %v, want %v", got, tt.public)
			}
			checkSamePublic(t, statement)
		})
	}

	// A boolean is no fixed value to the emulator, but the policy model
	// reads it as the text "true", which is one. Such a condition on a
	// narrowing key is only conceivable by mistake.
	statement := stmt("Principal", `"*"`, "Condition", `{"StringEquals":{"aws:SourceAccount":true}}`)
	node, _ := parseJSONTree([]byte(statement))
	st, _ := policy.ParseStatement(statement)
	if !isPublicStatement(node) || st.IsPublic() {
		t.Errorf("a boolean source account: emulator public %v, Statement.IsPublic %v; the known difference is true, false", isPublicStatement(node), st.IsPublic())
	}
}
