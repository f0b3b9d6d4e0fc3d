package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LambdaPermissionAccountSpec declares an AWS account the operator may act
// in, with which identity, for which namespaces and functions, and how its
// guardrails are set. A cluster admin writes it; teams cannot.
//
// +kubebuilder:validation:XValidation:rule=`!has(self.roleArn) || !self.roleArn.matches('^arn:[^:]*:iam::[0-9]{12}:') || self.roleArn.split(':')[4] == self.accountID`,message="roleArn must be a role in accountID's account: the operator acts in the account of the role it assumes",fieldPath=".roleArn",reason=FieldValueInvalid
type LambdaPermissionAccountSpec struct {
	// AccountID is the 12-digit AWS account this object governs.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[0-9]{12}$')`,message="accountID must be a 12-digit AWS account id"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="accountID is immutable"
	// +kubebuilder:validation:MaxLength=12
	AccountID string `json:"accountID"`

	// RoleARN is an IAM role in the account for the operator to assume
	// (sts:AssumeRole). Empty: the operator's own identity acts, and must
	// belong to this account.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`self.matches('^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/([a-zA-Z0-9_+=,.@-]+/)*[a-zA-Z0-9_+=,.@-]{1,64}$')`,message="roleArn must be an IAM role ARN, arn:aws:iam::123456789012:role/name or arn:aws:iam::123456789012:role/path/name, with a name of at most 64 characters (IAM's limit)"
	RoleARN string `json:"roleArn,omitempty"`

	// ExternalID is passed to AssumeRole when the role's trust policy
	// requires one (sts:ExternalId).
	// +optional
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=1224
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9_+=,.@:/-]+$')`,message="externalID may contain letters, digits and _+=,.@:/-"
	ExternalID string `json:"externalID,omitempty"`

	// SessionName names the assumed-role sessions in CloudTrail.
	// +optional
	// +kubebuilder:default=lambda-permission-operator
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9_+=,.@-]+$')`,message="sessionName may contain letters, digits and _+=,.@-"
	SessionName string `json:"sessionName,omitempty"`

	// DefaultRegion is the region of functions in this account named
	// without one, unless the LambdaPermission sets spec.region.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]$')`,message="defaultRegion must be an AWS region such as us-east-2"
	DefaultRegion string `json:"defaultRegion,omitempty"`

	// Default makes this the account of functions named without an
	// account (a bare name such as my-function).
	// +optional
	Default bool `json:"default,omitempty"`

	// Access lists who may grant in this account. A LambdaPermission may
	// use the account when a rule selects its namespace, and may grant on a
	// function when such a rule allows the function. No rules: no namespace
	// may use the account.
	// +optional
	// +listType=atomic
	Access []AccountAccessRule `json:"access,omitempty"`

	// Guardrails override the operator's global guardrails (its flags) for
	// this account. Unset fields keep the global setting.
	// +optional
	Guardrails Guardrails `json:"guardrails,omitempty"`

	// WriteStrategy is how the operator writes the policies of this account's functions: Statements (the default: one AddPermission or RemovePermission per statement) or Document (one PutResourcePolicy per function for many statements under the policy's RevisionId: no gap during a replacement, Deny and any IAM condition; needs lambda:PutResourcePolicy and lambda:DeleteResourcePolicy besides lambda:GetPolicy, lambda:AddPermission and lambda:RemovePermission).
	// +optional
	// +kubebuilder:validation:Enum=Statements;Document
	// +kubebuilder:default=Statements
	WriteStrategy WriteStrategy `json:"writeStrategy,omitempty"`

	// Compaction writes grants that differ in one respect only (many S3
	// buckets, topics or rules invoking one function) as one statement
	// listing them, so that a policy holds far more grants than Lambda's
	// 20,480 bytes allow at one statement each. It applies where policies
	// are written whole: writeStrategy Document, and policies a
	// LambdaResourcePolicy owns (AddPermission writes one grant per
	// statement). Unset: the operator's --compaction.
	// +optional
	Compaction *Compaction `json:"compaction,omitempty"`
}

// Compaction says when the operator compacts the grants of LambdaPermissions.
type Compaction struct {
	// Mode: Off (never), Threshold (once the policy, written one statement
	// per grant, would pass thresholdPercent of Lambda's limit) or Always.
	// +optional
	// +kubebuilder:validation:Enum=Off;Threshold;Always
	// +kubebuilder:default=Off
	Mode CompactionMode `json:"mode,omitempty"`

	// ThresholdPercent is, for mode Threshold, the share of Lambda's limit
	// the uncompacted policy may take before it is compacted.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=75
	ThresholdPercent int32 `json:"thresholdPercent,omitempty"`
}

// CompactionMode is when grants are compacted.
type CompactionMode string

const (
	CompactionOff       CompactionMode = "Off"
	CompactionThreshold CompactionMode = "Threshold"
	CompactionAlways    CompactionMode = "Always"
)

// DefaultCompactionThresholdPercent is thresholdPercent's default.
const DefaultCompactionThresholdPercent = 75

// WriteStrategy is how the operator writes a function's policy.
type WriteStrategy string

const (
	// WriteStrategyStatements: one AddPermission or RemovePermission per
	// statement.
	WriteStrategyStatements WriteStrategy = "Statements"
	// WriteStrategyDocument: one PutResourcePolicy per function, for every
	// statement at once, under the policy's RevisionId.
	WriteStrategyDocument WriteStrategy = "Document"
)

// AccountAccessRule lets the selected namespaces grant on the listed
// functions.
type AccountAccessRule struct {
	// NamespaceSelector selects namespaces by label; {} selects every
	// namespace.
	// +required
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// Functions are glob patterns (* and ?) matched against the function's
	// name or its ARN, such as payments-* or
	// arn:aws:lambda:eu-west-1:123456789012:function:public-*. Empty: every
	// function in the account. They are matched as Go's path.Match does,
	// so [a-z] classes and \ escapes work too, and a pattern it cannot
	// read (an unclosed [, a trailing \) is refused: it would match nothing.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^([^\[\\]|\\.|\[(\^((\\.|[^\]\\-])(-(\\.|[^\]\\-]))?)+|(\\.|[^\]\\^-])(-(\\.|[^\]\\-]))?((\\.|[^\]\\-])(-(\\.|[^\]\\-]))?)*)\])*$`
	Functions []string `json:"functions,omitempty"`
}

// Guardrails refuse statements that are dangerous unless meant.
type Guardrails struct {
	// AllowPublicAccess allows principal * without a condition that narrows
	// it (sourceArn, sourceAccount, principalOrgID, or functionUrlAuthType
	// AWS_IAM): anyone on the internet could invoke the function.
	// +optional
	AllowPublicAccess *bool `json:"allowPublicAccess,omitempty"`

	// AllowServiceWithoutSource allows a service principal (such as
	// s3.amazonaws.com) without sourceArn or sourceAccount: resources in
	// any account could then make the service invoke the function (the
	// confused deputy problem).
	// +optional
	AllowServiceWithoutSource *bool `json:"allowServiceWithoutSource,omitempty"`
}

// LambdaPermissionAccountStatus reports whether the account can be used.
type LambdaPermissionAccountStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready is True when the operator could act as the
	// account's identity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// CallerArn is the identity the operator acts as in this account.
	// +optional
	CallerArn string `json:"callerArn,omitempty"`
}

// LambdaPermissionAccount declares an AWS account that LambdaPermissions may
// grant in: the identity to act as, the namespaces and functions allowed,
// and the guardrails. It is cluster-scoped so that only cluster admins
// write it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=lpaccount,categories=aws
// +kubebuilder:printcolumn:name="Account",type=string,JSONPath=`.spec.accountID`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.roleArn`
// +kubebuilder:printcolumn:name="Default",type=boolean,JSONPath=`.spec.default`
// +kubebuilder:printcolumn:name="Strategy",type=string,JSONPath=`.spec.writeStrategy`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LambdaPermissionAccount struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LambdaPermissionAccountSpec `json:"spec"`

	// Status is what the controller last observed and did. A new object's
	// status says observedGeneration 0 until the controller's first status,
	// so that kstatus (Flux, Argo CD) reads the object as in progress, not
	// as Current, from its creation on.
	// +kubebuilder:default={observedGeneration: 0}
	Status LambdaPermissionAccountStatus `json:"status,omitempty"`
}

// LambdaPermissionAccountList is a list of LambdaPermissionAccount.
//
// +kubebuilder:object:root=true
type LambdaPermissionAccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LambdaPermissionAccount `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LambdaPermissionAccount{}, &LambdaPermissionAccountList{})
}
