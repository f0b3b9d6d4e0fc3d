// Package engine is the policy engine that the LambdaPermission and
// LambdaResourcePolicy controllers share: from an object's spec to its
// statements in a Lambda function's policy, and back out of it.
//
// For an object it resolves where its statements go (the function, version
// or alias, in which account and region), decides whether the object may
// write there and as whom (the accounts' access rules and guardrails),
// settles who owns what (two objects claiming one Sid, a
// LambdaResourcePolicy owning a whole policy and the LambdaPermissions it
// includes), plans the writes against the policy as observed (pure
// functions, table-tested), and has the policy's one writer make them,
// recording Events as it goes.
//
// It reads the cluster through Cluster (the manager's informer cache, or a
// table in tests) and AWS through the awslambda port. There is one Engine
// per operator, built in controllers.Setup and handed to each controller:
// one writer and one view per policy, whichever kind writes to it.
package engine
