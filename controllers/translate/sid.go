package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

var sidCharacters = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// DerivedStatementID is the Sid of an object that names none: its namespace
// and name joined by "_". Neither a namespace nor a name can hold "_", and a
// namespace cannot hold ".", so mapping the name's dots to "_" keeps the Sid
// unique and within Lambda's pattern ([a-zA-Z0-9-_]+). A Sid that would be
// longer than Lambda's 100 characters is cut and ends in a hash of the whole.
func DerivedStatementID(namespace, name string) string {
	return PrefixedStatementID("", namespace, name)
}

// PrefixedStatementID is DerivedStatementID with the operator's
// --statement-id-prefix in front, so that clusters applying the same
// manifests to one function do not claim each other's statements. The cut
// applies to the whole prefixed Sid; the prefix itself is never cut, since
// ValidateStatementIDPrefix keeps it short. With no prefix the Sid is the
// one every earlier version derived.
func PrefixedStatementID(prefix, namespace, name string) string {
	return derivedSid(prefix, namespace, name, lambdav1alpha1.MaxStatementIDLength)
}

// derivedSid is prefix + namespace + "_" + name, cut to limit characters,
// the last 17 of which are then "-" and a hash of namespace/name (the
// prefix is the same for every object of an operator, so it adds nothing
// to tell them apart).
func derivedSid(prefix, namespace, name string, limit int) string {
	sid := prefix + namespace + "_" + strings.ReplaceAll(name, ".", "_")
	if len(sid) <= limit {
		return sid
	}
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	hash := hex.EncodeToString(sum[:])[:16]
	return sid[:limit-len(hash)-1] + "-" + hash
}

// ValidateStatementIDPrefix checks a --statement-id-prefix: Lambda's Sid
// characters only, and short enough to leave room for what follows it.
func ValidateStatementIDPrefix(prefix string) error {
	if !sidCharacters.MatchString(prefix) {
		return fmt.Errorf("%q: only letters, digits, '-' and '_' (Lambda's Sid characters)", prefix)
	}
	if len(prefix) > lambdav1alpha1.MaxStatementIDPrefixLength {
		return fmt.Errorf("%q: %d characters, at most %d", prefix, len(prefix), lambdav1alpha1.MaxStatementIDPrefixLength)
	}
	return nil
}
