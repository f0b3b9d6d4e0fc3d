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
