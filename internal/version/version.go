// Package version is the version the project's binaries (the manager and
// kubectl-lperm) report with --version and in their logs.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Dev is reported when nothing says which version a binary is.
const Dev = "dev"

// Resolve returns the version of the running binary: stamped (what
// -ldflags "-X main.version=v0.2.0" set; the Makefile stamps git describe and
// make release the release's tag) when set; else the main module's version
// from the build information (`go install ...@v0.2.0` records v0.2.0, a build
// in a git checkout a pseudo-version); else Dev.
func Resolve(stamped string) string {
	info, _ := debug.ReadBuildInfo() // nil when the binary has none
	return resolve(stamped, info)
}

func resolve(stamped string, info *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	// "(devel)" is what the go command records when it knows no version
	// (go run, a build outside version control).
	if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return Dev
}

// Line is what --version prints: the program's name, its version, and the Go
// version and platform it was built with.
func Line(program, version string) string {
	return fmt.Sprintf("%s %s (%s, %s/%s)", program, version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
