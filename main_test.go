//go:build integration

package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/version/versiontest"
)

// TestVersionFlag builds the manager stamped as make release stamps it: it
// prints the version and exits 0 before it needs AWS or a cluster.
func TestVersionFlag(t *testing.T) {
	const stamp = "v9.8.7-test.1"
	bin := versiontest.Build(t, ".", stamp)
	out, err := exec.CommandContext(t.Context(), bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("manager --version: %v\n%s", err, out)
	}
	if fields := strings.Fields(string(out)); len(fields) < 2 || fields[0] != "lambda-permission-operator" || fields[1] != stamp {
		t.Errorf("manager --version printed %q, want lambda-permission-operator %s (…)", out, stamp)
	}
}
