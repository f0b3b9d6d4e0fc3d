// Package doctest keeps the README, the manual under docs/ and the chart's
// README from rotting. Its tests check every relative link and anchor
// (links_test.go), every make target and every flag given to the operator
// or the kubectl plugin in a shell block, and the chart values --set names
// (shell_test.go), and, tagged integration, that every YAML block holding
// Kubernetes objects is accepted (or, marked <!-- doctest: refused -->,
// refused) by a real kube-apiserver with the CRDs and the admission
// policies of config/admission (yaml_test.go).
//
// A code block opts out with <!-- doctest: skip REASON --> on the line
// before its fence, or on the last non-blank line before it.
package doctest
