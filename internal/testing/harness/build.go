package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// buildManager builds the operator into out as `make manager` does.
func buildManager(suite, out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	started := time.Now()
	cmd := exec.Command(goTool, "build", "-o", out, ".")
	cmd.Dir = repo.Root()
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the operator: %w\n%s", err, output)
	}
	fmt.Fprintf(os.Stderr, "%s: operator built in %s\n", suite, time.Since(started).Round(100*time.Millisecond))
	return nil
}
