package engine

import (
	"testing"
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

func TestRecordedPolicyFacts(t *testing.T) {
	recorded := PolicyFacts{Size: 4000, Revision: "r1"}
	grown := PolicyFacts{Size: 4300, Revision: "r2"}
	full := PolicyFacts{Size: 18500, Revision: "r3"} // over 90 % of 20480
	for _, c := range []struct {
		name                   string
		recorded, fresh        PolicyFacts
		changed, syncRequested bool
		want                   PolicyFacts
	}{
		{"others' statements grew the policy: kept", recorded, grown, false, false, recorded},
		{"its own statement written: fresh", recorded, grown, true, false, grown},
		{"a sync requested: fresh", recorded, grown, false, true, grown},
		{"grown past 90 % of the limit by others: kept (the gauge and the Event show it)", recorded, full, false, false, recorded},
		{"its own statement written on a full policy: fresh", recorded, full, true, false, full},
		{"nothing changed", recorded, recorded, false, false, recorded},
	} {
		if got := RecordedPolicyFacts(c.recorded, c.fresh, c.changed, c.syncRequested); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}
