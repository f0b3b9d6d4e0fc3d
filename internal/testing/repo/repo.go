// Package repo finds the repository's files for the tests and the tools
// under hack/. It starts nothing: a test that only reads the repository
// (the samples, the chart, config/) imports it rather than
// internal/testing/controlplane, and stays a unit test.
package repo

import (
	"path/filepath"
	"runtime"
)

// Root is the repository's top directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}
