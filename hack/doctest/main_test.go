package doctest

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// afterTests are what the tests started once for the whole run (binaries
// built, a control plane), undone when they are over.
var (
	afterTestsMu sync.Mutex
	afterTests   []func()
)

// atExit registers f to run once every test has run.
func atExit(f func()) {
	afterTestsMu.Lock()
	defer afterTestsMu.Unlock()
	afterTests = append(afterTests, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range slices.Backward(afterTests) {
		f()
	}
	os.Exit(code)
}

// doc is one Markdown file: its slash path from the repository root and
// its text.
type doc struct {
	path string
	src  string
}

// finding is one problem in a Markdown file.
type finding struct {
	file string
	line int
	msg  string
}

func (f finding) String() string { return fmt.Sprintf("%s:%d: %s", f.file, f.line, f.msg) }

// report fails the test with every finding, in file and line order, under
// a heading that says what they break.
func report(t *testing.T, heading string, found []finding) {
	t.Helper()
	if len(found) == 0 {
		return
	}
	sortFindings(found)
	lines := make([]string, len(found))
	for i, f := range found {
		lines[i] = f.String()
	}
	t.Errorf("%s (%d):\n\t%s", heading, len(found), strings.Join(lines, "\n\t"))
}

// sortFindings orders findings by file, then line.
func sortFindings(found []finding) {
	slices.SortStableFunc(found, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.line, b.line))
	})
}

// docSet is the Markdown the tests check, in two parts: the files whose
// links are checked, and among them those whose code blocks are.
type docSet struct {
	links  []doc
	blocks []doc
}

// codeBlocksUnchecked are Markdown files whose code blocks are not ours to
// check: the Lambda API specification quotes AWS.
var codeBlocksUnchecked = map[string]bool{"docs/lambda-api/SPEC.md": true}

// linksOnly are Markdown files of which only the links are checked.
var linksOnly = map[string]bool{"CHANGELOG.md": true}

var (
	repoDocsOnce sync.Once
	repoDocs     docSet
	repoDocsErr  error
)

// realDocs reads the repository's README, manual, chart READMEs and
// changelog, once for every test.
func realDocs(t *testing.T) (fs.FS, docSet) {
	t.Helper()
	fsys := os.DirFS(repo.Root())
	repoDocsOnce.Do(func() { repoDocs, repoDocsErr = readDocs(fsys) })
	if repoDocsErr != nil {
		t.Fatal(repoDocsErr)
	}
	return fsys, repoDocs
}

func readDocs(fsys fs.FS) (docSet, error) {
	names, err := docNames(fsys)
	if err != nil {
		return docSet{}, err
	}
	var set docSet
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return docSet{}, err
		}
		d := doc{path: name, src: string(src)}
		set.links = append(set.links, d)
		if !codeBlocksUnchecked[name] && !linksOnly[name] {
			set.blocks = append(set.blocks, d)
		}
	}
	return set, nil
}

// docNames lists README.md, CHANGELOG.md, docs/**/*.md and
// charts/*/README.md.
func docNames(fsys fs.FS) ([]string, error) {
	names := []string{"README.md", "CHANGELOG.md"}
	charts, err := fs.Glob(fsys, "charts/*/README.md")
	if err != nil {
		return nil, err
	}
	names = append(names, charts...)
	err = fs.WalkDir(fsys, "docs", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".md" {
			names = append(names, p)
		}
		return err
	})
	return names, err
}
