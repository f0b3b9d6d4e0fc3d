//go:build tools

// Package helm only pins the helm command built from this module (see
// hack/tools/build.sh).
package helm

import _ "helm.sh/helm/v3/cmd/helm"
