package v1alpha1

// The names and limits that are part of this API: what a user, a GitOps
// tool, the chart and the tests see of the operator. They are defined here
// once, and the operator, kubectl-lperm and every test import them.

// Finalizers: each kind holds its object's deletion until what it wrote is
// cleaned up.
const (
	// PermissionFinalizer holds a LambdaPermission until its statement is
	// removed (or retained, as deletionPolicy says).
	PermissionFinalizer = "lambda.permissions.dev/statement"
	// FunctionURLFinalizer holds a LambdaFunctionURLPermission until its two
	// LambdaPermissions are gone.
	FunctionURLFinalizer = "lambda.permissions.dev/permissions"
	// ResourcePolicyFinalizer holds a LambdaResourcePolicy until the
	// statements it wrote are taken out of the policy.
	ResourcePolicyFinalizer = "lambda.permissions.dev/policy"
)

// SyncRequestedAnnotation, set to a new value (by convention the current
// time, RFC 3339, as Flux's reconcile.fluxcd.io/requestedAt), makes the
// operator read the policy again instead of using its view: a check at once
// rather than at the next sync period. Each new value is handled once, and
// status.lastHandledSyncRequest then holds it. It works on
// LambdaPermissions and LambdaResourcePolicies.
const SyncRequestedAnnotation = "lambda.permissions.dev/sync-requested"

// ShardLabel sends an object to one shard of the operator: an instance
// started with --watch-label-selector=lambda.permissions.dev/shard=NAME
// reconciles the objects labelled NAME, and the main instance beside the
// shards (--watch-label-selector=!lambda.permissions.dev/shard) those
// without the label. A LambdaFunctionURLPermission's two LambdaPermissions
// carry its value over.
const ShardLabel = "lambda.permissions.dev/shard"

// Limits of names.
const (
	// MaxStatementIDLength is Lambda's limit on a Sid, and the CRDs' on
	// statementId and on a statement's Sid.
	MaxStatementIDLength = 100
	// MaxFunctionURLStatementIDPrefixLength bounds a
	// LambdaFunctionURLPermission's statementIdPrefix, so that the Sids it
	// starts (prefix-url, prefix-invoke) stay within MaxStatementIDLength.
	MaxFunctionURLStatementIDPrefixLength = 90
	// MaxFunctionURLPermissionNameLength bounds a
	// LambdaFunctionURLPermission's name, so that the LambdaPermissions it
	// makes (name-url, name-invoke) stay within an object name's 253
	// characters. The CRD's rule on metadata.name spells it out.
	MaxFunctionURLPermissionNameLength = 253 - len("-invoke")
	// MaxStatementIDPrefixLength bounds the operator's
	// --statement-id-prefix, so that a derived Sid keeps room for the
	// namespace, the name and the hash that a cut adds.
	MaxStatementIDPrefixLength = 32
)

// Condition types, as kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) reads
// them: Reconciling=True is InProgress, Stalled=True is Failed, and
// Ready=True at the current generation is Current. All four kinds use them.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Reasons on the conditions and on Events. Each says what a user sees.
const (
	ReasonSynced                   = "Synced"                   // the statement (or policy) is in place as specified
	ReasonProgressing              = "Progressing"              // work has started
	ReasonInvalidSpec              = "InvalidSpec"              // Lambda would refuse the spec
	ReasonSidConflict              = "SidConflict"              // another object manages this Sid
	ReasonFunctionNotFound         = "FunctionNotFound"         // no such function, version or alias (yet)
	ReasonPolicyTooLarge           = "PolicyTooLarge"           // the policy would pass Lambda's 20 KB limit
	ReasonThrottled                = "Throttled"                // Lambda asked us to slow down
	ReasonAccessDenied             = "AccessDenied"             // the operator's AWS identity may not do this
	ReasonRetrying                 = "Retrying"                 // Lambda failed, was busy or could not be reached; retrying
	ReasonStaleRevision            = "StaleRevision"            // the policy kept changing under us; retrying
	ReasonDriftDetected            = "DriftDetected"            // managementPolicy Observe: the policy differs from the spec
	ReasonDryRun                   = "DryRun"                   // --dry-run: the write the spec needs was reported, not made
	ReasonPublicAccessBlocked      = "PublicAccessBlocked"      // Lambda's public-access block refused the statement
	ReasonRequiresDocumentStrategy = "RequiresDocumentStrategy" // a Deny or conditions on an account written statement by statement
	ReasonPolicyOwnerConflict      = "PolicyOwnerConflict"      // another LambdaResourcePolicy owns the same policy
	ReasonExcludedByPolicyOwner    = "ExcludedByPolicyOwner"    // the policy's LambdaResourcePolicy does not include LambdaPermissions, or not this shard's

	// Refusals made before any AWS call.
	ReasonAccountNotAllowed  = "AccountNotAllowed"
	ReasonFunctionNotAllowed = "FunctionNotAllowed"
	ReasonPublicAccessDenied = "PublicAccessDenied"
	ReasonSourceRequired     = "SourceRequired"

	// A LambdaPermissionAccount's identity.
	ReasonIdentityVerified = "IdentityVerified" // the operator acts as the account's identity, in that account
	ReasonIdentityFailed   = "IdentityFailed"   // the identity could not be used (AssumeRole or STS failed)
	ReasonWrongAccount     = "WrongAccount"     // the identity belongs to another account

	// Credentials and identities that AWS refuses; each names what to fix.
	ReasonCredentialsInvalid = "CredentialsInvalid" // AWS refused the operator's credentials (expired, unknown, wrong secret), or it has none
	ReasonRoleTrustDenied    = "RoleTrustDenied"    // AssumeRole of the account's roleArn was refused: the role's trust policy, or the operator's sts:AssumeRole
	ReasonExternalIDDenied   = "ExternalIDDenied"   // AssumeRole with the account's externalID was refused: the trust policy's sts:ExternalId, or its trust
)

// Reasons of the Events that record what was done to a policy.
const (
	EventAdded               = "Added"               // a statement was added
	EventRemoved             = "Removed"             // a statement was removed
	EventReplaced            = "Replaced"            // a statement was replaced in one write, never missing
	EventAdopted             = "Adopted"             // a statement already in place was taken over without a write
	EventDriftCorrected      = "DriftCorrected"      // a statement removed or changed outside was restored
	EventPolicyReplaced      = "PolicyReplaced"      // a statement lost when another writer replaced or deleted the whole policy was restored
	EventLeftInPlace         = "LeftInPlace"         // a statement changed outside was not removed
	EventRetained            = "Retained"            // deletionPolicy Retain or Observe: the statement stays
	EventUnexpectedStatement = "UnexpectedStatement" // Lambda stored other than predicted: a bug to report
	EventPolicyNearLimit     = "PolicyNearLimit"     // a write took the policy past 90 % of Lambda's 20 KB limit
	EventPolicyWritten       = "PolicyWritten"       // a LambdaResourcePolicy wrote its policy (Sids added, changed, removed)
	EventPolicyDeleted       = "PolicyDeleted"       // a LambdaResourcePolicy took out its statements on deletion
)
