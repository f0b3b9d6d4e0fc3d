package doctest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// block is a fenced code block.
type block struct {
	lang   string   // the info string's first word, lower case
	line   int      // the opening fence's line, from 1
	body   []string // its lines, less the fence's indentation
	marker *marker  // the doctest comment before it, if any
	closed bool     // false when the file ends inside it
}

// marker is a <!-- doctest: VERB REASON --> comment on a line of its own.
type marker struct {
	line   int
	verb   string // refused or skip
	reason string
	used   bool // it is the marker of a code block
}

// page is a Markdown file split into its code blocks and its prose.
type page struct {
	doc
	blocks  []*block
	prose   []string // the lines, with those of code blocks and fences blank
	inCode  []bool   // which lines were code blocks or fences
	markers []*marker
}

var (
	fenceRe  = regexp.MustCompile("^([ \t]*)(`{3,}|~{3,})[ \t]*([^ \t`]*)")
	markerRe = regexp.MustCompile(`^\s*<!--\s*doctest\b:?\s*(\S*)\s*(.*?)\s*-->\s*$`)
)

// parsePage finds a Markdown file's fenced code blocks and its doctest
// markers. Fences may be indented any amount, as in list items; indented
// (unfenced) code blocks are not recognised.
func parsePage(d doc) *page {
	lines := strings.Split(d.src, "\n")
	p := &page{doc: d, prose: make([]string, len(lines)), inCode: make([]bool, len(lines))}
	for i := 0; i < len(lines); i++ {
		m := fenceRe.FindStringSubmatch(lines[i])
		if m == nil {
			p.prose[i] = lines[i]
			p.addMarker(i)
			continue
		}
		b := &block{lang: strings.ToLower(m[3]), line: i + 1, marker: p.markerBefore(i)}
		end := closingFence(lines, i+1, m[2])
		b.closed = end < len(lines)
		for j := i + 1; j < end; j++ {
			b.body = append(b.body, trimIndent(lines[j], len(m[1])))
		}
		for j := i; j <= end && j < len(lines); j++ {
			p.inCode[j] = true
		}
		p.blocks = append(p.blocks, b)
		i = end
	}
	return p
}

// closingFence is the index of the line that closes a fence opened with
// fence, or len(lines) when none does.
func closingFence(lines []string, from int, fence string) int {
	for j := from; j < len(lines); j++ {
		s := strings.TrimSpace(lines[j])
		if strings.HasPrefix(s, fence) && strings.Trim(s, fence[:1]) == "" {
			return j
		}
	}
	return len(lines)
}

// trimIndent takes up to n leading spaces off a code line.
func trimIndent(s string, n int) string {
	for i := 0; i < n && strings.HasPrefix(s, " "); i++ {
		s = s[1:]
	}
	return s
}

func (p *page) addMarker(i int) {
	if m := markerRe.FindStringSubmatch(p.prose[i]); m != nil {
		p.markers = append(p.markers, &marker{line: i + 1, verb: m[1], reason: m[2]})
	}
}

// markerBefore is the marker on the last non-blank line before line i,
// when that line is prose.
func (p *page) markerBefore(i int) *marker {
	j := i - 1
	for j >= 0 && !p.inCode[j] && strings.TrimSpace(p.prose[j]) == "" {
		j--
	}
	if j < 0 || p.inCode[j] || len(p.markers) == 0 {
		return nil
	}
	if m := p.markers[len(p.markers)-1]; m.line == j+1 {
		m.used = true
		return m
	}
	return nil
}

// yamlLangs are the info strings of YAML blocks.
var yamlLangs = map[string]bool{"yaml": true, "yml": true}

// skipped says whether a block opts out of the checks, and why; a skip
// without a reason does not (checkMarkdown reports it).
func (b *block) skipped() (string, bool) {
	if b.marker != nil && b.marker.verb == "skip" && b.marker.reason != "" {
		return b.marker.reason, true
	}
	return "", false
}

// refused says whether a block is marked to be refused by the API server.
func (b *block) refused() bool { return b.marker != nil && b.marker.verb == "refused" }

// checkMarkdown finds doctest markers that say nothing the checks
// understand or stand before no code block, and code blocks never closed
// (everything after them would be code).
func checkMarkdown(d doc) []finding {
	p := parsePage(d)
	var found []finding
	for _, m := range p.markers {
		if msg := markerProblem(m); msg != "" {
			found = append(found, finding{d.path, m.line, msg})
		}
	}
	for _, b := range p.blocks {
		if !b.closed {
			found = append(found, finding{d.path, b.line, "this code block is never closed"})
		}
		if b.refused() && !yamlLangs[b.lang] {
			found = append(found, finding{d.path, b.marker.line, "<!-- doctest: refused --> is for YAML blocks; this one is " + b.lang})
		}
	}
	return found
}

func markerProblem(m *marker) string {
	switch {
	case m.verb != "refused" && m.verb != "skip":
		return fmt.Sprintf("doctest marker %q: want <!-- doctest: refused --> or <!-- doctest: skip REASON -->", m.verb)
	case m.verb == "skip" && m.reason == "":
		return "<!-- doctest: skip --> needs a reason: <!-- doctest: skip REASON -->"
	case !m.used:
		return fmt.Sprintf("<!-- doctest: %s --> is not right before a code block's fence", m.verb)
	}
	return ""
}

// TestDocMarkdown checks the doctest markers and the fences of the real
// files.
func TestDocMarkdown(t *testing.T) {
	_, docs := realDocs(t)
	var found []finding
	for _, d := range docs.blocks {
		found = append(found, checkMarkdown(d)...)
	}
	report(t, "doctest markers and code fences", found)
}

func TestMarkdownCheckReportsBadMarkers(t *testing.T) {
	src := "# T\n\n<!-- doctest: skip -->\n```yaml\na: 1\n```\n\n" + // 3: no reason
		"<!-- doctest: refuse -->\n```yaml\na: 1\n```\n" + // 8: unknown verb
		"<!-- doctest: refused -->\n\nprose\n\n" + // 12: before no block
		"<!-- doctest: skip a fragment -->\n\n```yaml\na: 1\n```\n" + // fine
		"<!-- doctest: refused -->\n```sh\nmake x\n```\n" + // 21: not YAML
		"```sh\nmake x\n" // 25: never closed
	found := checkMarkdown(doc{"x.md", src})
	expect(t, found, "x.md:3: <!-- doctest: skip --> needs a reason", "x.md:8: doctest marker \"refuse\"",
		"x.md:12: <!-- doctest: refused --> is not right before", "x.md:21: <!-- doctest: refused --> is for YAML blocks",
		"x.md:25: this code block is never closed")
	p := parsePage(doc{"x.md", src})
	if _, ok := p.blocks[0].skipped(); ok {
		t.Error("a skip without a reason skips block 1")
	}
	if reason, ok := p.blocks[2].skipped(); !ok || reason != "a fragment" {
		t.Errorf("block 3 skipped = %q, %v; want \"a fragment\", true", reason, ok)
	}
}

// expect checks that the findings are exactly those starting with want, in
// file and line order.
func expect(t *testing.T, found []finding, want ...string) {
	t.Helper()
	sortFindings(found)
	var got []string
	for _, f := range found {
		got = append(got, f.String())
	}
	if len(got) != len(want) {
		t.Fatalf("found %d, want %d:\n\t%s", len(got), len(want), strings.Join(got, "\n\t"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("finding %q does not start with %q", got[i], want[i])
		}
	}
}
