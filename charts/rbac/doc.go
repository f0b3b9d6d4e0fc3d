// Package rbac tests the permissions the Helm chart grants the operator by
// running the operator with nothing else: a kube-apiserver that enforces
// RBAC (envtest), the chart installed with helm, and bin/manager run as a
// process with the arguments and environment of the chart's Deployment,
// authenticated as the chart's ServiceAccount by a token from the
// TokenRequest API. The operator must bring config/samples to Ready with no
// request refused; and each rule of the chart's roles, taken away alone,
// must break the one behaviour the test names for it (see rbac_test.go).
package rbac
