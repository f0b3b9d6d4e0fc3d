//go:build integration

package resilience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
