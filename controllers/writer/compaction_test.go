package writer_test

import (
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Compaction in the Document writer: grants of several objects written as
// one list, a grant leaving it, and one that two objects grant staying
// until both are gone.

var compacting = writer.Compaction{On: true, SidPrefix: "p-"}

// compacted is the planner of an object whose grant put may be compacted:
// in place alone or in a list, else put.
func compacted(put writer.Put) writer.Planner {
	return func(o writer.Observed) writer.Plan {
		sid := put.Permission.StatementID
		plan := writer.Plan{Grants: []writer.Grant{{Sid: sid, Statement: put.Statement}}, Compaction: &compacting}
		if st, ok := o.Document.Find(sid); ok && policy.SameGrant(st.Statement, put.Statement) {
			plan.Keep = []string{sid}
		} else if h, ok := o.Document.Holds(put.Statement, compacting.SidPrefix); ok {
			plan.Keep = []string{h.Statement.Sid}
		} else {
			plan.Puts = []writer.Put{put}
		}
		return plan
	}
}

// leaving is the planner of an object deleted: its grant leaves its list.
func leaving(put writer.Put) writer.Planner {
	return func(o writer.Observed) writer.Plan {
		sid := put.Permission.StatementID
		if _, ok := o.Document.Holds(put.Statement, compacting.SidPrefix); !ok {
			return writer.Plan{Release: []string{sid}}
		}
		return writer.Plan{Drop: []writer.Grant{{Sid: sid, Statement: put.Statement}}, Release: []string{sid}, Compaction: &compacting}
	}
}

func TestDocumentCompactsGrants(t *testing.T) {
	w := newWorld(t)
	fn := w.function("compacting")
	accounts := []string{"223456789012", "323456789012", "423456789012"}
	var puts []writer.Put
	var writers []writer.Writer[string]
	var planners []writer.Planner
	for i, a := range accounts {
		puts = append(puts, grant(fn, "grant-"+string(rune('a'+i)), a))
		writers, planners = append(writers, w.document(fn)), append(planners, compacted(puts[i]))
	}
	w.turnWhenQueued(len(accounts))
	applied := writeAll(t, writers, planners)
	if puts := w.port.count("PutResourcePolicy"); puts != 1 {
		t.Errorf("%d PutResourcePolicy for three grants queued together, want 1", puts)
	}
	stored := w.stored("compacting")
	var list string
	for sid := range stored {
		if policy.IsCompacted(sid, "p-") {
			list = sid
		}
	}
	if len(stored) != 2 || list == "" {
		t.Fatalf("stored %v: want the foreign statement and one list", stored)
	}
	for i, a := range applied {
		got := a.Writes[len(a.Writes)-1]
		if c := got.Compacted; c == nil || c.Statement.Sid != list || c.Value != "arn:aws:iam::"+accounts[i]+":root" || got.Stored != stored[list] {
			t.Errorf("grant %d written as %+v; want it in %s with its own account", i, got, list)
		}
	}

	// A second object granting what grant-a grants: in place, no write.
	w.port.reset()
	twin := grant(fn, "twin", accounts[0])
	if _, err := w.document(fn).Write(ctx, "twin", hourly, compacted(twin)); err != nil || len(w.port.operations()) != 0 {
		t.Fatalf("the twin: %v, calls %v; want in place with no call", err, w.port.operations())
	}
	// grant-a goes: the twin still grants it, so the list stays as it is.
	if _, err := w.document(fn).Write(ctx, "a-gone", hourly, leaving(puts[0])); err != nil || w.port.count("PutResourcePolicy") != 0 {
		t.Fatalf("grant-a gone: %v, calls %v; want no write while the twin grants the same", err, w.port.operations())
	}
	// The twin goes too: one write, and the other two stay listed.
	if _, err := w.document(fn).Write(ctx, "twin-gone", hourly, leaving(twin)); err != nil || w.port.count("PutResourcePolicy") != 1 {
		t.Fatalf("the twin gone: %v, calls %v; want one PutResourcePolicy", err, w.port.operations())
	}
	doc, err := policy.ParsePolicy(`{"Statement":[` + w.stored("compacting")[list] + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	for i, put := range puts {
		if _, held := doc.Holds(put.Statement, "p-"); held != (i > 0) {
			t.Errorf("grant %d held %v after grant-a and its twin went", i, held)
		}
	}
}
