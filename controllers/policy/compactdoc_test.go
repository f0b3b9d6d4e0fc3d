package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The compacted document as the writer keeps it: grants come and go one at
// a time, each written alone and then compacted with the rest, or taken
// out of the statement that holds it; a statement the operator does not
// own rides along untouched. After every step the document decides every
// request as the grants then wanted do, and finds each of them.

const foreignRaw = `{"Sid":"terraform-sns","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + compactFunction + `"}`

func foreignDocument() PolicyDocument {
	doc, err := ParsePolicy(`{"Version":"2012-10-17","Id":"default","Statement":[` + foreignRaw + `]}`)
	if err != nil {
		panic(err)
	}
	return doc
}

func TestCompactedDocumentDecidesAsItsGrants(t *testing.T) {
	all := requests()
	foreign := foreignDocument().Statements[0]
	rapid.Check(t, func(t *rapid.T) {
		doc := foreignDocument()
		wanted := map[string]Statement{}
		own := func(sid string) bool { _, ok := wanted[sid]; return ok }
		steps := rapid.IntRange(1, 14).Draw(t, "steps")
		for step := range steps {
			sid := fmt.Sprintf("g%02d", rapid.IntRange(0, 7).Draw(t, fmt.Sprintf("sid %d", step)))
			if old, ok := wanted[sid]; ok && rapid.Bool().Draw(t, fmt.Sprintf("remove %d", step)) {
				delete(wanted, sid)
				if !slices.ContainsFunc(values(wanted), func(g Statement) bool { return SameGrant(g, old) }) {
					doc = doc.With(nil, []string{sid}).WithoutGrants([]Statement{old}, "p-")
				} else {
					doc = doc.With(nil, []string{sid}) // another grant still wants it
				}
			} else {
				grant := grantGen(sid).Draw(t, fmt.Sprintf("grant %d", step))
				if old, ok := wanted[sid]; ok && !slices.ContainsFunc(others(wanted, sid), func(g Statement) bool { return SameGrant(g, old) }) {
					doc = doc.WithoutGrants([]Statement{old}, "p-")
				}
				wanted[sid] = grant
				doc = doc.With([]Statement{grant}, nil)
			}
			doc = doc.Recompacted(own, "p-")

			if got := doc.Statements[0]; got.Raw != foreign.Raw {
				t.Fatalf("step %d: the foreign statement became %s", step, got.Raw)
			}
			written := statementsOf(doc)
			grants := append(values(wanted), foreign.Statement)
			for _, r := range all {
				if got, want := Evaluate(written, r), Evaluate(grants, r); got != want {
					t.Fatalf("step %d, %+v: the document says %s, the grants %s\ngrants:\n%s\ndocument:\n%s", step, r, got, want, render(grants), render(written))
				}
			}
			for sid, g := range wanted {
				plain, found := doc.Find(sid)
				if _, held := doc.Holds(g, "p-"); !held && !(found && SameGrant(plain.Statement, g)) {
					t.Fatalf("step %d: grant %s is neither in place nor held:\n%s\ndocument:\n%s", step, sid, g.Render(), render(written))
				}
			}
			if again := doc.Recompacted(own, "p-"); again.Text() != doc.Text() {
				t.Fatalf("step %d: compacting again changed the document:\n%s\n%s", step, doc.Text(), again.Text())
			}
		}
	})
}

func values(m map[string]Statement) []Statement {
	var out []Statement
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func others(m map[string]Statement, sid string) []Statement {
	var out []Statement
	for k, v := range m {
		if k != sid {
			out = append(out, v)
		}
	}
	return out
}

func statementsOf(doc PolicyDocument) []Statement {
	out := make([]Statement, len(doc.Statements))
	for i, st := range doc.Statements {
		out[i] = st.Statement
	}
	return out
}

func TestCompactedDocument(t *testing.T) {
	own := func(sid string) bool { return sid != "terraform-sns" }
	doc := foreignDocument().With([]Statement{bucket("a", "one"), bucket("b", "two"), bucket("c", "three")}, nil).Recompacted(own, "p-")
	if len(doc.Statements) != 2 || !IsCompacted(doc.Statements[1].Sid, "p-") || doc.Statements[0].Raw != foreignRaw {
		t.Fatalf("three buckets and a foreign statement compacted to:\n%s", doc.Text())
	}
	sid := doc.Statements[1].Sid

	t.Run("each grant is held with its own value", func(t *testing.T) {
		for _, name := range []string{"one", "two", "three"} {
			h, ok := doc.Holds(bucket("x", name), "p-")
			if !ok || h.Statement.Sid != sid || h.Dimension != BySourceArn || h.Value != "arn:aws:s3:::"+name {
				t.Errorf("bucket %s: held %v in %+v", name, ok, h)
			}
		}
		if _, ok := doc.Holds(bucket("x", "four"), "p-"); ok {
			t.Error("a bucket no grant names is held")
		}
		if _, ok := doc.Holds(bucket("x", "one"), "other-"); ok {
			t.Error("held by a statement compacted under another prefix")
		}
	})
	t.Run("a foreign statement is never read as compacted", func(t *testing.T) {
		if IsCompacted("terraform-sns", "p-") || IsCompacted("p-compacted-sourcearn-xyz", "p-") || !IsCompacted(sid, "p-") {
			t.Error("IsCompacted misreads a Sid")
		}
	})
	t.Run("a member leaves its list, and the Sid stays", func(t *testing.T) {
		less := doc.WithoutGrants([]Statement{bucket("b", "two")}, "p-")
		h, ok := less.Holds(bucket("a", "one"), "p-")
		if !ok || h.Statement.Sid != sid || len(less.Statements) != 2 {
			t.Fatalf("after one left:\n%s", less.Text())
		}
		if _, ok := less.Holds(bucket("b", "two"), "p-"); ok {
			t.Error("the grant that left is still held")
		}
		last := less.WithoutGrants([]Statement{bucket("a", "one"), bucket("c", "three")}, "p-")
		if len(last.Statements) != 1 || last.Statements[0].Raw != foreignRaw {
			t.Errorf("after every member left:\n%s", last.Text())
		}
	})
	t.Run("a lone member keeps its statement's Sid", func(t *testing.T) {
		lone := doc.WithoutGrants([]Statement{bucket("a", "one"), bucket("b", "two")}, "p-").Recompacted(own, "p-")
		h, ok := lone.Holds(bucket("c", "three"), "p-")
		if !ok || h.Statement.Sid != sid || h.Dimension != "" {
			t.Errorf("the last member: held %v in %+v\n%s", ok, h, lone.Text())
		}
	})
	t.Run("a new grant joins the list, and the Sid stays", func(t *testing.T) {
		more := doc.With([]Statement{bucket("d", "four")}, nil).Recompacted(own, "p-")
		h, ok := more.Holds(bucket("d", "four"), "p-")
		if !ok || h.Statement.Sid != sid || len(more.Statements) != 2 {
			t.Errorf("after one joined:\n%s", more.Text())
		}
	})
	t.Run("only own statements are compacted", func(t *testing.T) {
		mine := func(sid string) bool { return sid != "b" && own(sid) }
		mixed := foreignDocument().With([]Statement{bucket("a", "one"), bucket("b", "two"), bucket("c", "three")}, nil).Recompacted(mine, "p-")
		if st, ok := mixed.Find("b"); !ok || !strings.Contains(st.Raw, "two") || len(mixed.Statements) != 3 {
			t.Errorf("a statement not the operator's was compacted:\n%s", mixed.Text())
		}
	})
	t.Run("expanded, the document is one statement per grant", func(t *testing.T) {
		if got := len(doc.Expanded("p-").Statements); got != 4 {
			t.Errorf("expanded to %d statements, want 4", got)
		}
		if doc.Expanded("p-").Size() <= doc.Size() {
			t.Error("compaction saved nothing")
		}
	})
}

// bucket is the grant a LambdaPermission for S3 bucket name writes on the
// function of the compaction tests.
func bucket(sid, name string) Statement {
	target, _ := ParseFunctionName(compactFunction)
	return DesiredStatement(target, Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::" + name})
}
