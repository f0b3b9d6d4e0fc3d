package emulator

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestPrincipalNormalization covers SPEC §3.2, partitions included.
func TestPrincipalNormalization(t *testing.T) {
	tests := []struct {
		region, principal, want string
	}{
		{"us-east-2", "*", `"*"`},
		{"us-east-2", "111122223333", `{"AWS":"arn:aws:iam::111122223333:root"}`},
		{"cn-north-1", "111122223333", `{"AWS":"arn:aws-cn:iam::111122223333:root"}`},
		{"us-gov-west-1", "111122223333", `{"AWS":"arn:aws-us-gov:iam::111122223333:root"}`},
		{"us-east-2", "arn:aws:iam::185106417252:root", `{"AWS":"arn:aws:iam::185106417252:root"}`},
		{"us-east-2", "arn:aws:iam::111111111111:user/test-user", `{"AWS":"arn:aws:iam::111111111111:user/test-user"}`},
		{"us-east-2", "arn:aws:iam::111111111111:role/service-role/My.Role@x", `{"AWS":"arn:aws:iam::111111111111:role/service-role/My.Role@x"}`},
		{"us-east-2", "s3.amazonaws.com", `{"Service":"s3.amazonaws.com"}`},
		{"us-east-2", "logs.us-east-1.amazonaws.com", `{"Service":"logs.us-east-1.amazonaws.com"}`},
		{"us-east-2", "cognito-idp.amazonaws.com", `{"Service":"cognito-idp.amazonaws.com"}`},
		{"us-east-2", "alexa-appkit.amazon.com", `{"Service":"alexa-appkit.amazon.com"}`},
		{"cn-north-1", "apigateway.amazonaws.com.cn", `{"Service":"apigateway.amazonaws.com.cn"}`},
	}
	for _, tt := range tests {
		t.Run(tt.region+"/"+tt.principal, func(t *testing.T) {
			h := newHarness(t, Config{Region: tt.region})
			h.createFunction("fn")
			in := s3Permission("fn", "", "p")
			in.Principal = aws.String(tt.principal)
			out, err := h.client.AddPermission(h.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			resource := "arn:" + partitionOf(tt.region) + ":lambda:" + tt.region + ":" + testAccount + ":function:fn"
			want := `{"Sid":"p","Effect":"Allow","Principal":` + tt.want + `,"Action":"lambda:InvokeFunction","Resource":"` + resource + `"}`
			if got := aws.ToString(out.Statement); got != want {
				t.Errorf("\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestConditions covers the condition mapping and its order (§3.4): keys
// and operators in AWS's order, [unknown] positions last, nothing escaped.
func TestConditions(t *testing.T) {
	const resource = `"Resource":"` + fnARN + `"`
	tests := []struct {
		name string
		edit func(*lambda.AddPermissionInput)
		want string // the statement after Resource
	}{
		{"none", func(*lambda.AddPermissionInput) {}, `}`},
		{"InvokedViaFunctionUrl=false adds nothing", func(in *lambda.AddPermissionInput) { in.InvokedViaFunctionUrl = aws.Bool(false) }, `}`},
		{
			"all together",
			func(in *lambda.AddPermissionInput) {
				in.Principal = aws.String("*")
				in.SourceArn = aws.String("arn:aws:execute-api:us-east-2:123456789012:api/*/POST/<a&b>")
				in.SourceAccount = aws.String("123456789012")
				in.EventSourceToken = aws.String("amzn1.ask.skill.x")
				in.PrincipalOrgID = aws.String("o-a1b2c3d4e5")
				in.FunctionUrlAuthType = types.FunctionUrlAuthTypeAwsIam
				in.InvokedViaFunctionUrl = aws.Bool(true)
			},
			`,"Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012","lambda:FunctionUrlAuthType":"AWS_IAM",` +
				`"aws:PrincipalOrgID":"o-a1b2c3d4e5","lambda:EventSourceToken":"amzn1.ask.skill.x"},` +
				`"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-2:123456789012:api/*/POST/<a&b>"},` +
				`"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`,
		},
		{
			"org id alone",
			func(in *lambda.AddPermissionInput) { in.PrincipalOrgID = aws.String("o-a1b2c3d4e5") },
			`,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`,
		},
		{
			"Bool after ArnLike",
			func(in *lambda.AddPermissionInput) {
				in.SourceArn = aws.String("arn:aws:s3:::b")
				in.InvokedViaFunctionUrl = aws.Bool(true)
			},
			`,"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"},"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.createFunction("my-function")
			in := s3Permission("my-function", "", "c")
			tt.edit(in)
			out, err := h.client.AddPermission(h.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			principal := `{"Service":"s3.amazonaws.com"}`
			if aws.ToString(in.Principal) == "*" {
				principal = `"*"`
			}
			want := `{"Sid":"c","Effect":"Allow","Principal":` + principal + `,"Action":"lambda:InvokeFunction",` + resource + tt.want
			if got := aws.ToString(out.Statement); got != want {
				t.Errorf("\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestFunctionNameForms: every FunctionName form resolves to the same
// function, and Resource is always the emulator's own ARN (§3.3, §4.1).
func TestFunctionNameForms(t *testing.T) {
	tests := []struct {
		functionName, qualifier, wantResource string
	}{
		{"my-function", "", fnARN},
		{fnARN, "", fnARN},
		{"123456789012:function:my-function", "", fnARN},
		{"us-east-2:123456789012:function:my-function", "", fnARN},
		{"my-function:1", "", fnARN + ":1"},
		{"my-function:1", "1", fnARN + ":1"},
		{fnARN + ":live", "", fnARN + ":live"},
		{"123456789012:function:my-function:live", "live", fnARN + ":live"},
	}
	for _, tt := range tests {
		t.Run(tt.functionName+"?"+tt.qualifier, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.createFunction("my-function")
			h.createAlias("my-function", "live", h.publishVersion("my-function"))
			statement := h.allow(tt.functionName, tt.qualifier, "form")
			want := `{"Sid":"form","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + tt.wantResource + `"}`
			if statement != want {
				t.Errorf("\n got: %s\nwant: %s", statement, want)
			}
			if _, _, ok := h.emu.Policy("my-function", strings.TrimPrefix(strings.TrimPrefix(tt.wantResource, fnARN), ":")); !ok {
				t.Error("statement not stored on the expected qualifier")
			}
			// Remove through the same form.
			mustSucceed(t, h.remove(tt.functionName, tt.qualifier, "form", ""))
		})
	}
}

// TestRevisionIDs follows SPEC §7 (2025+ model).
func TestRevisionIDs(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	configRev := h.configRevision("fn", "")

	// No policy yet: only the configuration's own RevisionId is accepted.
	in := s3Permission("fn", "", "a")
	in.RevisionId = aws.String("not-the-config-revision")
	_, err := h.client.AddPermission(h.ctx, in)
	assertAPIError(t, err, codePreconditionFailed, msgPolicyRevisionMismatch)
	in.RevisionId = aws.String(configRev)
	if _, err := h.client.AddPermission(h.ctx, in); err != nil {
		t.Fatalf("config RevisionId on an empty policy: %v", err)
	}
	_, rev1 := h.mustPolicy("fn", "")

	// Once a policy exists its own RevisionId rules; the config one is stale.
	in = s3Permission("fn", "", "b")
	in.RevisionId = aws.String(configRev)
	_, err = h.client.AddPermission(h.ctx, in)
	assertAPIError(t, err, codePreconditionFailed, msgPolicyRevisionMismatch)
	in.RevisionId = aws.String(rev1)
	if _, err := h.client.AddPermission(h.ctx, in); err != nil {
		t.Fatalf("current RevisionId: %v", err)
	}
	_, rev2 := h.mustPolicy("fn", "")

	// Remove: stale fails, current works, each change makes a new id.
	assertAPIError(t, h.remove("fn", "", "a", rev1), codePreconditionFailed, msgPolicyRevisionMismatch)
	mustSucceed(t, h.remove("fn", "", "a", rev2))
	_, rev3 := h.mustPolicy("fn", "")
	if revs := []string{configRev, rev1, rev2, rev3}; len(unique(revs)) != len(revs) {
		t.Errorf("revisions not all distinct: %v", revs)
	}

	// Add/Remove leave the function configuration's RevisionId alone.
	if got := h.configRevision("fn", ""); got != configRev {
		t.Errorf("config RevisionId changed by Add/Remove: %s -> %s", configRev, got)
	}

	// PublishVersion changes the configuration RevisionId but not the
	// $LATEST policy RevisionId.
	version := h.publishVersion("fn")
	if got := h.configRevision("fn", ""); got == configRev {
		t.Error("PublishVersion did not change the $LATEST config RevisionId")
	}
	if _, got := h.mustPolicy("fn", ""); got != rev3 {
		t.Errorf("PublishVersion changed the policy RevisionId: %s -> %s", rev3, got)
	}

	// A version accepts its own config RevisionId while it has no policy,
	// not the $LATEST one.
	in = s3Permission("fn", version, "v")
	in.RevisionId = aws.String(h.configRevision("fn", ""))
	_, err = h.client.AddPermission(h.ctx, in)
	assertAPIError(t, err, codePreconditionFailed, msgPolicyRevisionMismatch)
	in.RevisionId = aws.String(h.configRevision("fn", version))
	if _, err := h.client.AddPermission(h.ctx, in); err != nil {
		t.Fatalf("version config RevisionId: %v", err)
	}

	// An alias accepts the RevisionId CreateAlias returned (§7, AWS-rec).
	alias := h.createAlias("fn", "live", version)
	in = s3Permission("fn", "live", "a")
	in.RevisionId = alias.RevisionId
	if _, err := h.client.AddPermission(h.ctx, in); err != nil {
		t.Fatalf("alias RevisionId: %v", err)
	}
}

func unique(values []string) map[string]bool {
	out := map[string]bool{}
	for _, v := range values {
		out[v] = true
	}
	return out
}

// TestPolicyScopes: $LATEST, each version and each alias have separate
// policies (§6).
func TestPolicyScopes(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.allow("fn", "", "shared")
	v1 := h.publishVersion("fn")
	if _, err := h.getPolicy("fn", v1); err == nil {
		t.Fatal("a new version inherited the function policy")
	} else {
		assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	}
	h.createAlias("fn", "live", v1)
	if _, err := h.getPolicy("fn", "live"); err == nil {
		t.Fatal("a new alias inherited a policy")
	}

	// The same Sid is allowed on $LATEST, version 1 and the alias.
	h.allow("fn", v1, "shared")
	h.allow("fn", "live", "shared")
	h.allow("fn", "live", "alias-only")
	for q, want := range map[string][]string{"": {"shared"}, v1: {"shared"}, "live": {"shared", "alias-only"}} {
		policy, _ := h.mustPolicy("fn", q)
		if got := sids(t, policy); !reflect.DeepEqual(got, want) {
			t.Errorf("qualifier %q: Sids %v, want %v", q, got, want)
		}
	}

	// Removing from one leaves the others.
	mustSucceed(t, h.remove("fn", "", "shared", ""))
	_, err := h.getPolicy("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	assertAPIError(t, h.remove("fn", "", "shared", ""), codeResourceNotFound, msgNoPolicy)
	for _, q := range []string{v1, "live"} {
		if policy, _ := h.mustPolicy("fn", q); !reflect.DeepEqual(sids(t, policy)[:1], []string{"shared"}) {
			t.Errorf("qualifier %q lost its statement", q)
		}
	}

	// $LATEST as a qualifier reads and removes the unqualified policy.
	h.allow("fn", "", "latest")
	policyA, _ := h.mustPolicy("fn", "")
	policyB, _ := h.mustPolicy("fn", "$LATEST")
	if policyA != policyB {
		t.Error("GetPolicy Qualifier=$LATEST differs from the unqualified policy")
	}
	mustSucceed(t, h.remove("fn", "$LATEST", "latest", ""))

	// Deleting an alias or a version deletes its policy; a new one with the
	// same name starts empty.
	if _, err := h.client.DeleteAlias(h.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	h.createAlias("fn", "live", v1)
	_, err = h.getPolicy("fn", "live")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	if _, err := h.client.DeleteFunction(h.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn"), Qualifier: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	_, err = h.getPolicy("fn", v1)
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)

	// Deleting the function deletes everything.
	h.allow("fn", "", "again")
	if _, err := h.client.DeleteFunction(h.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")}); err != nil {
		t.Fatal(err)
	}
	assertAPIError(t, h.remove("fn", "", "again", ""), codeResourceNotFound, "No policy found for: arn:aws:lambda:us-east-2:123456789012:function:fn")
	h.createFunction("fn")
	_, err = h.getPolicy("fn", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
}

// TestStatementOrder: insertion order, kept across removals (§3.1).
func TestStatementOrder(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	var statements []string
	for _, sid := range []string{"c", "a", "b", "d"} {
		statements = append(statements, h.allow("fn", "", sid))
	}
	mustSucceed(t, h.remove("fn", "", "b", ""))
	policy, _ := h.mustPolicy("fn", "")
	want := `{"Version":"2012-10-17","Id":"default","Statement":[` + statements[0] + "," + statements[1] + "," + statements[3] + `]}`
	if policy != want {
		t.Errorf("\n got: %s\nwant: %s", policy, want)
	}
}

// TestFunctionOperations: the setup operations return what the SDK expects.
func TestFunctionOperations(t *testing.T) {
	h := newHarness(t, Config{})
	created := h.createFunction("fn")
	if aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-2:123456789012:function:fn" ||
		aws.ToString(created.Version) != "$LATEST" || created.State != types.StateActive ||
		created.LastUpdateStatus != types.LastUpdateStatusSuccessful || created.Runtime != types.RuntimePython312 ||
		aws.ToString(created.Role) != testRole || aws.ToString(created.Handler) != "index.handler" || aws.ToString(created.RevisionId) == "" {
		t.Errorf("unexpected CreateFunction output: %+v", created)
	}
	_, err := h.client.CreateFunction(h.ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("fn"), Role: aws.String(testRole), Code: &types.FunctionCode{},
	})
	assertAPIError(t, err, codeResourceConflict, "Function already exist: fn")

	if v := h.publishVersion("fn"); v != "1" {
		t.Errorf("first version %q", v)
	}
	if v := h.publishVersion("fn"); v != "2" {
		t.Errorf("second version %q", v)
	}
	alias := h.createAlias("fn", "live", "2")
	if aws.ToString(alias.AliasArn) != "arn:aws:lambda:us-east-2:123456789012:function:fn:live" || aws.ToString(alias.FunctionVersion) != "2" {
		t.Errorf("unexpected CreateAlias output: %+v", alias)
	}
	got, err := h.client.GetAlias(h.ctx, &lambda.GetAliasInput{FunctionName: aws.String("fn"), Name: aws.String("live")})
	if err != nil || aws.ToString(got.RevisionId) != aws.ToString(alias.RevisionId) {
		t.Errorf("GetAlias: %v %+v", err, got)
	}
	_, err = h.client.CreateAlias(h.ctx, &lambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("7"), FunctionVersion: aws.String("1")})
	assertAPIError(t, err, codeValidation, validationMsg("7", "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"))
	_, err = h.client.GetAlias(h.ctx, &lambda.GetAliasInput{FunctionName: aws.String("fn"), Name: aws.String("ghost")})
	assertAPIError(t, err, codeResourceNotFound, "Cannot find alias arn: arn:aws:lambda:us-east-2:123456789012:function:fn:ghost")

	fn, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn"), Qualifier: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(fn.Configuration.Version) != "2" || aws.ToString(fn.Configuration.FunctionArn) != "arn:aws:lambda:us-east-2:123456789012:function:fn:live" || fn.Code == nil {
		t.Errorf("GetFunction(live): %+v", fn.Configuration)
	}
	_, err = h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("missing")})
	assertAPIError(t, err, codeResourceNotFound, "Function not found: arn:aws:lambda:us-east-2:123456789012:function:missing")
}
