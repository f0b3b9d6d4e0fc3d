package doctest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// asciiPunct are the characters a backslash escapes in Markdown.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// maskProse blanks out, keeping every newline and byte offset, what
// Markdown does not render: HTML comments and, for links (where they are
// not links), backslash escapes and inline code spans. Code blocks are
// already blank in text.
func maskProse(text string, forLinks bool) string {
	out := []byte(text)
	for i := 0; i < len(text); {
		switch {
		case strings.HasPrefix(text[i:], "<!--"):
			end := strings.Index(text[i:], "-->")
			if end < 0 {
				end = len(text) - i - 3
			}
			i = blank(out, i, i+end+3)
		case !forLinks:
			i++
		case text[i] == '\\' && i+1 < len(text) && strings.IndexByte(asciiPunct, text[i+1]) >= 0:
			i = blank(out, i, i+2)
		case text[i] == '`':
			i = maskCodeSpan(text, out, i)
		default:
			i++
		}
	}
	return string(out)
}

// maskCodeSpan handles the backtick run at i: when a run as long closes it
// within the paragraph, the span is blanked; it returns where to go on.
func maskCodeSpan(text string, out []byte, i int) int {
	n := runLength(text, i, '`')
	for j := i + n; j < len(text); {
		if strings.HasPrefix(text[j:], "\n\n") {
			break
		}
		if text[j] != '`' {
			j++
			continue
		}
		m := runLength(text, j, '`')
		if m == n {
			return blank(out, i, j+m)
		}
		j += m
	}
	return i + n
}

func runLength(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// blank overwrites out[from:to] but its newlines with x and returns to.
func blank(out []byte, from, to int) int {
	to = min(to, len(out))
	for k := from; k < to; k++ {
		if out[k] != '\n' {
			out[k] = 'x'
		}
	}
	return to
}

var (
	atxRe      = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextRe   = regexp.MustCompile(`^ {0,3}(?:=+|-+)[ \t]*$`)
	notParaRe  = regexp.MustCompile(`^\s*(?:[-*+>|<#]|\d+[.)]\s|$)`)
	htmlAnchor = regexp.MustCompile(`<a\s[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']`)
)

// anchors lists the fragments a Markdown file has, as GitHub makes them:
// its headings' slugs and its <a id="..."> and <a name="..."> anchors.
func anchors(p *page) map[string]bool {
	lines := strings.Split(maskProse(strings.Join(p.prose, "\n"), false), "\n")
	seen := map[string]int{}
	out := map[string]bool{}
	for i, line := range lines {
		if p.inCode[i] {
			continue
		}
		if text, ok := headingAt(lines, p.inCode, i); ok {
			out[uniqueSlug(slug(headingText(text)), seen)] = true
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
	}
	return out
}

// headingAt returns the text of an ATX heading on line i, or of a setext
// heading underlined by line i.
func headingAt(lines []string, inCode []bool, i int) (string, bool) {
	if m := atxRe.FindStringSubmatch(lines[i]); m != nil {
		return m[1], true
	}
	if !setextRe.MatchString(lines[i]) {
		return "", false
	}
	start := i
	for start > 0 && !inCode[start-1] && !notParaRe.MatchString(lines[start-1]) {
		start--
	}
	if start == i {
		return "", false
	}
	return strings.Join(lines[start:i], " "), true
}

// uniqueSlug numbers a slug seen before as GitHub does: x, x-1, x-2.
func uniqueSlug(s string, seen map[string]int) string {
	n := seen[s]
	seen[s]++
	if n == 0 {
		return s
	}
	return fmt.Sprintf("%s-%d", s, n)
}

var (
	codeSpanRe   = regexp.MustCompile("(`+)(.*?)(`+)")
	imageRe      = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	linkInlineRe = regexp.MustCompile(`\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])`)
	tagRe        = regexp.MustCompile(`<[^>]+>`)
	escapeRe     = regexp.MustCompile(`\\(\pP|\pS)`)
)

// headingText is a heading's text as GitHub renders it, without the
// Markdown: code spans keep their content, links and images their text.
func headingText(raw string) string {
	var b strings.Builder
	last := 0
	for _, m := range codeSpanRe.FindAllStringSubmatchIndex(raw, -1) {
		b.WriteString(renderInline(raw[last:m[0]]))
		b.WriteString(raw[m[4]:m[5]])
		last = m[1]
	}
	b.WriteString(renderInline(raw[last:]))
	return strings.TrimSpace(b.String())
}

func renderInline(s string) string {
	s = imageRe.ReplaceAllString(s, "$1")
	s = linkInlineRe.ReplaceAllString(s, "$1")
	s = tagRe.ReplaceAllString(s, "")
	s = dropEmphasisUnderscores(s)
	return escapeRe.ReplaceAllString(s, "$1")
}

// dropEmphasisUnderscores removes the underscores that delimit emphasis
// (next to a space, punctuation or an end), keeping those within a word
// (snake_case).
func dropEmphasisUnderscores(s string) string {
	r := []rune(s)
	var out []rune
	for i := 0; i < len(r); i++ {
		if r[i] != '_' {
			out = append(out, r[i])
			continue
		}
		j := i
		for j < len(r) && r[j] == '_' {
			j++
		}
		if i > 0 && j < len(r) && isWordRune(r[i-1]) && isWordRune(r[j]) {
			out = append(out, r[i:j]...)
		}
		i = j - 1
	}
	return string(out)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// slug is GitHub's anchor for a heading's text: lower case, with every
// character but letters, digits, spaces, hyphens and underscores dropped
// and each space made a hyphen.
func slug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlugsAreGitHubs(t *testing.T) {
	for heading, want := range map[string]string{
		"2. The AWS identity (IAM)":                     "2-the-aws-identity-iam",
		"The operator's own permissions in the cluster": "the-operators-own-permissions-in-the-cluster",
		"Own a whole policy: `LambdaResourcePolicy`":    "own-a-whole-policy-lambdaresourcepolicy",
		"Write strategies — Statements or Document":     "write-strategies--statements-or-document",
		"[Linked](other.md) *emphasis* and _this_":      "linked-emphasis-and-this",
		"snake_case and `--flag_name`":                  "snake_case-and---flag_name",
		"Ünïcode & symbols!":                            "ünïcode--symbols",
	} {
		if got := slug(headingText(heading)); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

func TestAnchorsNumberRepeatedHeadingsAndReadHTML(t *testing.T) {
	src := "# A\n\n## A\n\nSetext\n======\n\n```sh\n# not a heading\n```\n<a id=\"here\"></a>\n\n## A ##\n"
	got := anchors(parsePage(doc{"x.md", src}))
	for _, want := range []string{"a", "a-1", "a-2", "setext", "here"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block made an anchor")
	}
}
