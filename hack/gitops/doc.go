// Package gitops is `make gitops`: the operator's objects applied, waited
// on and pruned by the GitOps engines users run, built from their own Go
// modules (hack/gitops/build-flux.sh), against a real control plane, the
// Lambda emulator and the operator, from a Git repository this package
// serves over HTTP (gitserver_test.go). The run is a test, tagged
// integration and gitops, so that `make test` never builds the engines.
package gitops
