package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Role is an IAM role that AssumeRole can assume. Its account is the one in
// ARN; credentials issued for it act in that account.
type Role struct {
	// ARN is arn:PARTITION:iam::ACCOUNT:role[/PATH]/NAME.
	ARN string
	// ExternalID, when set, must be sent as ExternalId (the trust policy's
	// sts:ExternalId condition). When empty, any ExternalId is accepted, as
	// AWS ignores it for a trust policy without that condition.
	ExternalID string
	// TrustedAccounts lists the 12-digit accounts whose principals may
	// assume the role; empty trusts every account.
	TrustedAccounts []string
	// MaxSessionDuration caps DurationSeconds (AWS: 1h to 12h, default 1h
	// on a new role). 0 means 12h, the model's own maximum.
	MaxSessionDuration time.Duration
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	// roleARNParts splits a role ARN; the role name is the last path part.
	roleARNParts = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	// credentialScope finds the access key id in a SigV4 Authorization header.
	credentialScope = regexp.MustCompile(`Credential=([^/,\s]+)/`)
)

// validate reports a malformed role.
func (r Role) validate() error {
	if !roleARNParts.MatchString(r.ARN) {
		return fmt.Errorf("role ARN %q is not arn:PARTITION:iam::ACCOUNT:role/NAME", r.ARN)
	}
	if r.ExternalID != "" {
		if v := (field{wireName: "externalId", value: &r.ExternalID, minLen: 2, maxLen: 1224, pattern: &externalIDPattern}).violations(); len(v) > 0 {
			return fmt.Errorf("role %s: %s", r.ARN, v[0])
		}
	}
	for _, a := range r.TrustedAccounts {
		if !accountIDPattern.MatchString(a) {
			return fmt.Errorf("role %s: trusted account %q is not a 12-digit account id", r.ARN, a)
		}
	}
	if r.MaxSessionDuration != 0 && (r.MaxSessionDuration < time.Hour || r.MaxSessionDuration > maxRoleSession) {
		return fmt.Errorf("role %s: MaxSessionDuration %v is outside 1h..12h", r.ARN, r.MaxSessionDuration)
	}
	return nil
}

func (r Role) partition() string { return roleARNParts.FindStringSubmatch(r.ARN)[1] }
func (r Role) account() string   { return roleARNParts.FindStringSubmatch(r.ARN)[2] }
func (r Role) name() string      { return roleARNParts.FindStringSubmatch(r.ARN)[3] }

// trusts reports whether principals of account may assume the role.
func (r Role) trusts(account string) bool {
	return len(r.TrustedAccounts) == 0 || slices.Contains(r.TrustedAccounts, account)
}

// maxSession is the longest DurationSeconds the role allows.
func (r Role) maxSession() time.Duration {
	if r.MaxSessionDuration == 0 {
		return maxRoleSession
	}
	return r.MaxSessionDuration
}

const (
	minRoleSession = 900 * time.Second
	maxRoleSession = 43200 * time.Second
	// Role chaining (assuming a role with role credentials) is capped at 1h.
	maxChainedSession = time.Hour
	defaultSession    = time.Hour
	// userName is the IAM user every long-term access key belongs to.
	userName = "emulator"
)

// session is a set of temporary credentials issued by AssumeRole.
type session struct {
	accessKeyID   string
	secret        string
	token         string
	expires       time.Time
	account       string
	arn           string // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	assumedRoleID string // AROA...:SESSION
}

// identity is who signed a request: a long-term key's IAM user, or an
// assumed-role session.
type identity struct {
	account string
	arn     string
	userID  string
	session *session // nil for long-term keys
}

// authFailure is why a request's credentials were refused.
type authFailure int

const (
	authOK authFailure = iota
	authExpired
	authInvalidToken
	authBadSignature
)

// iam holds the access keys, roles and issued sessions. It has its own
// lock so that identifying a caller never waits for the state lock.
type iam struct {
	mu       sync.Mutex
	keys     map[string]string // access key id -> account
	roles    map[string]Role   // by ARN
	sessions map[string]*session
	failing  map[string]CredentialFailure // account -> how its credentials are refused (FailCredentials)
}

func newIAM(cfg Config) *iam {
	a := &iam{keys: map[string]string{}, roles: map[string]Role{}, sessions: map[string]*session{}, failing: map[string]CredentialFailure{}}
	for key, account := range cfg.AccessKeys {
		a.keys[key] = account
	}
	for _, r := range cfg.Roles {
		r.TrustedAccounts = slices.Clone(r.TrustedAccounts)
		a.roles[r.ARN] = r
	}
	return a
}

// accessKeyID returns the access key id of a SigV4 request (Authorization
// header or presigned X-Amz-Credential), or "".
func accessKeyID(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
		key, _, _ := strings.Cut(cred, "/")
		return key
	}
	return ""
}

func securityToken(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("X-Amz-Security-Token")
}

// identify decides a request's account from its credentials. Issued
// session keys act in their role's account (and fail when expired or sent
// with another session token); Config.AccessKeys keys in theirs; any other
// or missing key in the default account. The identity is returned even on
// failure, so the call can be counted against its account.
func (s *Server) identify(r *http.Request) (*identity, authFailure) {
	key := accessKeyID(r)
	s.iam.mu.Lock()
	sess := s.iam.sessions[key]
	account, known := s.iam.keys[key]
	s.iam.mu.Unlock()
	if sess != nil {
		id := &identity{account: sess.account, arn: sess.arn, userID: sess.assumedRoleID, session: sess}
		switch {
		case securityToken(r) != sess.token:
			return id, authInvalidToken
		case !s.cfg.Now().Before(sess.expires):
			return id, authExpired
		}
		return id, s.credentialFailure(id.account)
	}
	if !known {
		account = s.cfg.AccountID
	}
	return s.userIdentity(account), s.credentialFailure(account)
}

// userIdentity is the IAM user behind every long-term key of an account.
func (s *Server) userIdentity(account string) *identity {
	return &identity{
		account: account,
		arn:     "arn:" + partitionOf(s.cfg.Region) + ":iam::" + account + ":user/" + userName,
		userID:  uniqueID("AIDA", "user:"+account),
	}
}

// AccessKeyFor returns long-term credentials that act in account: a key
// of Config.AccessKeys mapped to it (the first in sorted order), else a
// new key registered for it. Signatures are not checked, so the secret is
// only there to satisfy the SDK. It panics unless account has 12 digits.
func (s *Server) AccessKeyFor(account string) (accessKeyID, secretAccessKey string) {
	if !accountIDPattern.MatchString(account) {
		panic("emulator: AccessKeyFor: account " + account + " is not a 12-digit account id")
	}
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	var keys []string
	for key, a := range s.iam.keys {
		if a == account {
			keys = append(keys, key)
		}
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		return keys[0], secretFor(keys[0])
	}
	key := uniqueID("AKIA", "key:"+account)[:20]
	s.iam.keys[key] = account
	return key, secretFor(key)
}

// AddRole registers (or replaces) a role that AssumeRole can assume.
func (s *Server) AddRole(role Role) error {
	if err := role.validate(); err != nil {
		return err
	}
	role.TrustedAccounts = slices.Clone(role.TrustedAccounts)
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	s.iam.roles[role.ARN] = role
	return nil
}

// uniqueID builds an IAM-style unique id (prefix + 17 upper-case
// characters, 21 in all) that is stable for seed.
func uniqueID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func secretFor(key string) string {
	sum := sha256.Sum256([]byte("secret:" + key))
	return base64.StdEncoding.EncodeToString(sum[:])[:40]
}

// randomString returns n characters of crypto-random base32 (upper case)
// or, with b64, base64.
func randomString(n int, b64 bool) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // never fails (crypto/rand)
	if b64 {
		return base64.StdEncoding.EncodeToString(buf)[:n]
	}
	return base32.StdEncoding.EncodeToString(buf)[:n]
}
