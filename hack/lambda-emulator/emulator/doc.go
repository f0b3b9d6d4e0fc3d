// Package emulator is an in-memory AWS Lambda endpoint (REST-JSON, API
// version 2015-03-31) used as a test oracle for the resource-policy APIs
// AddPermission, RemovePermission and GetPolicy, plus the few function,
// version and alias operations needed to set up their targets.
//
// The behaviour follows docs/lambda-api/SPEC.md; comments cite its
// sections ("§N"). The unmodified aws-sdk-go-v2 Lambda client works against
// it with any static credentials (signatures are not checked).
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
package emulator
