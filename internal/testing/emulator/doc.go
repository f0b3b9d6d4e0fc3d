// Package emulator is an in-memory AWS Lambda endpoint (REST-JSON, API
// version 2015-03-31) used as a test oracle for the resource-policy APIs
// AddPermission, RemovePermission and GetPolicy, the 2026 whole-document
// APIs PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy
// (/2026-07-09/resource-policy/{ResourceArn}), plus the few function,
// version and alias operations needed to set up their targets, the
// listings ListFunctions, ListVersionsByFunction and ListAliases, and
// function URLs (Create/Get/DeleteFunctionUrlConfig, SPEC §17).
//
// The behaviour follows docs/lambda-api/SPEC.md; comments cite its
// sections ("§N"). The unmodified aws-sdk-go-v2 Lambda client works against
// it with any static credentials (signatures are not checked).
//
// Policies: a function, each version and each alias has at most one policy
// document, which all six policy operations read and write (§16.4).
// PutResourcePolicy replaces it with its input, checked against the grammar
// of §16.6 and stored compacted (§16.5); AddPermission appends to it,
// RemovePermission removes a statement by Sid, DeleteResourcePolicy removes
// the document. Statements are kept byte for byte. Every write gives the
// document a new RevisionId, which GetPolicy and GetResourcePolicy both
// report. Config.BlockPublicPolicy / Server.SetBlockPublicPolicy turn on an
// emulator-only switch per account under which AddPermission and
// PutResourcePolicy refuse public statements (§16.8).
//
// Accounts: the access key id of a request's SigV4 credentials decides its
// account (Config.AccessKeys; any other or missing key is the default
// Config.AccountID). Every function, version, alias and policy belongs to
// one account; bare names resolve in the caller's. The same server speaks
// STS (awsQuery, POST /): GetCallerIdentity, and AssumeRole for roles from
// Config.Roles or Server.AddRole, whose credentials act in the role's
// account until their Expiration by Config.Now. IAM is modelled only so
// far: a caller may do anything in its own account, nothing in another.
//
// Admin endpoints (never throttled, faulted or counted): GET
// /_emulator/stats returns Stats as JSON; DELETE resets it. GET
// /_emulator/faults returns the Faults in effect; PUT replaces them (and
// reseeds the random source); DELETE turns every fault off. PUT answers 200
// with the new Faults, or 400 {"message":...} for bad JSON, unknown members
// or operations, or rates outside [0,1]. The JSON shape of Faults:
//
//	{"seed":42,"retryAfterSeconds":1,"operations":{
//	  "*":{"serviceError":0.05,"throttle":0.05,"updateConflict":0.05,
//	       "drop":0.02,"dropAfterApply":0.02,"latency":"20ms","latencyJitter":"10ms"},
//	  "GetPolicy":{"throttle":0.5}}}
//
// Every member is optional. Rates are probabilities in [0,1]; durations are
// Go duration strings. An operation's own entry replaces "*" as a whole.
//
// Fault injection (Config.Faults, Server.SetFaults): one math/rand source
// seeded with Faults.Seed, guarded by a mutex, decides each request that
// passes the front door (credentials, quota): first a draw for the latency
// jitter (Latency±LatencyJitter is slept before handling), then one draw
// per kind in the order serviceError, throttle, updateConflict, drop,
// dropAfterApply; the first draw below its rate wins. While any faults are
// set, every request makes these six draws, so a seed and a request order
// give the same faults. The kinds:
//   - serviceError: 500, X-Amzn-ErrorType: ServiceException,
//     {"Type":"Service","Message":"An internal error occurred. Retry the
//     request."} (*types.ServiceException); nothing is applied.
//   - throttle: 429 TooManyRequestsException like a quota throttle,
//     Retry-After: Faults.RetryAfterSeconds (default 1); nothing applied.
//   - updateConflict: 409 ResourceConflictException "The operation cannot
//     be performed at this time. An update is in progress for resource:
//     <unqualified function arn>", unlike the duplicate-Sid 409; nothing
//     applied. Only the function, version, alias and policy operations
//     with a {FunctionName} path label, PutResourcePolicy and
//     DeleteResourcePolicy, and Create/DeleteFunctionUrlConfig get it (not
//     GetResourcePolicy, GetFunctionUrlConfig or the List operations, which
//     list no ResourceConflictException); if the name or ARN
//     fails validation, names a function that does not exist or is in
//     another account, the ordinary 400/404/403 is sent instead and no fault
//     is counted.
//   - drop: the connection is closed without a response; nothing applied.
//   - dropAfterApply: the request is applied, then the connection is closed
//     without a response.
//
// STS operations can be faulted too: serviceError is 500 InternalFailure
// and throttle is 400 Throttling "Rate exceeded" (awsQuery; STS has no
// TooManyRequestsException); updateConflict does not apply. Injected
// faults are counted in Stats.Faults; the error responses also in Errors,
// dropped requests not. Note that Go's http.Transport silently resends an
// idempotent (GET) request once when a reused keep-alive connection closes
// without a response; the resent request is a new request with new draws.
//
// Choices made where the SPEC says [unknown] (each is repeated next to the
// code that implements it):
//   - lambda:EventSourceToken is the last StringEquals key; Bool is the last
//     Condition operator (§3.4, §14).
//   - A Sid conflict (409) is reported before a RevisionId mismatch (412)
//     (§5 precedence). RemovePermission reports a missing statement (404)
//     before a RevisionId mismatch.
//   - When no policy exists, AddPermission accepts only the RevisionId of
//     the target's own configuration ($LATEST/version config RevisionId from
//     GetFunction, alias RevisionId from CreateAlias/GetAlias); anything
//     else gets 412 (§7, strict choice). An empty RevisionId counts as absent.
//   - GetPolicy/RemovePermission with Qualifier $LATEST use the unqualified
//     policy (§6).
//   - An ARN naming another account than the caller's gets 403
//     AccessDeniedException, {"Message":"User: <caller arn> is not authorized
//     to perform: lambda:<Operation> on resource: <function arn[:qualifier]>
//     because no resource-based policy allows the lambda:<Operation>
//     action"}, on every operation, even when a resource policy would allow
//     it (policies are not evaluated). The checks run: request validation,
//     qualifier consistency, foreign region (404), foreign account (403),
//     $LATEST (AddPermission), then resolution.
//   - The caller of a long-term key is arn:aws:iam::ACCOUNT:user/emulator
//     (UserId AIDA..., stable per account).
//   - Session credentials past their Expiration get 403
//     ExpiredTokenException {"message":"The security token included in the
//     request is expired"} from Lambda and 403 ExpiredToken from STS; a
//     session key with another X-Amz-Security-Token gets 403
//     UnrecognizedClientException (Lambda) / InvalidClientTokenId (STS),
//     "The security token included in the request is invalid.". These come
//     before throttling. The Lambda SDK models none of these codes.
//   - Server.FailCredentials refuses every request signed with an
//     account's credentials (its keys and its roles' sessions) the same
//     way, as when AWS revokes them: expired and invalid as above, or a
//     wrong secret, 403 InvalidSignatureException (Lambda) /
//     SignatureDoesNotMatch (STS), "The request signature we calculated
//     does not match the signature you provided. …".
//   - AssumeRole: an unknown role, an untrusted account and a wrong or
//     missing ExternalId all get 403 AccessDenied "User: <caller arn> is not
//     authorized to perform: sts:AssumeRole on resource: <role arn>". An
//     ExternalId sent to a role without one is ignored. Member constraints
//     are ValidationError in Coral's wording (roleArn 20-2048, roleSessionName
//     2-64 [\w+=,.@-]*, durationSeconds 900-43200, externalId 2-1224); a
//     RoleArn that is no ARN gets "Request ARN is invalid"; DurationSeconds
//     above Role.MaxSessionDuration, or above 1h with role credentials (role
//     chaining), gets AWS's ValidationError messages. Expiration is whole
//     seconds.
//   - Quotas are per account.
//   - A function that does not exist is reported with its unqualified ARN,
//     even when a qualifier was given. RemovePermission on a missing version
//     says "No policy found for: <qualified arn>".
//   - ValidationException lists members in the model's member order and, per
//     member, the pattern violation before the length violation. Enum sets
//     are printed in model order ([NONE, AWS_IAM]). Lengths count UTF-16
//     code units, like Java's String.length().
//   - Policy size is the byte length of the compact policy document (§8).
//   - FunctionUrlAuthType and InvokedViaFunctionUrl are accepted with any
//     Action; InvokedViaFunctionUrl=false adds no condition (§14).
//   - Service principals must be lower-case DNS labels.
//   - The whole-document operations make a choice for every unknown of
//     the research (SPEC §16.11 lists them). In short: the grammar of
//     §16.6 (IPVE naming the defect and the statement), Resource must be
//     the ResourceArn (or its ":*" for an unqualified one), compact storage
//     with no Id added and nothing rewritten, an empty Statement list
//     refused, $LATEST[.PUBLISHED] refused as AddPermission refuses
//     $LATEST, a RevisionId with no policy refused (412), missing
//     function/version/alias worded as AddPermission words them, a missing
//     policy "The resource you requested does not exist.", the size
//     measured in bytes of the stored form (PolicyLengthExceededException),
//     the three operations in the control-plane quota bucket.
//   - Listings and function URLs (SPEC §17 lists every choice): entries in
//     name order ($LATEST, then versions ascending); an opaque Marker that
//     resumes after the last listed entry, refused (400
//     InvalidParameterValueException "Invalid Marker: <marker>") when
//     another listing issued it; MaxItems 1-10000, default 50, at most 50
//     per page for ListFunctions and ListVersionsByFunction; no Lambda@Edge
//     replicas, so a MasterRegion lists none; a version or $LATEST named in
//     a URL operation's FunctionName refused like the Qualifier member; the
//     URL https://<32 [a-z0-9]>.lambda-url.<region>.on.aws/, a new one on
//     every create; timestamps ISO-8601 with microseconds; all six
//     operations in the control-plane bucket, updateConflict only for
//     Create/DeleteFunctionUrlConfig.
package emulator
