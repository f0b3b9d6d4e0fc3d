//go:build integration

package resilience

import (
	"bytes"
	"encoding/json"
	"strings"
)

// The policy documents the foreign writer reads and rewrites whole: each
// statement kept byte for byte, in its order.

// document is a policy split into its statements, each exactly as stored.
type document struct {
	version, id string
	statements  []sidStatement
}

type sidStatement struct {
	sid, raw string
}

func splitDocument(text string) (document, error) {
	var doc struct {
		Version   string
		ID        string `json:"Id"`
		Statement []json.RawMessage
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return document{}, err
	}
	out := document{version: doc.Version, id: doc.ID}
	for _, raw := range doc.Statement {
		var st struct{ Sid string }
		if err := json.Unmarshal(raw, &st); err != nil {
			return document{}, err
		}
		out.statements = append(out.statements, sidStatement{sid: st.Sid, raw: string(raw)})
	}
	return out, nil
}

// with is the document with other statements, each written as given.
func (d document) with(statements []sidStatement) (string, error) {
	raws := make([]json.RawMessage, 0, len(statements))
	for _, st := range statements {
		raws = append(raws, json.RawMessage(st.raw))
	}
	return marshalNoEscape(struct {
		Version   string
		ID        string `json:"Id,omitempty"`
		Statement []json.RawMessage
	}{d.version, d.id, raws})
}

// marshalNoEscape is json.Marshal without HTML escaping, which would
// rewrite a statement's <, > and & and so its bytes.
func marshalNoEscape(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
