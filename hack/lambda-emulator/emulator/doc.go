// Package emulator is an in-memory AWS Lambda endpoint (REST-JSON, API
// version 2015-03-31) used as a test oracle for the resource-policy APIs
// AddPermission, RemovePermission and GetPolicy, plus the few function,
// version and alias operations needed to set up their targets.
//
// The behaviour follows docs/lambda-api/SPEC.md; comments cite its
// sections ("§N"). The unmodified aws-sdk-go-v2 Lambda client works against
// it with any static credentials (signatures are not checked).
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
//   - An ARN naming another account gets 404 "Function not found: <arn>" on
//     every operation.
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
