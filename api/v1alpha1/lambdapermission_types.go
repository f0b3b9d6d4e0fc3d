package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LambdaPermissionSpec is one statement of a Lambda function's resource-based
// policy, stated as the members of an AddPermission call. Every pattern is
// Lambda's own (the project's Lambda API spec, §2), checked at admission so
// that bad input is refused with the field named before any AWS call.
//
// +kubebuilder:validation:XValidation:rule=`!has(self.qualifier) || self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+$') || !self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+)$') || self.functionName.substring(self.functionName.lastIndexOf(':') + 1) == self.qualifier`,message="qualifier must match the qualifier suffix of functionName",fieldPath=".qualifier",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule=`!has(self.region) || (self.functionName.startsWith('arn:') ? self.functionName.split(':')[3] == self.region : !self.functionName.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:([0-9]{12}:)?(function:)?[a-zA-Z0-9_.-]+(:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+))?$') || self.functionName.split(':')[0] == self.region)`,message="region must be the region in functionName's ARN (or in its REGION: prefix), or be left out",fieldPath=".region",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule=`!has(oldSelf.qualifier) || (has(self.qualifier) && self.qualifier == oldSelf.qualifier)`,message="qualifier is immutable once set",fieldPath=".qualifier"
// +kubebuilder:validation:XValidation:rule=`!has(oldSelf.statementId) || (has(self.statementId) && self.statementId == oldSelf.statementId)`,message="statementId is immutable once set",fieldPath=".statementId"
// +kubebuilder:validation:XValidation:rule=`!((has(self.effect) && self.effect == 'Deny') || (has(self.conditions) && size(self.conditions) > 0)) || !has(self.action) || self.action.lowerAscii() in ['*', 'lambda:*', 'lambda:createalias', 'lambda:deletealias', 'lambda:deletefunction', 'lambda:deletefunctionconcurrency', 'lambda:deletefunctioneventinvokeconfig', 'lambda:deletefunctionurlconfig', 'lambda:deleteprovisionedconcurrencyconfig', 'lambda:getalias', 'lambda:getfunction', 'lambda:getfunctioncodesigningconfig', 'lambda:getfunctionconcurrency', 'lambda:getfunctionconfiguration', 'lambda:getfunctioneventinvokeconfig', 'lambda:getfunctionurlconfig', 'lambda:getpolicy', 'lambda:getprovisionedconcurrencyconfig', 'lambda:invokefunction', 'lambda:invokefunctionurl', 'lambda:listaliases', 'lambda:listfunctioneventinvokeconfigs', 'lambda:listprovisionedconcurrencyconfigs', 'lambda:listtags', 'lambda:listversionsbyfunction', 'lambda:publishversion', 'lambda:putfunctionconcurrency', 'lambda:putfunctioneventinvokeconfig', 'lambda:putprovisionedconcurrencyconfig', 'lambda:tagresource', 'lambda:untagresource', 'lambda:updatealias', 'lambda:updatefunctioncode', 'lambda:updatefunctionconfiguration', 'lambda:updatefunctioneventinvokeconfig']`,message="action: with effect Deny or conditions the statement is written in a whole policy document, which takes only lambda:* or *, or an operation a function's policy supports (lambda:InvokeFunction, lambda:InvokeFunctionUrl, lambda:GetFunction, …)",fieldPath=".action",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule=`!has(self.conditions) || self.conditions.all(c, !((has(self.sourceArn) && c.key.lowerAscii() == 'aws:sourcearn') || (has(self.sourceAccount) && c.key.lowerAscii() == 'aws:sourceaccount') || (has(self.principalOrgID) && c.key.lowerAscii() == 'aws:principalorgid') || (has(self.functionUrlAuthType) && c.key.lowerAscii() == 'lambda:functionurlauthtype') || (has(self.eventSourceToken) && c.key.lowerAscii() == 'lambda:eventsourcetoken') || (has(self.invokedViaFunctionUrl) && self.invokedViaFunctionUrl && c.key.lowerAscii() == 'lambda:invokedviafunctionurl')))`,message="conditions must not name a key that another field sets (sourceArn: aws:SourceArn, sourceAccount: aws:SourceAccount, principalOrgID: aws:PrincipalOrgID, functionUrlAuthType, eventSourceToken, invokedViaFunctionUrl): its values would widen the grant; say it in one place",fieldPath=".conditions",reason=FieldValueInvalid
type LambdaPermissionSpec struct {
	// FunctionName names the function: a name (my-function), a partial ARN
	// (123456789012:function:my-function) or an ARN
	// (arn:aws:lambda:us-east-2:123456789012:function:my-function), each
	// optionally ending in :qualifier (a version or alias). The name itself
	// is at most 64 characters. As in Lambda's pattern, REGION: and ACCOUNT:
	// are optional prefixes: 123456789012:my-function is function my-function
	// of account 123456789012, while my-function:1 is version 1 of my-function.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}$') || (!self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]+$') && self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]{1,128})$'))`,message="functionName must be a function name, name:qualifier, ACCOUNT:function:name or arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier], with a name of at most 64 characters (letters, digits, '-' and '_': no function has a '.' in its name) and a qualifier of at most 128"
	// +kubebuilder:validation:XValidation:rule=`!self.endsWith(':$LATEST')`,message="functionName: Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="functionName is immutable"
	FunctionName string `json:"functionName"`

	// Qualifier is a version number or alias name; the statement then applies
	// to that version or alias only. $LATEST cannot carry a policy.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_$-]+)$')`,message="qualifier must be a version number or an alias name (letters, digits, '-', '_')"
	// +kubebuilder:validation:XValidation:rule=`self != '$LATEST'`,message="qualifier: Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function"
	Qualifier string `json:"qualifier,omitempty"`

	// StatementID is the statement's Sid, unique within the policy. When
	// empty, the controller derives one from the namespace and name and
	// records it in status.statementId.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9_-]+$')`,message="statementId must contain only letters, digits, '-' and '_' (Lambda refuses '.')"
	// +kubebuilder:validation:XValidation:rule=`!self.matches('compacted-(sourcearn|sourceaccount|principal|action)-[0-9a-f]{16}$')`,message="statementId must not end in compacted-<dimension>-<16 hex digits>: that names a statement the operator compacts, and rewrites"
	StatementID string `json:"statementId,omitempty"`

	// Action the principal may call: lambda:InvokeFunction,
	// lambda:InvokeFunctionUrl, lambda:GetFunction, lambda:* or *.
	// +optional
	// +kubebuilder:default="lambda:InvokeFunction"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=10000
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(lambda:[*]|lambda:[a-zA-Z]+|[*])$')`,message="action must be lambda:ActionName, lambda:* or *"
	Action string `json:"action,omitempty"`

	// Principal is who is granted: an AWS service (s3.amazonaws.com), an
	// account id (123456789012, stored by Lambda as its root ARN), an IAM
	// role or user ARN, or * for anyone.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([*]|[0-9]{12}|arn:aws[a-zA-Z-]*:(iam|sts)::[0-9]{12}:(root|[a-z-]+(/[a-zA-Z0-9_+=,.@-]+)+)|([a-z0-9]([a-z0-9-]*[a-z0-9])?[.])+(amazonaws[.]com([.]cn)?|amazon[.]com))$')`,message="principal must be *, a 12-digit account id, an IAM ARN (arn:aws:iam::123456789012:role/name) or a service principal (s3.amazonaws.com)"
	Principal string `json:"principal"`

	// SourceArn limits the grant to calls made on behalf of this resource
	// (an S3 bucket, an SNS topic, an API Gateway route…). Wildcards are
	// allowed; Lambda matches it with ArnLike.
	// +optional
	// +kubebuilder:validation:MaxLength=10000
	// +kubebuilder:validation:XValidation:rule=`self.matches('^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9])?:([0-9]{12})?:(.*)$')`,message="sourceArn must be an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
	// +kubebuilder:validation:XValidation:rule=`size(self) + size(self.findAll('[\\x{10000}-\\x{10FFFF}]')) <= 10000`,message="sourceArn must be at most 10000 characters as Lambda counts them: in UTF-16, where a character outside the Basic Multilingual Plane counts two"
	SourceArn string `json:"sourceArn,omitempty"`

	// SourceAccount limits the grant to calls on behalf of resources owned by
	// this account.
	// +optional
	// +kubebuilder:validation:MaxLength=12
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[0-9]{12}$')`,message="sourceAccount must be a 12-digit AWS account id"
	SourceAccount string `json:"sourceAccount,omitempty"`

	// PrincipalOrgID limits the grant to principals of this AWS
	// Organizations organization.
	// +optional
	// +kubebuilder:validation:MaxLength=34
	// +kubebuilder:validation:XValidation:rule=`self.matches('^o-[a-z0-9]{10,32}$')`,message="principalOrgID must be an organization id like o-a1b2c3d4e5"
	PrincipalOrgID string `json:"principalOrgID,omitempty"`

	// EventSourceToken is the Alexa skill id or similar token a caller must
	// present.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9._-]+$')`,message="eventSourceToken must contain only letters, digits, '.', '_' and '-'"
	EventSourceToken string `json:"eventSourceToken,omitempty"`

	// FunctionURLAuthType limits a lambda:InvokeFunctionUrl grant to function
	// URLs of this auth type.
	// +optional
	// +kubebuilder:validation:Enum=NONE;AWS_IAM
	FunctionURLAuthType string `json:"functionUrlAuthType,omitempty"`

	// InvokedViaFunctionURL limits a lambda:InvokeFunction grant to calls that
	// come through the function's URL, as function URLs require since
	// October 2025.
	// +optional
	InvokedViaFunctionURL bool `json:"invokedViaFunctionUrl,omitempty"`

	// Region of the function when functionName is not an ARN; defaults to the
	// operator's region.
	// +optional
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]$')`,message="region must be an AWS region such as us-east-2"
	// +kubebuilder:validation:MaxLength=32
	Region string `json:"region,omitempty"`

	// DeletionPolicy says what happens to the statement when the object is
	// deleted: Delete removes it from the policy, Retain leaves it.
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:Enum=Delete;Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// ManagementPolicy: Manage (the default) keeps the statement in place;
	// Observe only compares the policy with the spec and reports drift in
	// the status, without ever writing (and so never removes the statement).
	// +optional
	// +kubebuilder:default=Manage
	// +kubebuilder:validation:Enum=Manage;Observe
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// Effect of the statement: Allow (the default) or Deny. A Deny needs a LambdaPermissionAccount with writeStrategy: Document.
	// +optional
	// +kubebuilder:validation:Enum=Allow;Deny
	// +kubebuilder:default=Allow
	Effect StatementEffect `json:"effect,omitempty"`

	// Conditions are IAM conditions added to those the other fields imply (sourceArn, sourceAccount, …). They need writeStrategy: Document.
	// Each (operator, key) pair may appear once.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +kubebuilder:validation:XValidation:rule=`self.all(c, self.exists_one(d, d.operator == c.operator && d.key.lowerAscii() == c.key.lowerAscii()))`,message="conditions may hold each (operator, key) pair only once (keys compare without case, as IAM's do): list every value of a key under one condition"
	Conditions []StatementCondition `json:"conditions,omitempty"`
}

// StatementEffect is a statement's Effect.
type StatementEffect string

const (
	// EffectAllow grants what the statement names.
	EffectAllow StatementEffect = "Allow"
	// EffectDeny refuses it, whatever another statement allows.
	EffectDeny StatementEffect = "Deny"
)

// StatementCondition is one IAM condition: operator, key and the values it matches.
type StatementCondition struct {
	// Operator is an IAM condition operator, e.g. IpAddress, StringEquals,
	// ForAnyValue:StringLike, ArnLikeIfExists. Null takes neither a set
	// prefix nor IfExists.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule=`self.matches('^((ForAnyValue:|ForAllValues:)?(StringEquals|StringNotEquals|StringEqualsIgnoreCase|StringNotEqualsIgnoreCase|StringLike|StringNotLike|NumericEquals|NumericNotEquals|NumericLessThan|NumericLessThanEquals|NumericGreaterThan|NumericGreaterThanEquals|DateEquals|DateNotEquals|DateLessThan|DateLessThanEquals|DateGreaterThan|DateGreaterThanEquals|Bool|BinaryEquals|IpAddress|NotIpAddress|ArnEquals|ArnLike|ArnNotEquals|ArnNotLike)(IfExists)?|Null)$')`,message="conditions[].operator must be an IAM condition operator (StringEquals, StringLike, IpAddress, ArnLike, Bool, …), optionally prefixed ForAnyValue: or ForAllValues: and/or suffixed IfExists, or Null alone"
	Operator string `json:"operator"`

	// Key is an IAM condition key, e.g. aws:SourceIp, aws:SourceVpce,
	// aws:PrincipalOrgPaths, lambda:FunctionUrlAuthType or
	// aws:RequestTag/team: a service prefix, a colon and a name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9][a-zA-Z0-9-]*:[a-zA-Z0-9_./:=+@${}-]+$')`,message="conditions[].key must be a condition key: a service prefix, a colon and a name (aws:SourceIp, lambda:FunctionUrlAuthType, aws:RequestTag/team, execute-api:…)"
	Key string `json:"key"`

	// Values the key is matched against: at least one.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=2048
	// +listType=atomic
	Values []string `json:"values"`
}

// ManagementPolicy says whether the controller may write.
type ManagementPolicy string

const (
	// ManagementPolicyManage: add, replace and remove the statement.
	ManagementPolicyManage ManagementPolicy = "Manage"
	// ManagementPolicyObserve: only compare; report drift, never write.
	ManagementPolicyObserve ManagementPolicy = "Observe"
)

// DeletionPolicy says what happens to the statement when its object goes.
type DeletionPolicy string

const (
	DeletionPolicyDelete DeletionPolicy = "Delete"
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// LambdaPermissionStatus is what the controller last observed and did.
type LambdaPermissionStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling and Stalled, as kstatus reads them.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// StatementID is the Sid of the statement this object manages.
	// +optional
	StatementID string `json:"statementId,omitempty"`

	// FunctionArn is the unqualified ARN of the function.
	// +optional
	FunctionArn string `json:"functionArn,omitempty"`

	// Statement is the statement exactly as Lambda stores it.
	// +optional
	Statement string `json:"statement,omitempty"`

	// Compacted is set when the object's grant is written in one statement
	// with others' (the account's compaction): statement is then that
	// statement, and this says which value in its list is this object's.
	// Like policySize, it is as of the object's last write or check:
	// members coming and going rewrite the list, not every member's status.
	// +optional
	Compacted *CompactedGrant `json:"compacted,omitempty"`

	// PolicyRevisionID is the policy's RevisionId when the statement was
	// last written or first found in place, or at the last requested sync
	// (empty after an AddPermission, which returns none). Changes others
	// make to the policy do not update it: that would cost a status write
	// per object on the policy for each change.
	// +optional
	PolicyRevisionID string `json:"policyRevisionId,omitempty"`

	// LastHandledSyncRequest is the value of the
	// lambda.permissions.dev/sync-requested annotation that the operator
	// last handled: it read the policy again after it saw the request.
	// +optional
	LastHandledSyncRequest string `json:"lastHandledSyncRequest,omitempty"`

	// LastSyncTime is no longer written, and the operator clears it. It was
	// written at every check, so each object in place cost a status write
	// per sync period. The lambda_permission_policy_read_timestamp_seconds
	// metric says when each policy was last read, and Ready's
	// lastTransitionTime when the statement was last found or put in place.
	//
	// Deprecated: read the metric and the Ready condition instead.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// PolicySize is the size in bytes of the whole policy the statement is
	// in (the function's, version's or alias's), as Lambda counts it
	// (estimated): after the statement was last written or first found in
	// place, or at the last requested sync. Lambda refuses a statement that
	// would take it past policySizeLimit. Others' statements coming and
	// going do not update it; the gauge lambda_permission_policy_size_bytes
	// has every policy's current size.
	// +optional
	PolicySize int32 `json:"policySize,omitempty"`

	// PolicySizeLimit is Lambda's limit on policySize: 20480.
	// +optional
	PolicySizeLimit int32 `json:"policySizeLimit,omitempty"`
}

// CompactedGrant is where a compacted statement holds an object's grant.
type CompactedGrant struct {
	// StatementID is the compacted statement's Sid: the operator's prefix,
	// "compacted-", what the members differ in and a hash of what they
	// share, so it stays as members come and go.
	StatementID string `json:"statementId"`

	// Dimension is what the members differ in: SourceArn, SourceAccount,
	// Principal or Action. Empty when the statement holds this grant alone.
	// +optional
	Dimension string `json:"dimension,omitempty"`

	// Value is this object's own value in the statement's list (its source
	// ARN, source account, principal or action).
	// +optional
	Value string `json:"value,omitempty"`
}

// LambdaPermission keeps one statement in a Lambda function's resource-based
// policy: the controller adds it, keeps it as specified, and removes it when
// the object is deleted. Statements it does not manage are never touched.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lperm,categories=aws
// +kubebuilder:printcolumn:name="Function",type=string,JSONPath=`.spec.functionName`
// +kubebuilder:printcolumn:name="Qualifier",type=string,JSONPath=`.spec.qualifier`
// +kubebuilder:printcolumn:name="Principal",type=string,JSONPath=`.spec.principal`
// +kubebuilder:printcolumn:name="Policy",type=integer,JSONPath=`.status.policySize`,description="Size in bytes of the function's policy when the statement was last written or checked on request, of Lambda's 20480 (status.policySizeLimit)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LambdaPermission struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LambdaPermissionSpec `json:"spec"`

	// Status is what the controller last observed and did. A new object's
	// status says observedGeneration 0 until the controller's first status,
	// so that kstatus (Flux, Argo CD) reads the object as in progress, not
	// as Current, from its creation on.
	// +kubebuilder:default={observedGeneration: 0}
	Status LambdaPermissionStatus `json:"status,omitempty"`
}

// LambdaPermissionList is a list of LambdaPermission.
//
// +kubebuilder:object:root=true
type LambdaPermissionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LambdaPermission `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LambdaPermission{}, &LambdaPermissionList{})
}
