//go:build integration

package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/version/versiontest"
)

// TestVersionStamped builds the plugin as make release does and runs it.
func TestVersionStamped(t *testing.T) {
	const stamp = "v9.8.7-test.1"
	bin := versiontest.Build(t, ".", stamp)
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.CommandContext(t.Context(), bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl-lperm %s: %v\n%s", arg, err, out)
		}
		if fields := strings.Fields(string(out)); len(fields) < 2 || fields[0] != "kubectl-lperm" || fields[1] != stamp {
			t.Errorf("kubectl-lperm %s printed %q, want kubectl-lperm %s (…)", arg, out, stamp)
		}
	}
}
