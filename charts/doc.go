// Package charts holds the tests of the operator's install manifests: the
// Helm chart in lambda-permission-operator/ and the kustomize configuration
// in config/default. They render both with the helm and kustomize that
// `make tools` builds into bin/, check what they render, and apply it with a
// server-side dry run to a real kube-apiserver (envtest).
package charts
