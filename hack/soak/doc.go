// Package soak is `make soak`: the operator binary (bin/manager) on a local
// control plane against the Lambda emulator for SOAK (make soak: 30m),
// under a steady churn of a few hundred objects (created, changed and
// deleted every few seconds), a low rate of injected Lambda faults, and a
// foreign writer that adds and removes statements of its own on the same
// functions and now and then replaces a whole policy, leaving the
// operator's statements out. Every minute (every tenth of SOAK when it is
// under ten minutes) it samples the operator's resident memory, live heap,
// goroutines, file descriptors, sockets and TCP connections, the series on
// its /metrics and the watches the API server serves, and prints them as a
// table. At the end it prints each one's least-squares slope per hour
// after a warm-up, and fails when one passes its bound (sample_test.go
// says why each bound is what it is), or when, once the churn has stopped
// and the faults are cleared, an object is not Ready after a sync period
// and a margin, or the objects and the policies still disagree after two
// (soak_test.go says why two).
//
// SOAK_SEED (1 by default) seeds the churn, the foreign writer and the
// faults; SOAK_MANAGER names another operator binary than bin/manager.
// The run is a test, tagged integration and soak, so that neither make
// test nor make test-unit runs it.
package soak
