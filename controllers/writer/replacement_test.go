package writer_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// What a writer's view counts as a replacement of the whole policy: several
// statements the operator keeps gone at once, not ordinary drift.

// Several statements the operator keeps, gone between two reads, are a
// replacement of the whole policy; one gone is ordinary drift. The
// replacement lasts until every lost statement is back.
func TestReplacementIsSeveralKeptStatementsGoneAtOnce(t *testing.T) {
	w := newWorld(t)
	fn := w.function("replaced")
	w.addOutside("replaced", "theirs", "sqs.amazonaws.com")
	var runs int
	for _, sid := range []string{"a", "b", "c"} {
		if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
			t.Fatal(err)
		}
	}
	fresh := writer.Freshness{} // every Write reads
	var seen writer.Observed

	w.removeOutside("replaced", "a")
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen, "b", "c")); err != nil {
		t.Fatal(err)
	}
	if seen.Replacement != nil {
		t.Fatalf("one statement gone is drift, not a replacement: %+v", seen.Replacement)
	}

	w.removeOutside("replaced", "b")
	w.removeOutside("replaced", "c")
	w.removeOutside("replaced", "theirs") // a foreign statement the replacement dropped too
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
		t.Fatal(err)
	}
	if r := seen.Replacement; r == nil || r.Lost != 3 || !slices.Equal(r.Missing, []string{"a", "b", "c"}) || !r.Lacks("b") || r.Lacks("theirs") {
		t.Fatalf("replacement %+v, want a, b and c lost at once", r)
	}

	// Each statement put back leaves the replacement; the last one ends it.
	for i, sid := range []string{"a", "b", "c"} {
		if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
			t.Fatal(err)
		}
		switch r := seen.Replacement; {
		case i < 2 && (r == nil || r.Lost != 3 || r.Lacks(sid) || len(r.Missing) != 2-i):
			t.Errorf("after putting %s back: replacement %+v", sid, r)
		case i == 2 && r != nil:
			t.Errorf("after putting every statement back: replacement %+v", r)
		}
	}
}

// Statements found in place count when the plan keeps them; a released
// statement, or one removed by the operator, no longer counts.
func TestKeptAndReleasedStatements(t *testing.T) {
	w := newWorld(t)
	fn := w.function("kept")
	for _, sid := range []string{"a", "b", "c", "theirs"} {
		w.addOutside("kept", sid, "sns.amazonaws.com") // written before this operator started
	}
	fresh := writer.Freshness{}
	var seen writer.Observed
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen, "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, func(writer.Observed) writer.Plan { return writer.Plan{Release: []string{"c"}} }); err != nil {
		t.Fatal(err)
	}
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, remove("b")); err != nil {
		t.Fatal(err)
	}
	w.addOutside("kept", "b", "sns.amazonaws.com")
	w.removeOutside("kept", "b")
	w.removeOutside("kept", "c")
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
		t.Fatal(err)
	}
	if seen.Replacement != nil {
		t.Errorf("statements no longer kept counted as a replacement: %+v", seen.Replacement)
	}
	w.removeOutside("kept", "a")
	w.removeOutside("kept", "theirs")
	if _, err := w.writer(fn).Write(ctx, nextKey(), fresh, keepAll(&seen)); err != nil {
		t.Fatal(err)
	}
	if seen.Replacement != nil {
		t.Errorf("one kept statement gone with a foreign one is drift, not a replacement: %+v", seen.Replacement)
	}
}

// The real thing: another writer's PutResourcePolicy or
// DeleteResourcePolicy takes every statement at once.
func TestWholeDocumentWritesAreReplacements(t *testing.T) {
	for _, overwrite := range []struct {
		name  string
		write func(w *world, arn string) error
	}{
		{"PutResourcePolicy", func(w *world, arn string) error {
			_, err := w.outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Sid":"cfn","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `"}]}`)})
			return err
		}},
		{"DeleteResourcePolicy", func(w *world, arn string) error {
			_, err := w.outside.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)})
			return err
		}},
	} {
		t.Run(overwrite.name, func(t *testing.T) {
			w := newWorld(t)
			fn := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: "whole"}
			w.create("whole")
			var runs int
			for _, sid := range []string{"a", "b"} {
				if _, err := w.writer(fn).Write(ctx, nextKey(), hourly, ensure(grant(fn, sid, "223456789012"), &runs)); err != nil {
					t.Fatal(err)
				}
			}
			if err := overwrite.write(w, fn.FunctionARN()); err != nil {
				t.Fatal(err)
			}
			var seen writer.Observed
			if _, err := w.writer(fn).Write(ctx, nextKey(), writer.Freshness{}, keepAll(&seen)); err != nil {
				t.Fatal(err)
			}
			if r := seen.Replacement; r == nil || r.Lost != 2 || !r.Lacks("a") || !r.Lacks("b") {
				t.Errorf("replacement %+v, want a and b lost at once", r)
			}
		})
	}
}
