package emulator

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/uuid"
)

// TestResourcePolicyStoredForm: Put stores the input compacted, keys and
// values as given, no Id, account ids not rewritten; Put's response, Get,
// GetPolicy and Server.Policy return exactly that with one RevisionId
// (§16.5). Delete removes it.
func TestResourcePolicyStoredForm(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")

	// A literal case, independent of json.Compact.
	input := "{ \"Statement\" : [ {\"Sid\": \"First\",\n\t\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"111122223333\"}, " +
		"\"Action\": \"lambda:InvokeFunction\", \"Resource\": \"" + fnARN + "\", \"Condition\": {\"StringEquals\": {\"aws:PrincipalTag/team\": \"a b <&>\"}}} ],\n" +
		" \"Version\" : \"2012-10-17\" }"
	want := `{"Statement":[{"Sid":"First","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction",` +
		`"Resource":"` + fnARN + `","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a b <&>"}}}],"Version":"2012-10-17"}`
	policy, rev := h.put(fnARN, input, "")
	if policy != want {
		t.Fatalf("Put response Policy\n got: %s\nwant: %s", policy, want)
	}
	if err := uuid.Validate(rev); err != nil || strings.ToLower(rev) != rev {
		t.Errorf("RevisionId %q is not a lower-case UUID", rev)
	}
	if got := h.assertDocument("my-function", "", want); got != rev {
		t.Errorf("Get RevisionId %s, Put's %s", got, rev)
	}
	// AddPermission appends inside the list, wherever the list stands.
	appended := h.allow("my-function", "", "appended")
	h.assertDocument("my-function", "", strings.Replace(want, `}],"Version"`, `},`+appended+`],"Version"`, 1))

	// The rich document keeps every shape byte for byte (compacted).
	rich := richStatements(fnARN)
	want = document(compactAll(t, rich)...)
	policy, rev2 := h.put(fnARN, spaced(rich...), "")
	if policy != want || rev2 == rev {
		t.Fatalf("rich Put: %s (RevisionId %s after %s)\nwant %s", policy, rev2, rev, want)
	}
	h.assertDocument("my-function", "", want)

	// An Id is kept where it was given; none is added.
	withID := `{"Version":"2012-10-17","Id":"mine","Statement":[` + accountStatement("a", fnARN) + `]}`
	if policy, _ := h.put(fnARN, withID, ""); policy != withID {
		t.Errorf("Put with Id: %s", policy)
	}

	// Delete: 204, then every reader and Delete itself say 404.
	mustSucceed(t, deleteResourcePolicy(fnARN, "")(h.ctx, h.client))
	assertAPIError(t, getResourcePolicy(fnARN)(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)
	_, err := h.getPolicy("my-function", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	assertAPIError(t, deleteResourcePolicy(fnARN, "")(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)
	if _, _, ok := h.emu.Policy("my-function", ""); ok {
		t.Error("Server.Policy still has a policy")
	}
	assertAPIError(t, h.remove("my-function", "", "a", ""), codeResourceNotFound, msgNoPolicy)
}

// TestResourcePolicyOfAddPermission: GetResourcePolicy returns a document
// built by AddPermission alone as GetPolicy does ("Id":"default"), and
// putting it back stores it unchanged (§16.5).
func TestResourcePolicyOfAddPermission(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	first := h.allow("my-function", "", "s3")
	in := s3Permission("my-function", "", "everyone")
	in.Principal = aws.String("*")
	in.Action = aws.String("*")
	in.SourceArn = aws.String("arn:aws:s3:::bucket")
	in.InvokedViaFunctionUrl = aws.Bool(true)
	out, err := h.client.AddPermission(h.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"default","Statement":[` + first + "," + aws.ToString(out.Statement) + `]}`
	rev := h.assertDocument("my-function", "", want)

	policy, rev2 := h.put(fnARN, want, rev)
	if policy != want || rev2 == rev {
		t.Errorf("round trip: %s (RevisionId %s, was %s)", policy, rev2, rev)
	}
	h.assertDocument("my-function", "", want)
}

// TestResourcePolicySharedDocument: one document, five operations (§16.4).
func TestResourcePolicySharedDocument(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	var revisions []string
	seen := func(rev string) {
		t.Helper()
		for _, r := range revisions {
			if r == rev {
				t.Fatalf("RevisionId %s came back after a write (%v)", rev, revisions)
			}
		}
		revisions = append(revisions, rev)
	}

	// AddPermission, then Put replaces the whole document.
	h.allow("my-function", "", "added")
	seen(h.assertDocument("my-function", "", `{"Version":"2012-10-17","Id":"default","Statement":[`+
		`{"Sid":"added","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+fnARN+`"}]}`))
	rich := compactAll(t, richStatements(fnARN))
	_, rev := h.put(fnARN, spaced(richStatements(fnARN)...), "")
	seen(rev)
	if got := h.assertDocument("my-function", "", document(rich...)); got != rev {
		t.Fatalf("Get RevisionId %s, Put's %s", got, rev)
	}

	// Put, then AddPermission appends its usual statement, adding no Id.
	appended := h.allow("my-function", "", "appended")
	seen(h.assertDocument("my-function", "", document(append(rich, appended)...)))

	// A Sid that Put wrote is taken for AddPermission.
	_, err := h.client.AddPermission(h.ctx, s3Permission("my-function", "", "Partners"))
	assertAPIError(t, err, codeResourceConflict, fmt.Sprintf(msgSidExists, "Partners"))

	// RemovePermission removes a Put-written statement by Sid and keeps the
	// others byte for byte.
	mustSucceed(t, h.remove("my-function", "", "Partners", ""))
	seen(h.assertDocument("my-function", "", document(rich[0], rich[2], appended)))
	mustSucceed(t, h.remove("my-function", "", "appended", ""))
	seen(h.assertDocument("my-function", "", document(rich[0], rich[2])))

	// The statement without Sid cannot be named; the last named one goes.
	assertAPIError(t, h.remove("my-function", "", "Partners", ""), codeResourceNotFound, "Statement Partners is not found in resource policy.")
	mustSucceed(t, h.remove("my-function", "", "DenyOtherBuckets", ""))
	seen(h.assertDocument("my-function", "", document(rich[2])))

	// Put again, then remove its only statement: the policy is gone.
	_, rev = h.put(fnARN, document(accountStatement("only", fnARN)), "")
	seen(rev)
	mustSucceed(t, h.remove("my-function", "", "only", ""))
	assertAPIError(t, getResourcePolicy(fnARN)(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)

	// A new AddPermission then starts an AddPermission document again.
	statement := h.allow("my-function", "", "fresh")
	seen(h.assertDocument("my-function", "", `{"Version":"2012-10-17","Id":"default","Statement":[`+statement+`]}`))

	// DeleteResourcePolicy removes AddPermission's statements too.
	mustSucceed(t, deleteResourcePolicy(fnARN, "")(h.ctx, h.client))
	_, err = h.getPolicy("my-function", "")
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
}

// TestResourcePolicyRevisionIDs: every write makes a new RevisionId, the
// readers agree, and a stale one is refused by Put, Delete, AddPermission
// and RemovePermission alike (§16.7).
func TestResourcePolicyRevisionIDs(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	configRev := h.configRevision("my-function", "")

	// No policy: Put accepts no RevisionId at all, not even the config's.
	for _, rev := range []string{configRev, uuid.NewString()} {
		assertAPIError(t, putResourcePolicy(fnARN, document(accountStatement("a", fnARN)), rev)(h.ctx, h.client),
			codePreconditionFailed, msgResourcePolicyRevisionMismatch)
	}
	_, rev1 := h.put(fnARN, document(accountStatement("a", fnARN)), "")

	// Put with a stale one fails; with the current one it works.
	assertAPIError(t, putResourcePolicy(fnARN, document(accountStatement("b", fnARN)), uuid.NewString())(h.ctx, h.client),
		codePreconditionFailed, msgResourcePolicyRevisionMismatch)
	_, rev2 := h.put(fnARN, document(accountStatement("a", fnARN), accountStatement("b", fnARN)), rev1)

	// AddPermission compares with the same revision.
	in := s3Permission("my-function", "", "c")
	in.RevisionId = aws.String(rev1)
	_, err := h.client.AddPermission(h.ctx, in)
	assertAPIError(t, err, codePreconditionFailed, msgPolicyRevisionMismatch)
	in.RevisionId = aws.String(rev2)
	if _, err := h.client.AddPermission(h.ctx, in); err != nil {
		t.Fatal(err)
	}
	_, rev3 := h.mustResourcePolicy(fnARN)

	// Put, Remove and Delete with rev2 are all stale now.
	assertAPIError(t, putResourcePolicy(fnARN, document(accountStatement("a", fnARN)), rev2)(h.ctx, h.client),
		codePreconditionFailed, msgResourcePolicyRevisionMismatch)
	assertAPIError(t, h.remove("my-function", "", "a", rev2), codePreconditionFailed, msgPolicyRevisionMismatch)
	assertAPIError(t, deleteResourcePolicy(fnARN, rev2)(h.ctx, h.client), codePreconditionFailed, msgResourcePolicyRevisionMismatch)

	mustSucceed(t, h.remove("my-function", "", "a", rev3))
	_, rev4 := h.mustPolicy("my-function", "")
	assertAPIError(t, deleteResourcePolicy(fnARN, rev3)(h.ctx, h.client), codePreconditionFailed, msgResourcePolicyRevisionMismatch)
	mustSucceed(t, deleteResourcePolicy(fnARN, rev4)(h.ctx, h.client))

	// After Delete, the old RevisionId names nothing.
	assertAPIError(t, putResourcePolicy(fnARN, document(accountStatement("a", fnARN)), rev4)(h.ctx, h.client),
		codePreconditionFailed, msgResourcePolicyRevisionMismatch)
	_, rev5 := h.put(fnARN, document(accountStatement("a", fnARN)), "")
	if revs := []string{configRev, rev1, rev2, rev3, rev4, rev5}; len(unique(revs)) != len(revs) {
		t.Errorf("revisions not all distinct: %v", revs)
	}
	// None of this touched the configuration's RevisionId.
	if got := h.configRevision("my-function", ""); got != configRev {
		t.Errorf("config RevisionId changed: %s -> %s", configRev, got)
	}
}

// TestResourcePolicyScopes: the function, each version and each alias have
// their own document (§16.4, §6); PublishVersion copies none.
func TestResourcePolicyScopes(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	unqualified := document(accountStatement("shared", fnARN), accountStatement("wide", fnARN+":*"))
	h.put(fnARN, unqualified, "")

	version := h.publishVersion("my-function")
	versionARN := fnARN + ":" + version
	assertAPIError(t, getResourcePolicy(versionARN)(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)
	_, err := h.getPolicy("my-function", version)
	assertAPIError(t, err, codeResourceNotFound, msgResourceMissing)
	h.createAlias("my-function", "live", version)
	aliasARN := fnARN + ":live"
	assertAPIError(t, getResourcePolicy(aliasARN)(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)

	// A qualified document names its own qualified ARN; the same Sid may be
	// used on every qualifier.
	versionDoc := document(accountStatement("shared", versionARN))
	aliasDoc := document(accountStatement("shared", aliasARN))
	h.put(versionARN, versionDoc, "")
	h.put(aliasARN, aliasDoc, "")
	h.assertDocument("my-function", "", unqualified)
	h.assertDocument("my-function", version, versionDoc)
	h.assertDocument("my-function", "live", aliasDoc)
	if got, _ := h.mustPolicy("my-function", "$LATEST"); got != unqualified {
		t.Errorf("GetPolicy Qualifier=$LATEST: %s", got)
	}

	// The unqualified resource's family (:*) is not a qualified one's.
	for _, resource := range []string{fnARN, fnARN + ":*", aliasARN} {
		err := putResourcePolicy(versionARN, document(accountStatement("x", resource)), "")(h.ctx, h.client)
		assertAPIError(t, err, codeInvalidParameterValue, msgInvalidPolicy+`Statement[0] (Sid "x"): Resource "`+resource+
			`" is not the resource of this policy; it must be `+versionARN+`.`)
	}

	// AddPermission on the alias appends to the alias's Put document.
	statement := h.allow("my-function", "live", "more")
	h.assertDocument("my-function", "live", document(accountStatement("shared", aliasARN), statement))

	// Deleting one leaves the others.
	mustSucceed(t, deleteResourcePolicy(versionARN, "")(h.ctx, h.client))
	assertAPIError(t, getResourcePolicy(versionARN)(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)
	h.assertDocument("my-function", "", unqualified)
	h.assertDocument("my-function", "live", document(accountStatement("shared", aliasARN), statement))

	// A second version starts empty too, and $LATEST's document is unchanged.
	second := h.publishVersion("my-function")
	assertAPIError(t, getResourcePolicy(fnARN+":"+second)(h.ctx, h.client), codeResourceNotFound, msgResourceMissing)
	h.assertDocument("my-function", "", unqualified)
}

// TestResourcePolicyErrors: every error of §16.3's table that does
// not need a switch or a fault, for each operation that lists it, in the
// precedence of §16.2. PublicPolicyException is in TestBlockPublicPolicy,
// injected faults in TestResourcePolicyFaults, the document's own defects
// in TestPutResourcePolicyDocumentDefects.
func TestResourcePolicyErrors(t *testing.T) {
	const (
		arnPattern  = "Member must satisfy regular expression pattern: " + `arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_])+)?`
		uuidPattern = "Member must satisfy regular expression pattern: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
		emptyARN    = "arn:aws:lambda:us-east-2:123456789012:function:empty-fn"
		missingARN  = "arn:aws:lambda:us-east-2:123456789012:function:nope"
		foreignARN  = "arn:aws:lambda:us-east-2:999999999999:function:my-function"
		westARN     = "arn:aws:lambda:us-west-2:123456789012:function:my-function"
	)
	ok := document(accountStatement("put", fnARN))
	longARN := "arn:aws:lambda:us-east-2:123456789012:function:" + strings.Repeat("f", 210)
	longPolicy := strings.Repeat(" ", 20481)
	upperUUID := strings.ToUpper(uuid.NewString())
	stale := uuid.NewString()
	denied := func(action, resource string) string {
		return accessDenied("arn:aws:iam::"+testAccount+":user/emulator", action, resource)
	}
	tests := []struct {
		name    string
		call    func(h *harness) error
		code    string
		message string
	}{
		// Model constraints (ValidationException), each member.
		{"Put: bare function name", wrap(putResourcePolicy("my-function", ok, "")), codeValidation, validationMsg("my-function", "resourceArn", arnPattern)},
		{"Put: partial ARN", wrap(putResourcePolicy("123456789012:function:my-function", ok, "")), codeValidation,
			validationMsg("123456789012:function:my-function", "resourceArn", arnPattern)},
		{"Put: ARN with a wildcard", wrap(putResourcePolicy(fnARN+":*", ok, "")), codeValidation, validationMsg(fnARN+":*", "resourceArn", arnPattern)},
		{"Put: ARN longer than 256", wrap(putResourcePolicy(longARN, ok, "")), codeValidation,
			validationMsg(longARN, "resourceArn", "Member must have length less than or equal to 256")},
		{"Get: bare function name", wrap(getResourcePolicy("my-function")), codeValidation, validationMsg("my-function", "resourceArn", arnPattern)},
		{"Delete: partial ARN", wrap(deleteResourcePolicy("us-east-2:123456789012:function:my-function", "")), codeValidation,
			validationMsg("us-east-2:123456789012:function:my-function", "resourceArn", arnPattern)},
		{"Put: empty Policy", wrap(putResourcePolicy(fnARN, "", "")), codeValidation,
			"2 validation errors detected: Value '' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\s\\S]+; " +
				"Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"Put: Policy longer than 20480", wrap(putResourcePolicy(fnARN, longPolicy, "")), codeValidation,
			validationMsg(longPolicy, "policy", "Member must have length less than or equal to 20480")},
		{"Put: RevisionId not a UUID", wrap(putResourcePolicy(fnARN, ok, "stale")), codeValidation,
			"2 validation errors detected: Value 'stale' at 'revisionId' failed to satisfy constraint: " + uuidPattern +
				"; Value 'stale' at 'revisionId' failed to satisfy constraint: Member must have length greater than or equal to 36"},
		{"Put: RevisionId in upper case", wrap(putResourcePolicy(fnARN, ok, upperUUID)), codeValidation, validationMsg(upperUUID, "revisionId", uuidPattern)},
		{"Delete: RevisionId not a UUID", wrap(deleteResourcePolicy(fnARN, "1")), codeValidation,
			"2 validation errors detected: Value '1' at 'revisionId' failed to satisfy constraint: " + uuidPattern +
				"; Value '1' at 'revisionId' failed to satisfy constraint: Member must have length greater than or equal to 36"},
		{"Put: several members", wrap(putResourcePolicy("my-function", "", "x")), codeValidation,
			"5 validation errors detected: Value 'my-function' at 'resourceArn' failed to satisfy constraint: " + arnPattern +
				"; Value '' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\s\\S]+" +
				"; Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1" +
				"; Value 'x' at 'revisionId' failed to satisfy constraint: " + uuidPattern +
				"; Value 'x' at 'revisionId' failed to satisfy constraint: Member must have length greater than or equal to 36"},
		// Validation comes before everything else.
		{"Put: validation before resolution", wrap(putResourcePolicy(missingARN, "", "")), codeValidation,
			"2 validation errors detected: Value '' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\s\\S]+; " +
				"Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1"},

		// Region and account, as for every operation.
		{"Put: another region", wrap(putResourcePolicy(westARN, ok, "")), codeResourceNotFound, "Functions from 'us-west-2' are not reachable in this region ('us-east-2')"},
		{"Get: another region", wrap(getResourcePolicy(westARN)), codeResourceNotFound, "Functions from 'us-west-2' are not reachable in this region ('us-east-2')"},
		{"Delete: another region", wrap(deleteResourcePolicy(westARN, "")), codeResourceNotFound, "Functions from 'us-west-2' are not reachable in this region ('us-east-2')"},
		{"Put: another account", wrap(putResourcePolicy(foreignARN, ok, "")), codeAccessDenied, denied("lambda:PutResourcePolicy", foreignARN)},
		{"Get: another account, qualified", wrap(getResourcePolicy(foreignARN + ":live")), codeAccessDenied, denied("lambda:GetResourcePolicy", foreignARN+":live")},
		{"Delete: another account", wrap(deleteResourcePolicy(foreignARN, "")), codeAccessDenied, denied("lambda:DeleteResourcePolicy", foreignARN)},

		// $LATEST and $LATEST.PUBLISHED, refused as AddPermission refuses $LATEST.
		{"Put: $LATEST", wrap(putResourcePolicy(fnARN+":$LATEST", ok, "")), codeInvalidParameterValue, msgLatestNotSupported},
		{"Put: $LATEST.PUBLISHED", wrap(putResourcePolicy(fnARN+":$LATEST.PUBLISHED", ok, "")), codeInvalidParameterValue,
			"We currently do not support adding policies for $LATEST.PUBLISHED."},
		{"Get: $LATEST", wrap(getResourcePolicy(fnARN + ":$LATEST")), codeInvalidParameterValue, msgLatestNotSupported},
		{"Delete: $LATEST.PUBLISHED", wrap(deleteResourcePolicy(fnARN+":$LATEST.PUBLISHED", "")), codeInvalidParameterValue,
			"We currently do not support adding policies for $LATEST.PUBLISHED."},

		// Resolution (404), with AddPermission's wording.
		{"Put: function missing", wrap(putResourcePolicy(missingARN, ok, "")), codeResourceNotFound, "Function not found: " + missingARN},
		{"Get: function missing", wrap(getResourcePolicy(missingARN)), codeResourceNotFound, "Function not found: " + missingARN},
		{"Delete: function missing, qualified", wrap(deleteResourcePolicy(missingARN+":live", "")), codeResourceNotFound, "Function not found: " + missingARN},
		{"Put: version missing", wrap(putResourcePolicy(fnARN+":42", ok, "")), codeResourceNotFound, "Function not found: " + fnARN + ":42"},
		{"Get: version missing", wrap(getResourcePolicy(fnARN + ":42")), codeResourceNotFound, "Function not found: " + fnARN + ":42"},
		{"Delete: version missing", wrap(deleteResourcePolicy(fnARN+":42", "")), codeResourceNotFound, "Function not found: " + fnARN + ":42"},
		{"Put: alias missing", wrap(putResourcePolicy(fnARN+":ghost", ok, "")), codeResourceNotFound, "Cannot find alias arn: " + fnARN + ":ghost"},
		{"Get: alias missing", wrap(getResourcePolicy(fnARN + ":ghost")), codeResourceNotFound, "Cannot find alias arn: " + fnARN + ":ghost"},
		{"Delete: alias missing", wrap(deleteResourcePolicy(fnARN+":ghost", "")), codeResourceNotFound, "Cannot find alias arn: " + fnARN + ":ghost"},
		{"Put: qualifier the model admits but nothing can be", wrap(putResourcePolicy(fnARN+":$LATESTx", ok, "")), codeResourceNotFound,
			"Function not found: " + fnARN + ":$LATESTx"},
		{"Get: no policy", wrap(getResourcePolicy(emptyARN)), codeResourceNotFound, msgResourceMissing},
		{"Get: version without policy", wrap(getResourcePolicy(fnARN + ":1")), codeResourceNotFound, msgResourceMissing},
		{"Delete: no policy", wrap(deleteResourcePolicy(emptyARN, "")), codeResourceNotFound, msgResourceMissing},
		{"Delete: no policy is reported before a RevisionId", wrap(deleteResourcePolicy(emptyARN, stale)), codeResourceNotFound, msgResourceMissing},
		{"Put: resolution before RevisionId", wrap(putResourcePolicy(fnARN+":42", ok, stale)), codeResourceNotFound, "Function not found: " + fnARN + ":42"},

		// RevisionId (412).
		{"Put: stale RevisionId", wrap(putResourcePolicy(fnARN, ok, stale)), codePreconditionFailed, msgResourcePolicyRevisionMismatch},
		{"Put: RevisionId without a policy", wrap(putResourcePolicy(emptyARN, document(accountStatement("a", emptyARN)), stale)), codePreconditionFailed,
			msgResourcePolicyRevisionMismatch},
		{"Put: RevisionId before the document", wrap(putResourcePolicy(fnARN, `{"Version":"2008-10-17"}`, stale)), codePreconditionFailed,
			msgResourcePolicyRevisionMismatch},
		{"Delete: stale RevisionId", wrap(deleteResourcePolicy(fnARN, stale)), codePreconditionFailed, msgResourcePolicyRevisionMismatch},

		// The document comes last (one row here; every defect has its own test).
		{"Put: invalid document", wrap(putResourcePolicy(fnARN, `{"Version":"2008-10-17"}`, "")), codeInvalidParameterValue,
			msgInvalidPolicy + `Version must be "2012-10-17", got "2008-10-17".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := errorFixture(t, Config{})
			before, revBefore, _ := h.emu.Policy("my-function", "")
			assertAPIError(t, tt.call(h), tt.code, tt.message)
			if after, revAfter, _ := h.emu.Policy("my-function", ""); after != before || revAfter != revBefore {
				t.Error("a failed call changed the policy")
			}
			if _, _, ok := h.emu.Policy("empty-fn", ""); ok {
				t.Error("a failed call created a policy")
			}
		})
	}
}

// wrap adapts a client call to a harness.
func wrap(call func(context.Context, *lambda.Client) error) func(h *harness) error {
	return func(h *harness) error { return call(h.ctx, h.client) }
}

// TestPutResourcePolicyDocumentDefects: one InvalidParameterValueException
// per defect of the grammar in §16.6, each naming what is wrong and where.
func TestPutResourcePolicyDocumentDefects(t *testing.T) {
	good := func(edit func(map[string]string)) string {
		members := map[string]string{
			"Sid": `"ok"`, "Effect": `"Allow"`, "Principal": `{"AWS":"111122223333"}`,
			"Action": `"lambda:InvokeFunction"`, "Resource": `"` + fnARN + `"`,
		}
		edit(members)
		var parts []string
		for _, key := range []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition", "Foo"} {
			if v, ok := members[key]; ok {
				parts = append(parts, `"`+key+`":`+v)
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	set := func(key, value string) func(map[string]string) {
		return func(m map[string]string) {
			if value == "" {
				delete(m, key)
			} else {
				m[key] = value
			}
		}
	}
	statement := func(key, value string) string { return document(good(set(key, value))) }
	prefix := msgInvalidPolicy + `Statement[0] (Sid "ok"): `
	tests := []struct {
		name, policy, message string
	}{
		// The document.
		{"not JSON", `{"Version":"2012-10-17",`, msgInvalidPolicy + "the document is not valid JSON: unexpected end of JSON input (at byte 24)."},
		{"not JSON either", `{"Version" "2012-10-17"}`, msgInvalidPolicy + `the document is not valid JSON: invalid character '"' after object key (at byte 12).`},
		{"trailing data", document(good(set("Sid", `"ok"`))) + ` {}`, msgInvalidPolicy + fmt.Sprintf(
			"the document is not valid JSON: invalid character '{' after top-level value (at byte %d).", len(document(good(set("Sid", `"ok"`))))+2)},
		{"not an object", `["2012-10-17"]`, msgInvalidPolicy + "the document must be a JSON object."},
		{"duplicate top-level key", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}`, msgInvalidPolicy + `duplicate key "Version" in the document.`},
		{"duplicate key in a statement", `{"Version":"2012-10-17","Statement":[` + good(set("Sid", `"ok"`)) + `,{"Effect":"Allow","Effect":"Deny"}]}`,
			msgInvalidPolicy + `duplicate key "Effect" in Statement[1].`},
		{"duplicate condition key", statement("Condition", `{"StringEquals":{"aws:SourceAccount":"111122223333","aws:SourceAccount":"444455556666"}}`),
			msgInvalidPolicy + `duplicate key "aws:SourceAccount" in Statement[0].Condition.StringEquals.`},
		{"unsupported element", `{"Version":"2012-10-17","Statment":[]}`, msgInvalidPolicy + `unsupported element "Statment"; a policy has Version, Id and Statement.`},
		{"Version missing", `{"Statement":[` + good(set("Sid", `"ok"`)) + `]}`, msgInvalidPolicy + `Version is missing; it must be "2012-10-17".`},
		{"Version 2008-10-17", `{"Version":"2008-10-17","Statement":[` + good(set("Sid", `"ok"`)) + `]}`, msgInvalidPolicy + `Version must be "2012-10-17", got "2008-10-17".`},
		{"Version a number", `{"Version":2012,"Statement":[]}`, msgInvalidPolicy + `Version must be "2012-10-17", got 2012.`},
		{"Id not a string", `{"Version":"2012-10-17","Id":7,"Statement":[]}`, msgInvalidPolicy + "Id must be a string, got 7."},
		{"Statement missing", `{"Version":"2012-10-17"}`, msgInvalidPolicy + "Statement is missing."},
		{"Statement not a list", `{"Version":"2012-10-17","Statement":` + good(set("Sid", `"ok"`)) + `}`,
			msgInvalidPolicy + "Statement must be a list of statements, got " + good(set("Sid", `"ok"`)) + "."},
		{"Statement empty", `{"Version":"2012-10-17","Statement":[]}`, msgInvalidPolicy + "Statement is empty; use DeleteResourcePolicy to remove a policy."},
		{"statement not an object", `{"Version":"2012-10-17","Statement":[` + good(set("Sid", `"ok"`)) + `,"lambda:InvokeFunction"]}`,
			msgInvalidPolicy + `Statement[1] must be a JSON object, got "lambda:InvokeFunction".`},
		// Sid.
		{"Sid with a dot", statement("Sid", `"a.b"`), msgInvalidPolicy + `Statement[0]: Sid "a.b" does not match ^[a-zA-Z0-9-_]+$.`},
		{"Sid empty", statement("Sid", `""`), msgInvalidPolicy + `Statement[0]: Sid "" does not match ^[a-zA-Z0-9-_]+$.`},
		{"Sid not a string", statement("Sid", `1`), msgInvalidPolicy + "Statement[0]: Sid must be a string, got 1."},
		{"Sid duplicated", document(good(set("Sid", `"ok"`)), good(set("Sid", `"other"`)), good(set("Sid", `"ok"`))),
			msgInvalidPolicy + `Statement[2] (Sid "ok"): Sid "ok" is already used by Statement[0].`},
		// Elements.
		{"NotPrincipal", statement("NotPrincipal", `{"AWS":"111122223333"}`), prefix + "NotPrincipal is not supported; use Principal."},
		{"NotAction", statement("NotAction", `"lambda:DeleteFunction"`), prefix + "NotAction is not supported; use Action."},
		{"NotResource", statement("NotResource", `"`+fnARN+`:1"`), prefix + "NotResource is not supported; use Resource."},
		{"unknown element", statement("Foo", `1`), prefix + `unsupported element "Foo"; a statement has Sid, Effect, Principal, Action, Resource and Condition.`},
		// Effect.
		{"Effect missing", statement("Effect", ""), prefix + `Effect is missing; it must be "Allow" or "Deny".`},
		{"Effect in lower case", statement("Effect", `"allow"`), prefix + `Effect must be "Allow" or "Deny", got "allow".`},
		// Principal.
		{"Principal missing", statement("Principal", ""), prefix + "Principal is missing."},
		{"Principal a bare service", statement("Principal", `"s3.amazonaws.com"`),
			prefix + `Principal must be "*" or an object of AWS, Service, Federated or CanonicalUser principals, got "s3.amazonaws.com".`},
		{"Principal empty object", statement("Principal", `{}`),
			prefix + `Principal must be "*" or an object of AWS, Service, Federated or CanonicalUser principals, got {}.`},
		{"Principal of an unknown kind", statement("Principal", `{"Account":"111122223333"}`),
			prefix + `Principal has an unsupported key "Account"; use AWS, Service, Federated or CanonicalUser.`},
		{"Principal.AWS empty list", statement("Principal", `{"AWS":[]}`),
			prefix + "Principal.AWS must be a non-empty string or a non-empty list of non-empty strings, got []."},
		{"Principal.AWS list with a number", statement("Principal", `{"AWS":["*",111122223333]}`),
			prefix + `Principal.AWS must be a non-empty string or a non-empty list of non-empty strings, got ["*",111122223333].`},
		{"Principal.AWS short account id", statement("Principal", `{"AWS":"12345"}`),
			prefix + `Principal.AWS "12345" is not "*", a 12-digit account id or an IAM ARN (arn:PARTITION:iam::ACCOUNT:...).`},
		{"Principal.AWS malformed IAM ARN", statement("Principal", `{"AWS":"arn:aws:iam:111122223333:role/x"}`),
			prefix + `Principal.AWS "arn:aws:iam:111122223333:role/x" is not "*", a 12-digit account id or an IAM ARN (arn:PARTITION:iam::ACCOUNT:...).`},
		{"Principal.Service not a service", statement("Principal", `{"Service":["s3.amazonaws.com","invalid.nonaws.com"]}`),
			prefix + `Principal.Service "invalid.nonaws.com" is not a service principal such as s3.amazonaws.com.`},
		{"Principal.Federated with a space", statement("Principal", `{"Federated":"cognito identity"}`),
			prefix + `Principal.Federated "cognito identity" must not contain whitespace.`},
		// Action.
		{"Action missing", statement("Action", ""), prefix + "Action is missing."},
		{"Action empty list", statement("Action", `[]`), prefix + "Action must be a non-empty string or a non-empty list of non-empty strings, got []."},
		{"Action of another service", statement("Action", `"s3:GetObject"`),
			prefix + `Action "s3:GetObject" is not a Lambda action a resource-based policy supports (lambda:<Operation>, lambda:* or *).`},
		{"Action unknown", statement("Action", `["lambda:InvokeFunction","lambda:Foo"]`),
			prefix + `Action "lambda:Foo" is not a Lambda action a resource-based policy supports (lambda:<Operation>, lambda:* or *).`},
		{"Action not for resource policies", statement("Action", `"lambda:AddPermission"`),
			prefix + `Action "lambda:AddPermission" is not a Lambda action a resource-based policy supports (lambda:<Operation>, lambda:* or *).`},
		{"Action with a partial wildcard", statement("Action", `"lambda:Get*"`),
			prefix + `Action "lambda:Get*" is not a Lambda action a resource-based policy supports (lambda:<Operation>, lambda:* or *).`},
		// Resource.
		{"Resource missing", statement("Resource", ""), prefix + "Resource is missing."},
		{"Resource a number", statement("Resource", `1`), prefix + "Resource must be a non-empty string or a non-empty list of non-empty strings, got 1."},
		{"Resource of another function", statement("Resource", `"arn:aws:lambda:us-east-2:123456789012:function:other"`),
			prefix + `Resource "arn:aws:lambda:us-east-2:123456789012:function:other" is not the resource of this policy; it must be ` + fnARN + " or " + fnARN + ":*."},
		{"Resource of a version", statement("Resource", `["`+fnARN+`","`+fnARN+`:1"]`),
			prefix + `Resource "` + fnARN + `:1" is not the resource of this policy; it must be ` + fnARN + " or " + fnARN + ":*."},
		{"Resource wildcard", statement("Resource", `"*"`),
			prefix + `Resource "*" is not the resource of this policy; it must be ` + fnARN + " or " + fnARN + ":*."},
		// Condition.
		{"Condition not an object", statement("Condition", `["StringEquals"]`), prefix + `Condition must be an object of condition operators, got ["StringEquals"].`},
		{"Condition operator unknown", statement("Condition", `{"StringEq":{"aws:SourceAccount":"111122223333"}}`), prefix + `Condition operator "StringEq" is not supported.`},
		{"Condition operator with a bad prefix", statement("Condition", `{"ForSomeValues:StringLike":{"aws:PrincipalOrgPaths":"o-1/*"}}`),
			prefix + `Condition operator "ForSomeValues:StringLike" is not supported.`},
		{"Condition block not an object", statement("Condition", `{"StringEquals":"aws:SourceAccount"}`),
			prefix + `Condition.StringEquals must be a non-empty object of condition keys, got "aws:SourceAccount".`},
		{"Condition block empty", statement("Condition", `{"Bool":{}}`), prefix + "Condition.Bool must be a non-empty object of condition keys, got {}."},
		{"Condition key empty", statement("Condition", `{"StringEquals":{"":"x"}}`), prefix + "Condition.StringEquals has an empty condition key."},
		{"Condition value null", statement("Condition", `{"Null":{"aws:SourceArn":null}}`),
			prefix + `Condition.Null["aws:SourceArn"] must be a string, number, boolean or a non-empty list of those, got null.`},
		{"Condition value empty list", statement("Condition", `{"StringEquals":{"aws:SourceAccount":[]}}`),
			prefix + `Condition.StringEquals["aws:SourceAccount"] must be a string, number, boolean or a non-empty list of those, got [].`},
		{"Condition value object", statement("Condition", `{"StringEquals":{"aws:SourceAccount":{"a":"b"}}}`),
			prefix + `Condition.StringEquals["aws:SourceAccount"] must be a string, number, boolean or a non-empty list of those, got {"a":"b"}.`},
	}
	h := errorFixture(t, Config{})
	before, revBefore, _ := h.emu.Policy("my-function", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertAPIError(t, putResourcePolicy(fnARN, tt.policy, "")(h.ctx, h.client), codeInvalidParameterValue, tt.message)
		})
	}
	if after, revAfter, _ := h.emu.Policy("my-function", ""); after != before || revAfter != revBefore {
		t.Error("a refused document changed the policy")
	}

	// What the grammar does accept, beyond the rich document.
	for _, policy := range []string{
		statement("Action", `["LAMBDA:invokefunction","lambda:*","*"]`),
		statement("Sid", ""),
		statement("Sid", `"a-b_C9"`),
		statement("Principal", `{"AWS":["*","arn:aws:sts::111122223333:assumed-role/r/s","arn:aws-cn:iam::111122223333:root"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`),
		statement("Condition", `{"ForAllValues:StringNotLikeIfExists":{"aws:PrincipalOrgPaths":["o-1/*",7,false]},"Null":{"aws:SourceArn":"false"},"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"},"BinaryEquals":{"k":"QmluYXJ5"},"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::x"}}`),
		statement("Condition", `{}`),
		`{"Id":"x","Statement":[` + good(set("Sid", `"ok"`)) + `],"Version":"2012-10-17"}`,
	} {
		if _, err := h.client.PutResourcePolicy(h.ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(fnARN), Policy: aws.String(policy)}); err != nil {
			t.Errorf("refused %s: %v", policy, err)
		}
	}
}

// TestPutResourcePolicyLength: the compact stored document is measured in
// bytes (§16.10), so whitespace does not count and multi-byte characters
// count as their bytes; AddPermission appending to a Put-written document
// meets the same limit.
func TestPutResourcePolicyLength(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	withValue := func(value string) string {
		return document(`{"Sid":"big","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction","Resource":"` +
			fnARN + `","Condition":{"StringEquals":{"aws:PrincipalTag/team":"` + value + `"}}}`)
	}
	// 10300 characters (well within the 20480 the model allows) but 20600 bytes.
	big := withValue(strings.Repeat("é", 10300))
	if javaLength(big) > 20480 || len(big) <= 20480 {
		t.Fatalf("test setup: %d characters, %d bytes", javaLength(big), len(big))
	}
	assertAPIError(t, putResourcePolicy(fnARN, big, "")(h.ctx, h.client), codePolicyLengthExceeded,
		fmt.Sprintf("The final policy size (%d) is bigger than the limit (20480).", len(big)))
	if _, _, ok := h.emu.Policy("my-function", ""); ok {
		t.Fatal("an oversized document was stored")
	}

	// Whitespace is not stored, so it does not count: 20000 characters of
	// input, far fewer bytes stored.
	small := withValue(strings.Repeat("a", 19000))
	padded := small[:1] + strings.Repeat(" ", 20000-len(small)) + small[1:]
	stored, _ := h.put(fnARN, padded, "")
	if stored != small {
		t.Fatalf("padding was stored")
	}

	// AddPermission appending to the Put-written document: same limit, same
	// metric.
	in := s3Permission("my-function", "", "over")
	in.SourceArn = aws.String("arn:aws:s3:::" + strings.Repeat("b", 1500))
	_, err := h.client.AddPermission(h.ctx, in)
	statement := `{"Sid":"over","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN +
		`","Condition":{"ArnLike":{"AWS:SourceArn":"` + aws.ToString(in.SourceArn) + `"}}}`
	assertAPIError(t, err, codePolicyLengthExceeded,
		fmt.Sprintf("The final policy size (%d) is bigger than the limit (20480).", len(small)+1+len(statement)))
	h.assertDocument("my-function", "", small)
}

// TestResourcePolicyWireFormat: what the SDK hides (§16.1, §16.3): escaped
// and raw labels, status codes, body shapes and the casing of each error's
// message member.
func TestResourcePolicyWireFormat(t *testing.T) {
	h := errorFixture(t, Config{BlockPublicPolicy: []string{testAccount}})
	escaped := "/2026-07-09/resource-policy/" + strings.NewReplacer(":", "%3A", "$", "%24").Replace(fnARN)
	raw := "/2026-07-09/resource-policy/" + fnARN
	body := func(policy string) string { return `{"Policy":` + encodeJSONString(policy) + `}` }
	spacedDoc := `{ "Version": "2012-10-17", "Statement": [ ` + accountStatement("wire", fnARN) + ` ] }`

	put := rawRequest(t, http.MethodPut, h.url+escaped, body(spacedDoc))
	if put.status != 200 || put.header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(put.body, `{"Policy":`+encodeJSONString(document(accountStatement("wire", fnARN)))+`,"RevisionId":"`) {
		t.Errorf("PUT (escaped): %d %v %s", put.status, put.header, put.body)
	}
	get := rawRequest(t, http.MethodGet, h.url+raw, "")
	if get.status != 200 || get.body != put.body {
		t.Errorf("GET (raw colons): %d %s\nPUT said %s", get.status, get.body, put.body)
	}
	if got := rawRequest(t, http.MethodPut, h.url+raw, body(spacedDoc)); got.status != 200 {
		t.Errorf("PUT (raw colons): %d %s", got.status, got.body)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		code, wantBody           string
	}{
		{"ValidationException has no Type", http.MethodGet, "/2026-07-09/resource-policy/my-function", "", 400, codeValidation,
			`{"message":"1 validation error detected: Value 'my-function' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ` +
				`arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_])+)?"}`},
		{"Policy missing", http.MethodPut, escaped, `{}`, 400, codeValidation,
			`{"message":"1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null"}`},
		{"InvalidParameterValueException: message", http.MethodGet, escaped + "%3A%24LATEST", "", 400, codeInvalidParameterValue,
			`{"Type":"User","message":"We currently do not support adding policies for $LATEST."}`},
		{"ResourceNotFoundException: Message", http.MethodGet, "/2026-07-09/resource-policy/arn%3Aaws%3Alambda%3Aus-east-2%3A123456789012%3Afunction%3Aempty-fn", "",
			404, codeResourceNotFound, `{"Type":"User","Message":"The resource you requested does not exist."}`},
		{"PreconditionFailedException: message", http.MethodDelete, escaped + "?RevisionId=" + uuid.NewString(), "", 412, codePreconditionFailed,
			`{"Type":"User","message":"` + msgResourcePolicyRevisionMismatch + `"}`},
		{"PublicPolicyException: Message", http.MethodPut, escaped,
			body(document(`{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"}`)), 400, codePublicPolicy,
			`{"Type":"User","Message":"` + msgPublicPolicy + `"}`},
		{"PolicyLengthExceededException: message", http.MethodPut, escaped,
			body(document(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN +
				`","Condition":{"StringEquals":{"k":"` + strings.Repeat("é", 10300) + `"}}}`)), 400, codePolicyLengthExceeded, ""},
		{"withdrawn 2024 route", http.MethodGet, "/2024-09-16/resource-policy/" + fnARN, "", 404, codeUnknownOperation, ""},
		{"withdrawn public-access block", http.MethodPut, "/2024-09-16/public-access-block/" + fnARN, `{}`, 404, codeUnknownOperation, ""},
		{"DeleteResourcePolicy: 204, no body", http.MethodDelete, raw, "", 204, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawRequest(t, tt.method, h.url+tt.path, tt.body)
			if got.status != tt.status || got.header.Get("X-Amzn-ErrorType") != tt.code {
				t.Errorf("%d %q, want %d %q (body %s)", got.status, got.header.Get("X-Amzn-ErrorType"), tt.status, tt.code, got.body)
			}
			if (tt.wantBody != "" || tt.status == 204) && got.body != tt.wantBody {
				t.Errorf("body\n got: %s\nwant: %s", got.body, tt.wantBody)
			}
		})
	}
}

// TestResourcePolicyQuotas: the three operations share the control-plane
// bucket with AddPermission and RemovePermission (§16.9); GetPolicy keeps
// its own.
func TestResourcePolicyQuotas(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now, Quotas: map[string]float64{BucketControlPlane: 3, BucketGetPolicy: 1}})
	h.createFunction("my-function")
	clock.Advance(time.Minute)

	h.allow("my-function", "", "a")
	h.put(fnARN, document(accountStatement("b", fnARN)), "")
	h.mustResourcePolicy(fnARN)
	for _, call := range []func(context.Context, *lambda.Client) error{
		getResourcePolicy(fnARN), putResourcePolicy(fnARN, document(accountStatement("c", fnARN)), ""),
		deleteResourcePolicy(fnARN, ""), add("my-function", "", "d"),
	} {
		assertAPIError(t, call(h.ctx, h.client), codeTooManyRequests, "Rate exceeded")
	}
	h.mustPolicy("my-function", "") // its own bucket

	clock.Advance(time.Second)
	mustSucceed(t, deleteResourcePolicy(fnARN, "")(h.ctx, h.client))
	stats := h.emu.Stats()
	for op, want := range map[string]int{OpGetResourcePolicy: 1, OpPutResourcePolicy: 1, OpDeleteResourcePolicy: 1, OpAddPermission: 1} {
		if got := stats.Errors[op][codeTooManyRequests]; got != want {
			t.Errorf("%s throttled %d times, want %d", op, got, want)
		}
	}
}

// TestResourcePolicyStats: the operations are counted under their names.
func TestResourcePolicyStats(t *testing.T) {
	for _, op := range []string{OpPutResourcePolicy, OpGetResourcePolicy, OpDeleteResourcePolicy} {
		if !slices.Contains(Operations, op) {
			t.Errorf("Operations lacks %s", op)
		}
	}
	h := newHarness(t, Config{})
	h.createFunction("my-function")
	h.put(fnARN, document(accountStatement("a", fnARN)), "")
	_ = putResourcePolicy(fnARN, `{}`, "")(h.ctx, h.client)
	h.mustResourcePolicy(fnARN)
	mustSucceed(t, deleteResourcePolicy(fnARN, "")(h.ctx, h.client))
	_ = getResourcePolicy(fnARN)(h.ctx, h.client)
	_ = deleteResourcePolicy(fnARN, "")(h.ctx, h.client)

	want := Stats{
		Calls: map[string]int{OpCreateFunction: 1, OpPutResourcePolicy: 2, OpGetResourcePolicy: 2, OpDeleteResourcePolicy: 2},
		Errors: map[string]map[string]int{
			OpPutResourcePolicy:    {codeInvalidParameterValue: 1},
			OpGetResourcePolicy:    {codeResourceNotFound: 1},
			OpDeleteResourcePolicy: {codeResourceNotFound: 1},
		},
	}
	want.ByAccount = map[string]AccountStats{testAccount: {Calls: want.Calls, Errors: want.Errors}}
	if got := h.emu.Stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stats()\n got: %+v\nwant: %+v", got, want)
	}
	if got := fetchStats(t, h.url); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /_emulator/stats\n got: %+v\nwant: %+v", got, want)
	}
}
