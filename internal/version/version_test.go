package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped wins", "v0.2.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "v0.2.0"},
		{"stamped without build info", "v0.2.0-rc.1", nil, "v0.2.0-rc.1"},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}}, "v0.2.0"},
		{"pseudo-version of a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab+dirty"}},
			"v0.0.0-20260101000000-0123456789ab+dirty"},
		{"go run", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Dev},
		{"no version recorded", "", &debug.BuildInfo{}, Dev},
		{"no build info", "", nil, Dev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolve(tc.stamped, tc.info); got != tc.want {
				t.Errorf("resolve(%q, %+v) = %q, want %q", tc.stamped, tc.info, got, tc.want)
			}
		})
	}
	// A test binary records no main module version: unstamped, it is Dev.
	if got := Resolve("v1.2.3"); got != "v1.2.3" {
		t.Errorf("Resolve(v1.2.3) = %q", got)
	}
}

func TestLine(t *testing.T) {
	got := Line("kubectl-lperm", "v0.2.0")
	want := "kubectl-lperm v0.2.0 (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if fields := strings.Fields(got); fields[1] != "v0.2.0" {
		t.Errorf("the version is not the second field of %q", got)
	}
}
