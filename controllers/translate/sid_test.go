package translate_test

import (
	"strings"
	"testing"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

func TestDerivedStatementID(t *testing.T) {
	long := strings.Repeat("n", 253)
	seen := map[string]string{}
	for _, tt := range []struct{ namespace, name string }{
		{"default", "s3"},
		{"a-b", "c"},
		{"a", "b-c"},
		{"team", "bucket.events"},
		{"team", "bucket_events"[:6] + "-events"},
		{strings.Repeat("x", 63), long},
		{strings.Repeat("x", 63), long[:252] + "m"},
	} {
		sid := translate.DerivedStatementID(tt.namespace, tt.name)
		p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "*"}
		if err := p.Validate(); err != nil || len(sid) > lambdav1alpha1.MaxStatementIDLength {
			t.Errorf("%s/%s → %q: %v", tt.namespace, tt.name, sid, err)
		}
		if other, dup := seen[sid]; dup {
			t.Errorf("%s/%s and %s both → %q", tt.namespace, tt.name, other, sid)
		}
		seen[sid] = tt.namespace + "/" + tt.name
		if again := translate.DerivedStatementID(tt.namespace, tt.name); again != sid {
			t.Errorf("not deterministic: %q then %q", sid, again)
		}
	}
}

// The operator's --statement-id-prefix starts every derived Sid; the whole
// prefixed Sid stays within Lambda's 100 characters and unique, and a bad
// prefix is refused.
func TestPrefixedStatementID(t *testing.T) {
	long := strings.Repeat("n", 253)
	longNS := strings.Repeat("x", 63)
	maxPrefix := strings.Repeat("p", lambdav1alpha1.MaxStatementIDPrefixLength)
	seen := map[string]string{}
	for _, tt := range []struct {
		prefix, namespace, name string
		want                    string // "" when cut: checked by length, prefix and uniqueness
	}{
		{"", "default", "s3", "default_s3"},
		{"east-", "default", "s3", "east-default_s3"},
		{"west_", "team", "bucket.events", "west_team_bucket_events"},
		{"east-", strings.Repeat("x", 45), strings.Repeat("n", 49), "east-" + strings.Repeat("x", 45) + "_" + strings.Repeat("n", 49)}, // exactly 100
		{"east-", strings.Repeat("x", 45), strings.Repeat("n", 50), ""},                                                                // 101: cut
		{"east-", longNS, long, ""},
		{"east-", longNS, long[:252] + "m", ""},
		{maxPrefix, longNS, long, ""},
		{maxPrefix, longNS, long[:252] + "m", ""},
		{"west-", longNS, long, ""},
	} {
		sid := translate.PrefixedStatementID(tt.prefix, tt.namespace, tt.name)
		if tt.want != "" && sid != tt.want {
			t.Errorf("%q %s/%s → %q, want %q", tt.prefix, tt.namespace, tt.name, sid, tt.want)
		}
		p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "*"}
		if err := p.Validate(); err != nil || len(sid) > lambdav1alpha1.MaxStatementIDLength || !strings.HasPrefix(sid, tt.prefix) {
			t.Errorf("%q %s/%s → %q (%d characters): %v", tt.prefix, tt.namespace, tt.name, sid, len(sid), err)
		}
		key := tt.prefix + " " + tt.namespace + "/" + tt.name
		if other, dup := seen[sid]; dup {
			t.Errorf("%s and %s both → %q", key, other, sid)
		}
		seen[sid] = key
		if tt.prefix == "" && sid != translate.DerivedStatementID(tt.namespace, tt.name) {
			t.Errorf("no prefix: %q, not the Sid earlier versions derived", sid)
		}
	}
}

func TestValidateStatementIDPrefix(t *testing.T) {
	for prefix, wantErr := range map[string]string{
		"":                      "",
		"east-":                 "",
		"prod_eu-1":             "",
		strings.Repeat("p", 32): "",
		strings.Repeat("p", 33): "at most 32",
		"east.":                 "only letters, digits",
		"east/":                 "only letters, digits",
		"east ":                 "only letters, digits",
		"ost-é":                 "only letters, digits",
	} {
		err := translate.ValidateStatementIDPrefix(prefix)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%q refused: %v", prefix, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: error %v, want one saying %q", prefix, err, wantErr)
		}
	}
}
