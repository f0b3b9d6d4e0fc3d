//go:build integration

package resilience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// The Document strategy writes whole documents: a PutResourcePolicy call
// says nothing of which statements it changed, and one that changed none,
// or one that touched a statement of someone else's, counts like any other.
// So each world's emulator is reached through a writeLog, which records for
// every whole-document write the policy it found, the revision the request
// named, Lambda's answer and the policy it left. It reads the emulator's
// state directly and changes nothing on the way: the request, the answer,
// a dropped connection pass through as they are.
//
// A write that names a revision and is accepted replaced exactly the policy
// at that revision; the policy read as the request arrived is that one when
// its revision is the one named (revisions only move forward, and the
// emulator compares under its lock). Such a record is exact, whoever else
// writes meanwhile.

// foreignWriterApp marks the foreign writer's requests (its SDK client's
// AppID, which the SDK puts in the User-Agent), to tell them from the
// operator's.
const foreignWriterApp = "resilience-foreign-writer"

const resourcePolicyPath = "/2026-07-09/resource-policy/"

// docWrite is one whole-document write that reached the emulator.
type docWrite struct {
	at             time.Time // when it arrived
	client         string    // the connection it came on (tells operator processes apart)
	invocation     string    // the SDK's invocation id (Amz-Sdk-Invocation-Id), the same on its retries
	attempt        string    // and which attempt (Amz-Sdk-Request)
	foreign        bool      // made by the foreign writer
	operation      string    // emulator.OpPutResourcePolicy or OpDeleteResourcePolicy
	function       string
	revision       string // the RevisionId the request named; "" none
	beforeRevision string // the policy's revision as the request arrived; "" no policy
	before         statementSet
	status         int    // Lambda's answer; 0 when none came (the client went away, or the connection was dropped)
	code           string // the error code when refused
	// droppedApplied is a write left unanswered that the policy shows
	// applied: a fault that drops the connection after the write.
	droppedApplied bool
	after          statementSet
}

// applied reports whether Lambda made the write.
func (d docWrite) applied() bool { return d.status >= 200 && d.status < 300 || d.droppedApplied }

// exact reports whether before is the policy the write replaced.
func (d docWrite) exact() bool { return d.revision != "" && d.revision == d.beforeRevision }

// statementSet is a policy's statements by Sid, each exactly as stored.
type statementSet map[string]string

// statementsOf splits a stored policy into its statements, by Sid, each
// the exact text Lambda keeps. It does not use the operator's parser.
func statementsOf(document string) (statementSet, error) {
	out := statementSet{}
	if document == "" {
		return out, nil
	}
	var doc struct {
		Statement []json.RawMessage
	}
	if err := json.Unmarshal([]byte(document), &doc); err != nil {
		return nil, err
	}
	for i, raw := range doc.Statement {
		var st struct{ Sid string }
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, err
		}
		sid := st.Sid
		if sid == "" {
			sid = fmt.Sprintf("(statement %d, no Sid)", i)
		}
		if _, dup := out[sid]; dup {
			sid = fmt.Sprintf("%s (again, statement %d)", sid, i)
		}
		out[sid] = string(raw)
	}
	return out, nil
}

// changes compares two policies: the Sids added, removed, and changed.
func changes(before, after statementSet) (added, removed, changed []string) {
	for sid, st := range after {
		switch old, ok := before[sid]; {
		case !ok:
			added = append(added, sid)
		case old != st:
			changed = append(changed, sid)
		}
	}
	for sid := range before {
		if _, ok := after[sid]; !ok {
			removed = append(removed, sid)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	slices.Sort(changed)
	return added, removed, changed
}

type writeLog struct {
	emu *emulator.Server

	mu      sync.Mutex
	records []docWrite
}

// reset forgets the records so far: the next figures are one phase's.
func (l *writeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = nil
}

func (l *writeLog) snapshot() []docWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.records)
}

// wrap records the whole-document writes that go to next.
func (l *writeLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		operation := ""
		if strings.HasPrefix(r.URL.Path, resourcePolicyPath) {
			switch r.Method {
			case http.MethodPut:
				operation = emulator.OpPutResourcePolicy
			case http.MethodDelete:
				operation = emulator.OpDeleteResourcePolicy
			}
		}
		if operation == "" {
			next.ServeHTTP(rw, r)
			return
		}
		rec := docWrite{at: time.Now(), client: r.RemoteAddr, operation: operation, foreign: strings.Contains(r.UserAgent(), "app/"+foreignWriterApp),
			invocation: r.Header.Get("Amz-Sdk-Invocation-Id"), attempt: r.Header.Get("Amz-Sdk-Request")}
		put := "" // the document a Put writes, as the emulator stores it
		rec.function = functionOfARN(strings.TrimPrefix(r.URL.Path, resourcePolicyPath))
		if operation == emulator.OpPutResourcePolicy {
			// Read the body to learn the revision, and hand the emulator
			// the same bytes, and the same read error should the client
			// have gone away mid-body.
			body, err := io.ReadAll(r.Body)
			readers := []io.Reader{bytes.NewReader(body)}
			if err != nil {
				readers = append(readers, failingReader{err})
			}
			r.Body = io.NopCloser(io.MultiReader(readers...))
			var input struct{ Policy, RevisionId string }
			_ = json.Unmarshal(body, &input)
			rec.revision = input.RevisionId
			var compact bytes.Buffer
			if json.Compact(&compact, []byte(input.Policy)) == nil {
				put = compact.String()
			}
		} else {
			rec.revision = r.URL.Query().Get("RevisionId")
		}
		before, revision, _ := l.emu.Policy(rec.function, "")
		rec.beforeRevision = revision
		rec.before, _ = statementsOf(before)

		answer := &capturedAnswer{ResponseWriter: rw}
		next.ServeHTTP(answer, r)
		rec.status = answer.status
		if rec.status == 0 && rec.beforeRevision != "" {
			// Unanswered: made anyway if the policy is now what it wrote,
			// at another revision. (Another write right after it can hide
			// one; the figures then undercount.)
			now, revision, exists := l.emu.Policy(rec.function, "")
			switch {
			case revision == rec.beforeRevision:
			case operation == emulator.OpPutResourcePolicy && exists && now == put:
				rec.droppedApplied = true
				rec.after, _ = statementsOf(now)
			case operation == emulator.OpDeleteResourcePolicy && !exists:
				rec.droppedApplied = true
				rec.after = statementSet{}
			}
		}
		switch {
		case rec.droppedApplied:
		case rec.applied() && operation == emulator.OpPutResourcePolicy:
			var out struct{ Policy string }
			if err := json.Unmarshal(answer.body.Bytes(), &out); err == nil {
				rec.after, _ = statementsOf(out.Policy)
			}
		case rec.applied():
			rec.after = statementSet{}
		case rec.status != 0:
			rec.code = answer.Header().Get("X-Amzn-ErrorType")
		}
		l.mu.Lock()
		l.records = append(l.records, rec)
		l.mu.Unlock()
	})
}

// functionOfARN is the function name in a (decoded) function ARN.
func functionOfARN(arn string) string {
	if unescaped, err := url.PathUnescape(arn); err == nil {
		arn = unescaped
	}
	_, name, _ := strings.Cut(arn, ":function:")
	name, _, _ = strings.Cut(name, ":")
	return name
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// capturedAnswer passes an answer through and keeps its status and body.
// Unwrap lets the emulator still hijack the connection to drop it.
type capturedAnswer struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capturedAnswer) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capturedAnswer) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *capturedAnswer) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// docWriteSummary is what the operator's whole-document writes of a phase
// did, judged record by record.
type docWriteSummary struct {
	writes     int            // whole-document writes the operator sent
	applied    int            // accepted by Lambda
	unanswered int            // never answered and not made: cut by a kill, or dropped by a fault
	refused    map[string]int // by error code
	refusals   []string       // what each refused write named, against what the policy was at
	// retriedAccepted are refusals of an SDK retry whose earlier attempt
	// Lambda had accepted: the operator's client did not get the answer,
	// retried the same write under the same revision, and Lambda refused
	// it (412). Not in refused: nothing was written twice.
	retriedAccepted []string
	added           map[string]int // how often each Sid of ours was added by an accepted write
	removed         map[string]int // and removed
	changed         map[string]int // and rewritten in place
	maxPerWrite     int            // the most statements of ours one write changed
	// violations are accepted writes that broke a rule: one that touched a
	// statement of anyone else's, named no revision although a policy
	// existed (so could have replaced someone's write), or changed nothing
	// (a write repeated).
	violations []string
}

// summarize judges the operator's whole-document writes recorded since the
// phase began. ours are the Sids the operator manages in the world.
func (l *writeLog) summarize(ours map[string]bool) docWriteSummary {
	s := docWriteSummary{refused: map[string]int{}, added: map[string]int{}, removed: map[string]int{}, changed: map[string]int{}}
	violate := func(format string, args ...any) {
		if len(s.violations) < 20 {
			s.violations = append(s.violations, fmt.Sprintf(format, args...))
		}
	}
	for _, rec := range l.snapshot() {
		if rec.foreign {
			continue
		}
		s.writes++
		switch {
		case rec.status == 0 && !rec.droppedApplied:
			s.unanswered++
			continue
		case !rec.applied() && l.retriesAccepted(rec):
			s.retriedAccepted = append(s.retriedAccepted, l.explainRefusal(rec))
			continue
		case !rec.applied():
			s.refused[rec.code]++
			s.refusals = append(s.refusals, l.explainRefusal(rec))
			continue
		}
		s.applied++
		what := fmt.Sprintf("%s of %s (revision %q)", rec.operation, rec.function, rec.revision)
		if rec.revision == "" && rec.beforeRevision != "" {
			violate("%s named no revision, over a policy at %s: it could replace another writer's statements", what, rec.beforeRevision)
			continue
		}
		if !rec.exact() {
			// Accepted without a revision while no policy existed as it
			// arrived: the policy it created is all it wrote.
			if rec.revision != "" {
				violate("%s was accepted, but the policy was at %s as it arrived", what, rec.beforeRevision)
				continue
			}
		}
		added, removed, changed := changes(rec.before, rec.after)
		if len(added)+len(removed)+len(changed) == 0 {
			violate("%s changed nothing: a write repeated", what)
		}
		mine := 0
		for _, list := range []struct {
			sids  []string
			count map[string]int
			verb  string
		}{{added, s.added, "added"}, {removed, s.removed, "removed"}, {changed, s.changed, "rewrote"}} {
			for _, sid := range list.sids {
				if !ours[sid] {
					violate("%s %s %q, a statement of someone else's: %s → %s", what, list.verb, sid, rec.before[sid], rec.after[sid])
					continue
				}
				list.count[sid]++
				mine++
			}
		}
		s.maxPerWrite = max(s.maxPerWrite, mine)
	}
	return s
}

// retriesAccepted reports whether rec is a retry, by the operator's SDK
// client, of a write Lambda accepted (the same invocation).
func (l *writeLog) retriesAccepted(rec docWrite) bool {
	if rec.invocation == "" {
		return false
	}
	for _, other := range l.snapshot() {
		if other.invocation == rec.invocation && other.applied() && other.at.Before(rec.at) {
			return true
		}
	}
	return false
}

// explainRefusal says what a refused write named and what the policy was
// at as it arrived: after which accepted write, by which connection.
func (l *writeLog) explainRefusal(rec docWrite) string {
	line := fmt.Sprintf("%s of %s at %s from %s (invocation %s, %s), refused %s: it named revision %q, the policy was at %q",
		rec.operation, rec.function, rec.at.Format("15:04:05.000"), rec.client, rec.invocation, rec.attempt, rec.code, rec.revision, rec.beforeRevision)
	var last *docWrite
	for _, other := range l.snapshot() {
		if other.function == rec.function && other.applied() && other.at.Before(rec.at) {
			last = &other
		}
	}
	if last != nil {
		line += fmt.Sprintf(" (last accepted whole-document write: %s, from %s (invocation %s, %s), naming %q)",
			last.at.Format("15:04:05.000"), last.client, last.invocation, last.attempt, last.revision)
	}
	return line
}

// total sums a per-Sid count.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// repeated lists the Sids counted more than once.
func repeated(counts map[string]int) []string {
	var out []string
	for _, sid := range slices.Sorted(maps.Keys(counts)) {
		if counts[sid] > 1 {
			out = append(out, fmt.Sprintf("%s×%d", sid, counts[sid]))
		}
	}
	return out
}

// String is the summary for a FIGURES line.
func (s docWriteSummary) String() string {
	return fmt.Sprintf("docWrites[sent=%d applied=%d unanswered=%d refused=%d retriedAfterAccepted=%d added=%d removed=%d rewritten=%d maxPerWrite=%d]",
		s.writes, s.applied, s.unanswered, total(s.refused), len(s.retriedAccepted), total(s.added), total(s.removed), total(s.changed), s.maxPerWrite)
}
