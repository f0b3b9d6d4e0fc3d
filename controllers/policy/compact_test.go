package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The proof that compaction never widens (or narrows) access: for random
// sets of grants drawn from small pools, so that they collide in every
// way, the compacted policy decides every request exactly as the grants
// do, including requests from principals, accounts and ARNs no grant
// names.

const compactFunction = "arn:aws:lambda:us-east-1:123456789012:function:fn"

var (
	grantPrincipals = []RequestPrincipal{
		{"Service", "s3.amazonaws.com"}, {"Service", "sns.amazonaws.com"},
		{"AWS", "111111111111"}, {"AWS", "arn:aws:iam::222222222222:root"}, {"AWS", "arn:aws:iam::333333333333:role/r"},
	}
	grantActions       = []string{"lambda:InvokeFunction", "lambda:GetFunction", "lambda:Invoke*"}
	grantSourceArns    = []string{"", "arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-b", "arn:aws:s3:::bucket-*", "arn:aws:sns:us-east-1:111111111111:topic"}
	grantSourceAccount = []string{"", "111111111111", "222222222222"}
	grantResources     = []string{compactFunction, compactFunction + ":live"}

	requestPrincipals = append(slices.Clone(grantPrincipals),
		RequestPrincipal{"Service", "events.amazonaws.com"},
		RequestPrincipal{"AWS", "arn:aws:iam::111111111111:role/in-a-granted-account"},
		RequestPrincipal{"AWS", "arn:aws:iam::444444444444:role/stranger"},
		RequestPrincipal{"AWS", "arn:aws:iam::222222222222:root"},
		RequestPrincipal{"Anonymous", ""})
	requestActions        = []string{"lambda:InvokeFunction", "lambda:GetFunction", "lambda:AddPermission"}
	requestSourceArns     = append(slices.Clone(grantSourceArns), "arn:aws:s3:::other", "arn:aws:sns:us-east-1:999999999999:topic")
	requestSourceAccounts = append(slices.Clone(grantSourceAccount), "999999999999")
)

// grantGen draws one grant: mostly what LambdaPermissions write, with now
// and then a Deny, ArnEquals for ArnLike, or a negated condition that must
// stay as it is.
func grantGen(sid string) *rapid.Generator[Statement] {
	return rapid.Custom(func(t *rapid.T) Statement {
		st := Statement{Sid: sid, Effect: EffectAllow, Resource: []string{rapid.SampledFrom(grantResources).Draw(t, "resource")}}
		if rapid.IntRange(0, 5).Draw(t, "deny") == 0 {
			st.Effect = EffectDeny
		}
		p := rapid.SampledFrom(grantPrincipals).Draw(t, "principal")
		st.Principal.IDs = map[string][]string{p.Type: {p.ID}}
		if rapid.IntRange(0, 9).Draw(t, "anyone") == 0 {
			st.Principal = Principal{Anyone: true}
		}
		st.Action = []string{rapid.SampledFrom(grantActions).Draw(t, "action")}
		operator := "ArnLike"
		if rapid.IntRange(0, 4).Draw(t, "arnEquals") == 0 {
			operator = "ArnEquals"
		}
		st.Condition.add(operator, keySourceArn, rapid.SampledFrom(grantSourceArns).Draw(t, "sourceArn"))
		st.Condition.add("StringEquals", keySourceAccount, rapid.SampledFrom(grantSourceAccount).Draw(t, "sourceAccount"))
		if rapid.IntRange(0, 5).Draw(t, "negated") == 0 {
			st.Condition.add("StringNotLike", keySourceArn, "arn:aws:s3:::bucket-b")
		}
		return st
	})
}

// requests are every combination of the request pools.
func requests() []Request {
	var out []Request
	for _, p := range requestPrincipals {
		for _, action := range requestActions {
			for _, arn := range requestSourceArns {
				for _, account := range requestSourceAccounts {
					for _, resource := range grantResources {
						r := Request{Principal: p, Action: action, Resource: resource, Context: map[string][]string{}}
						if arn != "" {
							r.Context[keySourceArn] = []string{arn}
						}
						if account != "" {
							r.Context[keySourceAccount] = []string{account}
						}
						out = append(out, r)
					}
				}
			}
		}
	}
	return out
}

// sameDecisions is the property: compact decides every request as the
// grants do, and holds every grant once.
func sameDecisions(compact func([]Statement) []Compacted) func(*rapid.T) {
	all := requests()
	return func(t *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(t, "grants")
		grants := make([]Statement, n)
		for i := range grants {
			grants[i] = grantGen(fmt.Sprintf("g%02d", i)).Draw(t, fmt.Sprintf("grant %d", i))
		}
		compacted := compact(grants)
		var held []string
		for _, c := range compacted {
			for _, m := range c.Members {
				held = append(held, m.Sid)
			}
		}
		slices.Sort(held)
		if want := sids(grants); !slices.Equal(held, want) {
			t.Fatalf("the compacted statements hold %v, want each of %v once", held, want)
		}
		written := Statements(compacted)
		for _, r := range all {
			if got, want := Evaluate(written, r), Evaluate(grants, r); got != want {
				t.Fatalf("%+v: the compacted policy says %s, the grants %s\ngrants:\n%s\ncompacted:\n%s", r, got, want, render(grants), render(written))
			}
		}
	}
}

func TestCompactDecidesAsTheGrants(t *testing.T) {
	rapid.Check(t, sameDecisions(func(grants []Statement) []Compacted { return Compact(grants, "p-") }))
}

// Compaction in the cases that matter, by hand.
func TestCompact(t *testing.T) {
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "fn"}
	s3 := func(sid, bucket string) Statement {
		return DesiredStatement(target, Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
			SourceArn: "arn:aws:s3:::" + bucket, SourceAccount: "111111111111"})
	}
	account := func(sid, principal string) Statement {
		return DesiredStatement(target, Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: principal})
	}
	for _, tt := range []struct {
		name   string
		grants []Statement
		want   []string // each statement's members, by Sid: a lone grant is written as it is
		lists  []string // the values the compacted statements list
	}{
		{"a lone grant stays as it is", []Statement{s3("a", "one")}, []string{"a"}, nil},
		{"buckets on one function: one statement", []Statement{s3("b", "two"), s3("a", "one"), s3("c", "three")},
			[]string{"a c b"}, []string{"arn:aws:s3:::one arn:aws:s3:::three arn:aws:s3:::two"}},
		{"accounts in one Principal list", []Statement{account("x", "111111111111"), account("y", "222222222222")},
			[]string{"x y"}, []string{"arn:aws:iam::111111111111:root arn:aws:iam::222222222222:root"}},
		{"two differences: never one statement", func() []Statement {
			other := s3("b", "two")
			other.Condition["StringEquals"][keySourceAccount] = []string{"222222222222"}
			return []Statement{s3("a", "one"), other}
		}(), []string{"a", "b"}, nil},
		{"a Deny never joins an Allow", func() []Statement {
			deny := s3("b", "two")
			deny.Effect = EffectDeny
			return []Statement{s3("a", "one"), deny}
		}(), []string{"a", "b"}, nil},
		{"unknown elements: never merged", func() []Statement {
			odd := s3("b", "two")
			odd.Unmodelled = map[string]json.RawMessage{"NotResource": json.RawMessage(`"*"`)}
			return []Statement{s3("a", "one"), odd}
		}(), []string{"a", "b"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Compact(tt.grants, "p-")
			var members, lists []string
			for _, c := range got {
				var sids []string
				for _, m := range c.Members {
					sids = append(sids, m.Sid)
				}
				members = append(members, strings.Join(sids, " "))
				if c.Dimension != "" {
					lists = append(lists, strings.Join(listedIn(c.Statement, c.Dimension), " "))
				}
			}
			slices.Sort(members)
			if !slices.Equal(members, tt.want) || !slices.Equal(lists, tt.lists) {
				t.Errorf("members %q, lists %q; want %q, %q", members, lists, tt.want, tt.lists)
			}
			// The same set in another order gives the same document.
			reversed := slices.Clone(tt.grants)
			slices.Reverse(reversed)
			if a, b := render(Statements(got)), render(Statements(Compact(reversed, "p-"))); a != b {
				t.Errorf("another order gave another document:\n%s\n%s", a, b)
			}
		})
	}
}

// A group keeps its Sid as members come and go: adding a bucket rewrites
// the statement's list, not its name.
func TestCompactSidIsStable(t *testing.T) {
	two := Compact([]Statement{bucket("a", "one"), bucket("b", "two")}, "p-")
	three := Compact([]Statement{bucket("a", "one"), bucket("b", "two"), bucket("c", "three")}, "p-")
	if len(two) != 1 || len(three) != 1 || two[0].Statement.Sid != three[0].Statement.Sid || !strings.HasPrefix(two[0].Statement.Sid, "p-compacted-sourcearn-") {
		t.Errorf("%s and %s: want one statement each, the same Sid, with the prefix", render(Statements(two)), render(Statements(three)))
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,100}$`).MatchString(two[0].Statement.Sid) {
		t.Errorf("Sid %q is not one Lambda accepts", two[0].Statement.Sid)
	}
}

func sids(statements []Statement) []string {
	var out []string
	for _, s := range statements {
		out = append(out, s.Sid)
	}
	slices.Sort(out)
	return out
}

func render(statements []Statement) string {
	var b strings.Builder
	for _, s := range statements {
		b.WriteString(s.Render())
		b.WriteByte('\n')
	}
	return b.String()
}
