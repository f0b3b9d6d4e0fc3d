package doctest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// shellLangs are the info strings of the code blocks read as commands.
var shellLangs = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true}

// shellLine is one command line of a shell block, its continuation lines
// joined, with the file line each byte came from.
type shellLine struct {
	text  string
	lines []int // lines[i] is the line of text[i]
}

// shellLines lists a block's command lines: every line of sh, bash and
// shell blocks, and of console blocks those after a "$ " prompt (the rest
// is output). A line ending in \ goes on on the next.
func shellLines(b *block) []shellLine {
	var out []shellLine
	var cur *shellLine
	for i, raw := range b.body {
		line := b.line + 1 + i
		if cur == nil {
			text, ok := commandText(b.lang, raw)
			if !ok {
				continue
			}
			raw, cur = text, &shellLine{}
		}
		text, more := strings.CutSuffix(strings.TrimRight(raw, " \t"), "\\")
		cur.add(text+" ", line)
		if !more {
			out, cur = append(out, *cur), nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// commandText is a line's command, without a console block's prompt.
func commandText(lang, raw string) (string, bool) {
	if lang != "console" {
		return raw, true
	}
	return strings.CutPrefix(strings.TrimLeft(raw, " \t"), "$ ")
}

func (l *shellLine) add(text string, line int) {
	l.text += text
	for range text {
		l.lines = append(l.lines, line)
	}
}

// token is a word of a command line, unquoted, or an operator.
type token struct {
	text string
	op   bool
	line int
}

// lexer splits a command line into words and operators roughly as a
// shell does: quotes and backslashes, $(...) and `...` kept in the word,
// comments dropped. A | inside a word (NAME|ARN) is a synopsis's
// alternative, not a pipe; redirections and their targets are dropped.
type lexer struct {
	src    string
	lines  []int
	i      int
	word   strings.Builder
	inWord bool
	start  int
	out    []token
}

func tokenize(l shellLine) []token {
	lx := &lexer{src: l.text, lines: l.lines}
	for lx.i < len(lx.src) && lx.step() {
	}
	lx.flush()
	return lx.out
}

// step reads what starts at lx.i; it returns false at a comment.
func (lx *lexer) step() bool {
	c := lx.src[lx.i]
	switch {
	case c == ' ' || c == '\t':
		lx.flush()
		lx.i++
	case c == '#' && !lx.inWord:
		return false
	case c == '\'':
		lx.quoted('\'')
	case c == '"':
		lx.quoted('"')
	case c == '\\':
		lx.begin()
		lx.i++
		if lx.i < len(lx.src) {
			lx.word.WriteByte(lx.src[lx.i])
			lx.i++
		}
	case strings.HasPrefix(lx.src[lx.i:], "$("):
		lx.substitution()
	case c == '`':
		end := len(lx.src)
		if j := strings.IndexByte(lx.src[lx.i+1:], '`'); j >= 0 {
			end = lx.i + 2 + j
		}
		lx.take(end)
	case c == '|' && lx.inWord && lx.i+1 < len(lx.src) && !strings.ContainsRune(" \t|", rune(lx.src[lx.i+1])):
		lx.take(lx.i + 1)
	case strings.ContainsRune("|&;()<>", rune(c)):
		lx.operator()
	default:
		lx.begin()
		lx.take(lx.i + 1)
	}
	return true
}

func (lx *lexer) begin() {
	if !lx.inWord {
		lx.inWord, lx.start = true, lx.i
	}
}

// take adds src[i:end] to the word as it is.
func (lx *lexer) take(end int) {
	lx.begin()
	end = min(end, len(lx.src))
	lx.word.WriteString(lx.src[lx.i:end])
	lx.i = end
}

func (lx *lexer) flush() {
	if lx.inWord {
		lx.out = append(lx.out, token{text: lx.word.String(), line: lx.lines[lx.start]})
	}
	lx.word.Reset()
	lx.inWord = false
}

// quoted adds a quoted string's content: in double quotes a backslash
// escapes only $ ` " \, as in a shell.
func (lx *lexer) quoted(q byte) {
	lx.begin()
	for lx.i++; lx.i < len(lx.src) && lx.src[lx.i] != q; lx.i++ {
		c := lx.src[lx.i]
		if q == '"' && c == '\\' && lx.i+1 < len(lx.src) && strings.IndexByte("$`\"\\", lx.src[lx.i+1]) >= 0 {
			lx.i++
			c = lx.src[lx.i]
		}
		lx.word.WriteByte(c)
	}
	lx.i++
}

// substitution adds $(...) as it is, up to its closing parenthesis.
func (lx *lexer) substitution() {
	depth, j := 0, lx.i+1
	for ; j < len(lx.src); j++ {
		if lx.src[j] == '(' {
			depth++
		} else if lx.src[j] == ')' {
			if depth--; depth == 0 {
				break
			}
		}
	}
	lx.take(j + 1)
}

var redirectRe = regexp.MustCompile(`^(?:>>?|<)(&[0-9-]*)?`)

// operator reads an operator; a redirection drops its file descriptor
// number before and its target after, which are not arguments.
func (lx *lexer) operator() {
	if m := redirectRe.FindStringSubmatch(lx.src[lx.i:]); m != nil {
		if isDigits(lx.word.String()) {
			lx.word.Reset()
			lx.inWord = false
		}
		lx.flush()
		lx.i += len(m[0])
		if m[1] == "" {
			lx.out = append(lx.out, token{text: ">", op: true, line: lx.lines[lx.i-1]})
		}
		return
	}
	lx.flush()
	op := lx.src[lx.i : lx.i+1]
	if next := lx.i + 1; next < len(lx.src) && (op == "|" || op == "&") && lx.src[next] == op[0] {
		op += op
	}
	lx.out = append(lx.out, token{text: op, op: true, line: lx.lines[lx.i]})
	lx.i += len(op)
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// commands splits a line's tokens into simple commands. A | followed by a
// flag or a bracketed option continues a synopsis (--function F |
// --all-functions) rather than starting a pipeline's next command.
func commands(toks []token) [][]token {
	var out [][]token
	var cur []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case !t.op:
			cur = append(cur, t)
		case t.text == ">":
			i++ // the redirection's target
		case t.text == "|" && i+1 < len(toks) && !toks[i+1].op && strings.ContainsAny(toks[i+1].text[:1], "-["):
		default:
			out, cur = append(out, cur), nil
		}
	}
	return append(out, cur)
}

var (
	assignmentRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	prefixWords  = map[string]bool{"do": true, "then": true, "else": true, "elif": true, "if": true, "while": true,
		"until": true, "!": true, "time": true, "sudo": true, "exec": true, "command": true, "env": true, "{": true}
)

// splitProgram splits a simple command into the program it runs and its
// arguments, past keywords, sudo and env and variable assignments.
func splitProgram(cmd []token) (token, []token, bool) {
	for len(cmd) > 0 && (prefixWords[cmd[0].text] || assignmentRe.MatchString(cmd[0].text)) {
		cmd = cmd[1:]
	}
	if len(cmd) == 0 {
		return token{}, nil, false
	}
	return cmd[0], cmd[1:], true
}

func TestShellWords(t *testing.T) {
	b := &block{lang: "sh", line: 10, body: []string{
		`KUBECONFIG=x bin/manager --a "--b" 2>&1 | grep x && make c # make d`,
		`kubectl lperm audit --function NAME|ARN [--qualifier Q] | --all-functions \`,
		`  -o json > out.json; echo "$(make e)" 'make f'`,
	}}
	var got []string
	for _, l := range shellLines(b) {
		for _, cmd := range commands(tokenize(l)) {
			prog, args, ok := splitProgram(cmd)
			if !ok {
				continue
			}
			words := []string{prog.text}
			for _, a := range args {
				words = append(words, a.text)
			}
			got = append(got, fmt.Sprintf("%s@%d", strings.Join(words, " "), args[len(args)-1].line-10))
		}
	}
	want := []string{
		"bin/manager --a --b@1", "grep x@1", "make c@1",
		"kubectl lperm audit --function NAME|ARN [--qualifier Q] --all-functions -o json@3",
		"echo $(make e) make f@3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
