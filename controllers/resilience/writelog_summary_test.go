//go:build integration

package resilience

import (
	"fmt"
	"maps"
	"slices"
)

// Judging what a phase's whole-document writes did, from the writeLog's
// records.

// docWriteSummary is what the operator's whole-document writes of a phase
// did, judged record by record.
type docWriteSummary struct {
	writes     int            // whole-document writes the operator sent
	applied    int            // accepted by Lambda
	unanswered int            // never answered and not made: cut by a kill, or dropped by a fault
	refused    map[string]int // by error code
	refusals   []string       // what each refused write named, against what the policy was at
	// retriedAccepted are refusals of an SDK retry whose earlier attempt
	// Lambda had accepted: the operator's client did not get the answer,
	// retried the same write under the same revision, and Lambda refused
	// it (412). Not in refused: nothing was written twice.
	retriedAccepted []string
	added           map[string]int // how often each Sid of ours was added by an accepted write
	removed         map[string]int // and removed
	changed         map[string]int // and rewritten in place
	maxPerWrite     int            // the most statements of ours one write changed
	// violations are accepted writes that broke a rule: one that touched a
	// statement of anyone else's, named no revision although a policy
	// existed (so could have replaced someone's write), or changed nothing
	// (a write repeated).
	violations []string
}

// summarize judges the operator's whole-document writes recorded since the
// phase began. ours are the Sids the operator manages in the world.
func (l *writeLog) summarize(ours map[string]bool) docWriteSummary {
	s := docWriteSummary{refused: map[string]int{}, added: map[string]int{}, removed: map[string]int{}, changed: map[string]int{}}
	violate := func(format string, args ...any) {
		if len(s.violations) < 20 {
			s.violations = append(s.violations, fmt.Sprintf(format, args...))
		}
	}
	for _, rec := range l.snapshot() {
		if rec.foreign {
			continue
		}
		s.writes++
		switch {
		case rec.status == 0 && !rec.droppedApplied:
			s.unanswered++
			continue
		case !rec.applied() && l.retriesAccepted(rec):
			s.retriedAccepted = append(s.retriedAccepted, l.explainRefusal(rec))
			continue
		case !rec.applied():
			s.refused[rec.code]++
			s.refusals = append(s.refusals, l.explainRefusal(rec))
			continue
		}
		s.applied++
		what := fmt.Sprintf("%s of %s (revision %q)", rec.operation, rec.function, rec.revision)
		if rec.revision == "" && rec.beforeRevision != "" {
			violate("%s named no revision, over a policy at %s: it could replace another writer's statements", what, rec.beforeRevision)
			continue
		}
		if !rec.exact() {
			// Accepted without a revision while no policy existed as it
			// arrived: the policy it created is all it wrote.
			if rec.revision != "" {
				violate("%s was accepted, but the policy was at %s as it arrived", what, rec.beforeRevision)
				continue
			}
		}
		added, removed, changed := changes(rec.before, rec.after)
		if len(added)+len(removed)+len(changed) == 0 {
			violate("%s changed nothing: a write repeated", what)
		}
		mine := 0
		for _, list := range []struct {
			sids  []string
			count map[string]int
			verb  string
		}{{added, s.added, "added"}, {removed, s.removed, "removed"}, {changed, s.changed, "rewrote"}} {
			for _, sid := range list.sids {
				if !ours[sid] {
					violate("%s %s %q, a statement of someone else's: %s → %s", what, list.verb, sid, rec.before[sid], rec.after[sid])
					continue
				}
				list.count[sid]++
				mine++
			}
		}
		s.maxPerWrite = max(s.maxPerWrite, mine)
	}
	return s
}

// retriesAccepted reports whether rec is a retry, by the operator's SDK
// client, of a write Lambda accepted (the same invocation).
func (l *writeLog) retriesAccepted(rec docWrite) bool {
	if rec.invocation == "" {
		return false
	}
	for _, other := range l.snapshot() {
		if other.invocation == rec.invocation && other.applied() && other.at.Before(rec.at) {
			return true
		}
	}
	return false
}

// explainRefusal says what a refused write named and what the policy was
// at as it arrived: after which accepted write, by which connection.
func (l *writeLog) explainRefusal(rec docWrite) string {
	line := fmt.Sprintf("%s of %s at %s from %s (invocation %s, %s), refused %s: it named revision %q, the policy was at %q",
		rec.operation, rec.function, rec.at.Format("15:04:05.000"), rec.client, rec.invocation, rec.attempt, rec.code, rec.revision, rec.beforeRevision)
	var last *docWrite
	for _, other := range l.snapshot() {
		if other.function == rec.function && other.applied() && other.at.Before(rec.at) {
			last = &other
		}
	}
	if last != nil {
		line += fmt.Sprintf(" (last accepted whole-document write: %s, from %s (invocation %s, %s), naming %q)",
			last.at.Format("15:04:05.000"), last.client, last.invocation, last.attempt, last.revision)
	}
	return line
}

// total sums a per-Sid count.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// repeated lists the Sids counted more than once.
func repeated(counts map[string]int) []string {
	var out []string
	for _, sid := range slices.Sorted(maps.Keys(counts)) {
		if counts[sid] > 1 {
			out = append(out, fmt.Sprintf("%s×%d", sid, counts[sid]))
		}
	}
	return out
}

// String is the summary for a FIGURES line.
func (s docWriteSummary) String() string {
	return fmt.Sprintf("docWrites[sent=%d applied=%d unanswered=%d refused=%d retriedAfterAccepted=%d added=%d removed=%d rewritten=%d maxPerWrite=%d]",
		s.writes, s.applied, s.unanswered, total(s.refused), len(s.retriedAccepted), total(s.added), total(s.removed), total(s.changed), s.maxPerWrite)
}
