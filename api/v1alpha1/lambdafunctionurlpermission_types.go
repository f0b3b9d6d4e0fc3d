package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LambdaFunctionURLPermissionSpec grants access to a function URL. Since
// October 2025 a function URL needs two statements: lambda:InvokeFunctionUrl
// limited to the URL's auth type, and lambda:InvokeFunction limited to calls
// made through the URL. This object keeps both, as two LambdaPermissions it
// owns.
//
// Its functionName, qualifier, region, principal and principalOrgID are
// checked as LambdaPermission's are, since they become those
// LambdaPermissions' own: a value their CRD refuses would leave this
// object unable to create them.
//
// +kubebuilder:validation:XValidation:rule=`!has(self.qualifier) || self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+$') || !self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+)$') || self.functionName.substring(self.functionName.lastIndexOf(':') + 1) == self.qualifier`,message="qualifier must match the qualifier suffix of functionName",fieldPath=".qualifier",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule=`!has(self.region) || (self.functionName.startsWith('arn:') ? self.functionName.split(':')[3] == self.region : !self.functionName.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:([0-9]{12}:)?(function:)?[a-zA-Z0-9_.-]+(:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+))?$') || self.functionName.split(':')[0] == self.region)`,message="region must be the region in functionName's ARN (or in its REGION: prefix), or be left out",fieldPath=".region",reason=FieldValueInvalid
type LambdaFunctionURLPermissionSpec struct {
	// FunctionName names the function, as in LambdaPermission.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}$') || (!self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]+$') && self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]{1,128})$'))`,message="functionName must be a function name, name:qualifier, ACCOUNT:function:name or arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier], with a name of at most 64 characters (letters, digits, '-' and '_': no function has a '.' in its name) and a qualifier of at most 128"
	// +kubebuilder:validation:XValidation:rule=`!self.endsWith(':$LATEST')`,message="functionName: Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="functionName is immutable"
	FunctionName string `json:"functionName"`

	// Qualifier is the alias (or version) the URL belongs to, if any.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_$-]+)$')`,message="qualifier must be a version number or an alias name (letters, digits, '-', '_')"
	// +kubebuilder:validation:XValidation:rule=`self != '$LATEST'`,message="qualifier: Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="qualifier is immutable"
	Qualifier string `json:"qualifier,omitempty"`

	// Region of the function when functionName is not an ARN.
	// +optional
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]$')`,message="region must be an AWS region such as us-east-2"
	// +kubebuilder:validation:MaxLength=32
	Region string `json:"region,omitempty"`

	// AuthType is the function URL's auth type: NONE (public URL) or
	// AWS_IAM (callers sign their requests).
	// +required
	// +kubebuilder:validation:Enum=NONE;AWS_IAM
	AuthType string `json:"authType"`

	// Principal who may call the URL: * (anyone, the usual choice with
	// NONE), an account id or an IAM ARN (usual with AWS_IAM).
	// +optional
	// +kubebuilder:default="*"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([*]|[0-9]{12}|arn:aws[a-zA-Z-]*:(iam|sts)::[0-9]{12}:(root|[a-z-]+(/[a-zA-Z0-9_+=,.@-]+)+)|([a-z0-9]([a-z0-9-]*[a-z0-9])?[.])+(amazonaws[.]com([.]cn)?|amazon[.]com))$')`,message="principal must be *, a 12-digit account id, an IAM ARN (arn:aws:iam::123456789012:role/name) or a service principal (s3.amazonaws.com)"
	Principal string `json:"principal,omitempty"`

	// PrincipalOrgID limits the grant to principals of this organization.
	// +optional
	// +kubebuilder:validation:MaxLength=34
	// +kubebuilder:validation:XValidation:rule=`self.matches('^o-[a-z0-9]{10,32}$')`,message="principalOrgID must be an organization id like o-a1b2c3d4e5"
	PrincipalOrgID string `json:"principalOrgID,omitempty"`

	// StatementIDPrefix starts the Sids of both statements, which end in
	// -url and -invoke. Default: derived from the namespace and name.
	// +optional
	// +kubebuilder:validation:MaxLength=90
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9_-]+$')`,message="statementIdPrefix must contain only letters, digits, '-' and '_'"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="statementIdPrefix is immutable"
	StatementIDPrefix string `json:"statementIdPrefix,omitempty"`

	// DeletionPolicy applies to both statements.
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:Enum=Delete;Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// ManagementPolicy applies to both statements.
	// +optional
	// +kubebuilder:default=Manage
	// +kubebuilder:validation:Enum=Manage;Observe
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`
}

// LambdaFunctionURLPermissionStatus sums up the two statements.
type LambdaFunctionURLPermissionStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready when both statements are in place; Stalled or
	// Reconciling as the worse of the two.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Permissions are the LambdaPermissions holding the two statements.
	// +optional
	Permissions []string `json:"permissions,omitempty"`
}

// LambdaFunctionURLPermission grants access to a function URL with the two
// statements AWS requires, kept and removed together.
//
// The rule on metadata.name runs on create only (a name never changes), so
// that an object stored before it can still be updated and released.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lpurl,categories=aws
// +kubebuilder:validation:XValidation:rule=`oldSelf.hasValue() || size(self.metadata.name) <= 246`,optionalOldSelf=true,message="metadata.name must be at most 246 characters: the two LambdaPermissions this object makes are named after it with -url and -invoke added, and an object's name is at most 253"
// +kubebuilder:printcolumn:name="Function",type=string,JSONPath=`.spec.functionName`
// +kubebuilder:printcolumn:name="Auth",type=string,JSONPath=`.spec.authType`
// +kubebuilder:printcolumn:name="Principal",type=string,JSONPath=`.spec.principal`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LambdaFunctionURLPermission struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LambdaFunctionURLPermissionSpec `json:"spec"`

	// Status is what the controller last observed and did. A new object's
	// status says observedGeneration 0 until the controller's first status,
	// so that kstatus (Flux, Argo CD) reads the object as in progress, not
	// as Current, from its creation on.
	// +kubebuilder:default={observedGeneration: 0}
	Status LambdaFunctionURLPermissionStatus `json:"status,omitempty"`
}

// LambdaFunctionURLPermissionList is a list of LambdaFunctionURLPermission.
//
// +kubebuilder:object:root=true
type LambdaFunctionURLPermissionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LambdaFunctionURLPermission `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LambdaFunctionURLPermission{}, &LambdaFunctionURLPermissionList{})
}
