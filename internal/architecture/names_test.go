package architecture

import (
	"fmt"
	"go/ast"
	"go/token"
	"path"
	"strings"
	"testing"
)

const (
	apiDir        = "api/v1alpha1"
	constantsFile = "api/v1alpha1/constants.go"
	apiImport     = "lambdav1alpha1" // the name the code imports api/v1alpha1 under
)

// apiNames are the finalizers, the annotation and the shard label: names a user and a GitOps
// tool see, which no Go file outside api/v1alpha1 spells out.
var apiNames = []string{
	"lambda.permissions.dev/statement",
	"lambda.permissions.dev/permissions",
	"lambda.permissions.dev/policy",
	"lambda.permissions.dev/sync-requested",
	"lambda.permissions.dev/shard",
}

// statusNames are the condition types and the reason kstatus and users read
// most, and conditionDirs the code that sets or reads them.
var (
	statusNames   = []string{"Ready", "Reconciling", "Stalled", "Synced"}
	conditionDirs = []string{"controllers", "cmd", "charts", "hack/demo", "hack/bench"}
)

// TestAPINamesDefinedOnce keeps the API's names in one place. The
// finalizers and the sync-requested annotation were once declared in the
// controllers, again in kubectl-lperm and spelled out in tests, and a
// rename changed some of them; the condition types and reasons were typed
// as strings wherever a status was set or awaited. They are now the
// constants of api/v1alpha1/constants.go, and every other file uses those.
func TestAPINamesDefinedOnce(t *testing.T) {
	r := load(t)
	constants := constantNames(t, r)
	t.Run("finalizers and annotation", func(t *testing.T) {
		found := spelledOut(r, apiNames, constants, func(f *goFile) bool {
			return !under(f.rel, apiDir) && !under(f.rel, selfDir) && !strings.HasPrefix(path.Base(f.rel), "zz_")
		})
		check(t, "API names spelled out outside "+apiDir, found)
	})
	t.Run("conditions and reasons", func(t *testing.T) {
		found := spelledOut(r, statusNames, constants, func(f *goFile) bool {
			for _, dir := range conditionDirs {
				if under(f.rel, dir) {
					return true
				}
			}
			return false
		})
		check(t, "condition types and reasons spelled out instead of using "+constantsFile, found)
	})
}

// selfDir is this package: its tests spell the names out to look for them.
const selfDir = "internal/architecture"

// constantNames maps each string value constants.go defines to the names
// of the constants holding it, and checks that every name the test looks
// for has one.
func constantNames(t *testing.T, r *repo) map[string][]string {
	t.Helper()
	var file *goFile
	for _, f := range r.files {
		if f.rel == constantsFile {
			file = f
		}
	}
	if file == nil {
		t.Fatalf("%s is missing; the API's names are defined there", constantsFile)
	}
	names := map[string][]string{}
	for _, d := range file.ast.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			s := s.(*ast.ValueSpec)
			for i, v := range s.Values {
				if lit, ok := v.(*ast.BasicLit); ok && i < len(s.Names) {
					if value, ok := stringValue(lit); ok {
						names[value] = append(names[value], apiImport+"."+s.Names[i].Name)
					}
				}
			}
		}
	}
	for _, value := range append(append([]string(nil), apiNames...), statusNames...) {
		if len(names[value]) == 0 {
			t.Errorf("%s defines no constant for %q; define it there, or take it off this test's list", constantsFile, value)
		}
	}
	return names
}

// spelledOut finds the string literals with one of the values in the
// non-generated files that scope selects.
func spelledOut(r *repo, values []string, constants map[string][]string, scope func(*goFile) bool) []string {
	wanted := map[string]bool{}
	for _, v := range values {
		wanted[v] = true
	}
	var found []string
	for _, f := range r.files {
		if f.generated || !scope(f) {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok {
				return true
			}
			if value, ok := stringValue(lit); ok && wanted[value] {
				found = append(found, fmt.Sprintf("%s: %q is spelled out; use %s (%s)",
					f.where(lit.Pos()), value, strings.Join(constants[value], " or "), constantsFile))
			}
			return true
		})
	}
	return found
}
