// Package versiontest builds a main package stamped with a version, for the
// tests of the binaries' --version.
package versiontest

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Build builds the main package in dir as `make manager` or `make release`
// would, with -ldflags "-X main.version=stamp", and returns the binary's
// path. It builds with -race when the test runs with it, so that it reuses
// the packages the test run compiled. Linking the binary takes seconds: the
// tests that call it are integration tests (//go:build integration).
func Build(t *testing.T, dir, stamp string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	args := []string{"build", "-o", bin, "-ldflags", "-X main.version=" + stamp}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(t.Context(), "go", append(args, ".")...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v in %s: %v\n%s", args, dir, err, out)
	}
	return bin
}
