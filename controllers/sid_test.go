package controllers_test

import (
	"strings"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
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
		sid := controllers.DerivedStatementID(tt.namespace, tt.name)
		p := policy.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "*"}
		if err := p.Validate(); err != nil || len(sid) > 100 {
			t.Errorf("%s/%s → %q: %v", tt.namespace, tt.name, sid, err)
		}
		if other, dup := seen[sid]; dup {
			t.Errorf("%s/%s and %s both → %q", tt.namespace, tt.name, other, sid)
		}
		seen[sid] = tt.namespace + "/" + tt.name
		if again := controllers.DerivedStatementID(tt.namespace, tt.name); again != sid {
			t.Errorf("not deterministic: %q then %q", sid, again)
		}
	}
}
