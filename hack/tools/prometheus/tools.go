//go:build tools

// Package prometheus only pins the prometheus and promtool commands built
// from this module (see hack/tools/build.sh).
package prometheus

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
