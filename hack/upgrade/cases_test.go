//go:build integration

package upgrade

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// What the upgrade test stores, besides the previous release's samples, and
// what it expects. Edit this file when a release changes a schema: the test
// says which change needs what.

// ruleCase is a constraint added or tightened since the previous release
// (a change the diff lists, named by its ID), with an object the previous
// release's CRD accepts and the current one refuses on create, and what the
// API server does with that object once stored.
type ruleCase struct {
	// Change is the change's ID as the test logs it: "Kind/version path key".
	Change string
	// Object is stored before the upgrade (YAML).
	Object string
	// Refusal is part of the current CRD's message when the same object is
	// created anew; "" for a rule a create does not check (a transition
	// rule, which reads oldSelf), whose Expect must then show a refusal.
	Refusal string
	// Unrelated changes a spec field other than the one the rule is about.
	// Nil: the kind's usual change (specChanges).
	Unrelated func(spec map[string]any)
	// Expect says which updates of the stored object the API server
	// refuses, with part of the message; the zero value is ratcheting
	// throughout: every update that leaves the failing value as it is
	// succeeds.
	Expect expectations
}

// expectations are the outcome of each update of a stored object after the
// upgrade: "" accepted, else part of the refusal's message.
type expectations struct {
	Reapply          string // server-side apply of the manifest as it was applied
	Label            string // a label added (PUT, spec unchanged)
	Status           string // a status patch, as the operator writes it
	UnrelatedSpec    string // a spec change to another field
	FinalizerRemoval string // the operator's finalizer taken off after deletion
}

// ruleCases covers the constraints added or tightened since the previous
// release on fields that existed then. A case whose change is not in the
// diff (its rule was already in the previous release) is logged and not run.
//
// Between main@200b94f and the first release, those of the differential
// fuzzing of admission (the cases at the end); what was added besides is
// the LambdaResourcePolicy kind, whose rules are checked on new objects
// (newKindProbes). The first cases are from earlier history (commit
// 3e75963 tightened the conditions rules), kept as worked examples:
// UPGRADE_FROM=51fd56e runs them.
var ruleCases = []ruleCase{
	{
		// A rule on spec: ratcheted while spec is unchanged; a change to
		// any other field of spec is refused until the condition goes.
		Change: "LambdaPermission/v1alpha1 .spec rule: " + conditionKeysOfFieldsRule,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: condition-repeats-source
spec:
  functionName: my-function
  statementId: repeats-source
  principal: events.amazonaws.com
  sourceArn: arn:aws:events:us-east-2:123456789012:rule/nightly
  conditions:
  - {operator: ArnLike, key: aws:SourceArn, values: ["arn:aws:events:us-east-2:123456789012:rule/*"]}
`,
		Refusal: "conditions must not name a key that another field sets",
		Expect:  expectations{UnrelatedSpec: "conditions must not name a key that another field sets"},
	},
	{
		// A rule on an atomic list: ratcheted while the list is unchanged,
		// other fields of spec included.
		Change: "LambdaPermission/v1alpha1 .spec.conditions rule: " +
			"self.all(c, self.exists_one(d, d.operator == c.operator && d.key.lowerAscii() == c.key.lowerAscii()))",
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: condition-keys-by-case
spec:
  functionName: my-function
  statementId: keys-by-case
  effect: Deny
  principal: "*"
  conditions:
  - {operator: NotIpAddress, key: aws:SourceIp, values: [192.0.2.0/24]}
  - {operator: NotIpAddress, key: aws:sourceip, values: [198.51.100.0/24]}
`,
		Refusal: "conditions may hold each (operator, key) pair only once",
	},
	{
		// A rule on a scalar: ratcheted while the value is unchanged. The
		// Sid it refuses names a statement the operator compacts (issue
		// 25); an object stored with it keeps working, spelled as it was.
		Change: "LambdaPermission/v1alpha1 .spec.statementId rule: " +
			"!self.matches('compacted-(sourcearn|sourceaccount|principal|action)-[0-9a-f]{16}$')",
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: sid-like-a-compacted-one
spec:
  functionName: my-function
  statementId: team-compacted-sourcearn-0123456789abcdef
  principal: s3.amazonaws.com
  sourceArn: arn:aws:s3:::uploads
`,
		Refusal: "statementId must not end in compacted-<dimension>-<16 hex digits>",
	},

	// The rules the differential fuzzing of admission added (issue 29,
	// api/v1alpha1/differential_test.go): each case a spec the API server
	// admitted and the operator or Lambda refused. Rules on a field ratchet
	// while the field is unchanged; rules on spec, while spec is.
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec rule: !has(self.qualifier) || self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+$') || !self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+)$') || self.functionName.substring(self.functionName.lastIndexOf(':') + 1) == self.qualifier`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-qualifier-not-the-names
spec:
  functionName: my-function:live
  qualifier: prod
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "qualifier must match the qualifier suffix of functionName",
		Expect:  expectations{UnrelatedSpec: "qualifier must match the qualifier suffix of functionName"},
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec rule: !has(self.region) || (self.functionName.startsWith('arn:') ? self.functionName.split(':')[3] == self.region : !self.functionName.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:([0-9]{12}:)?(function:)?[a-zA-Z0-9_.-]+(:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+))?$') || self.functionName.split(':')[0] == self.region)`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-region-not-the-arns
spec:
  functionName: arn:aws:lambda:us-east-2:123456789012:function:my-function
  region: eu-west-1
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "region must be the region in functionName's ARN",
		Expect:  expectations{UnrelatedSpec: "region must be the region in functionName's ARN"},
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.functionName rule: !self.endsWith(':$LATEST')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-function-latest
spec:
  functionName: my-function:$LATEST
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "functionName: Lambda does not support policies on $LATEST",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.functionName rule: self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}$') || (!self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]+$') && self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]{1,128})$'))`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-function-name-with-a-space
spec:
  functionName: my function
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "functionName must be a function name",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.principal minLength`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-principal-empty
spec:
  functionName: my-function
  authType: NONE
  principal: ""
`,
		Refusal: "spec.principal in body should be at least 1 chars long",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.principal rule: self.matches('^([*]|[0-9]{12}|arn:aws[a-zA-Z-]*:(iam|sts)::[0-9]{12}:(root|[a-z-]+(/[a-zA-Z0-9_+=,.@-]+)+)|([a-z0-9]([a-z0-9-]*[a-z0-9])?[.])+(amazonaws[.]com([.]cn)?|amazon[.]com))$')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-principal-nobody
spec:
  functionName: my-function
  authType: AWS_IAM
  principal: nobody
`,
		Refusal: "principal must be *, a 12-digit account id",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.principalOrgID rule: self.matches('^o-[a-z0-9]{10,32}$')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-org-id-in-upper-case
spec:
  functionName: my-function
  authType: NONE
  principalOrgID: o-A1B2C3D4E5
`,
		Refusal: "principalOrgID must be an organization id",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.qualifier minLength`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-qualifier-empty
spec:
  functionName: my-function
  qualifier: ""
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "spec.qualifier in body should be at least 1 chars long",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.qualifier rule: self != '$LATEST'`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-qualifier-latest
spec:
  functionName: my-function
  qualifier: $LATEST
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "qualifier: Lambda does not support policies on $LATEST",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.qualifier rule: self.matches('^([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_$-]+)$')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-qualifier-with-a-dot
spec:
  functionName: my-function
  qualifier: v1.2
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "qualifier must be a version number or an alias name",
	},
	{
		Change: `LambdaFunctionURLPermission/v1alpha1 .spec.region rule: self.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]$')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-region-not-a-region
spec:
  functionName: my-function
  region: us-east
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "region must be an AWS region such as us-east-2",
	},
	{
		Change: `LambdaPermission/v1alpha1 .spec rule: !((has(self.effect) && self.effect == 'Deny') || (has(self.conditions) && size(self.conditions) > 0)) || !has(self.action) || self.action.lowerAscii() in ['*', 'lambda:*', 'lambda:createalias', 'lambda:deletealias', 'lambda:deletefunction', 'lambda:deletefunctionconcurrency', 'lambda:deletefunctioneventinvokeconfig', 'lambda:deletefunctionurlconfig', 'lambda:deleteprovisionedconcurrencyconfig', 'lambda:getalias', 'lambda:getfunction', 'lambda:getfunctioncodesigningconfig', 'lambda:getfunctionconcurrency', 'lambda:getfunctionconfiguration', 'lambda:getfunctioneventinvokeconfig', 'lambda:getfunctionurlconfig', 'lambda:getpolicy', 'lambda:getprovisionedconcurrencyconfig', 'lambda:invokefunction', 'lambda:invokefunctionurl', 'lambda:listaliases', 'lambda:listfunctioneventinvokeconfigs', 'lambda:listprovisionedconcurrencyconfigs', 'lambda:listtags', 'lambda:listversionsbyfunction', 'lambda:publishversion', 'lambda:putfunctionconcurrency', 'lambda:putfunctioneventinvokeconfig', 'lambda:putprovisionedconcurrencyconfig', 'lambda:tagresource', 'lambda:untagresource', 'lambda:updatealias', 'lambda:updatefunctioncode', 'lambda:updatefunctionconfiguration', 'lambda:updatefunctioneventinvokeconfig']`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: deny-unknown-action
spec:
  functionName: my-function
  statementId: deny-unknown-action
  effect: Deny
  action: lambda:Foo
  principal: "*"
`,
		Refusal: "action: with effect Deny or conditions",
		Expect:  expectations{UnrelatedSpec: "action: with effect Deny or conditions"},
	},
	{
		Change: `LambdaPermission/v1alpha1 .spec rule: !has(self.region) || (self.functionName.startsWith('arn:') ? self.functionName.split(':')[3] == self.region : !self.functionName.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:([0-9]{12}:)?(function:)?[a-zA-Z0-9_.-]+(:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+))?$') || self.functionName.split(':')[0] == self.region)`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: region-against-a-region-prefix
spec:
  functionName: us-east-2:my-function
  statementId: region-prefix
  region: eu-west-1
  principal: "111122223333"
`,
		Refusal: "region must be the region in functionName's ARN",
		Expect:  expectations{UnrelatedSpec: "region must be the region in functionName's ARN"},
	},
	{
		Change: `LambdaPermission/v1alpha1 .spec.functionName rule: self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}$') || (!self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]+$') && self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]{1,128})$'))`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: dotted-function-name
spec:
  functionName: my.function
  statementId: dotted-name
  principal: "111122223333"
`,
		Refusal: "no function has a '.' in its name",
	},
	{
		Change: `LambdaPermission/v1alpha1 .spec.principal rule: self.matches('^([*]|[0-9]{12}|arn:aws[a-zA-Z-]*:(iam|sts)::[0-9]{12}:(root|[a-z-]+(/[a-zA-Z0-9_+=,.@-]+)+)|([a-z0-9]([a-z0-9-]*[a-z0-9])?[.])+(amazonaws[.]com([.]cn)?|amazon[.]com))$')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: service-label-ending-in-a-dash
spec:
  functionName: my-function
  statementId: label-dash
  principal: s3-.amazonaws.com
  sourceAccount: "123456789012"
`,
		Refusal: "principal must be *, a 12-digit account id",
	},
	{
		Change: `LambdaPermission/v1alpha1 .spec.sourceArn rule: size(self) + size(self.findAll('[\\x{10000}-\\x{10FFFF}]')) <= 10000`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: source-arn-over-10000-in-utf-16
spec:
  functionName: my-function
  statementId: astral
  principal: s3.amazonaws.com
  sourceArn: "arn:aws:s3:::` + strings.Repeat("\U0001D49C", 5000) + `"
`,
		Refusal: "sourceArn must be at most 10000 characters as Lambda counts them",
	},
	{
		Change: `LambdaPermissionAccount/v1alpha1 .spec rule: !has(self.roleArn) || !self.roleArn.matches('^arn:[^:]*:iam::[0-9]{12}:') || self.roleArn.split(':')[4] == self.accountID`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermissionAccount
metadata:
  name: role-in-another-account
spec:
  accountID: "123456789012"
  roleArn: arn:aws:iam::111122223333:role/operator
`,
		Refusal: "roleArn must be a role in accountID's account",
		Expect:  expectations{UnrelatedSpec: "roleArn must be a role in accountID's account"},
	},
	{
		Change: `LambdaPermissionAccount/v1alpha1 .spec.access[*].functions[*] pattern`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermissionAccount
metadata:
  name: function-pattern-unclosed
spec:
  accountID: "123456789013"
  access:
  - namespaceSelector: {}
    functions: ["payments-*", "pay["]
`,
		Refusal: "in body should match",
	},
	{
		Change: `LambdaPermissionAccount/v1alpha1 .spec.roleArn rule: self.matches('^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/([a-zA-Z0-9_+=,.@-]+/)*[a-zA-Z0-9_+=,.@-]{1,64}$')`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermissionAccount
metadata:
  name: role-empty-path-part
spec:
  accountID: "123456789014"
  roleArn: arn:aws:iam::123456789014:role/a//b
`,
		Refusal: "roleArn must be an IAM role ARN",
	},
	{
		// A function URL grant named with 247 to 253 characters could not
		// make its -invoke LambdaPermission. The rule runs on create only
		// (optionalOldSelf): such an object, stored before, can still be
		// updated and, above all, released by the operator's finalizer.
		Change: `LambdaFunctionURLPermission/v1alpha1 . rule: oldSelf.hasValue() || size(self.metadata.name) <= 246 (optionalOldSelf)`,
		Object: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: url-name-over-246-` + strings.Repeat("n", 247-len("url-name-over-246-")) + `
spec:
  functionName: my-function
  authType: AWS_IAM
  principal: "111122223333"
`,
		Refusal: "metadata.name must be at most 246 characters",
	},
}

// conditionKeysOfFieldsRule is LambdaPermission's rule that a condition
// may not name a key a field of its own sets.
const conditionKeysOfFieldsRule = "!has(self.conditions) || self.conditions.all(c, !((has(self.sourceArn) && c.key.lowerAscii() == 'aws:sourcearn') || " +
	"(has(self.sourceAccount) && c.key.lowerAscii() == 'aws:sourceaccount') || (has(self.principalOrgID) && c.key.lowerAscii() == 'aws:principalorgid') || " +
	"(has(self.functionUrlAuthType) && c.key.lowerAscii() == 'lambda:functionurlauthtype') || " +
	"(has(self.eventSourceToken) && c.key.lowerAscii() == 'lambda:eventsourcetoken') || " +
	"(has(self.invokedViaFunctionUrl) && self.invokedViaFunctionUrl && c.key.lowerAscii() == 'lambda:invokedviafunctionurl')))"

// acknowledged are changes tighter in form that no stored object can fail,
// each with the reason. Like ruleCases, an entry for a change not in the
// diff is logged and not used.
var acknowledged = map[string]string{
	"LambdaPermission/v1alpha1 .spec.conditions[*].key rule: self.matches('^[a-zA-Z0-9][a-zA-Z0-9-]*:[a-zA-Z0-9_./:=+@${}-]+$')": "3e75963 " +
		"widened the key pattern ^[a-zA-Z0-9]+:[a-zA-Z0-9_./:${}-]+$: '-' in the service prefix, '=+@' in the name; every key the old one accepted still matches",
}

// readDefaults are the fields (dot paths from the object's root, outside
// lists) whose default was added since the previous release: a stored object
// that lacks one reads with the default after the upgrade, on purpose.
var readDefaults = []string{}

// namespace holds the namespaced objects: the samples name it.
const namespace = "default"

// extraObject is an object stored besides the samples, to set fields they
// leave out. Owner names an object stored before it that owns it as the
// operator's LambdaFunctionURLPermission owns its two LambdaPermissions.
type extraObject struct {
	YAML  string
	Owner string // Kind/name
}

// extraObjects have every field of each kind set somewhere. Each is stored
// when its kind is in the previous release's CRDs; the kinds added since are
// created after the upgrade instead, so that these are known to be valid for
// the release that will have them.
var extraObjects = []extraObject{
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermissionAccount
metadata:
  name: every-field
  labels: {team: platform}
  annotations: {upgrade-test/note: every field of the spec set}
spec:
  accountID: "310987654321"
  roleArn: arn:aws:iam::310987654321:role/path/lambda-permission-operator
  externalID: upgrade-test:external-id
  sessionName: upgrade-test@cluster
  defaultRegion: eu-west-1
  default: true
  access:
  - namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: default}
      matchExpressions:
      - {key: team, operator: In, values: [payments, orders]}
    functions: [payments-api, "orders-*"]
  - namespaceSelector: {}
  guardrails:
    allowPublicAccess: true
    allowServiceWithoutSource: false
  writeStrategy: Statements
`},
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: every-field
  namespace: default
  labels: {team: payments}
  annotations: {upgrade-test/note: every field of the spec set}
spec:
  functionName: arn:aws:lambda:eu-west-1:310987654321:function:payments-api:live
  qualifier: live
  region: eu-west-1
  statementId: every-field_1
  action: lambda:InvokeFunction
  principal: sns.amazonaws.com
  sourceArn: arn:aws:sns:eu-west-1:310987654321:payments-events
  sourceAccount: "310987654321"
  principalOrgID: o-a1b2c3d4e5
  deletionPolicy: Retain
  managementPolicy: Observe
  effect: Allow
  conditions:
  - operator: IpAddress
    key: aws:SourceIp
    values: [192.0.2.0/24, 198.51.100.0/24]
  - operator: ForAnyValue:StringLikeIfExists
    key: aws:PrincipalTag/team
    values: [payments]
`},
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: alexa-skill
  namespace: default
spec:
  functionName: 123456789012:function:skill
  principal: alexa-appkit.amazon.com
  eventSourceToken: amzn1.ask.skill.0a1b2c3d-4e5f-6789-abcd-ef0123456789
  action: lambda:InvokeFunction
`},
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: deny-public
  namespace: default
spec:
  functionName: us-east-2:123456789012:function:reports
  statementId: deny-public
  effect: Deny
  action: "*"
  principal: "*"
  conditions:
  - operator: Bool
    key: aws:SecureTransport
    values: ["false"]
`},
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: public-url
  namespace: default
spec:
  functionName: my-function
  qualifier: live
  region: us-east-2
  authType: NONE
  principal: "*"
  principalOrgID: o-a1b2c3d4e5
  statementIdPrefix: public-url
  deletionPolicy: Retain
  managementPolicy: Manage
`},
	// The two LambdaPermissions the operator makes for public-url.
	{Owner: "LambdaFunctionURLPermission/public-url", YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: public-url-url
  namespace: default
spec:
  functionName: my-function
  qualifier: live
  region: us-east-2
  statementId: public-url-url
  action: lambda:InvokeFunctionUrl
  principal: "*"
  principalOrgID: o-a1b2c3d4e5
  functionUrlAuthType: NONE
  deletionPolicy: Retain
  managementPolicy: Manage
`},
	{Owner: "LambdaFunctionURLPermission/public-url", YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata:
  name: public-url-invoke
  namespace: default
spec:
  functionName: my-function
  qualifier: live
  region: us-east-2
  statementId: public-url-invoke
  action: lambda:InvokeFunction
  principal: "*"
  principalOrgID: o-a1b2c3d4e5
  invokedViaFunctionUrl: true
  deletionPolicy: Retain
  managementPolicy: Manage
`},
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaFunctionURLPermission
metadata:
  name: iam-url
  namespace: default
spec:
  functionName: arn:aws:lambda:us-east-2:123456789012:function:internal
  authType: AWS_IAM
  principal: arn:aws:iam::123456789012:role/caller
`},
	{YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaResourcePolicy
metadata:
  name: every-field
  namespace: default
  labels: {team: payments}
spec:
  functionName: arn:aws:lambda:eu-west-1:310987654321:function:ledger:prod
  qualifier: prod
  region: eu-west-1
  includePermissions: false
  managementPolicy: Observe
  deletionPolicy: Retain
  policy:
    Version: "2012-10-17"
    Statement:
    - Sid: org-services
      Effect: Allow
      Principal: {Service: [events.amazonaws.com, sns.amazonaws.com], AWS: ["123456789012", "arn:aws:iam::223456789012:role/reader"]}
      Action: [lambda:InvokeFunction, lambda:GetFunction]
      Resource: arn:aws:lambda:eu-west-1:310987654321:function:ledger:prod
      Condition:
        StringEquals: {"aws:PrincipalOrgID": o-a1b2c3d4e5, "aws:SourceAccount": ["310987654321", "123456789012"]}
        ArnLike: {"aws:SourceArn": "arn:aws:events:eu-west-1:310987654321:rule/*"}
    - Sid: deny_plain_http
      Effect: Deny
      Principal: "*"
      Action: "lambda:*"
      Condition:
        Bool: {"aws:SecureTransport": "false"}
`},
}

// specChanges are, by kind, a spec change that touches no rule but the
// field's own enum: the "unrelated field" of a stored object.
var specChanges = map[string]func(spec map[string]any){
	"LambdaPermission":            flip("deletionPolicy", "Delete", "Retain"),
	"LambdaFunctionURLPermission": flip("deletionPolicy", "Delete", "Retain"),
	"LambdaResourcePolicy":        flip("deletionPolicy", "Delete", "Retain"),
	"LambdaPermissionAccount":     flip("writeStrategy", "Statements", "Document"),
}

// flip sets field to b when it is a (or unset, the default), else to a.
func flip(field, a, b string) func(spec map[string]any) {
	return func(spec map[string]any) {
		if v, _ := spec[field].(string); v == "" || v == a {
			spec[field] = b
		} else {
			spec[field] = a
		}
	}
}

// finalizers are what the operator puts on each kind.
var finalizers = map[string][]string{
	"LambdaPermission":            {lambdav1alpha1.PermissionFinalizer},
	"LambdaFunctionURLPermission": {lambdav1alpha1.FunctionURLFinalizer},
	"LambdaResourcePolicy":        {lambdav1alpha1.ResourcePolicyFinalizer},
	"LambdaPermissionAccount":     nil,
}

// probe is an object the current release refuses on create, with part of
// the message.
type probe struct {
	YAML    string
	Refusal string
}

// newKindProbes break a rule of each kind added since the previous release,
// to see its CRD's rules in force.
var newKindProbes = map[string]probe{
	"LambdaResourcePolicy": {
		YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaResourcePolicy
metadata:
  name: duplicate-sids
  namespace: default
spec:
  functionName: my-function
  policy:
    Statement:
    - {Sid: same, Effect: Allow, Principal: "*", Action: lambda:InvokeFunction}
    - {Sid: same, Effect: Allow, Principal: "*", Action: lambda:GetFunction}
`,
		Refusal: "policy.Statement[].Sid must be unique",
	},
}

// admissionProbes break a rule of each ValidatingAdmissionPolicy that
// refuses (validationActions Deny), by policy name: created (dry run) until
// refused, they say when the policy is in force.
var admissionProbes = map[string]probe{
	"lambda-resource-policy-validation": {
		YAML: `
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaResourcePolicy
metadata:
  name: bad-principal
  namespace: default
spec:
  functionName: my-function
  policy:
    Statement:
    - {Sid: probe, Effect: Allow, Principal: 5, Action: lambda:InvokeFunction}
`,
		Refusal: "spec.policy.Statement[0].Principal",
	},
}

// statusFor is the status the operator writes for obj (as stored, with its
// generation), or an error for a kind it does not know.
func statusFor(obj *unstructured.Unstructured) (map[string]any, error) {
	gen := obj.GetGeneration()
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	spec, _ := obj.Object["spec"].(map[string]any)
	str := func(k string) string { s, _ := spec[k].(string); return s }
	condition := func(typ, status, reason, message string) map[string]any {
		return map[string]any{"type": typ, "status": status, "reason": reason, "message": message,
			"observedGeneration": gen, "lastTransitionTime": now}
	}
	ready := []any{condition(lambdav1alpha1.ConditionReady, "True", lambdav1alpha1.ReasonSynced, "the statement is in the policy as specified")}
	switch obj.GetKind() {
	case "LambdaPermission":
		sid := str("statementId")
		conditions := ready
		switch {
		case str("managementPolicy") == "Observe":
			msg := "managementPolicy Observe: statement " + sid + " differs from the spec"
			conditions = []any{
				condition(lambdav1alpha1.ConditionReady, "False", lambdav1alpha1.ReasonDriftDetected, msg),
				condition(lambdav1alpha1.ConditionStalled, "True", lambdav1alpha1.ReasonDriftDetected, msg),
			}
		case sid == "":
			sid = "default-" + obj.GetName()
			msg := "Lambda asked to slow down; retrying in 4s"
			conditions = []any{
				condition(lambdav1alpha1.ConditionReady, "False", lambdav1alpha1.ReasonThrottled, msg),
				condition(lambdav1alpha1.ConditionReconciling, "True", lambdav1alpha1.ReasonThrottled, msg),
			}
		}
		arn := functionARN(str("functionName"), str("qualifier"))
		statement, _ := json.Marshal(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]any{"Service": str("principal")},
			"Action": "lambda:InvokeFunction", "Resource": arn})
		return map[string]any{
			"observedGeneration": gen,
			"conditions":         conditions,
			"statementId":        sid,
			"functionArn":        arn,
			"statement":          string(statement),
			"policyRevisionId":   "8c6a0f44-1b0e-4d5e-9f67-3f1f2a7f6a10",
			"lastSyncTime":       now,
			"policySize":         int64(412),
			"policySizeLimit":    int64(20480),
		}, nil
	case "LambdaPermissionAccount":
		caller := "arn:aws:sts::" + str("accountID") + ":assumed-role/lambda-permission-operator/lambda-permission-operator"
		return map[string]any{
			"observedGeneration": gen,
			"conditions":         []any{condition(lambdav1alpha1.ConditionReady, "True", lambdav1alpha1.ReasonIdentityVerified, "acting as "+caller)},
			"callerArn":          caller,
		}, nil
	case "LambdaFunctionURLPermission":
		return map[string]any{
			"observedGeneration": gen,
			"conditions":         []any{condition(lambdav1alpha1.ConditionReady, "True", lambdav1alpha1.ReasonSynced, "both statements of the function URL are in place")},
			"permissions":        []any{obj.GetName() + "-url", obj.GetName() + "-invoke"},
		}, nil
	case "LambdaResourcePolicy":
		var sids []any
		if policy, ok := spec["policy"].(map[string]any); ok {
			statements, _ := policy["Statement"].([]any)
			for _, s := range statements {
				if m, ok := s.(map[string]any); ok {
					sids = append(sids, m["Sid"])
				}
			}
		}
		return map[string]any{
			"observedGeneration": gen,
			"conditions":         ready,
			"resourceArn":        functionARN(str("functionName"), str("qualifier")),
			"statementCount":     int64(len(sids) + 1),
			"includedStatements": int64(1),
			"policySize":         int64(911),
			"policySizeLimit":    int64(20480),
			"policyRevisionId":   "5d1c7b0e-2f55-4a8e-a1d3-0b9c8e7f6a21",
			"lastChange":         map[string]any{"time": now, "added": sids, "removed": []any{"legacy"}},
			"lastSyncTime":       now,
		}, nil
	}
	return nil, fmt.Errorf("no status for kind %s: add it to statusFor in cases_test.go", obj.GetKind())
}

// functionARN is the ARN a function name stands for, in the operator's
// default account and region when it does not say.
func functionARN(name, qualifier string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	parts := strings.Split(name, ":")
	region, account := "us-east-2", "123456789012"
	switch {
	case len(parts) >= 4 && parts[2] == "function":
		region, account, name = parts[0], parts[1], strings.Join(parts[3:], ":")
	case len(parts) >= 3 && parts[1] == "function":
		account, name = parts[0], strings.Join(parts[2:], ":")
	}
	arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + name
	if qualifier != "" && !strings.HasSuffix(arn, ":"+qualifier) {
		arn += ":" + qualifier
	}
	return arn
}
