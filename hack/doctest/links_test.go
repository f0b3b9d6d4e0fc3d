package doctest

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// Link syntax: inline [text](target "title") and ![alt](target), full and
// collapsed references [text][label] and [text][], and definitions
// [label]: target (which may not interrupt a paragraph).
var (
	inlineLinkRe = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)` +
		`(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)`)
	refLinkRe    = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\[([^\[\]]*)\]`)
	definitionRe = regexp.MustCompile(`(?m)^ {0,3}\[([^\[\]^][^\[\]]*)\]:[ \t]*(<[^<>\n]*>|\S+)`)
	schemeRe     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	lineAnchorRe = regexp.MustCompile(`^L\d+(?:-L\d+)?$`)
)

// linkChecker resolves links in the files of fsys, the repository or a
// made-up tree, reading each target's anchors once.
type linkChecker struct {
	fsys    fs.FS
	anchors map[string]map[string]bool
}

func newLinkChecker(fsys fs.FS) *linkChecker {
	return &linkChecker{fsys: fsys, anchors: map[string]map[string]bool{}}
}

// citesInBrackets are files whose bracketed text is no link: the Lambda
// API specification cites its sources as [AWS-doc][model].
var citesInBrackets = map[string]bool{"docs/lambda-api/SPEC.md": true}

// link is a link's target and where it is.
type link struct {
	line   int
	target string
}

// check finds the relative links of d that name no file or directory, or
// an anchor the target has not, and the references to labels never
// defined. External links (any scheme) are not followed.
func (c *linkChecker) check(d doc) []finding {
	links, undefined := findLinks(d)
	var found []finding
	if citesInBrackets[d.path] {
		undefined = nil
	}
	for _, label := range undefined {
		found = append(found, finding{d.path, label.line, fmt.Sprintf("[%s]: no such link reference definition", label.target)})
	}
	for _, l := range links {
		if msg := c.resolve(d.path, l.target); msg != "" {
			found = append(found, finding{d.path, l.line, fmt.Sprintf("link %s: %s", l.target, msg)})
		}
	}
	return found
}

// findLinks lists a file's link targets (inline and definitions), and the
// labels referred to but not defined.
func findLinks(d doc) (links, undefined []link) {
	p := parsePage(d)
	text := maskProse(strings.Join(p.prose, "\n"), true)
	lineOf := lineIndex(text)
	defined := map[string]bool{}
	for _, m := range definitionRe.FindAllStringSubmatchIndex(text, -1) {
		if startsBlock(text, m[0]) {
			defined[normalLabel(text[m[2]:m[3]])] = true
			links = append(links, link{lineOf(m[4]), text[m[4]:m[5]]})
		}
	}
	for _, m := range inlineLinkRe.FindAllStringSubmatchIndex(text, -1) {
		links = append(links, link{lineOf(m[4]), text[m[4]:m[5]]})
	}
	for _, m := range refLinkRe.FindAllStringSubmatchIndex(text, -1) {
		label := text[m[4]:m[5]]
		if label == "" {
			label = text[m[2]:m[3]] // collapsed: [text][]
		}
		if !defined[normalLabel(label)] {
			undefined = append(undefined, link{lineOf(m[4]), label})
		}
	}
	return links, undefined
}

// startsBlock says whether offset i begins a line that may start a link
// reference definition: the first, or one after a blank line or another
// definition.
func startsBlock(text string, i int) bool {
	if i == 0 {
		return true
	}
	before := strings.TrimSuffix(text[:i], "\n")
	prev := before[strings.LastIndexByte(before, '\n')+1:]
	return strings.TrimSpace(prev) == "" || definitionRe.MatchString(prev)
}

func normalLabel(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// lineIndex maps a byte offset of text to its line, from 1.
func lineIndex(text string) func(int) int {
	var starts []int
	for i, c := range text {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return func(off int) int { return sort.SearchInts(starts, off+1) + 1 }
}

// resolve says what is wrong with a target linked from file from, or "".
func (c *linkChecker) resolve(from, target string) string {
	target = strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">")
	if schemeRe.MatchString(target) || strings.HasPrefix(target, "//") {
		return ""
	}
	rawPath, anchor, hasAnchor := strings.Cut(target, "#")
	rawPath, _, _ = strings.Cut(rawPath, "?")
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return "the path does not decode: " + err.Error()
	}
	name, msg := c.targetFile(from, p)
	if msg != "" || !hasAnchor {
		return msg
	}
	return c.anchorProblem(name, anchor)
}

// targetFile is the file a link's path names, relative to the linking
// file (to the repository's root when it starts with /), or why it is
// none.
func (c *linkChecker) targetFile(from, p string) (string, string) {
	var name string
	switch {
	case p == "":
		return from, ""
	case strings.HasPrefix(p, "/"):
		name = path.Clean(strings.TrimPrefix(p, "/"))
	default:
		name = path.Join(path.Dir(from), p)
	}
	if !fs.ValidPath(name) {
		return "", "it leads out of the repository"
	}
	if _, err := fs.Stat(c.fsys, name); err != nil {
		return "", fmt.Sprintf("no file or directory %s", name)
	}
	return name, ""
}

// anchorProblem says why a file has no anchor, or "".
func (c *linkChecker) anchorProblem(name, anchor string) string {
	if path.Ext(name) != ".md" {
		if lineAnchorRe.MatchString(anchor) {
			return ""
		}
		return fmt.Sprintf("%s is not Markdown: its only anchors are lines (#L12, #L12-L20)", name)
	}
	have, err := c.anchorsOf(name)
	if err != nil {
		return err.Error()
	}
	if have[anchor] {
		return ""
	}
	msg := fmt.Sprintf("%s has no heading or anchor #%s", name, anchor)
	if lower := strings.ToLower(anchor); have[lower] {
		msg += fmt.Sprintf(" (GitHub's is #%s, in lower case)", lower)
	}
	return msg
}

func (c *linkChecker) anchorsOf(name string) (map[string]bool, error) {
	if have, ok := c.anchors[name]; ok {
		return have, nil
	}
	src, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, err
	}
	c.anchors[name] = anchors(parsePage(doc{name, string(src)}))
	return c.anchors[name], nil
}

// TestDocLinks checks every relative link and anchor of the README, the
// manual, the chart's README and the changelog.
func TestDocLinks(t *testing.T) {
	fsys, docs := realDocs(t)
	c := newLinkChecker(fsys)
	var found []finding
	for _, d := range docs.links {
		found = append(found, c.check(d)...)
	}
	report(t, "broken links", found)
}

func TestLinkCheckReportsBrokenLinks(t *testing.T) {
	readme := strings.Join([]string{
		"# Title",                                // 1
		"[ok](docs/guide.md) [ok](docs/)",        // 2
		"[missing](docs/nothing.md)",             // 3: no such file
		"[anchor](docs/guide.md#setup)",          // 4
		"[bad anchor](docs/guide.md#set-up)",     // 5: no heading
		"[self](#title) [self](#nope)",           // 6: #nope
		"[second](docs/guide.md#setup-1)",        // 7: the repeated heading
		"[html](docs/guide.md#custom)",           // 8: <a id>
		"`[code](nowhere.md)` [web](https://x/)", // 9: ignored
		"[wrapped",                               // 10
		"text](gone.md)",                         // 11: a link across lines
		"[ref][good] [ref][bad] [Good][]",        // 12: [bad] undefined
		"[line](main.go#L3) [go](main.go#func)",  // 13: not Markdown
		"",
		"[good]: docs/guide.md#setup", // 15
		"[other]: docs/missing.md",    // 16
		"",
		"```md",
		"[in a block](nowhere.md)",
		"```",
	}, "\n")
	guide := "# Setup\n\n<a id=\"custom\"></a>\n\n## Setup\n"
	fsys := fstest.MapFS{
		"README.md":      {Data: []byte(readme)},
		"docs/guide.md":  {Data: []byte(guide)},
		"main.go":        {Data: []byte("package main\n")},
		"docs/other.txt": {Data: []byte("x")},
	}
	found := newLinkChecker(fsys).check(doc{"README.md", readme})
	expect(t, found,
		"README.md:3: link docs/nothing.md: no file or directory docs/nothing.md",
		"README.md:5: link docs/guide.md#set-up: docs/guide.md has no heading or anchor #set-up",
		"README.md:6: link #nope: README.md has no heading or anchor #nope",
		"README.md:11: link gone.md: no file or directory gone.md",
		"README.md:12: [bad]: no such link reference definition",
		"README.md:13: link main.go#func: main.go is not Markdown",
		"README.md:16: link docs/missing.md: no file or directory docs/missing.md")
}
