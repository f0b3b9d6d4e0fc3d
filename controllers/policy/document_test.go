package policy

import (
	"strconv"
	"strings"
	"testing"
)

func TestParsePolicyFormats(t *testing.T) {
	tests := []struct {
		name, policy string
		wantSids     []string
		wantID       string
	}{
		{"modern", `{"Version":"2012-10-17","Id":"default","Statement":[` + account + `,` + base + `]}`, []string{"xaccount", "s3"}, "default"},
		{"historical order, Id last (custodian)",
			`{"Version":"2012-10-17","Statement":[{"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:644160558196:function:f","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Sid":"old"}],"Id":"default"}`,
			[]string{"old"}, "default"},
		{"no Id (2015)",
			`{"Version":"2012-10-17","Statement":[{"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}},"Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Sid":"a"}]}`,
			[]string{"a"}, ""},
		{"Statement as one object", `{"Version":"2012-10-17","Statement":` + account + `}`, []string{"xaccount"}, ""},
		{"pretty printed", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    " + account + "\n  ]\n}", []string{"xaccount"}, ""},
		{"no statements", `{"Version":"2012-10-17","Id":"default","Statement":[]}`, nil, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParsePolicy(tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if doc.ID != tt.wantID {
				t.Errorf("ID = %q, want %q", doc.ID, tt.wantID)
			}
			var sids []string
			for _, st := range doc.Statements {
				sids = append(sids, st.Sid)
				if !strings.Contains(tt.policy, st.Raw) || st.Raw == "" {
					t.Errorf("Raw %q is not the statement's text in the policy", st.Raw)
				}
			}
			if strings.Join(sids, ",") != strings.Join(tt.wantSids, ",") {
				t.Errorf("Sids = %v, want %v", sids, tt.wantSids)
			}
		})
	}
}

func TestParsePolicyHistoricalStatementIsTheSameGrant(t *testing.T) {
	old := `{"Version":"2012-10-17","Statement":[{"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}},"Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Sid":"a"}]}`
	doc, err := ParsePolicy(old)
	if err != nil {
		t.Fatal(err)
	}
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "f"}
	desired := DesiredStatement(target, Permission{StatementID: "a", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::b"})
	st, _ := doc.Find("a")
	if !SameGrant(st.Statement, desired) {
		t.Errorf("2016 statement differs from today's in %v", GrantDifferences(st.Statement, desired))
	}
	if _, ok := doc.Find("missing"); ok {
		t.Error("Find found a Sid that is not there")
	}
}

func TestParsePolicyRejectsMalformed(t *testing.T) {
	for _, policy := range []string{
		``,
		`[]`,
		`{"Statement":"x"}`,
		`{"Statement":[1]}`,
		`{"Statement":[{"Principal":3}]}`,
		`{"Statement":[{"Action":{"a":"b"}}]}`,
		`{"Statement":[{"Condition":{"StringEquals":"x"}}]}`,
		`{"Statement":[{"Condition":{"StringEquals":{"k":{"nested":1}}}}]}`,
		`{"Statement":[{"Sid":7}]}`,
	} {
		if _, err := ParsePolicy(policy); err == nil {
			t.Errorf("ParsePolicy(%q) accepted it", policy)
		}
	}
}

func TestSizeAfter(t *testing.T) {
	policy := `{"Version":"2012-10-17","Id":"default","Statement":[` + account + `,` + base + `]}`
	doc, err := ParsePolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.SizeAfter(nil); got != len(policy) {
		t.Errorf("SizeAfter(nil) = %d, want %d", got, len(policy))
	}
	onlyBase := `{"Version":"2012-10-17","Id":"default","Statement":[` + base + `]}`
	if got := doc.SizeAfter([]string{"xaccount"}); got != len(onlyBase) {
		t.Errorf("SizeAfter(remove xaccount) = %d, want %d", got, len(onlyBase))
	}
	added := mustParse(t, account)
	added.Sid = "third"
	withThird := policy[:len(policy)-2] + "," + added.Render() + "]}"
	if got := doc.SizeAfter(nil, added); got != len(withThird) {
		t.Errorf("SizeAfter(add) = %d, want %d", got, len(withThird))
	}
	empty := PolicyDocument{}
	if got := empty.SizeAfter(nil, added); got != len(`{"Version":"2012-10-17","Id":"default","Statement":[`+added.Render()+`]}`) {
		t.Errorf("SizeAfter on no policy = %d", got)
	}
	if got := doc.Size(); got != len(policy) {
		t.Errorf("Size() = %d, want %d", got, len(policy))
	}
	if got := empty.Size(); got != 0 {
		t.Errorf("Size() of no policy = %d, want 0: Lambda keeps none", got)
	}
	// A statement returned with whitespace counts as its compact form.
	pretty := `{"Version": "2012-10-17", "Statement": [` + strings.ReplaceAll(account, `,"`, `, "`) + `,` + "\n  " + base + `]}`
	prettyDoc, err := ParsePolicy(pretty)
	if err != nil {
		t.Fatal(err)
	}
	if got := prettyDoc.Size(); got != len(policy) {
		t.Errorf("Size() of a policy with whitespace = %d, want the compact %d", got, len(policy))
	}
}

// About 20480 bytes hold a little over a hundred typical S3 statements: the
// estimate must cross the limit where the statements' lengths say it does.
func TestSizeCrossesTheLimit(t *testing.T) {
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "f"}
	var doc PolicyDocument
	for i := 0; ; i++ {
		st := DesiredStatement(target, Permission{StatementID: "s" + strings.Repeat("x", i%10) + strconv.Itoa(i), Action: "lambda:InvokeFunction",
			Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::bucket-" + strconv.Itoa(i), SourceAccount: "123456789012"})
		size := doc.SizeAfter(nil, st)
		if size > MaxPolicySize {
			if i < 50 || i > 150 {
				t.Errorf("limit crossed after %d statements", i)
			}
			if before := doc.SizeAfter(nil); before > MaxPolicySize || before+len(st.Render())+1 != size {
				t.Errorf("size before %d, after %d, statement %d", before, size, len(st.Render()))
			}
			return
		}
		doc.Statements = append(doc.Statements, StoredStatement{Statement: st, Raw: st.Render()})
	}
}

// Documents written whole (PutResourcePolicy, SPEC §16) hold what
// AddPermission never writes: Deny, lists of principals, actions and
// resources, numbers and booleans in conditions, no Sid, no Id, any key
// order. GetPolicy returns them as stored; each statement is read, kept
// byte for byte, and equal only to itself.
func TestParsePolicyWrittenWhole(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-2:123456789012:function:f"
	statements := []string{
		`{"Sid":"DenyOtherBuckets","Effect":"Deny","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"ArnNotLike":{"AWS:SourceArn":"arn:aws:s3:::allowed-*"}}}`,
		`{"Sid":"Partners","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/deployer","444455556666"],"Service":["events.amazonaws.com","sns.amazonaws.com"]},"Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":["` + fn + `","` + fn + `:*"],"Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.7/32"]},"Bool":{"aws:SecureTransport":true},"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600},"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` + fn + `","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}`,
		`{"Sid":"a","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{}}`,
	}
	doc, err := ParsePolicy(`{"Statement":[` + strings.Join(statements, ",") + `],"Version":"2012-10-17"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Statements) != len(statements) || doc.ID != "" {
		t.Fatalf("%d statements, Id %q", len(doc.Statements), doc.ID)
	}
	for i, st := range doc.Statements {
		if st.Raw != statements[i] {
			t.Errorf("statement %d kept as %s", i, st.Raw)
		}
		for j, other := range doc.Statements {
			if SameGrant(st.Statement, other.Statement) != (i == j) {
				t.Errorf("SameGrant(%d, %d) = %v", i, j, !(i == j))
			}
		}
	}
	if found, ok := doc.Find("Partners"); !ok || found.Effect != "Allow" || len(found.Principal.IDs["AWS"]) != 2 || found.Condition["NumericLessThanEquals"]["aws:MultiFactorAuthAge"][0] != "3600" {
		t.Errorf("Partners read as %+v", found.Statement)
	}
}

// A whole-document write changes only the statements it puts or removes:
// every other one keeps its text and its place.
func TestDocumentWith(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-2:123456789012:function:f"
	foreign := `{"Sid":"theirs","Effect":"Deny","Principal":{"AWS":["111122223333","444455556666"]},"Action":["lambda:InvokeFunction"],"Resource":["` + fn + `","` + fn + `:*"],"Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`
	noSid := `{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` + fn + `","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}`
	doc, err := ParsePolicy(`{"Version":"2012-10-17","Id":"default","Statement":[` + account + `,` + foreign + `,` + base + `,` + noSid + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	target := FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "f"}
	replacement := DesiredStatement(target, Permission{StatementID: "xaccount", Action: "lambda:InvokeFunction", Principal: "323456789012",
		Effect: EffectDeny, Conditions: []ConditionEntry{{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"198.51.100.0/24"}}}})
	added := DesiredStatement(target, Permission{StatementID: "new", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com", SourceAccount: "123456789012"})

	got := doc.With([]Statement{replacement, added}, []string{"s3", "absent"})
	want := `{"Version":"2012-10-17","Id":"default","Statement":[` + replacement.Render() + `,` + foreign + `,` + noSid + `,` + added.Render() + `]}`
	if got.Text() != want {
		t.Errorf("Text =\n%s\nwant\n%s", got.Text(), want)
	}
	if !strings.Contains(replacement.Render(), `"Effect":"Deny"`) || !strings.Contains(replacement.Render(), `"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}`) {
		t.Errorf("the replacement renders as %s", replacement.Render())
	}
	again, err := ParsePolicy(got.Text())
	if err != nil || len(again.Statements) != 4 {
		t.Fatalf("the written document reads back as %d statements: %v", len(again.Statements), err)
	}
	if size := got.SizeAfter(nil); size != len(got.Text()) {
		t.Errorf("SizeAfter = %d, the text is %d bytes", size, len(got.Text()))
	}
	if empty := doc.With(nil, []string{"xaccount", "theirs", "s3"}); len(empty.Statements) != 1 || empty.Statements[0].Raw != noSid {
		t.Errorf("removing by Sid kept %v", empty.Statements)
	}
	if fresh := (PolicyDocument{}).With([]Statement{added}, nil).Text(); fresh != `{"Version":"2012-10-17","Statement":[`+added.Render()+`]}` {
		t.Errorf("a new document is %s", fresh)
	}
}
