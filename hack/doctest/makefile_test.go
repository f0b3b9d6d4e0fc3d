package doctest

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// makefile is the targets a Makefile defines, and its pattern rules.
type makefile struct {
	targets  map[string]bool
	patterns []string
	err      error
}

// ruleRe is a rule's line: targets, then one or two colons not followed
// by = (an assignment); recipe lines start with a tab.
var ruleRe = regexp.MustCompile(`^([^\s:=#][^:=#]*?)\s*::?(?:[^=]|$)(.*)`)

func parseMakefile(src string) *makefile {
	m := &makefile{targets: map[string]bool{}}
	for _, line := range strings.Split(src, "\n") {
		r := ruleRe.FindStringSubmatch(line)
		if r == nil {
			continue
		}
		if r[1] == ".PHONY" {
			phony, _, _ := strings.Cut(r[2], "#")
			m.add(strings.Fields(phony))
			continue
		}
		m.add(strings.Fields(r[1]))
	}
	return m
}

func (m *makefile) add(names []string) {
	for _, n := range names {
		switch {
		case strings.Contains(n, "$"):
		case strings.Contains(n, "%"):
			m.patterns = append(m.patterns, n)
		default:
			m.targets[n] = true
		}
	}
}

func (m *makefile) has(target string) bool {
	if m.targets[target] {
		return true
	}
	for _, p := range m.patterns {
		prefix, suffix, _ := strings.Cut(p, "%")
		if len(target) > len(p)-1 && strings.HasPrefix(target, prefix) && strings.HasSuffix(target, suffix) {
			return true
		}
	}
	return false
}

// makefileIn reads dir/name, once.
func (s *shellChecker) makefileIn(file string) *makefile {
	if m, ok := s.makefiles[file]; ok {
		return m
	}
	src, err := fs.ReadFile(s.fsys, file)
	m := &makefile{err: err}
	if err == nil {
		m = parseMakefile(string(src))
	}
	s.makefiles[file] = m
	return m
}

// makeTargets checks that the Makefile make would read has each target
// named: the options (-C DIR, -f FILE, -j N …) and VAR=value are not
// targets.
func (s *shellChecker) makeTargets(prog token, args []token) []problem {
	dir, file, targets := ".", "Makefile", []token(nil)
	for i := 0; i < len(args); i++ {
		a := args[i].text
		switch {
		case (a == "-C" || a == "-f" || a == "-I" || a == "-o" || a == "-W") && i+1 < len(args):
			i++
			if a == "-C" {
				dir = path.Join(dir, args[i].text)
			} else if a == "-f" {
				file = args[i].text
			}
		case a == "-j" && i+1 < len(args) && isDigits(args[i+1].text):
			i++
		case strings.HasPrefix(a, "-"), assignmentRe.MatchString(a), strings.Contains(a, "$"), placeholder(a):
		default:
			targets = append(targets, args[i])
		}
	}
	name := path.Join(dir, file)
	m := s.makefileIn(name)
	if m.err != nil {
		return []problem{{prog.line, fmt.Sprintf("make: cannot read %s: %v", name, m.err)}}
	}
	var out []problem
	for _, t := range targets {
		if !m.has(t.text) {
			out = append(out, problem{t.line, fmt.Sprintf("make %s: no target %s in %s", t.text, t.text, name)})
		}
	}
	return out
}

func TestMakefileTargets(t *testing.T) {
	m := parseMakefile(".PHONY: a b # c\na: x ## help\n\tcmd: y\nV := p:q\nW ?= r\nd e:: f\n%.o: %.c\n$(X): z\n")
	for target, want := range map[string]bool{"a": true, "b": true, "c": false, "cmd": false, "V": false,
		"W": false, "d": true, "e": true, "f": false, "x.o": true, ".o": false, "z": false} {
		if got := m.has(target); got != want {
			t.Errorf("has(%q) = %v, want %v", target, got, want)
		}
	}
}
