package engine

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/kernel"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

var testTarget = policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "fn"}

// wanted is the desired statement of a grant to s3 from bucket, under sid.
func wanted(sid, bucket string) Desired {
	p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceAccount: "123456789012", SourceArn: "arn:aws:s3:::" + bucket}
	return Desired{Target: testTarget, Permission: p, Statement: policy.DesiredStatement(testTarget, p)}
}

// observed is a policy holding these statements, as GetPolicy returns it.
func observed(t *testing.T, revision string, statements ...policy.Statement) writer.Observed {
	t.Helper()
	var rendered []string
	for _, st := range statements {
		rendered = append(rendered, st.Render())
	}
	doc, err := policy.ParsePolicy(`{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(rendered, ",") + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	return writer.Observed{Document: doc, RevisionID: revision}
}

// bigStatement is a foreign statement of about size bytes.
func bigStatement(sid string, size int) policy.Statement {
	p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceAccount: "123456789012", SourceArn: "arn:aws:s3:::" + strings.Repeat("b", size)}
	return policy.DesiredStatement(testTarget, p)
}

func TestPlanStatement(t *testing.T) {
	want := wanted("s3", "mine")
	other := wanted("s3", "someone-else").Statement
	foreign := wanted("foreign", "theirs").Statement
	for _, tt := range []struct {
		name       string
		observed   writer.Observed
		mode       mode
		wasInPlace bool

		wantWrite    string // "", "add" or "replace"
		wantInPlace  bool
		wantRefusal  string // the reason
		wantMessage  string // part of the refusal's message
		wantDrift    string
		wantRevision string
	}{
		{name: "empty policy: add", observed: observed(t, "r1"), wantWrite: "add", wantRevision: "r1"},
		{name: "other statements only: add beside them", observed: observed(t, "r1", foreign), wantWrite: "add"},
		{name: "same grant: in place, nothing written", observed: observed(t, "r1", foreign, want.Statement), wantInPlace: true, wantRevision: "r1"},
		{name: "same grant, revision unknown after our writes", observed: observed(t, "", want.Statement), wantInPlace: true},
		{name: "other content under the Sid: replace", observed: observed(t, "r1", other), wantWrite: "replace"},
		{name: "in place before, now missing: drift corrected", observed: observed(t, "r2", foreign), wasInPlace: true, wantWrite: "add", wantDrift: "missing"},
		{name: "in place before, now changed: drift corrected", observed: observed(t, "r2", other), wasInPlace: true, wantWrite: "replace", wantDrift: "changed"},
		{name: "in place before and still: no drift", observed: observed(t, "r2", want.Statement), wasInPlace: true, wantInPlace: true, wantRevision: "r2"},

		{name: "Observe, missing: DriftDetected, nothing written", observed: observed(t, "r1"), mode: mode{Observe: true},
			wantRefusal: lambdav1alpha1.ReasonDriftDetected, wantMessage: `statement "s3" on arn:aws:lambda:us-east-2:123456789012:function:fn is missing; the spec would add statement "s3"`},
		{name: "Observe, different: DriftDetected, names the difference", observed: observed(t, "r1", other), mode: mode{Observe: true},
			wantRefusal: lambdav1alpha1.ReasonDriftDetected, wantMessage: `is different: {"Sid":"s3"`},
		{name: "Observe, in place: adopted", observed: observed(t, "r1", want.Statement), mode: mode{Observe: true}, wantInPlace: true, wantRevision: "r1"},
		{name: "dry run, missing: the add is reported", observed: observed(t, "r1"), mode: mode{DryRun: true},
			wantRefusal: lambdav1alpha1.ReasonDryRun, wantMessage: `dry run: would add statement "s3" to arn:aws:lambda:us-east-2:123456789012:function:fn: {"Sid":"s3"`},
		{name: "dry run, different: the replacement and its difference are reported", observed: observed(t, "r1", other), mode: mode{DryRun: true},
			wantRefusal: lambdav1alpha1.ReasonDryRun, wantMessage: `would replace statement "s3" on arn:aws:lambda:us-east-2:123456789012:function:fn (it differs in [Condition])`},
		{name: "dry run, in place: nothing to report", observed: observed(t, "r1", want.Statement), mode: mode{DryRun: true}, wantInPlace: true, wantRevision: "r1"},
		{name: "Observe wins over dry run", observed: observed(t, "r1"), mode: mode{Observe: true, DryRun: true}, wantRefusal: lambdav1alpha1.ReasonDriftDetected},

		{name: "over 20480 bytes: refused before any write", observed: observed(t, "r1", bigStatement("big", 20000)),
			wantRefusal: lambdav1alpha1.ReasonPolicyTooLarge, wantMessage: "over Lambda's limit of 20480"},
		{name: "a replacement is measured without the statement it replaces", observed: observed(t, "r1", bigStatement("big", 19800), other), wantWrite: "replace"},
		{name: "Observe refuses before measuring", observed: observed(t, "r1", bigStatement("big", 20000)), mode: mode{Observe: true}, wantRefusal: lambdav1alpha1.ReasonDriftDetected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := planStatement(tt.observed, want, tt.mode, tt.wasInPlace)
			write := ""
			if len(got.Writes.Puts) == 1 && len(got.Writes.Removes) == 0 {
				put := got.Writes.Puts[0]
				write = "add"
				if put.Replaces != nil {
					write = "replace"
					if put.Replaces.Sid != "s3" || policy.SameGrant(put.Replaces.Statement, want.Statement) {
						t.Errorf("replaces %+v", put.Replaces)
					}
				}
				if !reflect.DeepEqual(put.Permission, want.Permission) || put.Statement.Render() != want.Statement.Render() {
					t.Errorf("puts %+v, want the desired statement", put)
				}
			} else if !got.Writes.Empty() {
				t.Fatalf("writes %+v", got.Writes)
			}
			if write != tt.wantWrite || got.InPlace != tt.wantInPlace || got.Drift != tt.wantDrift {
				t.Errorf("write %q in place %v drift %q; want %q, %v, %q", write, got.InPlace, got.Drift, tt.wantWrite, tt.wantInPlace, tt.wantDrift)
			}
			if got.InPlace && got.Revision != tt.wantRevision {
				t.Errorf("revision %q, want %q", got.Revision, tt.wantRevision)
			}
			switch {
			case tt.wantRefusal == "" && got.Refusal != nil:
				t.Errorf("refused: %v", got.Refusal)
			case tt.wantRefusal != "" && (got.Refusal == nil || got.Refusal.Reason != tt.wantRefusal || !strings.Contains(got.Refusal.Message, tt.wantMessage)):
				t.Errorf("refusal %v, want %s containing %q", got.Refusal, tt.wantRefusal, tt.wantMessage)
			case got.Refusal != nil && !got.Writes.Empty():
				t.Errorf("refused and still writes %+v", got.Writes)
			}
		})
	}
}

// The refusals' conditions: Observe needs a person (Stalled); a dry run is
// not a failure to retry but a plan to show until the next sync.
func TestRefusalsShowAsConditionsAndRequeues(t *testing.T) {
	want := wanted("s3", "mine")
	observe := planStatement(observed(t, "r1"), want, mode{Observe: true}, false).Refusal
	dryRun := planStatement(observed(t, "r1"), want, mode{DryRun: true}, false).Refusal
	tooLarge := planStatement(observed(t, "r1", bigStatement("big", 20000)), want, mode{}, false).Refusal
	if !observe.Stalled || dryRun.Stalled || !tooLarge.Stalled {
		t.Errorf("stalled: Observe %v, dry run %v, too large %v; want true, false, true", observe.Stalled, dryRun.Stalled, tooLarge.Stalled)
	}
	for _, refusal := range []*kernel.StateError{observe, dryRun, tooLarge} {
		result, err := kernel.NextReconcile(refusal, time.Minute)
		if err != nil || result.RequeueAfter < 54*time.Second || result.RequeueAfter > 66*time.Second {
			t.Errorf("%s: requeue %v, err %v; want about the sync period and no backoff", refusal.Reason, result.RequeueAfter, err)
		}
	}
}

func TestPlanRemoval(t *testing.T) {
	ours := wanted("s3", "mine").Statement
	before := wanted("s3", "old-bucket").Statement // what the object wrote before its spec changed
	changed := wanted("s3", "changed-outside").Statement
	for _, tt := range []struct {
		name            string
		observed        writer.Observed
		ours            []policy.Statement
		mode            mode
		wantRemove      bool
		wantLeftInPlace bool
		wantRefused     bool
	}{
		{name: "ours: removed", observed: observed(t, "r1", ours), ours: []policy.Statement{ours}, wantRemove: true},
		{name: "either of ours: removed", observed: observed(t, "r1", before), ours: []policy.Statement{ours, before}, wantRemove: true},
		{name: "gone already: nothing to do", observed: observed(t, "r1"), ours: []policy.Statement{ours}},
		{name: "changed outside: left in place", observed: observed(t, "r1", changed), ours: []policy.Statement{ours}, wantLeftInPlace: true},
		{name: "changed outside, dry run: still left in place", observed: observed(t, "r1", changed), ours: []policy.Statement{ours}, mode: mode{DryRun: true}, wantLeftInPlace: true},
		{name: "dry run: reported, not removed", observed: observed(t, "r1", ours), ours: []policy.Statement{ours}, mode: mode{DryRun: true}, wantRefused: true},
		{name: "Observe: never removed", observed: observed(t, "r1", ours), ours: []policy.Statement{ours}, mode: mode{Observe: true}, wantRefused: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := planRemoval(tt.observed, "s3", tt.ours, tt.mode)
			removes := len(got.Writes.Removes) == 1 && got.Writes.Removes[0].Sid == "s3" && len(got.Writes.Puts) == 0
			if removes != tt.wantRemove || (!tt.wantRemove && !got.Writes.Empty()) {
				t.Errorf("writes %+v, want a removal: %v", got.Writes, tt.wantRemove)
			}
			if got.LeftInPlace != tt.wantLeftInPlace || got.Refused != tt.wantRefused {
				t.Errorf("left in place %v, refused %v; want %v, %v", got.LeftInPlace, got.Refused, tt.wantLeftInPlace, tt.wantRefused)
			}
		})
	}
}

// A statement lost with others at once (another writer replaced or deleted
// the whole policy) is drift of its own kind; the plan says how many went.
// A plan keeps what it finds in place, so that the writer can tell such a
// replacement from ordinary drift, unless it may not restore it.
func TestPlanStatementBesideWholeDocumentWriters(t *testing.T) {
	want := wanted("s3", "mine")
	replacedWithUs := &writer.Replacement{Lost: 3, Missing: []string{"other", "s3"}}
	replacedWithoutUs := &writer.Replacement{Lost: 2, Missing: []string{"a", "b"}}
	for _, tt := range []struct {
		name       string
		observed   writer.Observed
		replaced   *writer.Replacement
		mode       mode
		wasInPlace bool
		wantDrift  string
		wantLost   int
		wantKeep   bool
		wantWrite  bool
	}{
		{name: "lost in a replacement", observed: observed(t, "r2"), replaced: replacedWithUs, wasInPlace: true, wantDrift: "replaced", wantLost: 3, wantWrite: true},
		{name: "lost in a replacement, not Ready at the time", observed: observed(t, "r2"), replaced: replacedWithUs, wantDrift: "replaced", wantLost: 3, wantWrite: true},
		{name: "a replacement that spared this one, then removed alone", observed: observed(t, "r2"), replaced: replacedWithoutUs, wasInPlace: true, wantDrift: "missing", wantWrite: true},
		{name: "the replacing document holds our Sid with other content", observed: observed(t, "r2", wanted("s3", "theirs").Statement), replaced: replacedWithUs, wasInPlace: true, wantDrift: "changed", wantWrite: true},
		{name: "in place: kept", observed: observed(t, "r1", want.Statement), wantKeep: true},
		{name: "in place under Observe: not kept (it would not be restored)", observed: observed(t, "r1", want.Statement), mode: mode{Observe: true}},
		{name: "in place in a dry run: not kept", observed: observed(t, "r1", want.Statement), mode: mode{DryRun: true}},
		{name: "lost under Observe: reported, not restored", observed: observed(t, "r2"), replaced: replacedWithUs, mode: mode{Observe: true}, wasInPlace: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.observed.Replacement = tt.replaced
			got := planStatement(tt.observed, want, tt.mode, tt.wasInPlace)
			if got.Drift != tt.wantDrift || got.Lost != tt.wantLost {
				t.Errorf("drift %q lost %d, want %q %d", got.Drift, got.Lost, tt.wantDrift, tt.wantLost)
			}
			if keeps := slices.Equal(got.Writes.Keep, []string{"s3"}); keeps != tt.wantKeep || (!tt.wantKeep && len(got.Writes.Keep) > 0) {
				t.Errorf("keeps %v, want s3 kept: %v", got.Writes.Keep, tt.wantKeep)
			}
			if writes := len(got.Writes.Puts) == 1; writes != tt.wantWrite {
				t.Errorf("puts %+v, want a put: %v", got.Writes.Puts, tt.wantWrite)
			}
		})
	}
}

// A removal that finds the statement gone, or someone else's, releases it:
// the operator no longer keeps it.
func TestPlanRemovalReleases(t *testing.T) {
	ours := wanted("s3", "mine").Statement
	for _, tt := range []struct {
		name        string
		observed    writer.Observed
		wantRelease bool
	}{
		{"gone", observed(t, "r1"), true},
		{"changed outside", observed(t, "r1", wanted("s3", "theirs").Statement), true},
		{"ours: removed, which releases it when done", observed(t, "r1", ours), false},
	} {
		got := planRemoval(tt.observed, "s3", []policy.Statement{ours}, mode{})
		if releases := slices.Equal(got.Writes.Release, []string{"s3"}); releases != tt.wantRelease {
			t.Errorf("%s: release %v, want %v", tt.name, got.Writes.Release, tt.wantRelease)
		}
	}
}
