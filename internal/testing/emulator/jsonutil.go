package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
)

// jsonString encodes s as a JSON string literal. Unlike json.Marshal it
// leaves <, > and & alone: AWS writes them verbatim inside policies.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonValue encodes v without HTML escaping (for response structs).
func jsonValue(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// member is one key of a JSON object whose value is already encoded.
type member struct {
	key   string
	value string
}

func stringMember(key, value string) member { return member{key, jsonString(value)} }
func rawMember(key, encoded string) member  { return member{key, encoded} }

// jsonObject writes a compact JSON object with the members in the given
// order. AWS's key order is significant for byte-exact comparisons, so maps
// (which encoding/json sorts) cannot be used.
func jsonObject(members ...member) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(m.key))
		b.WriteByte(':')
		b.WriteString(m.value)
	}
	b.WriteByte('}')
	return b.String()
}
