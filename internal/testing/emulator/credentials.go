package emulator

import "net/http"

// CredentialFailure is how AWS refuses the credentials a request is signed
// with, for Server.FailCredentials. Each is a 403 at AWS's front door,
// before throttling and before the operation; Lambda and STS spell them
// differently.
type CredentialFailure string

const (
	// CredentialsExpired: ExpiredTokenException (Lambda), ExpiredToken (STS).
	CredentialsExpired CredentialFailure = "expired"
	// CredentialsInvalid: UnrecognizedClientException (Lambda),
	// InvalidClientTokenId (STS): an unknown or revoked key or token.
	CredentialsInvalid CredentialFailure = "invalid"
	// SignatureMismatch: InvalidSignatureException (Lambda),
	// SignatureDoesNotMatch (STS): a wrong secret key.
	SignatureMismatch CredentialFailure = "signature"
)

const (
	codeInvalidSignature   = "InvalidSignatureException"
	stsCodeSignatureDenied = "SignatureDoesNotMatch"
	msgSignatureMismatch   = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// FailCredentials makes AWS refuse, with failure, every request signed with
// credentials of account (its long-term keys and the sessions of its
// roles), Lambda's and STS's alike, as when a key is revoked or a token
// expires; the empty failure restores them. The calls are counted as calls
// and as errors of the account.
func (s *Server) FailCredentials(account string, failure CredentialFailure) {
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	if failure == "" {
		delete(s.iam.failing, account)
		return
	}
	s.iam.failing[account] = failure
}

// credentialFailure is the failure FailCredentials set for account's
// credentials, as an authFailure.
func (s *Server) credentialFailure(account string) authFailure {
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	switch s.iam.failing[account] {
	case CredentialsExpired:
		return authExpired
	case CredentialsInvalid:
		return authInvalidToken
	case SignatureMismatch:
		return authBadSignature
	}
	return authOK
}

func errInvalidSignature() *apiError {
	return &apiError{http.StatusForbidden, codeInvalidSignature, msgSignatureMismatch, 0}
}
