package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const maxSidLength = 100

// DerivedStatementID is the Sid of an object that names none: its namespace
// and name joined by "_". Neither a namespace nor a name can hold "_", and a
// namespace cannot hold ".", so mapping the name's dots to "_" keeps the Sid
// unique and within Lambda's pattern ([a-zA-Z0-9-_]+). A Sid that would be
// longer than Lambda's 100 characters is cut and ends in a hash of the whole.
func DerivedStatementID(namespace, name string) string {
	sid := namespace + "_" + strings.ReplaceAll(name, ".", "_")
	if len(sid) <= maxSidLength {
		return sid
	}
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	hash := hex.EncodeToString(sum[:])[:16]
	return sid[:maxSidLength-len(hash)-1] + "-" + hash
}
