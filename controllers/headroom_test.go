package controllers

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

func TestCrossesNearLimit(t *testing.T) {
	const limit = 20480 // 90 % is 18432
	for _, c := range []struct {
		name          string
		before, after int
		want          bool
	}{
		{"from below to just over", 18000, 18433, true},
		{"from exactly 90 % to over", 18432, 18433, true},
		{"from no policy to over at once", 0, 19000, true},
		{"up to exactly 90 %", 18000, 18432, false},
		{"growing below", 1000, 18000, false},
		{"growing above", 18433, 20000, false},
		{"shrinking back below", 19000, 18000, false},
		{"shrinking above", 20000, 19000, false},
		{"unchanged above", 19000, 19000, false},
	} {
		if got := crossesNearLimit(c.before, c.after, limit); got != c.want {
			t.Errorf("%s: crossesNearLimit(%d, %d) = %v, want %v", c.name, c.before, c.after, got, c.want)
		}
	}
}

// The gauge has one series per policy, labelled by the unqualified function
// ARN and the qualifier; size 0 drops the series.
func TestRecordPolicySize(t *testing.T) {
	fn := policy.FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "headroom-unit"}
	alias := fn
	alias.Qualifier = "live"
	recordPolicySize(fn, 1200)
	recordPolicySize(alias, 300)
	recordPolicySize(fn, 1500)
	if got := testutil.ToFloat64(policySizeBytes.WithLabelValues(fn.FunctionARN(), "")); got != 1500 {
		t.Errorf("unqualified function: %v, want 1500", got)
	}
	if got := testutil.ToFloat64(policySizeBytes.WithLabelValues(fn.FunctionARN(), "live")); got != 300 {
		t.Errorf("alias live: %v, want 300", got)
	}
	recordPolicySize(alias, 0)
	recordPolicySize(fn, 0)
	// Deleting a series reports whether it was there.
	if policySizeBytes.DeleteLabelValues(fn.FunctionARN(), "live") || policySizeBytes.DeleteLabelValues(fn.FunctionARN(), "") {
		t.Error("a series was left after its policy was dropped")
	}
}
