package writer

import (
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Compaction, for a policy written whole (Document strategy): the grants
// of objects that differ in one respect only are written as one statement
// listing them (policy.Compact), and each object finds its grant by what it
// grants (policy.PolicyDocument.Holds). The writer knows which statements
// are such grants from the plans that put or keep them (Plan.Grants); a
// grant whose object has not planned since a restart stays as it is until
// it does, which changes what is written, never what is granted.

// Compaction is when and how the grants of a policy are compacted.
type Compaction struct {
	On bool
	// Above compacts only once the policy, each grant written alone,
	// would be larger than this many bytes; 0: always.
	Above int
	// SidPrefix starts the Sids of compacted statements (the operator's
	// --statement-id-prefix): they are the operator's to rewrite.
	SidPrefix string
}

// Grant is an object's grant that the writer may compact with others: its
// Sid (the object's) and what it grants.
type Grant struct {
	Sid       string
	Statement policy.Statement
}

// accept records what a plan keeps and releases, whether it writes or not.
// The caller holds the lock.
func (p *sharedPolicy[K]) accept(plan Plan) {
	p.keep(plan.Keep...)
	for _, sid := range plan.Release {
		p.settle(sid, false)
	}
	if plan.Compaction != nil {
		c := *plan.Compaction
		p.compaction = &c
	}
	for _, g := range plan.Grants {
		if p.grants == nil {
			p.grants = map[string]policy.Statement{}
		}
		p.grants[g.Sid] = g.Statement
	}
}

// drop takes grants out of the compacted statements that hold them, unless
// another object's grant is the same: it was listed once for both. The
// caller holds the lock.
func (p *sharedPolicy[K]) drop(doc policy.PolicyDocument, grants []Grant) policy.PolicyDocument {
	var gone []policy.Statement
	for _, g := range grants {
		if kept, ok := p.grants[g.Sid]; ok && policy.SameGrant(kept, g.Statement) {
			delete(p.grants, g.Sid)
		}
		if !p.granted(g.Statement) {
			gone = append(gone, g.Statement)
		}
	}
	if len(gone) == 0 || p.compaction == nil {
		return doc
	}
	return doc.WithoutGrants(gone, p.compaction.SidPrefix)
}

// granted reports whether an object's grant is st. The caller holds the
// lock.
func (p *sharedPolicy[K]) granted(st policy.Statement) bool {
	for _, g := range p.grants {
		if policy.SameGrant(g, st) {
			return true
		}
	}
	return false
}

// compact is doc with the grants in it compacted, when the policy's
// compaction says so. The caller holds the lock.
func (p *sharedPolicy[K]) compact(doc policy.PolicyDocument) policy.PolicyDocument {
	c := p.compaction
	if c == nil || !c.On {
		return doc
	}
	if c.Above > 0 && doc.Expanded(c.SidPrefix).Size() <= c.Above {
		return doc
	}
	return doc.Recompacted(func(sid string) bool { _, ok := p.grants[sid]; return ok }, c.SidPrefix)
}

// where is the statement that holds the grant a Put put: the Put's own
// Sid, or the compacted statement that lists it.
func (p *sharedPolicy[K]) where(stored policy.PolicyDocument, put Put) (policy.StoredStatement, *policy.Holding) {
	if st, ok := stored.Find(put.Permission.StatementID); ok {
		return st, nil
	}
	if p.compaction != nil {
		if h, ok := stored.Holds(put.Statement, p.compaction.SidPrefix); ok {
			return h.Statement, &h
		}
	}
	return policy.StoredStatement{Statement: put.Statement, Raw: put.Statement.Render()}, nil
}
