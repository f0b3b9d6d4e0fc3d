package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// jsonNode is a parsed JSON value that keeps object members in document
// order, for checking a whole policy document (§16.6). encoding/json's maps
// would lose the order and silently keep the last of duplicate keys.
type jsonNode struct {
	kind jsonKind
	text string   // kindString: the value; kindNumber: the number as written
	b    bool     // kindBool
	keys []string // kindObject: member names, in order
	vals []*jsonNode
	// vals holds the member values (kindObject, parallel to keys) or the
	// elements (kindArray).
}

type jsonKind int

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// member returns an object's member, or nil.
func (n *jsonNode) member(key string) *jsonNode {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// str returns a string node's value and whether n is a string.
func (n *jsonNode) str() (string, bool) {
	if n == nil || n.kind != kindString {
		return "", false
	}
	return n.text, true
}

// String renders n as compact JSON, for error messages.
func (n *jsonNode) String() string {
	switch n.kind {
	case kindBool:
		if n.b {
			return "true"
		}
		return "false"
	case kindNumber:
		return n.text
	case kindString:
		return jsonString(n.text)
	case kindArray:
		parts := make([]string, len(n.vals))
		for i, v := range n.vals {
			parts[i] = v.String()
		}
		return "[" + strings.Join(parts, ",") + "]"
	case kindObject:
		members := make([]member, len(n.keys))
		for i, k := range n.keys {
			members[i] = rawMember(k, n.vals[i].String())
		}
		return jsonObject(members...)
	}
	return "null"
}

// duplicateKeyError is an object with the same key twice; path names the
// object, e.g. "Statement[1].Condition" ("" for the document itself).
type duplicateKeyError struct{ key, path string }

func (e *duplicateKeyError) Error() string {
	return fmt.Sprintf("duplicate key %q in %q", e.key, e.path)
}

// parseJSONTree parses one JSON value that is already known to be valid
// (json.Compact accepted it). Object paths are built from the members'
// names and indexes, for duplicateKeyError.
func parseJSONTree(data []byte) (*jsonNode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return parseJSONNode(dec, "")
}

func parseJSONNode(dec *json.Decoder, path string) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonNode{kind: kindNull}, nil
	case bool:
		return &jsonNode{kind: kindBool, b: t}, nil
	case json.Number:
		return &jsonNode{kind: kindNumber, text: string(t)}, nil
	case string:
		return &jsonNode{kind: kindString, text: t}, nil
	case json.Delim:
		if t == '[' {
			n := &jsonNode{kind: kindArray}
			for dec.More() {
				v, err := parseJSONNode(dec, fmt.Sprintf("%s[%d]", path, len(n.vals)))
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token() // ]
			return n, err
		}
		n := &jsonNode{kind: kindObject}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := keyTok.(string)
			if n.member(key) != nil {
				return nil, &duplicateKeyError{key, path}
			}
			childPath := key
			if path != "" {
				childPath = path + "." + key
			}
			v, err := parseJSONNode(dec, childPath)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
		}
		_, err := dec.Token() // }
		return n, err
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
