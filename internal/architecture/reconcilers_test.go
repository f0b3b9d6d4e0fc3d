package architecture

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"strings"
	"testing"
)

// The package of the reconcilers, and the one file besides their own that
// may name their types: the one that builds them and hands them to the
// manager.
const (
	controllersDir = "controllers"
	setupFile      = "controllers/setup.go"
)

// TestReconcilerTypesStayHome keeps each reconciler a thin adapter in its
// own file. Before issue 23, LambdaPermissionReconciler had methods in six
// files and the other reconcilers and the tests reached into it, so that
// the reconciler was the engine. Now every type declared in a
// controllers/<x>_controller.go file is named only in that file and in
// controllers/setup.go, which wires them; what other code needs lives in
// the engine. The reconcilers are unexported, so nothing outside the
// package can name them either.
func TestReconcilerTypesStayHome(t *testing.T) {
	r := load(t)
	files := r.packageFiles(controllersDir, "controllers")
	if len(files) == 0 {
		t.Fatalf("no Go files of package controllers in %s/", controllersDir)
	}
	check(t, "controller types named outside their own file and "+setupFile, strayControllerTypes(r, files))
	check(t, "exported names of package controllers that end in Reconciler", exportedReconcilers(files))
}

// strayControllerTypes finds where a type of a *_controller.go file is
// named outside that file and setup.go.
func strayControllerTypes(r *repo, files []*goFile) []string {
	homes, uses := typeCheck(r, files)
	var found []string
	for _, f := range files {
		if f.generated || f.rel == setupFile {
			continue
		}
		for _, id := range uses[f] {
			home := homes[id.obj]
			if home == f.rel {
				continue
			}
			found = append(found, fmt.Sprintf(
				"%s: uses %s, a type of %s; only that file and %s may name it "+
					"(move this code into it, or give the engine what this code needs)",
				f.where(id.Pos()), id.Name, home, setupFile))
		}
	}
	return dedupe(append(found, r.selectedElsewhere(homes)...))
}

// packageFiles lists the files of directory dir whose package clause says
// name: the package's own files and its in-package tests.
func (r *repo) packageFiles(dir, name string) []*goFile {
	var out []*goFile
	for _, f := range r.filesIn(dir) {
		if f.ast.Name.Name == name {
			out = append(out, f)
		}
	}
	return out
}

// typeCheck type-checks the files as one package without loading what they
// import (every import fails, and go/types carries on): what is declared in
// the package still resolves, which is all this test needs, and it takes
// milliseconds. It returns the file of each type declared at the top level
// of a *_controller.go file, and every identifier of each file that denotes
// one of those types, in source order.
func typeCheck(r *repo, files []*goFile) (map[types.Object]string, map[*goFile][]use) {
	asts := make([]*ast.File, len(files))
	for i, f := range files {
		asts[i] = f.ast
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{
		Importer: importerFunc(func(string) (*types.Package, error) { return nil, errors.New("not loaded") }),
		Error:    func(error) {},
	}
	_, _ = conf.Check(r.module+"/"+controllersDir, r.fset, asts, info)

	homes := map[types.Object]string{}
	for _, f := range files {
		if !strings.HasSuffix(f.rel, "_controller.go") {
			continue
		}
		for _, spec := range typeSpecs(f.ast) {
			if obj := info.Defs[spec.Name]; obj != nil {
				homes[obj] = f.rel
			}
		}
	}
	uses := map[*goFile][]use{}
	for _, f := range files {
		ast.Inspect(f.ast, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if _, home := homes[info.Uses[id]]; home {
					uses[f] = append(uses[f], use{id, info.Uses[id]})
				}
			}
			return true
		})
	}
	return homes, uses
}

// use is an identifier that denotes a controller type.
type use struct {
	*ast.Ident
	obj types.Object
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// typeSpecs lists the types a file declares at its top level.
func typeSpecs(f *ast.File) []*ast.TypeSpec {
	var out []*ast.TypeSpec
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
			for _, s := range g.Specs {
				out = append(out, s.(*ast.TypeSpec))
			}
		}
	}
	return out
}

// selectedElsewhere finds the files of other packages (the external tests
// in controllers/, controllers/resilience, main.go) that name a controller
// type as controllers.T.
func (r *repo) selectedElsewhere(homes map[types.Object]string) []string {
	names := map[string]string{}
	for obj, home := range homes {
		names[obj.Name()] = home
	}
	pkgPath := r.module + "/" + controllersDir
	var found []string
	for _, f := range r.files {
		if f.generated || (f.dir == controllersDir && f.ast.Name.Name == "controllers") {
			continue
		}
		local, ok := importName(f.ast, pkgPath)
		if !ok {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == local && names[sel.Sel.Name] != "" {
				found = append(found, fmt.Sprintf(
					"%s: uses %s.%s, a type of %s; only that file and %s may name it "+
						"(drive the operator through what setup.go offers)",
					f.where(sel.Pos()), local, sel.Sel.Name, names[sel.Sel.Name], setupFile))
			}
			return true
		})
	}
	return found
}

// dedupe keeps the first finding for each place, declaration and type: a
// method that names its receiver's type ten times is one thing to move.
func dedupe(found []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range found {
		file, rest, _ := strings.Cut(s, ":")
		_, rest, _ = strings.Cut(rest, " ")
		if key := file + " " + rest; !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	return out
}

// exportedReconcilers lists the package's exported names that end in
// Reconciler: its top-level declarations and methods.
func exportedReconcilers(files []*goFile) []string {
	var found []string
	report := func(f *goFile, id *ast.Ident, what string) {
		if id.IsExported() && strings.HasSuffix(id.Name, "Reconciler") {
			found = append(found, fmt.Sprintf(
				"%s: %s %s is exported; a reconciler is an unexported adapter that %s builds (rename it %s)",
				f.at(id.Pos()), what, id.Name, path.Base(setupFile), unexport(id.Name)))
		}
	}
	for _, f := range files {
		for _, d := range f.ast.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				report(f, d.Name, "func")
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						report(f, s.Name, "type")
					case *ast.ValueSpec:
						for _, n := range s.Names {
							report(f, n, d.Tok.String())
						}
					}
				}
			}
		}
	}
	return found
}

func unexport(name string) string { return strings.ToLower(name[:1]) + name[1:] }
