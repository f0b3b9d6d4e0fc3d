package architecture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// layer is a rule about what one package of this module may import from it.
type layer struct {
	pkg  string
	only []string // if set, the module packages it may import (and its own subpackages)
	not  []string // module packages it may not depend on, directly or through others
	why  string
}

var layers = []layer{
	{pkg: "controllers/policy", only: []string{"api/v1alpha1"},
		why: "the policy model is the engine's vocabulary: it knows the API's types and nothing else of ours"},
	{pkg: "controllers/translate", only: []string{"api/v1alpha1", "controllers/policy"},
		why: "translation reads specs into policy and back, without I/O"},
	{pkg: "controllers/awslambda", only: []string{"controllers/policy"},
		why: "the AWS port speaks policy to Lambda and knows nothing of Kubernetes or of the engine"},
	{pkg: "controllers/writer", only: []string{"controllers/policy", "controllers/awslambda"},
		why: "the writer applies plans through the AWS port and decides nothing"},
	{pkg: "controllers/kernel", not: []string{"controllers/engine", "controllers"},
		why: "the kernel sits below the engine and the reconcilers that use it"},
	{pkg: "controllers/engine", not: []string{"controllers"},
		why: "the engine decides; the reconcilers call it, never the other way round"},
}

// TestPackageLayering keeps the dependencies pointing one way: from the
// reconcilers down through the engine to the writer, the AWS port and the
// policy model, and from tests and tools to the fixtures, never back. A
// back edge is how the engine came to live in the reconcilers (issue 23),
// and how kubectl-lperm came to link the manager and Prometheus.
func TestPackageLayering(t *testing.T) {
	r := load(t)
	check(t, "imports against the layering", layerFindings(r, goList(t, r), t.Logf))
}

// layerFindings checks the packages' imports against the layers, the
// fixtures and the tools.
func layerFindings(r *repo, pkgs map[string]*listed, logf func(string, ...any)) []string {
	var found []string
	for _, l := range layers {
		p, ok := pkgs[l.pkg]
		if !ok {
			logf("%s does not exist yet; its rule is skipped", l.pkg)
			continue
		}
		for _, imp := range p.imports {
			if l.only != nil && !slices.Contains(l.only, imp) && !under(imp, l.pkg) {
				found = append(found, r.importSites(l.pkg, imp, false, fmt.Sprintf(
					"%s imports %s; it may import only %s of this module: %s",
					l.pkg, imp, strings.Join(l.only, ", "), l.why))...)
			}
		}
		for _, target := range l.not {
			if chain := dependencyChain(pkgs, l.pkg, target); chain != nil {
				found = append(found, r.importSites(chain[0], chain[1], false, fmt.Sprintf(
					"%s depends on %s (%s); %s", l.pkg, target, strings.Join(chain, " -> "), l.why))...)
			}
		}
	}
	return append(found, fixtureImports(r, pkgs)...)
}

// fixtureImports finds product code that imports the test fixtures
// (internal/testing) or the tools (hack), and product tests that import
// the tools.
func fixtureImports(r *repo, pkgs map[string]*listed) []string {
	var found []string
	for _, p := range pkgs {
		for _, imp := range p.imports {
			if under(imp, "internal/testing") && !under(p.rel, "hack") && !under(p.rel, "internal/testing") {
				found = append(found, r.importSites(p.rel, imp, false, fmt.Sprintf(
					"%s imports %s; only tests, hack/ and internal/testing may: product code does not link test fixtures",
					p.rel, imp))...)
			}
			if under(imp, "hack") && under(p.rel, "controllers") {
				found = append(found, r.importSites(p.rel, imp, false, fmt.Sprintf(
					"%s imports %s; the operator does not depend on the tools under hack/", p.rel, imp))...)
			}
		}
		if !under(p.rel, "controllers") && !under(p.rel, "cmd") {
			continue
		}
		for _, imp := range p.testImports {
			if under(imp, "hack") {
				found = append(found, r.importSites(p.rel, imp, true, fmt.Sprintf(
					"tests of %s import %s; product tests use internal/testing, not the tools under hack/", p.rel, imp))...)
			}
		}
	}
	return found
}

// listed is a package of this module as go list reports it, with the
// module's own imports as paths relative to the module root.
type listed struct {
	rel         string
	imports     []string // from non-test files
	testImports []string // from the package's tests, in-package and external
}

// goList lists the module's packages with the go command, once without and
// once with the integration tag, so that the imports of files on either
// side of it count.
func goList(t *testing.T, r *repo) map[string]*listed {
	t.Helper()
	tags := []string{"", "integration"}
	outs := make([][]byte, len(tags))
	errs := make([]error, len(tags))
	var wg sync.WaitGroup
	for i, tag := range tags {
		wg.Go(func() {
			cmd := exec.Command("go", "list", "-e", "-tags="+tag,
				"-json=ImportPath,Imports,TestImports,XTestImports,Error", "./...")
			cmd.Dir = r.root
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if outs[i], errs[i] = cmd.Output(); errs[i] != nil {
				errs[i] = fmt.Errorf("go list -tags=%s: %v\n%s", tag, errs[i], stderr.String())
			}
		})
	}
	wg.Wait()
	pkgs := map[string]*listed{}
	for i := range tags {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if err := decodeList(t, r, outs[i], pkgs); err != nil {
			t.Fatalf("reading go list's output: %v", err)
		}
	}
	return pkgs
}

func decodeList(t *testing.T, r *repo, out []byte, pkgs map[string]*listed) error {
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
			Error                              *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if p.Error != nil {
			t.Logf("go list: package %s: %s", p.ImportPath, p.Error.Err)
		}
		rel, ok := r.relPackage(p.ImportPath)
		if !ok {
			continue
		}
		l := pkgs[rel]
		if l == nil {
			l = &listed{rel: rel}
			pkgs[rel] = l
		}
		l.imports = union(l.imports, r.ownPackages(p.Imports))
		l.testImports = union(l.testImports, r.ownPackages(append(p.TestImports, p.XTestImports...)))
	}
}

// relPackage turns an import path of this module into its directory
// relative to the root ("." for the root package).
func (r *repo) relPackage(importPath string) (string, bool) {
	if importPath == r.module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(importPath, r.module+"/")
	return rel, ok
}

func (r *repo) ownPackages(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rel, ok := r.relPackage(p); ok {
			out = append(out, rel)
		}
	}
	return out
}

func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// dependencyChain returns the shortest import chain from one package of the
// module to another, through non-test imports, or nil if there is none.
func dependencyChain(pkgs map[string]*listed, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		if at == to {
			var chain []string
			for p := to; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		if p := pkgs[at]; p != nil {
			for _, next := range p.imports {
				if _, seen := prev[next]; !seen {
					prev[next] = at
					queue = append(queue, next)
				}
			}
		}
	}
	return nil
}

// importSites makes one finding of msg for each file of package dir (test
// files, or the others) that imports the module package rel, naming the
// file and line of the import.
func (r *repo) importSites(dir, rel string, tests bool, msg string) []string {
	importPath := r.module
	if rel != "." {
		importPath += "/" + rel
	}
	var sites []string
	for _, f := range r.filesIn(dir) {
		if f.test != tests {
			continue
		}
		for _, s := range f.ast.Imports {
			if p, err := strconv.Unquote(s.Path.Value); err == nil && p == importPath {
				sites = append(sites, f.at(s.Pos())+" (import): "+msg)
			}
		}
	}
	if len(sites) == 0 { // a file the parse above did not see
		return []string{dir + "/: " + msg}
	}
	return sites
}
