// Package gitops is `make gitops`: the operator's objects applied, waited
// on and pruned by the GitOps engines users run, built from their own Go
// modules (hack/gitops/build-flux.sh, build-argocd.sh), against a real
// control plane, the Lambda emulator and the operator, from Git
// repositories this package serves over HTTP (gitserver_test.go); and Argo
// CD installing the chart (argo_chart_test.go). The run is a test, tagged
// integration and gitops, so that `make test` never builds the engines.
package gitops
