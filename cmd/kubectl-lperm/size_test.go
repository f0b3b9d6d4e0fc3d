//go:build integration

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// maxPluginSize bounds the plugin built with a plain go build for
// linux/amd64: 70 % of the 46,226,265 bytes it was (go1.26.8) when it
// linked controller-runtime's client, and with it the manager's metrics,
// Prometheus, the typed clientset and the informers. A user downloads it;
// the bound keeps a new dependency from quietly bringing them back.
const maxPluginSize = 32_358_385

func TestPluginSize(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the bound is for a linux/amd64 build on a linux/amd64 host, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH to build the plugin: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "kubectl-lperm")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	size := info.Size()
	t.Logf("kubectl-lperm for linux/amd64: %d bytes (at most %d)", size, maxPluginSize)
	if size > maxPluginSize {
		t.Errorf("kubectl-lperm for linux/amd64 is %d bytes, over the %d allowed: see which packages it links (go list -deps ./cmd/kubectl-lperm) and what is heavy (go tool nm -size -sort size)", size, maxPluginSize)
	}
}
