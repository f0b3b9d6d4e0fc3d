package policy

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// The compaction property must be able to fail: run against a wrong merge
// rule, it finds the access that rule widens.

// The property is strong enough to catch the merge rule this package must
// never have: grants that differ in two respects merged into one
// statement, which grants the cross product of their values.
func TestCompactPropertyCatchesACrossProductMerge(t *testing.T) {
	// A fixed seed and enough cases: the search must find the counterexample
	// every run, not most runs.
	for name, value := range map[string]string{"rapid.nofailfile": "true", "rapid.shrinktime": "2s", "rapid.seed": "1", "rapid.checks": "5000"} {
		before := flag.Lookup(name).Value.String()
		if err := flag.Set(name, value); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = flag.Set(name, before) })
	}
	failing := &recordingTB{name: t.Name()}
	failing.run(func() { rapid.Check(failing, sameDecisions(crossProductCompact)) })
	if !failing.Failed() {
		t.Fatal("the property passed a compaction that merges grants differing in their source ARN and account")
	}
	t.Logf("caught, as it must be:\n%s", failing.firstLine())
}

// crossProductCompact is the wrong rule: it merges grants that differ in
// their source ARN, their source account, or both.
func crossProductCompact(grants []Statement) []Compacted {
	groups := map[string][]Statement{}
	var keys []string
	for _, g := range grants {
		rest := cloneStatement(g)
		rest.Sid = ""
		for operator := range rest.Condition {
			if operator == "ArnLike" || operator == "StringEquals" {
				delete(rest.Condition[operator], keySourceArn)
				delete(rest.Condition[operator], keySourceAccount)
			}
		}
		key := rest.Render()
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], g)
	}
	var out []Compacted
	for _, key := range keys {
		members := groups[key]
		st := cloneStatement(members[0])
		c := Compacted{Statement: st}
		var arns, accounts []string
		for _, m := range members {
			c.Members = append(c.Members, Member{Sid: m.Sid})
			arns = append(arns, m.Condition["ArnLike"][keySourceArn]...)
			accounts = append(accounts, m.Condition["StringEquals"][keySourceAccount]...)
		}
		if len(arns) > 0 && st.Condition["ArnLike"] != nil {
			st.Condition["ArnLike"][keySourceArn] = arns
		}
		if len(accounts) > 0 && st.Condition["StringEquals"] != nil {
			st.Condition["StringEquals"][keySourceAccount] = accounts
		}
		out = append(out, c)
	}
	return out
}

// recordingTB runs a rapid check that is meant to fail, and records that
// it did instead of failing the test.
type recordingTB struct {
	name   string
	mu     sync.Mutex
	failed bool
	logs   []string
}

func (r *recordingTB) run(check func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		check()
	}()
	<-done
}

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return r.name }
func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Log(args ...any)                   { r.Logf("%s", fmt.Sprint(args...)) }
func (r *recordingTB) Skipf(format string, args ...any)  { r.Logf(format, args...); runtime.Goexit() }
func (r *recordingTB) Skip(args ...any)                  { r.Log(args...); runtime.Goexit() }
func (r *recordingTB) SkipNow()                          { runtime.Goexit() }
func (r *recordingTB) Errorf(format string, args ...any) { r.Logf(format, args...); r.Fail() }
func (r *recordingTB) Error(args ...any)                 { r.Log(args...); r.Fail() }
func (r *recordingTB) Fatalf(format string, args ...any) { r.Logf(format, args...); r.FailNow() }
func (r *recordingTB) Fatal(args ...any)                 { r.Log(args...); r.FailNow() }
func (r *recordingTB) FailNow()                          { r.Fail(); runtime.Goexit() }
func (r *recordingTB) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}
func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recordingTB) firstLine() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.logs {
		if strings.Contains(l, "the compacted policy says") {
			return strings.SplitN(l, "\n", 2)[0]
		}
	}
	return strings.Join(r.logs, "\n")
}

// The point of compaction: 300 buckets invoking one function are far past
// Lambda's 20 KB one statement each, and well under it compacted.
func TestCompactFits300Buckets(t *testing.T) {
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "image-resizer"}
	var grants []Statement
	for i := range 300 {
		grants = append(grants, DesiredStatement(target, Permission{StatementID: fmt.Sprintf("lpo-media-bucket-%03d", i),
			Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
			SourceArn: fmt.Sprintf("arn:aws:s3:::media-uploads-%03d", i), SourceAccount: "111111111111"}))
	}
	size := func(statements []Statement) int { return PolicyDocument{}.SizeAfter(nil, statements...) }
	one, compacted := size(grants), size(Statements(Compact(grants, "lpo-")))
	t.Logf("300 S3 grants: %d bytes one statement each, %d compacted (Lambda's limit: %d)", one, compacted, MaxPolicySize)
	if one <= MaxPolicySize || compacted > MaxPolicySize {
		t.Errorf("%d bytes one statement each, %d compacted: want over and under %d", one, compacted, MaxPolicySize)
	}
}

// Expand undoes Compact: the grants it gives back decide every request as
// the compacted statement does, and a statement listing values in two
// dimensions is left alone.
func TestExpand(t *testing.T) {
	all := requests()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(t, "grants")
		grants := make([]Statement, n)
		for i := range grants {
			grants[i] = grantGen(fmt.Sprintf("g%02d", i)).Draw(t, fmt.Sprintf("grant %d", i))
		}
		for _, c := range Compact(grants, "p-") {
			expanded, d, ok := Expand(c.Statement, func(v string) string { return "x-" + v })
			values, wantD := distinct(c.Members), c.Dimension
			if len(values) == 1 {
				wantD = "" // duplicate grants, listed once: nothing to expand
			}
			if !ok || d != wantD || len(expanded) != len(values) {
				t.Fatalf("Expand(%s) = %d statements along %q, %v; want %d along %q", c.Statement.Render(), len(expanded), d, ok, len(values), wantD)
			}
			for _, r := range all {
				if got, want := Evaluate(expanded, r), Evaluate([]Statement{c.Statement}, r); got != want {
					t.Fatalf("%+v: expanded %s, compacted %s", r, got, want)
				}
			}
		}
	})
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "fn"}
	st := DesiredStatement(target, Permission{StatementID: "both", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::a", SourceAccount: "111111111111"})
	st.Condition["ArnLike"][keySourceArn] = []string{"arn:aws:s3:::a", "arn:aws:s3:::b"}
	st.Condition["StringEquals"][keySourceAccount] = []string{"111111111111", "222222222222"}
	if got, _, ok := Expand(st, func(v string) string { return v }); ok || got != nil {
		t.Errorf("a statement listing source ARNs and accounts expanded into %d grants; want it left alone", len(got))
	}
}

// distinct counts the distinct values among members.
func distinct(members []Member) []string {
	var out []string
	for _, m := range members {
		if !slices.Contains(out, m.Value) {
			out = append(out, m.Value)
		}
	}
	return out
}
