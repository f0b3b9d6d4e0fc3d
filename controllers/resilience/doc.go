// Package resilience holds the operator's fault and soak tests: many
// LambdaPermissions converging against the Lambda emulator while it injects
// faults, while another writer edits the same policies, while a second
// operator instance manages its own statements on the same functions, while
// the operator is killed with SIGKILL, and while leadership moves between
// two replicas. Each proves the same two things: no statement of ours is
// lost or duplicated, and no statement of anyone else's is touched.
//
// The tests start one envtest control plane (hack/testenv) and build the
// operator binary once for the scenarios that run it as a process.
// RESILIENCE_SCALE=small (the default, part of make test) keeps the package
// within about a minute and a half on two cores; RESILIENCE_SCALE=full
// (make test-faults) runs the same stories at soak size.
package resilience
