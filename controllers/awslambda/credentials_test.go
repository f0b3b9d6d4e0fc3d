package awslambda_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// Every way AWS refuses an identity is classified so that the object can
// say what to fix: the operator's own credentials (InvalidCredentials,
// whichever call they were refused on), or the AssumeRole of an account's
// role (AccessDenied with AssumeRole, with the role and whether an external
// id was sent).
func TestIdentityFailuresAreClassified(t *testing.T) {
	const roleAccount = "210987654321"
	trusting := "arn:aws:iam::" + roleAccount + ":role/operator"
	withExternalID := "arn:aws:iam::" + roleAccount + ":role/partner"
	untrusting := "arn:aws:iam::" + roleAccount + ":role/closed"
	emu := emulator.New(emulator.Config{Region: region, AccountID: account, Roles: []emulator.Role{
		{ARN: trusting}, {ARN: withExternalID, ExternalID: "right"}, {ARN: untrusting, TrustedAccounts: []string{"999999999999"}}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	clients := func(provider aws.CredentialsProvider) *awslambda.Clients {
		return awslambda.NewClients(awslambda.Config{AWS: aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
			Credentials: provider, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}})
	}
	static := credentials.NewStaticCredentialsProvider("test", "test", "")
	own, role := awslambda.Identity{}, func(arn, externalID string) awslambda.Identity {
		return awslambda.Identity{RoleARN: arn, ExternalID: externalID, SessionName: "unit"}
	}
	fn := policy.FunctionRef{Region: region, Name: "absent"}

	for _, tt := range []struct {
		name     string
		fail     map[string]emulator.CredentialFailure // FailCredentials by account
		provider aws.CredentialsProvider
		as       awslambda.Identity
		want     awslambda.Error // Kind, Code (Lambda's), AssumeRole, Role, ExternalID
		stsCode  string          // Code of the same failure on GetCallerIdentity, where STS spells it
	}{
		{name: "the role does not trust the operator", as: role(untrusting, ""),
			want: awslambda.Error{Kind: awslambda.AccessDenied, Code: "AccessDenied", AssumeRole: true, Role: untrusting}},
		{name: "a wrong external id", as: role(withExternalID, "wrong"),
			want: awslambda.Error{Kind: awslambda.AccessDenied, Code: "AccessDenied", AssumeRole: true, Role: withExternalID, ExternalID: true}},
		{name: "the operator's credentials expired", fail: map[string]emulator.CredentialFailure{account: emulator.CredentialsExpired}, as: own,
			want: awslambda.Error{Kind: awslambda.InvalidCredentials, Code: "ExpiredTokenException"}, stsCode: "ExpiredToken"},
		{name: "the operator's key is unknown", fail: map[string]emulator.CredentialFailure{account: emulator.CredentialsInvalid}, as: own,
			want: awslambda.Error{Kind: awslambda.InvalidCredentials, Code: "UnrecognizedClientException"}, stsCode: "InvalidClientTokenId"},
		{name: "the operator's secret is wrong", fail: map[string]emulator.CredentialFailure{account: emulator.SignatureMismatch}, as: own,
			want: awslambda.Error{Kind: awslambda.InvalidCredentials, Code: "InvalidSignatureException"}, stsCode: "SignatureDoesNotMatch"},
		{name: "the operator's credentials, refused on the AssumeRole behind a role", fail: map[string]emulator.CredentialFailure{account: emulator.CredentialsExpired},
			as: role(trusting, ""), want: awslambda.Error{Kind: awslambda.InvalidCredentials, Code: "ExpiredToken", Role: trusting}},
		{name: "the role's session refused", fail: map[string]emulator.CredentialFailure{roleAccount: emulator.SignatureMismatch},
			as: role(trusting, ""), want: awslambda.Error{Kind: awslambda.InvalidCredentials, Code: "InvalidSignatureException", Role: trusting}, stsCode: "SignatureDoesNotMatch"},
		{name: "no credentials at all", as: own, provider: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no EC2 IMDS role found")
		}), want: awslambda.Error{Kind: awslambda.InvalidCredentials}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for acct, failure := range tt.fail {
				emu.FailCredentials(acct, failure)
				t.Cleanup(func() { emu.FailCredentials(acct, "") })
			}
			provider := tt.provider
			if provider == nil {
				provider = static
			}
			c := clients(provider)
			_, lambdaErr := c.For(tt.as).GetPolicy(ctx, fn)
			_, _, callerErr := c.Caller(ctx, tt.as)
			for what, err := range map[string]error{"GetPolicy": lambdaErr, "Caller": callerErr} {
				var got *awslambda.Error
				if !errors.As(err, &got) {
					t.Fatalf("%s: %v, want a classified failure", what, err)
				}
				want := tt.want
				if what == "Caller" && tt.stsCode != "" {
					want.Code = tt.stsCode
				}
				if got.Kind != want.Kind || got.Code != want.Code || got.AssumeRole != tt.want.AssumeRole ||
					got.Role != tt.want.Role || got.ExternalID != tt.want.ExternalID {
					t.Errorf("%s: Kind %s, Code %q, AssumeRole %v, Role %q, ExternalID %v; want %s, %q, %v, %q, %v (%v)", what,
						got.Kind, got.Code, got.AssumeRole, got.Role, got.ExternalID,
						want.Kind, want.Code, want.AssumeRole, want.Role, want.ExternalID, err)
				}
			}
		})
	}
}
