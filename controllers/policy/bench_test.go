package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchPolicy is a policy of n statements such as a busy function carries.
func benchPolicy(n int) (string, FunctionRef) {
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "busy"}
	statements := make([]string, 0, n)
	for i := range n {
		statements = append(statements, DesiredStatement(target, Permission{
			StatementID: fmt.Sprintf("s3-%03d", i), Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
			SourceArn: fmt.Sprintf("arn:aws:s3:::bucket-%03d", i), SourceAccount: "123456789012",
		}).Render())
	}
	return `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`, target
}

// BenchmarkParsePolicy reads a policy near Lambda's 20 KB limit.
func BenchmarkParsePolicy(b *testing.B) {
	policy, _ := benchPolicy(80)
	b.SetBytes(int64(len(policy)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePolicy(policy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSizeAfter sizes a policy near Lambda's 20 KB limit with one
// statement replaced, as every check of every object on it does.
func BenchmarkSizeAfter(b *testing.B) {
	raw, target := benchPolicy(80)
	doc, err := ParsePolicy(raw)
	if err != nil {
		b.Fatal(err)
	}
	st := DesiredStatement(target, Permission{StatementID: "s3-007", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceArn: "arn:aws:s3:::bucket-007", SourceAccount: "123456789012"})
	b.ReportAllocs()
	for b.Loop() {
		if doc.SizeAfter([]string{st.Sid}, st) != len(raw) {
			b.Fatal("a statement replaced by itself changed the size")
		}
	}
}

// BenchmarkSameGrant compares a stored statement with the desired one.
func BenchmarkSameGrant(b *testing.B) {
	_, target := benchPolicy(0)
	p := Permission{StatementID: "s3", Action: "lambda:InvokeFunction", Principal: "223456789012",
		SourceArn: "arn:aws:s3:::bucket/*", SourceAccount: "123456789012", PrincipalOrgID: "o-a1b2c3d4e5"}
	desired := DesiredStatement(target, p)
	stored, err := ParseStatement(desired.Render())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !SameGrant(stored, desired) {
			b.Fatal("not the same grant")
		}
	}
}

// BenchmarkRender writes the statement Lambda will store.
func BenchmarkRender(b *testing.B) {
	_, target := benchPolicy(0)
	p := Permission{StatementID: "s3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com",
		SourceArn: "arn:aws:s3:::bucket/*", SourceAccount: "123456789012"}
	b.ReportAllocs()
	for b.Loop() {
		_ = DesiredStatement(target, p).Render()
	}
}
