//go:build tools

// Package kustomize only pins the kustomize command built from this module
// (see hack/tools/build.sh).
package kustomize

import _ "sigs.k8s.io/kustomize/kustomize/v5"
