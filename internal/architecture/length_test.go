package architecture

import (
	"fmt"
	"go/ast"
	"testing"
)

const (
	maxFileLines     = 400
	maxFunctionLines = 80
)

// TestFileLength keeps every file under controllers/ short enough to hold
// one idea. The controllers grew files of 600 lines that mixed the
// reconcile loop, planning, ownership and reporting (issue 23); a file over
// the limit is one that does several things, and splitting it by what the
// parts do is what keeps the thin reconcilers thin. Tests are held to it
// too: a long test file is as hard to review as a long source file.
// Generated files are exempt, since nobody edits them.
func TestFileLength(t *testing.T) {
	check(t, fmt.Sprintf("files under controllers/ longer than %d lines", maxFileLines), longFiles(load(t)))
}

func longFiles(r *repo) []string {
	var found []string
	for _, f := range r.filesUnder("controllers") {
		if f.generated {
			continue
		}
		if n := f.lines(); n > maxFileLines {
			found = append(found, fmt.Sprintf(
				"%s is %d lines; the limit is %d (split it by what the parts do)",
				f.rel, n, maxFileLines))
		}
	}
	return found
}

// TestFunctionLength keeps every function and method under controllers/
// (tests included) readable on one screen. The restructure moves decisions
// into the policy engine and leaves the reconcilers as sequences of named
// steps; a function over the limit is a sequence whose steps have no names
// yet. Function literals are counted as part of the function holding them.
func TestFunctionLength(t *testing.T) {
	check(t, fmt.Sprintf("functions under controllers/ longer than %d lines", maxFunctionLines), longFunctions(load(t)))
}

func longFunctions(r *repo) []string {
	var found []string
	for _, f := range r.filesUnder("controllers") {
		if f.generated {
			continue
		}
		for _, d := range f.ast.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			start, end := f.line(fd.Type.Func), f.line(fd.Body.Rbrace)
			if n := end - start + 1; n > maxFunctionLines {
				found = append(found, fmt.Sprintf(
					"%s: func %s is %d lines; the limit is %d (give its steps names: extract them as functions)",
					f.at(fd.Type.Func), funcName(fd), n, maxFunctionLines))
			}
		}
	}
	return found
}
