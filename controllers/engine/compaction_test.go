package engine

import (
	"slices"
	"strings"
	"testing"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// compacting is wanted(sid, bucket) on a Document policy that compacts
// as on says.
func compacting(sid, bucket string, on bool) Desired {
	want := wanted(sid, bucket)
	want.Strategy, want.Compaction = writer.Document, writer.Compaction{On: on, SidPrefix: "p-"}
	return want
}

// compactedPolicy is a policy where buckets' grants are compacted, beside a
// foreign statement.
func compactedPolicy(t *testing.T, buckets ...string) writer.Observed {
	t.Helper()
	var grants []policy.Statement
	for i, b := range buckets {
		grants = append(grants, wanted(string(rune('a'+i)), b).Statement)
	}
	return observed(t, "r1", append(policy.Statements(policy.Compact(grants, "p-")), wanted("foreign", "theirs").Statement)...)
}

func TestPlanStatementCompacted(t *testing.T) {
	three := []string{"one", "two", "three"}
	previous := wanted("s3", "two").Statement
	for _, tt := range []struct {
		name       string
		observed   writer.Observed
		want       Desired
		previous   *policy.Statement
		wasInPlace bool

		wantInPlace bool
		wantHeld    string // the value it is held with
		wantPut     bool
		wantDrop    []string // the buckets taken out of lists
		wantGrant   bool     // the writer is told the grant may be compacted
		wantDrift   string
	}{
		{name: "held in a list: in place, no write", observed: compactedPolicy(t, three...), want: compacting("s3", "two", true),
			wantInPlace: true, wantHeld: "arn:aws:s3:::two", wantGrant: true},
		{name: "not held: put, for the writer to compact", observed: compactedPolicy(t, three...), want: compacting("s3", "four", true),
			wantPut: true, wantGrant: true},
		{name: "taken out of its list by hand: put back, as drift", observed: compactedPolicy(t, "one", "three"), want: compacting("s3", "two", true),
			wasInPlace: true, wantPut: true, wantGrant: true, wantDrift: "missing"},
		{name: "held, and in place at the last sync: no drift", observed: compactedPolicy(t, three...), want: compacting("s3", "two", true),
			wasInPlace: true, wantInPlace: true, wantHeld: "arn:aws:s3:::two", wantGrant: true},
		{name: "a spec change: the new grant put, the old one leaves its list in the same write", observed: compactedPolicy(t, three...),
			want: compacting("s3", "four", true), previous: &previous, wantPut: true, wantDrop: []string{"two"}, wantGrant: true},
		{name: "compaction turned off: written alone, and out of the list", observed: compactedPolicy(t, three...), want: compacting("s3", "two", false),
			wantPut: true, wantDrop: []string{"two"}},
		{name: "Statements strategy: a listed grant is in place, never rewritten", observed: compactedPolicy(t, three...),
			want:        func() Desired { w := compacting("s3", "two", false); w.Strategy = writer.Statements; return w }(),
			wantInPlace: true, wantHeld: "arn:aws:s3:::two"},
		{name: "a list under another prefix is not ours", observed: compactedPolicy(t, three...),
			want: func() Desired { w := compacting("s3", "two", true); w.Compaction.SidPrefix = "q-"; return w }(), wantPut: true, wantGrant: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.Previous = tt.previous
			got := planStatement(tt.observed, want, mode{}, tt.wasInPlace)
			if got.InPlace != tt.wantInPlace || (got.Held != nil) != (tt.wantHeld != "") || got.Held != nil && got.Held.Value != tt.wantHeld {
				t.Errorf("in place %v, held %+v; want %v, %q", got.InPlace, got.Held, tt.wantInPlace, tt.wantHeld)
			}
			if (len(got.Writes.Puts) == 1) != tt.wantPut || (len(got.Writes.Grants) == 1) != tt.wantGrant {
				t.Errorf("puts %d, grants %d; want put %v, grant %v", len(got.Writes.Puts), len(got.Writes.Grants), tt.wantPut, tt.wantGrant)
			}
			var dropped []string
			for _, g := range got.Writes.Drop {
				dropped = append(dropped, strings.TrimPrefix(g.Statement.Condition["ArnLike"]["AWS:SourceArn"][0], "arn:aws:s3:::"))
			}
			if !slices.Equal(dropped, tt.wantDrop) {
				t.Errorf("drops %v, want %v", dropped, tt.wantDrop)
			}
			if got.Drift != tt.wantDrift {
				t.Errorf("drift %q, want %q", got.Drift, tt.wantDrift)
			}
		})
	}
}

// 300 buckets cannot fit one statement each; compacted they do, and a
// Statements account is told so, with the sizes.
func TestPlanStatementTooLargeSaysCompactionWouldFit(t *testing.T) {
	var grants []policy.Statement
	for i := range 299 {
		grants = append(grants, wanted(strings.Repeat("s", 1)+string(rune('A'+i%26))+string(rune('a'+i/26)), "bucket-"+strings.Repeat("x", 20)+string(rune('a'+i%26))+string(rune('a'+i/26))).Statement)
	}
	full := observed(t, "r1", grants...)
	statements := wanted("last", "bucket-last")
	refusal := planStatement(full, statements, mode{}, false).Refusal
	if refusal == nil || refusal.Reason != lambdav1alpha1.ReasonPolicyTooLarge || !strings.Contains(refusal.Message, "compaction.mode") || !strings.Contains(refusal.Message, "compacted") {
		t.Fatalf("a Statements account over the limit: %+v; want PolicyTooLarge saying compaction would fit", refusal)
	}
	t.Log(refusal.Message)
	document := compacting("last", "bucket-last", true)
	if got := planStatement(full, document, mode{}, false); got.Refusal != nil || len(got.Writes.Puts) != 1 {
		t.Errorf("with compaction the grant is refused: %+v", got.Refusal)
	}
}

func TestPlanCompactedRemoval(t *testing.T) {
	policyOf := compactedPolicy(t, "one", "two", "three")
	ours := []policy.Statement{wanted("s3", "two").Statement}
	c := writer.Compaction{On: true, SidPrefix: "p-"}
	if got := planCompactedRemoval(policyOf, "s3", ours, mode{}, c, true); len(got.Writes.Drop) != 1 || got.Compacted == nil || got.Compacted.Value != "arn:aws:s3:::two" {
		t.Errorf("a listed grant of ours: %+v; want it dropped from its list", got)
	}
	if got := planCompactedRemoval(policyOf, "s3", ours, mode{}, c, false); !got.Writes.Empty() || got.Compacted == nil {
		t.Errorf("Statements strategy: %+v; want it left in its list, and said why", got)
	}
	if got := planCompactedRemoval(policyOf, "s3", ours, mode{DryRun: true}, c, true); !got.Writes.Empty() || !got.Refused {
		t.Errorf("dry run: %+v; want refused", got)
	}
	if got := planCompactedRemoval(policyOf, "s3", []policy.Statement{wanted("s3", "nine").Statement}, mode{}, c, true); !got.Writes.Empty() {
		t.Errorf("a grant no list holds: %+v; want nothing written", got)
	}
}
