// Package translate turns the API's specs into the policy package's model
// and back: a LambdaPermission's spec into the AddPermission request it asks
// for (PermissionOf) and a request into the spec that declares it (SpecOf);
// a LambdaResourcePolicy's statements into what the operator writes
// (DeclaredStatements); the function, version or alias a spec names
// (Target); the Sids the operator derives; and the two LambdaPermissions of
// a function URL grant. It reads only specs: no cluster, no AWS, so the
// operator and kubectl-lperm share one conversion and one test of it.
package translate
