package doctest

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// shellChecker checks the commands of shell blocks against the Makefiles
// and the chart of fsys and the flags of the programs built from the
// repository.
type shellChecker struct {
	fsys      fs.FS
	programs  *programs
	makefiles map[string]*makefile
	chart     *chartValues
}

func newShellChecker(fsys fs.FS, p *programs) *shellChecker {
	return &shellChecker{fsys: fsys, programs: p, makefiles: map[string]*makefile{}}
}

// check finds, in d's shell blocks, make targets the Makefile does not
// have, flags the operator or the plugin does not take, and chart values
// set with --set that the chart does not have.
func (s *shellChecker) check(d doc) []finding {
	var found []finding
	for _, b := range parsePage(d).blocks {
		if _, skip := b.skipped(); skip || !shellLangs[b.lang] {
			continue
		}
		for _, l := range shellLines(b) {
			for _, cmd := range commands(tokenize(l)) {
				if prog, args, ok := splitProgram(cmd); ok {
					for _, f := range s.command(prog, args) {
						found = append(found, finding{d.path, f.line, f.msg})
					}
				}
			}
		}
	}
	return found
}

// problem is a finding in the file being checked.
type problem struct {
	line int
	msg  string
}

// command checks one simple command, by the program it runs.
func (s *shellChecker) command(prog token, args []token) []problem {
	name := path.Base(prog.text)
	switch {
	case name == "make":
		return s.makeTargets(prog, args)
	case name == operatorBinary || name == "lambda-permission-operator":
		return unknownFlags(prog.text, prog, args, s.programs.operatorFlags())
	case prog.text == "kubectl" && len(args) > 0 && args[0].text == "lperm":
		return s.plugin("kubectl lperm", prog, args[1:])
	case name == pluginBinary:
		return s.plugin(prog.text, prog, args)
	case prog.text == "go" && len(args) > 1 && args[0].text == "run":
		return s.goRun(args[1], args[2:])
	case prog.text == "helm" && len(args) > 0 && helmInstalls[args[0].text]:
		return s.helmValues(args[1:])
	}
	return nil
}

// goRun checks go run . (the operator) and go run ./cmd/kubectl-lperm.
func (s *shellChecker) goRun(pkg token, args []token) []problem {
	p, _, _ := strings.Cut(pkg.text, "@")
	switch {
	case p == ".":
		return unknownFlags("go run .", pkg, args, s.programs.operatorFlags())
	case strings.HasSuffix(p, "/cmd/"+pluginBinary):
		return s.plugin("go run "+pkg.text, pkg, args)
	}
	return nil
}

// plugin checks a plugin command line: the command exists and takes each
// flag. Without a command the flags are the plugin's own (--version).
func (s *shellChecker) plugin(what string, at token, args []token) []problem {
	if len(args) == 0 {
		return nil
	}
	sub := args[0]
	if _, ok := flagName(sub.text); ok {
		return unknownFlags(what, at, args, s.programs.pluginTopFlags())
	}
	if placeholder(sub.text) {
		return nil
	}
	flags := s.programs.pluginFlags(sub.text)
	if flags.err == errUnknownCommand {
		return []problem{{sub.line, fmt.Sprintf("%s %s: the plugin has no command %s (%s --help)", what, sub.text, sub.text, pluginBinary)}}
	}
	return unknownFlags(what+" "+sub.text, sub, args[1:], flags)
}

// unknownFlags finds the flags among args that the program's help does not
// list; -- ends them. at is the program (or command) given them.
func unknownFlags(what string, at token, args []token, known flagSet) []problem {
	if known.err != nil {
		return []problem{{at.line, fmt.Sprintf("%s: its flags are unknown: %v", what, known.err)}}
	}
	var out []problem
	for _, a := range args {
		if a.text == "--" {
			break
		}
		if name, ok := flagName(a.text); ok && !known.flags[name] {
			out = append(out, problem{a.line, fmt.Sprintf("%s: no flag --%s in its --help", what, name)})
		}
	}
	return out
}

var flagRe = regexp.MustCompile(`^--?([A-Za-z][\w.-]*)(?:=|$)`)

// flagName is the name of a flag argument (--name, --name=value, -name),
// without the brackets of a synopsis ([--name]).
func flagName(arg string) (string, bool) {
	m := flagRe.FindStringSubmatch(strings.TrimRight(strings.TrimLeft(arg, "[("), "])|,"))
	if m == nil {
		return "", false
	}
	return m[1], true
}

var placeholderRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

// placeholder says whether a word stands for one the reader picks
// (COMMAND, TARGET).
func placeholder(word string) bool { return placeholderRe.MatchString(word) }

// TestDocShellCommands checks the make targets, the operator's and the
// plugin's flags and the chart values of every shell block.
func TestDocShellCommands(t *testing.T) {
	fsys, docs := realDocs(t)
	buildPrograms(t)
	s := newShellChecker(fsys, built)
	var found []finding
	for _, d := range docs.blocks {
		found = append(found, s.check(d)...)
	}
	report(t, "shell commands that name what does not exist", found)
}

func TestShellCheckReportsStaleCommands(t *testing.T) {
	readme := strings.Join([]string{
		"```sh",
		"make build                        # 2: fine",
		"make nope                         # 3: no target",
		"make -C . test-unit VAR=x lint    # 4: lint",
		"bin/manager --leader-elect --region=x --no-such-flag   # 5",
		"kubectl lperm audit --function f -o json --stale-flag  # 6",
		"kubectl-lperm import --observe --all-functions         # 7: fine",
		"kubectl lperm frobnicate                                # 8",
		"helm install x charts/lambda-permission-operator --set region=x --set regoin=y  # 9",
		"```",
		"```console",
		"$ make build \\",
		"    nope2                         # 13: the line of the target",
		"make nope3 is output, not a command",
		"```",
		"<!-- doctest: skip shows a typo -->",
		"```sh",
		"make nope4",
		"```",
	}, "\n")
	fsys := fstest.MapFS{
		"Makefile": {Data: []byte(".PHONY: build\nbuild: ## b\n\tgo build\ntest-unit:\n\tgo test\nX := a:b\n")},
		"charts/lambda-permission-operator/values.yaml":        {Data: []byte("region: \"\"\n")},
		"charts/lambda-permission-operator/values.schema.json": {Data: []byte(`{"additionalProperties": false}`)},
	}
	buildPrograms(t)
	found := newShellChecker(fsys, built).check(doc{"README.md", readme})
	expect(t, found,
		"README.md:3: make nope: no target nope in Makefile",
		"README.md:4: make lint: no target lint in Makefile",
		"README.md:5: bin/manager: no flag --no-such-flag",
		"README.md:6: kubectl lperm audit: no flag --stale-flag",
		"README.md:8: kubectl lperm frobnicate: the plugin has no command frobnicate",
		"README.md:9: helm --set regoin=y: charts/lambda-permission-operator/values.yaml has no regoin",
		"README.md:13: make nope2: no target nope2 in Makefile")
}
