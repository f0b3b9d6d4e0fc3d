//go:build integration

package main

import (
	"os/exec"
	"strings"
	"testing"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
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

// TestBadWatchLabelSelector: a selector that does not parse stops the
// manager at start, naming the flag, before it needs AWS or a cluster.
func TestBadWatchLabelSelector(t *testing.T) {
	bin := versiontest.Build(t, ".", "v0.0.0-test")
	out, err := exec.CommandContext(t.Context(), bin, "--watch-label-selector="+lambdav1alpha1.ShardLabel+" in (a").CombinedOutput()
	if err == nil {
		t.Fatalf("the manager started with a bad selector:\n%s", out)
	}
	if !strings.Contains(string(out), "bad --watch-label-selector") {
		t.Errorf("the error does not name the flag:\n%s", out)
	}
}
