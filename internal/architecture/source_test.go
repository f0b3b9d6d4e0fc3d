package architecture

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/modfile"
)

// repo is the module's Go source, parsed once for all the tests.
type repo struct {
	root   string // the directory holding go.mod
	module string // the module path go.mod declares
	fset   *token.FileSet
	files  []*goFile
}

// goFile is one parsed Go file of the module.
type goFile struct {
	rel       string // slash-separated path from the root: "controllers/setup.go"
	dir       string // rel's directory: "controllers" ("." at the root)
	src       []byte
	ast       *ast.File
	fset      *token.FileSet
	generated bool // "// Code generated ... DO NOT EDIT." before the package clause
	test      bool // a _test.go file
}

var (
	loadOnce sync.Once
	loaded   *repo
	loadErr  error
)

// load returns the module's parsed source; the first call reads it.
func load(t *testing.T) *repo {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = loadRepo() })
	if loadErr != nil {
		t.Fatalf("reading the module's Go source: %v", loadErr)
	}
	return loaded
}

// findRoot walks up from this file's directory to the one holding go.mod.
func findRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("runtime.Caller gave no file for the test source")
	}
	for dir := filepath.Dir(file); ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", file)
		}
		dir = parent
	}
}

func loadRepo() (*repo, error) {
	root, err := findRoot()
	if err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	r := &repo{root: root, module: modfile.ModulePath(gomod), fset: token.NewFileSet()}
	if r.module == "" {
		return nil, fmt.Errorf("%s/go.mod declares no module", root)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return skipDir(root, p, d.Name())
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".go") {
			return nil // bin/ is a symlink, and not ours
		}
		return r.parse(p)
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(r.files, func(i, j int) bool { return r.files[i].rel < r.files[j].rel })
	return r, nil
}

// skipDir leaves out what the go command leaves out of the module
// (testdata, vendor, dot and underscore directories, nested modules).
func skipDir(root, p, name string) error {
	if p == root {
		return nil
	}
	if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
		return filepath.SkipDir
	}
	return nil
}

func (r *repo) parse(p string) error {
	src, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(r.root, p)
	if err != nil {
		return err
	}
	return r.add(filepath.ToSlash(rel), src)
}

// add parses one file's source, named by its slash path from the root.
func (r *repo) add(rel string, src []byte) error {
	f, err := parser.ParseFile(r.fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("%s does not parse: %w", rel, err)
	}
	r.files = append(r.files, &goFile{
		rel: rel, dir: path.Dir(rel), src: src, ast: f, fset: r.fset,
		generated: ast.IsGenerated(f),
		test:      strings.HasSuffix(rel, "_test.go"),
	})
	return nil
}

// under reports whether the slash path rel is dir or lies below it.
func under(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// filesUnder lists the files below dir, recursively.
func (r *repo) filesUnder(dir string) []*goFile {
	var out []*goFile
	for _, f := range r.files {
		if under(f.rel, dir) {
			out = append(out, f)
		}
	}
	return out
}

// filesIn lists the files of directory dir itself.
func (r *repo) filesIn(dir string) []*goFile {
	var out []*goFile
	for _, f := range r.files {
		if f.dir == dir {
			out = append(out, f)
		}
	}
	return out
}

// lines counts the file's lines as wc -l does, plus an unterminated last one.
func (f *goFile) lines() int {
	n := bytes.Count(f.src, []byte("\n"))
	if len(f.src) > 0 && f.src[len(f.src)-1] != '\n' {
		n++
	}
	return n
}

func (f *goFile) line(p token.Pos) int { return f.fset.Position(p).Line }

// at names a place in the file: "controllers/setup.go:42".
func (f *goFile) at(p token.Pos) string { return fmt.Sprintf("%s:%d", f.rel, f.line(p)) }

// where names a place and the declaration around it:
// "controllers/setup.go:42 (func (*T).m)".
func (f *goFile) where(p token.Pos) string {
	return fmt.Sprintf("%s (%s)", f.at(p), f.enclosing(p))
}

// enclosing names the top-level declaration holding p.
func (f *goFile) enclosing(p token.Pos) string {
	for _, d := range f.ast.Decls {
		if p < d.Pos() || p >= d.End() {
			continue
		}
		switch d := d.(type) {
		case *ast.FuncDecl:
			return "func " + funcName(d)
		case *ast.GenDecl:
			return d.Tok.String() + " declaration"
		}
	}
	return "file level"
}

// funcName spells a function or method as a reader looks for it:
// "f", "T.m" or "(*T).m".
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	recv, star := receiverName(d.Recv.List[0].Type)
	if star {
		return fmt.Sprintf("(*%s).%s", recv, d.Name.Name)
	}
	return recv + "." + d.Name.Name
}

// receiverName returns a receiver's base type name, and whether it is a
// pointer.
func receiverName(e ast.Expr) (string, bool) {
	star := false
	if s, ok := e.(*ast.StarExpr); ok {
		e, star = s.X, true
	}
	switch x := e.(type) {
	case *ast.IndexExpr:
		e = x.X
	case *ast.IndexListExpr:
		e = x.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name, star
	}
	return "?", star
}

// importName returns the name under which the file imports path, if it
// does: its alias, or the path's last element.
func importName(f *ast.File, importPath string) (string, bool) {
	for _, s := range f.Imports {
		if p, err := strconv.Unquote(s.Path.Value); err != nil || p != importPath {
			continue
		}
		if s.Name != nil {
			return s.Name.Name, true
		}
		return path.Base(importPath), true
	}
	return "", false
}

// stringValue returns a string literal's value.
func stringValue(lit *ast.BasicLit) (string, bool) {
	if lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// check fails the test with every finding, sorted, under one heading that
// says what the findings break.
func check(t *testing.T, heading string, found []string) {
	t.Helper()
	if len(found) == 0 {
		return
	}
	slices.SortFunc(found, compareFindings)
	found = slices.Compact(found)
	t.Errorf("%s (%d):\n\t%s", heading, len(found), strings.Join(found, "\n\t"))
}

// compareFindings orders findings by file, then line as a number, so that
// controllers/a.go:9 comes before controllers/a.go:10.
func compareFindings(a, b string) int {
	fa, la, ra := splitPlace(a)
	fb, lb, rb := splitPlace(b)
	if c := cmp.Compare(fa, fb); c != 0 {
		return c
	}
	if c := cmp.Compare(la, lb); c != 0 {
		return c
	}
	return cmp.Compare(ra, rb)
}

// splitPlace splits "file:line rest" (or "file rest", line 0).
func splitPlace(s string) (string, int, string) {
	head, rest, _ := strings.Cut(s, " ")
	file, line, ok := strings.Cut(strings.TrimSuffix(head, ":"), ":")
	if !ok {
		return file, 0, rest
	}
	n, err := strconv.Atoi(line)
	if err != nil {
		return head, 0, rest
	}
	return file, n, rest
}
