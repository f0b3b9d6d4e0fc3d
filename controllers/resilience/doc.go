// Package resilience holds the operator's fault and soak tests: many
// LambdaPermissions converging against the Lambda emulator while it injects
// faults, while another writer edits the same policies, while a second
// operator instance manages its own statements on the same functions, while
// the operator is killed with SIGKILL, and while leadership moves between
// two replicas. Each proves the same two things: no statement of ours is
// lost or duplicated, and no statement of anyone else's is touched.
//
// Every scenario runs once per write strategy, as the subtests Statements
// (AddPermission and RemovePermission, 4 workers) and Document (whole
// documents with PutResourcePolicy under the policy's revision, 64
// workers), each in a world of its own: its emulator, functions and
// namespaces. With Document the end state cannot show everything, so every
// whole-document write the operator makes is logged and judged on its own
// (writeLog): none may touch a statement of anyone else's, replace a policy
// without naming the revision it read, or change nothing; and where the
// Statements variant counts calls to show that no statement was written
// twice, the Document variant counts the statements each accepted write
// added or removed. In the foreign writer scenario the other writer then
// also puts whole documents, some without a revision, and the operator must
// restore what they replace.
//
// The outage scenarios (outage_*_test.go) take away what the operator
// stands on: kube-apiserver, then etcd, killed with SIGKILL during a mass
// create and started again with their data and certificates
// (harness.RestartableControlPlane); and Lambda failing for a while, every
// call answered with a 500, every connection refused, or (at full scale
// only: a hung request holds its worker for the 30 s request timeout,
// longer than the small outage) every call
// accepted and never answered. Both write strategies ride out the same
// outage side by side, each with the operator binary at its defaults
// against an emulator with AWS's quotas on. Each side prints one OUTAGE
// line: its calls during the outage against a ceiling, its 429s once the
// outage is over, and how long until every object was Ready again, which
// must be within one sync period.
//
// The tests start one envtest control plane (internal/testing/controlplane) and build the
// operator binary once for the scenarios that run it as a process.
// RESILIENCE_SCALE=small (the default, part of make test) keeps the package
// within about three minutes on two cores; RESILIENCE_SCALE=full
// (make test-faults) runs the same stories at soak size.
package resilience
