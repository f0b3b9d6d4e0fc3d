package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LambdaResourcePolicySpec is the whole resource-based policy of one
// function, version or alias, as it must be: the statements written here,
// plus (with includePermissions) those of the LambdaPermissions on the same
// function, version or alias. Anything else in the policy is removed.
//
// functionName, qualifier and region are checked as LambdaPermission's are
// (Lambda's own patterns, no $LATEST, a qualifier equal to functionName's
// suffix, a region equal to its ARN's). Together they name the policy, so
// none of them may change, be added or be removed: another function's
// policy is another LambdaResourcePolicy.
//
// +kubebuilder:validation:XValidation:rule=`!has(self.qualifier) || self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+$') || !self.functionName.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_.-]+:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+)$') || self.functionName.substring(self.functionName.lastIndexOf(':') + 1) == self.qualifier`,message="qualifier must match the qualifier suffix of functionName",fieldPath=".qualifier",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule=`!has(self.region) || (self.functionName.startsWith('arn:') ? self.functionName.split(':')[3] == self.region : !self.functionName.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:([0-9]{12}:)?(function:)?[a-zA-Z0-9_.-]+(:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]+))?$') || self.functionName.split(':')[0] == self.region)`,message="region must be the region in functionName's ARN (or in its REGION: prefix), or be left out",fieldPath=".region",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule=`has(self.qualifier) == has(oldSelf.qualifier) && (!has(self.qualifier) || self.qualifier == oldSelf.qualifier)`,message="qualifier is immutable: it may not be changed, added or removed (the policy is another version's or alias's); create another LambdaResourcePolicy",fieldPath=".qualifier"
// +kubebuilder:validation:XValidation:rule=`has(self.region) == has(oldSelf.region) && (!has(self.region) || self.region == oldSelf.region)`,message="region is immutable: it may not be changed, added or removed (the policy is another function's); create another LambdaResourcePolicy",fieldPath=".region"
type LambdaResourcePolicySpec struct {
	// FunctionName names the function, as in LambdaPermission: a name, a
	// partial ARN or an ARN, optionally ending in :qualifier.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}$') || (!self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]+$') && self.matches('^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:|((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:)?([0-9]{12}:)?)(function:)?[a-zA-Z0-9_-]{1,64}:([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_-]{1,128})$'))`,message="functionName must be a function name, name:qualifier, ACCOUNT:function:name or arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier], with a name of at most 64 characters (letters, digits, '-' and '_': no function has a '.' in its name) and a qualifier of at most 128"
	// +kubebuilder:validation:XValidation:rule=`!self.endsWith(':$LATEST')`,message="functionName: Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="functionName is immutable"
	FunctionName string `json:"functionName"`

	// Qualifier is a version number or alias name; the policy is then that
	// version's or alias's. $LATEST cannot carry a policy.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([$]LATEST([.]PUBLISHED)?|[a-zA-Z0-9_$-]+)$')`,message="qualifier must be a version number or an alias name (letters, digits, '-', '_')"
	// +kubebuilder:validation:XValidation:rule=`self != '$LATEST'`,message="qualifier: Lambda does not support policies on $LATEST; omit the qualifier to grant on the unqualified function"
	Qualifier string `json:"qualifier,omitempty"`

	// Region of the function when functionName is not an ARN; defaults to the
	// operator's region.
	// +optional
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]$')`,message="region must be an AWS region such as us-east-2"
	// +kubebuilder:validation:MaxLength=32
	Region string `json:"region,omitempty"`

	// Policy is the IAM policy document, with IAM's own keys (Version,
	// Statement, Sid, Effect, Principal, Action, Resource, Condition), so
	// that a policy in JSON can be pasted as it is. Resource may be left
	// out: it is the function's (version's, alias's) ARN.
	// +required
	Policy ResourcePolicyDocument `json:"policy"`

	// IncludePermissions merges the LambdaPermissions (and function URL
	// grants) on the same function, version or alias into the policy,
	// where the account's access rules let their namespaces grant; they
	// are then written through this object, one policy write per change.
	// With false, only this object's statements stay in the policy.
	// +optional
	// +kubebuilder:default=true
	IncludePermissions *bool `json:"includePermissions,omitempty"`

	// ManagementPolicy: Manage (the default) makes the policy exactly what
	// is declared; Observe never writes, and reports in
	// status.pendingChange what Manage would add, change and remove.
	// +optional
	// +kubebuilder:default=Manage
	// +kubebuilder:validation:Enum=Manage;Observe
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// DeletionPolicy says what happens when the object is deleted: Delete
	// removes the statements it wrote (the included LambdaPermissions' stay
	// theirs); Retain leaves the policy as it is.
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:Enum=Delete;Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// ResourcePolicyDocument is an IAM policy document.
type ResourcePolicyDocument struct {
	// Version of the policy language: 2012-10-17, the only one Lambda takes.
	// +optional
	// +kubebuilder:default="2012-10-17"
	// +kubebuilder:validation:Enum="2012-10-17"
	Version string `json:"Version,omitempty"`

	// Statement lists the policy's statements, each with its own Sid.
	// The shapes of Principal, Action, Resource and Condition, which the
	// schema cannot see, are checked by the ValidatingAdmissionPolicy in
	// config/admission/resource-policy.yaml (and the chart's copy).
	// +optional
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +kubebuilder:validation:XValidation:rule=`self.all(s, self.exists_one(t, t.Sid == s.Sid))`,message="policy.Statement[].Sid must be unique: each statement needs its own Sid"
	Statement []ResourcePolicyStatement `json:"Statement,omitempty"`
}

// ResourcePolicyStatement is one IAM statement. Principal, Action, Resource
// and Condition take IAM's JSON forms: a single value or a list.
type ResourcePolicyStatement struct {
	// Sid names the statement; the operator manages statements by Sid.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[a-zA-Z0-9_-]+$')`,message="policy.Statement[].Sid must contain only letters, digits, '-' and '_' (Lambda refuses '.')"
	// +kubebuilder:validation:XValidation:rule=`!self.matches('compacted-(sourcearn|sourceaccount|principal|action)-[0-9a-f]{16}$')`,message="policy.Statement[].Sid must not end in compacted-<dimension>-<16 hex digits>: that names a statement the operator compacts from LambdaPermissions"
	Sid string `json:"Sid"`

	// Effect is Allow or Deny.
	// +required
	// +kubebuilder:validation:Enum=Allow;Deny
	Effect string `json:"Effect"`

	// Principal is "*" or an object of principal types (AWS, Service,
	// Federated, CanonicalUser) to one identifier or a list of them.
	// +required
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Principal apiextensionsv1.JSON `json:"Principal"`

	// Action is one lambda: action or a list of them (lambda:*, * too).
	// +required
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Action apiextensionsv1.JSON `json:"Action"`

	// Resource is the function's ARN (the default), a list holding it, or
	// for an unqualified function also FUNCTION_ARN:* (every version and
	// alias).
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Resource *apiextensionsv1.JSON `json:"Resource,omitempty"`

	// Condition maps IAM condition operators to keys and their values.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Condition *apiextensionsv1.JSON `json:"Condition,omitempty"`
}

// LambdaResourcePolicyStatus is what the controller last observed and did.
type LambdaResourcePolicyStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling and Stalled, as kstatus reads them.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ResourceArn is the ARN of the function, version or alias whose
	// policy this is.
	// +optional
	ResourceArn string `json:"resourceArn,omitempty"`

	// StatementCount is how many statements the policy holds.
	// +optional
	StatementCount int32 `json:"statementCount,omitempty"`

	// IncludedStatements is how many of them come from LambdaPermissions.
	// +optional
	IncludedStatements int32 `json:"includedStatements,omitempty"`

	// PolicySize is the policy's size in bytes as Lambda counts it
	// (estimated); Lambda refuses a policy over policySizeLimit.
	// +optional
	PolicySize int32 `json:"policySize,omitempty"`

	// PolicySizeLimit is Lambda's limit on policySize: 20480.
	// +optional
	PolicySizeLimit int32 `json:"policySizeLimit,omitempty"`

	// PolicyRevisionID is the policy's RevisionId when last read or written.
	// +optional
	PolicyRevisionID string `json:"policyRevisionId,omitempty"`

	// LastChange is the last write this object made to the policy.
	// +optional
	LastChange *PolicyChange `json:"lastChange,omitempty"`

	// PendingChange is what Manage would write now, when nothing may be
	// written (managementPolicy Observe, or the operator's --dry-run); empty
	// when the policy is as declared.
	// +optional
	PendingChange *PolicyChange `json:"pendingChange,omitempty"`

	// LastHandledSyncRequest is the value of the
	// lambda.permissions.dev/sync-requested annotation that the operator
	// last handled: it read the policy again after it saw the request.
	// +optional
	LastHandledSyncRequest string `json:"lastHandledSyncRequest,omitempty"`

	// LastSyncTime is no longer written, and the operator clears it. It was
	// written at every check, so each object cost a status write per sync
	// period. The lambda_permission_policy_read_timestamp_seconds metric says
	// when each policy was last read, and lastChange when this object last
	// changed it.
	//
	// Deprecated: read the metric and lastChange instead.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}

// PolicyChange lists statements, by Sid, that a write added, changed and
// removed (or, pending, would).
type PolicyChange struct {
	// Time of the write (or of the check that found the change pending).
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
	// +optional
	Added []string `json:"added,omitempty"`
	// +optional
	Changed []string `json:"changed,omitempty"`
	// Removed lists statements taken out of the policy; a statement without
	// a Sid is listed as "#N", its position in the policy.
	// +optional
	Removed []string `json:"removed,omitempty"`
}

// LambdaResourcePolicy owns a function's (version's, alias's) whole
// resource-based policy: it makes it exactly its statements plus, with
// includePermissions, those of the LambdaPermissions on the same resource,
// and removes everything else, in one PutResourcePolicy per change.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lrp,categories=aws
// +kubebuilder:printcolumn:name="Function",type=string,JSONPath=`.spec.functionName`
// +kubebuilder:printcolumn:name="Qualifier",type=string,JSONPath=`.spec.qualifier`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.managementPolicy`
// +kubebuilder:printcolumn:name="Statements",type=integer,JSONPath=`.status.statementCount`
// +kubebuilder:printcolumn:name="Policy",type=integer,JSONPath=`.status.policySize`,description="Size in bytes of the policy, of Lambda's 20480 (status.policySizeLimit)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LambdaResourcePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LambdaResourcePolicySpec `json:"spec"`

	// Status is what the controller last observed and did. A new object's
	// status says observedGeneration 0 until the controller's first status,
	// so that kstatus (Flux, Argo CD) reads the object as in progress, not
	// as Current, from its creation on.
	// +kubebuilder:default={observedGeneration: 0}
	Status LambdaResourcePolicyStatus `json:"status,omitempty"`
}

// LambdaResourcePolicyList is a list of LambdaResourcePolicy.
//
// +kubebuilder:object:root=true
type LambdaResourcePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LambdaResourcePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LambdaResourcePolicy{}, &LambdaResourcePolicyList{})
}

// Includes reports whether the policy merges in the LambdaPermissions on
// its resource (includePermissions, true unless set false).
func (p *LambdaResourcePolicy) Includes() bool {
	return p.Spec.IncludePermissions == nil || *p.Spec.IncludePermissions
}
