package doctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// The programs whose flags the docs give, as go build makes them from the
// repository: the operator (the module's root package) and the kubectl
// plugin.
const (
	operatorBinary = "manager"
	pluginBinary   = "kubectl-lperm"
)

var mainPackages = map[string]string{operatorBinary: ".", pluginBinary: "./cmd/kubectl-lperm"}

// programs builds the operator and the plugin once per test run, into a
// directory removed when the tests end, and reads each program's flags
// from its --help.
type programs struct {
	buildOnce sync.Once
	dir       string
	buildErr  error

	mu   sync.Mutex
	help map[string]flagSet // by the arguments before --help
}

// flagSet is the flags a program's help lists, or why there are none.
type flagSet struct {
	flags map[string]bool
	err   error
}

// errUnknownCommand is the plugin's answer to a command it does not have.
var errUnknownCommand = errors.New("no such command")

var built = &programs{help: map[string]flagSet{}}

// buildPrograms builds the programs, or fails the test: without them no
// flag can be checked.
func buildPrograms(t *testing.T) {
	t.Helper()
	if err := built.build(); err != nil {
		t.Fatal(err)
	}
}

func (p *programs) build() error {
	p.buildOnce.Do(func() {
		p.dir, p.buildErr = os.MkdirTemp("", "doctest-bin-")
		if p.buildErr != nil {
			return
		}
		atExit(func() { _ = os.RemoveAll(p.dir) })
		errs := make(chan error, len(mainPackages))
		for name, pkg := range mainPackages {
			go func() { errs <- goBuild(filepath.Join(p.dir, name), pkg) }()
		}
		for range mainPackages {
			p.buildErr = errors.Join(p.buildErr, <-errs)
		}
	})
	return p.buildErr
}

func goBuild(out, pkg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = repo.Root()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s %s: %v\n%s", out, pkg, err, msg)
	}
	return nil
}

// goFlagRe finds the flags in the help Go's flag package prints:
// "  -name type" lines.
var goFlagRe = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][\w.-]*)`)

// mentionedFlagRe finds the flags a help text names in its prose.
var mentionedFlagRe = regexp.MustCompile(`(?:^|[\s(\[|])--?([a-z][a-z0-9-]*)`)

// operatorFlags are the operator's flags.
func (p *programs) operatorFlags() flagSet {
	return p.flagsOf(operatorBinary, nil, goFlags)
}

// pluginFlags are the flags of a plugin command, or errUnknownCommand.
func (p *programs) pluginFlags(command string) flagSet {
	return p.flagsOf(pluginBinary, []string{command}, goFlags)
}

// pluginTopFlags are the flags the plugin takes instead of a command
// (--version): its help has no flag list, so every --word it mentions.
func (p *programs) pluginTopFlags() flagSet {
	return p.flagsOf(pluginBinary, nil, func(help string) map[string]bool {
		flags := map[string]bool{"h": true, "help": true}
		for _, m := range mentionedFlagRe.FindAllStringSubmatch(help, -1) {
			flags[m[1]] = true
		}
		return flags
	})
}

// goFlags reads a Go program's flags from its help; -h and -help are
// always there.
func goFlags(help string) map[string]bool {
	flags := map[string]bool{"h": true, "help": true}
	for _, m := range goFlagRe.FindAllStringSubmatch(help, -1) {
		flags[m[1]] = true
	}
	return flags
}

// flagsOf runs name with args and --help, once, and parses the help.
func (p *programs) flagsOf(name string, args []string, parse func(string) map[string]bool) flagSet {
	if err := p.build(); err != nil {
		return flagSet{err: err}
	}
	key := strings.Join(append([]string{name}, args...), " ")
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.help[key]; ok {
		return f
	}
	help, err := runHelp(filepath.Join(p.dir, name), args)
	f := flagSet{err: err}
	if err == nil {
		f.flags = parse(help)
	}
	p.help[key] = f
	return f
}

// runHelp runs a program with --help: the flag package prints the usage
// on stderr and exits 0; the plugin exits 2 for a command it does not know.
func runHelp(bin string, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--help")...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+os.DevNull)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if strings.Contains(out.String(), "unknown command") {
		return "", errUnknownCommand
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return "", fmt.Errorf("%s --help: %v", filepath.Base(bin), err)
	}
	return out.String(), nil
}
