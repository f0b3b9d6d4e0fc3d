package emulator

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// function is one Lambda function with its $LATEST, versions and aliases.
type function struct {
	account     string
	name        string
	latest      *functionVersion
	versions    map[string]*functionVersion // "1", "2", ...
	nextVersion int
	aliases     map[string]*functionAlias
	// urls holds the function URL configurations by qualifier: "" for the
	// unqualified function, else an alias name (§17.4). Deleting the alias
	// or the function deletes its URL.
	urls       map[string]*urlConfig
	codeSize   int64
	codeSha256 string
}

// functionVersion is $LATEST or a published version. Each has its own
// resource policy; a new version starts with none (§6).
type functionVersion struct {
	config functionConfiguration
	policy resourcePolicy
}

// functionAlias has its own RevisionId and its own policy, separate from
// its target version's (§6).
type functionAlias struct {
	config aliasConfiguration
	policy resourcePolicy
}

// resourcePolicy is the one policy document of a (function, qualifier),
// shared by AddPermission, RemovePermission, GetPolicy and the 2026
// whole-document operations (§16.4). Since 2025 its RevisionId is
// independent of the configuration's (§7).
//
// The document is kept as text: head + statements joined by "," + tail.
// AddPermission starts a document as {"Version":"2012-10-17","Id":"default",
// "Statement":[...]} (§3.1); PutResourcePolicy stores its input compacted,
// so head and tail are whatever surrounds the Statement list there
// (§16.5). Each statement is kept byte for byte, so adding or removing one
// never rewrites another.
type resourcePolicy struct {
	head, tail string
	sids       []string // parallel to statements; "" for a statement without Sid
	statements []string // compact JSON, in document order (§3.1)
	revisionID string   // "" while there is no policy
}

// The frame of a document that AddPermission starts (§3.1).
const (
	addPermissionHead = `{"Version":"2012-10-17","Id":"default","Statement":[`
	addPermissionTail = `]}`
)

func (p *resourcePolicy) exists() bool { return len(p.statements) > 0 }

func (p *resourcePolicy) indexOf(sid string) int {
	for i, s := range p.sids {
		if s == sid {
			return i
		}
	}
	return -1
}

func (p *resourcePolicy) document() string {
	return p.head + strings.Join(p.statements, ",") + p.tail
}

// documentWith is the document as it would be after appending statement.
func (p *resourcePolicy) documentWith(statement string) string {
	if !p.exists() {
		return addPermissionHead + statement + addPermissionTail
	}
	return p.head + strings.Join(p.statements, ",") + "," + statement + p.tail
}

// add appends a statement (AddPermission), starting an AddPermission-style
// document when there is none, and gives the policy a new RevisionId (§7).
func (p *resourcePolicy) add(sid, statement string) {
	if !p.exists() {
		p.head, p.tail = addPermissionHead, addPermissionTail
	}
	p.sids = append(p.sids, sid)
	p.statements = append(p.statements, statement)
	p.revisionID = newRevisionID()
}

// remove deletes the statement at i; removing the last statement deletes
// the policy (§3.1), so GetPolicy then answers 404.
func (p *resourcePolicy) remove(i int) {
	p.sids = append(p.sids[:i:i], p.sids[i+1:]...)
	p.statements = append(p.statements[:i:i], p.statements[i+1:]...)
	if len(p.sids) == 0 {
		p.clear()
		return
	}
	p.revisionID = newRevisionID()
}

// replace makes a parsed document the whole policy (PutResourcePolicy) with
// a new RevisionId.
func (p *resourcePolicy) replace(doc *policyDocumentText) {
	p.head, p.tail = doc.head, doc.tail
	p.sids = slices.Clone(doc.sids)
	p.statements = slices.Clone(doc.statements)
	p.revisionID = newRevisionID()
}

// clear deletes the policy (DeleteResourcePolicy, or the last statement
// removed).
func (p *resourcePolicy) clear() { *p = resourcePolicy{} }

func newRevisionID() string { return uuid.NewString() }

// functionConfiguration is the FunctionConfiguration shape (member names
// from the SDK schemas).
type functionConfiguration struct {
	FunctionName     string   `json:"FunctionName"`
	FunctionArn      string   `json:"FunctionArn"`
	Runtime          string   `json:"Runtime,omitempty"`
	Role             string   `json:"Role"`
	Handler          string   `json:"Handler,omitempty"`
	CodeSize         int64    `json:"CodeSize"`
	CodeSha256       string   `json:"CodeSha256"`
	Description      string   `json:"Description"`
	Timeout          int32    `json:"Timeout"`
	MemorySize       int32    `json:"MemorySize"`
	LastModified     string   `json:"LastModified"`
	Version          string   `json:"Version"`
	RevisionId       string   `json:"RevisionId"`
	State            string   `json:"State,omitempty"`            // "" in list entries (§17.1)
	LastUpdateStatus string   `json:"LastUpdateStatus,omitempty"` // "" in list entries (§17.1)
	PackageType      string   `json:"PackageType"`
	Architectures    []string `json:"Architectures"`
}

// aliasConfiguration is the AliasConfiguration shape.
type aliasConfiguration struct {
	AliasArn        string `json:"AliasArn"`
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionId      string `json:"RevisionId"`
}

// lastModified uses Lambda's timestamp format, e.g. 2019-08-14T22:26:11.234+0000.
func lastModified(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }
