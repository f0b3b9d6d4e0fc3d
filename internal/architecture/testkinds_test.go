package architecture

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build/constraint"
	"strconv"
	"strings"
	"testing"
)

const (
	integrationTag = "integration"
	assetsVariable = "KUBEBUILDER_ASSETS"
)

// integrationPackages are the packages that start a control plane: a test
// file that imports one (or a package below it) is an integration test.
func integrationPackages(r *repo) []string {
	return []string{
		r.module + "/internal/testing/controlplane",
		r.module + "/internal/testing/harness",
		"sigs.k8s.io/controller-runtime/pkg/envtest",
	}
}

// TestTestKindsAreTagged keeps one rule for what an integration test is:
// the integration build tag. A test that starts a control plane (through
// internal/testing/controlplane, the harness or envtest, or by reading
// KUBEBUILDER_ASSETS) needs binaries and seconds that go test ./... does
// not have, so its file begins with //go:build integration and plain go
// test never compiles it. The -short flag was the old rule; a test file
// without the tag that still asks testing.Short() is one whose kind the
// tag does not tell.
func TestTestKindsAreTagged(t *testing.T) {
	untagged, short := untaggedTests(load(t))
	check(t, "integration test files without the integration build tag", untagged)
	check(t, "untagged test files that call testing.Short()", short)
}

// untaggedTests finds the test files without the integration tag that
// need a control plane, and the calls of testing.Short in those files.
func untaggedTests(r *repo) (untagged, short []string) {
	imports := integrationPackages(r)
	for _, f := range r.files {
		if !f.test || under(f.rel, selfDir) {
			continue
		}
		if integrationTagged(f.src) {
			continue
		}
		if why := needsControlPlane(f, r.module, imports); why != "" {
			untagged = append(untagged, fmt.Sprintf(
				"%s:1: %s but does not begin with //go:build %s (add the tag as its first line, or move the test out)",
				f.rel, why, integrationTag))
		}
		for _, call := range shortCalls(f) {
			short = append(short, fmt.Sprintf(
				"%s: calls testing.Short(); the build tag says which tests are integration tests "+
					"(move the test into a file that begins with //go:build %s, or drop the check)",
				f.where(call.Pos()), integrationTag))
		}
	}
	return untagged, short
}

// integrationTagged reports whether the file's first line is a build
// constraint that requires the integration tag: "//go:build integration",
// or one that adds conditions to it with &&.
func integrationTagged(src []byte) bool {
	first, _, _ := bytes.Cut(src, []byte("\n"))
	line := strings.TrimSpace(string(first))
	if !constraint.IsGoBuild(line) {
		return false
	}
	expr, err := constraint.Parse(line)
	return err == nil && requiresTag(expr, integrationTag)
}

// requiresTag reports whether expr can hold only when tag is set: it is the
// tag, or a conjunction with the tag as one of its terms.
func requiresTag(expr constraint.Expr, tag string) bool {
	switch e := expr.(type) {
	case *constraint.TagExpr:
		return e.Tag == tag
	case *constraint.AndExpr:
		return requiresTag(e.X, tag) || requiresTag(e.Y, tag)
	}
	return false
}

// needsControlPlane says why a file is an integration test, or "" if it
// is not one.
func needsControlPlane(f *goFile, module string, packages []string) string {
	for _, s := range f.ast.Imports {
		p, err := strconv.Unquote(s.Path.Value)
		if err != nil {
			continue
		}
		for _, pkg := range packages {
			if p == pkg || strings.HasPrefix(p, pkg+"/") {
				return "it imports " + strings.TrimPrefix(p, module+"/")
			}
		}
	}
	why := ""
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && why == "" {
			if v, ok := stringValue(lit); ok && strings.Contains(v, assetsVariable) {
				why = fmt.Sprintf("it reads %s (line %d)", assetsVariable, f.line(lit.Pos()))
			}
		}
		return why == ""
	})
	return why
}

// shortCalls lists the file's calls of testing.Short.
func shortCalls(f *goFile) []*ast.CallExpr {
	name, ok := importName(f.ast, "testing")
	if !ok {
		return nil
	}
	var calls []*ast.CallExpr
	ast.Inspect(f.ast, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Short" {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == name {
				calls = append(calls, call)
			}
		}
		return true
	})
	return calls
}
