package engine

import (
	"slices"
	"strings"
	"testing"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

func TestPlanPolicy(t *testing.T) {
	target := policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "orders"}
	arn := target.ResourceARN()
	statement := func(raw string) policy.Statement {
		st, err := policy.ParseStatement(raw)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	partner := statement(`{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `"}`)
	// As Lambda may store the same grant: the account as its root ARN, the
	// action as a list.
	partnerStored := `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["lambda:InvokeFunction"],"Resource":"` + arn + `"}`
	partnerOther := `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `"}`
	deny := statement(`{"Sid":"deny","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)
	team := `{"Sid":"team-s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}}`
	foreign := `{"Sid":"console","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `"}`
	unnamed := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:GetFunction","Resource":"` + arn + `"}`
	huge := `{"Sid":"huge","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"StringEquals":{"aws:PrincipalTag/x":"` + strings.Repeat("x", 20000) + `"}}}`

	doc := func(statements ...string) writer.Observed {
		d, err := policy.ParsePolicy(`{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`)
		if err != nil {
			t.Fatal(err)
		}
		return writer.Observed{Document: d, RevisionID: "rev-1"}
	}
	includesTeam := func(sid string) bool { return sid == "team-s3" }

	for _, tt := range []policyPlanCase{
		{name: "empty policy: add both", observed: doc(), own: []policy.Statement{partner, deny},
			wantChange: PolicyChange{Added: []string{"partner", "deny"}}, wantPuts: []string{"partner", "deny"}, wantCounts: [2]int{2, 0}},
		{name: "in place, spelled as Lambda stores it: nothing", observed: doc(partnerStored, team), own: []policy.Statement{partner},
			wantKeep: []string{"partner"}, wantCounts: [2]int{2, 1}},
		{name: "a different grant under the Sid is replaced in place", observed: doc(partnerOther), own: []policy.Statement{partner},
			wantChange: PolicyChange{Changed: []string{"partner"}}, wantPuts: []string{"partner"}, wantCounts: [2]int{1, 0}},
		{name: "undeclared statements go, included ones stay", observed: doc(foreign, team, partnerStored), own: []policy.Statement{partner},
			wantChange: PolicyChange{Removed: []string{"console"}}, wantRemoves: []string{"console"}, wantKeep: []string{"partner"}, wantCounts: [2]int{2, 1}},
		{name: "no statements of its own: only the included stay", observed: doc(foreign, team),
			wantChange: PolicyChange{Removed: []string{"console"}}, wantRemoves: []string{"console"}, wantCounts: [2]int{1, 1}},
		{name: "a statement without a Sid goes in the same write", observed: doc(unnamed, partnerStored), own: []policy.Statement{partner},
			wantChange: PolicyChange{Removed: []string{"#0"}}, wantKeep: []string{"partner"}, wantDrop: true, wantCounts: [2]int{1, 0}},
		{name: "Observe writes nothing and says what Manage would", observed: doc(foreign, partnerOther), own: []policy.Statement{partner, deny}, m: mode{Observe: true},
			wantChange: PolicyChange{Added: []string{"deny"}, Changed: []string{"partner"}, Removed: []string{"console"}}, wantReason: lambdav1alpha1.ReasonDriftDetected, wantCounts: [2]int{2, 0}},
		{name: "Observe in place: nothing pending", observed: doc(partnerStored), own: []policy.Statement{partner}, m: mode{Observe: true},
			wantCounts: [2]int{1, 0}},
		{name: "dry run writes nothing", observed: doc(foreign), own: []policy.Statement{partner}, m: mode{DryRun: true},
			wantChange: PolicyChange{Added: []string{"partner"}, Removed: []string{"console"}}, wantReason: lambdav1alpha1.ReasonDryRun, wantCounts: [2]int{1, 0}},
		{name: "too large for Lambda: refused before the write", observed: doc(team), own: []policy.Statement{partner, statement(huge)},
			wantChange: PolicyChange{Added: []string{"partner", "huge"}}, wantReason: lambdav1alpha1.ReasonPolicyTooLarge, wantCounts: [2]int{3, 1}},
		{name: "removing what is too large makes room", observed: doc(huge, team), own: []policy.Statement{partner},
			wantChange: PolicyChange{Added: []string{"partner"}, Removed: []string{"huge"}}, wantPuts: []string{"partner"}, wantRemoves: []string{"huge"}, wantCounts: [2]int{2, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := planPolicy(tt.observed, target, tt.own, includesTeam, tt.m)
			checkPolicyPlan(t, plan, tt)
		})
	}
}

// policyPlanCase is one plan of planPolicy.
type policyPlanCase struct {
	name        string
	observed    writer.Observed
	own         []policy.Statement
	m           mode
	wantChange  PolicyChange
	wantPuts    []string
	wantRemoves []string
	wantKeep    []string
	wantDrop    bool
	wantReason  string
	wantCounts  [2]int // statements, included, as the plan leaves the policy
}

func checkPolicyPlan(t *testing.T, plan policyPlan, tt policyPlanCase) {
	t.Helper()
	if !slices.Equal(plan.Change.Added, tt.wantChange.Added) || !slices.Equal(plan.Change.Changed, tt.wantChange.Changed) ||
		!slices.Equal(plan.Change.Removed, tt.wantChange.Removed) {
		t.Errorf("change %+v, want %+v", plan.Change, tt.wantChange)
	}
	var puts, removes []string
	for _, p := range plan.Writes.Puts {
		puts = append(puts, p.Statement.Sid)
	}
	for _, r := range plan.Writes.Removes {
		removes = append(removes, r.Sid)
	}
	if !slices.Equal(puts, tt.wantPuts) || !slices.Equal(removes, tt.wantRemoves) || plan.Writes.DropUnnamed != tt.wantDrop {
		t.Errorf("writes: puts %v, removes %v, drop unnamed %v; want %v, %v, %v", puts, removes, plan.Writes.DropUnnamed, tt.wantPuts, tt.wantRemoves, tt.wantDrop)
	}
	if !slices.Equal(plan.Writes.Keep, tt.wantKeep) {
		t.Errorf("keep %v, want %v", plan.Writes.Keep, tt.wantKeep)
	}
	switch {
	case tt.wantReason == "" && plan.Refusal != nil:
		t.Errorf("refused: %v", plan.Refusal)
	case tt.wantReason != "" && (plan.Refusal == nil || plan.Refusal.Reason != tt.wantReason):
		t.Errorf("refusal %v, want %s", plan.Refusal, tt.wantReason)
	case tt.wantReason != "" && !plan.Writes.Empty():
		t.Errorf("a refused plan writes %+v", plan.Writes)
	}
	if got := [2]int{plan.Statements, plan.Included}; got != tt.wantCounts {
		t.Errorf("statements, included = %v, want %v", got, tt.wantCounts)
	}
	for _, p := range plan.Writes.Puts {
		if p.Replaces != nil && p.Replaces.Sid != p.Statement.Sid {
			t.Errorf("put %s replaces %s", p.Statement.Sid, p.Replaces.Sid)
		}
	}
}

func TestPlanPolicyRemoval(t *testing.T) {
	target := policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "orders"}
	arn := target.ResourceARN()
	st := func(sid string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `"}`
	}
	d, err := policy.ParsePolicy(`{"Version":"2012-10-17","Statement":[` + st("mine") + `,` + st("shared") + `,` + st("team") + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	own := func(sids ...string) []policy.Statement {
		var out []policy.Statement
		for _, sid := range sids {
			s, _ := policy.ParseStatement(st(sid))
			out = append(out, s)
		}
		return out
	}
	includes := func(sid string) bool { return sid == "team" || sid == "shared" }

	plan := planPolicyRemoval(writer.Observed{Document: d}, own("mine", "shared", "gone"), includes, false)
	if !slices.Equal(plan.Change.Removed, []string{"mine"}) || len(plan.Writes.Removes) != 1 || plan.Writes.Removes[0].Sid != "mine" {
		t.Errorf("removal %+v: want only its own statement, not one a LambdaPermission also declares, nor one already gone", plan)
	}
	if dry := planPolicyRemoval(writer.Observed{Document: d}, own("mine"), includes, true); !dry.Writes.Empty() || dry.Refusal == nil || dry.Refusal.Reason != lambdav1alpha1.ReasonDryRun {
		t.Errorf("dry run removal %+v", dry)
	}
}
