package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestBlockPublicPolicy: the emulator-only switch (§16.8). Off (the
// default), public statements are stored; on, PutResourcePolicy and
// AddPermission refuse them with PublicPolicyException, and what counts as
// public follows §16.8.
func TestBlockPublicPolicy(t *testing.T) {
	statement := func(effect, principal, condition string) string {
		s := `{"Sid":"s","Effect":"` + effect + `","Principal":` + principal + `,"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"`
		if condition != "" {
			s += `,"Condition":` + condition
		}
		return s + "}"
	}
	tests := []struct {
		name              string
		effect, principal string
		condition         string
		public            bool
	}{
		{"star", "Allow", `"*"`, "", true},
		{"AWS star", "Allow", `{"AWS":"*"}`, "", true},
		{"AWS list with star", "Allow", `{"AWS":["111122223333","*"]}`, "", true},
		{"star with a service", "Allow", `{"AWS":"*","Service":"s3.amazonaws.com"}`, "", true},
		{"Deny star", "Deny", `"*"`, "", false},
		{"account", "Allow", `{"AWS":"111122223333"}`, "", false},
		{"service without condition", "Allow", `{"Service":"s3.amazonaws.com"}`, "", false},
		{"source account", "Allow", `"*"`, `{"StringEquals":{"AWS:SourceAccount":"111122223333"}}`, false},
		{"source account as a number", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":111122223333}}`, false},
		{"source account in lower case", "Allow", `"*"`, `{"StringEquals":{"aws:sourceaccount":"111122223333"}}`, false},
		{"source ARN", "Allow", `"*"`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}`, false},
		{"source ARN with a wildcard", "Allow", `"*"`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket-*"}}`, true},
		{"source ARN with a ?", "Allow", `"*"`, `{"StringLike":{"aws:SourceArn":"arn:aws:s3:::bucket-?"}}`, true},
		{"policy variable", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, true},
		{"source owner", "Allow", `"*"`, `{"StringEquals":{"aws:SourceOwner":"111122223333"}}`, false},
		{"organization", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`, false},
		{"organization path, fixed", "Allow", `"*"`, `{"ForAnyValue:StringEquals":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]}}`, false},
		{"organization path with a wildcard", "Allow", `"*"`, `{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/*"]}}`, true},
		{"principal account", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`, false},
		{"principal ARN", "Allow", `"*"`, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/r"}}`, false},
		{"VPC", "Allow", `"*"`, `{"StringEquals":{"aws:SourceVpc":"vpc-1a2b3c4d"}}`, false},
		{"VPC endpoint", "Allow", `"*"`, `{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}`, false},
		{"source IP", "Allow", `"*"`, `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, false},
		{"not the source IP", "Allow", `"*"`, `{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, true},
		{"negated operator", "Allow", `"*"`, `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, true},
		{"IfExists", "Allow", `"*"`, `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, true},
		{"ForAllValues", "Allow", `"*"`, `{"ForAllValues:StringEquals":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/"]}}`, true},
		{"other key", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalTag/team":"a"}}`, true},
		{"function URL NONE", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}`, true},
		{"function URL AWS_IAM", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}`, false},
		{"invoked via function URL only", "Allow", `"*"`, `{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}`, true},
	}
	off := newHarness(t, Config{})
	off.createFunction("my-function")
	on := newHarness(t, Config{BlockPublicPolicy: []string{testAccount}})
	on.createFunction("my-function")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := document(statement(tt.effect, tt.principal, tt.condition))
			mustSucceed(t, putResourcePolicy(fnARN, policy, "")(off.ctx, off.client))
			before, revBefore, _ := on.emu.Policy("my-function", "")
			err := putResourcePolicy(fnARN, policy, "")(on.ctx, on.client)
			if !tt.public {
				mustSucceed(t, err)
				return
			}
			assertAPIError(t, err, codePublicPolicy, msgPublicPolicy)
			var e *types.PublicPolicyException
			if !errors.As(err, &e) || aws.ToString(e.Message) != msgPublicPolicy {
				t.Errorf("not decoded as *types.PublicPolicyException with Message: %T %v", err, err)
			}
			if after, revAfter, _ := on.emu.Policy("my-function", ""); after != before || revAfter != revBefore {
				t.Error("a refused Put changed the policy")
			}
		})
	}

	// One public statement among others is enough.
	rich := richStatements(fnARN)
	mustSucceed(t, putResourcePolicy(fnARN, spaced(rich...), "")(on.ctx, on.client)) // not public
	assertAPIError(t, putResourcePolicy(fnARN, spaced(append(rich, statement("Allow", `"*"`, ""))...), "")(on.ctx, on.client),
		codePublicPolicy, msgPublicPolicy)
}

// TestBlockPublicPolicyAddPermission: AddPermission is judged on the
// statement it would store; the switch is per account and can be turned at
// run time; RemovePermission is never refused.
func TestBlockPublicPolicyAddPermission(t *testing.T) {
	h := twoAccounts(t, Config{BlockPublicPolicy: []string{accountA}})
	a, b := h.lambdaAs(staticCreds(keyA, "x", "")), h.lambdaAs(staticCreds(keyB, "x", ""))
	createFunctionWith(t, h.ctx, a, "my-function")
	createFunctionWith(t, h.ctx, b, "my-function")
	tests := []struct {
		name   string
		edit   func(*lambda.AddPermissionInput)
		public bool
	}{
		{"star", func(in *lambda.AddPermissionInput) { in.Principal = aws.String("*") }, true},
		{"star with function URL NONE (2024 recording)", func(in *lambda.AddPermissionInput) {
			in.Principal, in.Action, in.FunctionUrlAuthType = aws.String("*"), aws.String("lambda:InvokeFunctionUrl"), types.FunctionUrlAuthTypeNone
		}, true},
		{"star with function URL AWS_IAM", func(in *lambda.AddPermissionInput) {
			in.Principal, in.Action, in.FunctionUrlAuthType = aws.String("*"), aws.String("lambda:InvokeFunctionUrl"), types.FunctionUrlAuthTypeAwsIam
		}, false},
		{"star with a source ARN", func(in *lambda.AddPermissionInput) {
			in.Principal, in.SourceArn = aws.String("*"), aws.String("arn:aws:s3:::bucket")
		}, false},
		{"star with a wildcard source ARN", func(in *lambda.AddPermissionInput) {
			in.Principal, in.SourceArn = aws.String("*"), aws.String("arn:aws:execute-api:us-east-2:111111111111:api/*")
		}, true},
		{"star with a source account", func(in *lambda.AddPermissionInput) {
			in.Principal, in.SourceAccount = aws.String("*"), aws.String(accountA)
		}, false},
		{"star with an organization", func(in *lambda.AddPermissionInput) {
			in.Principal, in.PrincipalOrgID = aws.String("*"), aws.String("o-a1b2c3d4e5")
		}, false},
		{"star with an event source token", func(in *lambda.AddPermissionInput) {
			in.Principal, in.EventSourceToken = aws.String("*"), aws.String("amzn1.ask.skill.x")
		}, true},
		{"account", func(in *lambda.AddPermissionInput) { in.Principal = aws.String(accountB) }, false},
		{"service", func(*lambda.AddPermissionInput) {}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid := fmt.Sprintf("s%d", i)
			in := s3Permission("my-function", "", sid)
			tt.edit(in)
			_, err := a.AddPermission(h.ctx, in)
			if tt.public {
				assertAPIError(t, err, codePublicPolicy, msgPublicPolicy)
			} else {
				mustSucceed(t, err)
			}
			// Account B has no switch: everything is stored.
			if _, err := b.AddPermission(h.ctx, in); err != nil {
				t.Errorf("account B: %v", err)
			}
		})
	}

	// The switch at run time; the default account starts off.
	h.createFunction("my-function")
	public := s3Permission("my-function", "", "public")
	public.Principal = aws.String("*")
	if _, err := h.client.AddPermission(h.ctx, public); err != nil {
		t.Fatalf("switch off: %v", err)
	}
	h.emu.SetBlockPublicPolicy(testAccount, true)
	public.StatementId = aws.String("public2")
	_, err := h.client.AddPermission(h.ctx, public)
	assertAPIError(t, err, codePublicPolicy, msgPublicPolicy)
	assertAPIError(t, putResourcePolicy(fnARN, document(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:*","Resource":"`+fnARN+`"}`), "")(h.ctx, h.client),
		codePublicPolicy, msgPublicPolicy)
	// Removing the public statement stored before is allowed.
	mustSucceed(t, h.remove("my-function", "", "public", ""))
	h.emu.SetBlockPublicPolicy(testAccount, false)
	if _, err := h.client.AddPermission(h.ctx, public); err != nil {
		t.Errorf("switch off again: %v", err)
	}

	// The refusal comes after the RevisionId and document checks and before
	// the size check.
	h.emu.SetBlockPublicPolicy(testAccount, true)
	_, rev := h.mustPolicy("my-function", "")
	publicDoc := func(extra string) string {
		return document(`{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"` + extra + `}`)
	}
	assertAPIError(t, putResourcePolicy(fnARN, publicDoc(""), "00000000-0000-0000-0000-000000000000")(h.ctx, h.client),
		codePreconditionFailed, msgResourcePolicyRevisionMismatch)
	assertAPIError(t, putResourcePolicy(fnARN, publicDoc(`,"Foo":1`), rev)(h.ctx, h.client),
		codeInvalidParameterValue, msgInvalidPolicy+`Statement[0]: unsupported element "Foo"; a statement has Sid, Effect, Principal, Action, Resource and Condition.`)
	assertAPIError(t, putResourcePolicy(fnARN, publicDoc(`,"Condition":{"StringEquals":{"k":"`+strings.Repeat("é", 10300)+`"}}`), rev)(h.ctx, h.client),
		codePublicPolicy, msgPublicPolicy)
	if _, got := h.mustPolicy("my-function", ""); got != rev {
		t.Error("refused calls changed the policy")
	}
}

func TestConfigValidateBlockPublicPolicy(t *testing.T) {
	if err := (Config{BlockPublicPolicy: []string{"12345"}}).Validate(); err == nil {
		t.Error("a short account was accepted")
	}
	if err := (Config{BlockPublicPolicy: []string{accountA, accountB}}).Validate(); err != nil {
		t.Error(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetBlockPublicPolicy accepted a bad account")
		}
	}()
	New(Config{}).SetBlockPublicPolicy("nope", true)
}

// TestResourcePolicyFaults: injected faults reach the new operations like
// the others; updateConflict only Put and Delete (§16.9).
func TestResourcePolicyFaults(t *testing.T) {
	policy := document(accountStatement("a", faultFnARN))
	calls := map[string]func(h *harness) error{
		OpPutResourcePolicy:    wrap(putResourcePolicy(faultFnARN, policy, "")),
		OpGetResourcePolicy:    wrap(getResourcePolicy(faultFnARN)),
		OpDeleteResourcePolicy: wrap(deleteResourcePolicy(faultFnARN, "")),
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.createFunction("fn")
			_, rev := h.put(faultFnARN, policy, "")

			h.setFaults(only(op, OperationFaults{ServiceError: 1}))
			err := call(h)
			assertAPIError(t, err, codeService, msgInternalError)
			var e *types.ServiceException
			if !errors.As(err, &e) || aws.ToString(e.Message) != msgInternalError {
				t.Errorf("not a *types.ServiceException with Message: %v", err)
			}

			f := only(op, OperationFaults{Throttle: 1})
			f.RetryAfterSeconds = 3
			h.setFaults(f)
			err = call(h)
			assertAPIError(t, err, codeTooManyRequests, "Rate exceeded")
			if got := retryAfter(t, err); got != 3 {
				t.Errorf("Retry-After %d", got)
			}

			h.setFaults(only(AllOperations, OperationFaults{UpdateConflict: 1}))
			err = call(h)
			if op == OpGetResourcePolicy {
				mustSucceed(t, err) // Get lists no ResourceConflictException
			} else {
				assertAPIError(t, err, codeResourceConflict, msgUpdateInProgress+faultFnARN)
				// The unqualified ARN, also for a qualified request.
				h.setFaults(Faults{})
				h.createAlias("fn", "live", "$LATEST")
				h.setFaults(only(AllOperations, OperationFaults{UpdateConflict: 1}))
				if op == OpPutResourcePolicy {
					err = putResourcePolicy(faultFnARN+":live", document(accountStatement("a", faultFnARN+":live")), "")(h.ctx, h.client)
				} else {
					err = deleteResourcePolicy(faultFnARN+":live", "")(h.ctx, h.client)
				}
				assertAPIError(t, err, codeResourceConflict, msgUpdateInProgress+faultFnARN)
				// A request that fails validation or names no function gets
				// its ordinary error, and no fault is counted.
				missing := strings.TrimSuffix(faultFnARN, "fn") + "nope"
				if op == OpPutResourcePolicy {
					err = putResourcePolicy(missing, policy, "")(h.ctx, h.client)
				} else {
					err = deleteResourcePolicy(missing, "")(h.ctx, h.client)
				}
				assertAPIError(t, err, codeResourceNotFound, "Function not found: "+missing)
				if op == OpPutResourcePolicy {
					err = putResourcePolicy("fn", policy, "")(h.ctx, h.client)
				} else {
					err = deleteResourcePolicy("fn", "")(h.ctx, h.client)
				}
				assertAPIError(t, err, codeValidation, validationMsg("fn", "resourceArn", "Member must satisfy regular expression pattern: "+policyResourceArnPattern.text))
			}

			// Nothing was applied.
			h.setFaults(Faults{})
			if got, gotRev := h.mustResourcePolicy(faultFnARN); got != policy || gotRev != rev {
				t.Errorf("a faulted request was applied: %s %s", got, gotRev)
			}
			want := map[string]int{FaultServiceError: 1, FaultThrottle: 1}
			if op != OpGetResourcePolicy {
				want[FaultUpdateConflict] = 2
			}
			if got := h.emu.Stats().Faults[op]; !reflect.DeepEqual(got, want) {
				t.Errorf("Stats.Faults[%s] = %v, want %v", op, got, want)
			}
		})
	}

	// dropAfterApply applies a Put: the client's retry meets its own write.
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.setFaults(only(OpPutResourcePolicy, OperationFaults{DropAfterApply: 1}))
	if err := putResourcePolicy(faultFnARN, policy, "")(h.ctx, h.client); !isTransportError(err) {
		t.Fatalf("want a transport error, got %v", err)
	}
	h.setFaults(Faults{})
	if got, _ := h.mustResourcePolicy(faultFnARN); got != policy {
		t.Errorf("policy %s", got)
	}

	// updateConflict cannot be configured for GetResourcePolicy alone.
	if err := h.emu.SetFaults(only(OpGetResourcePolicy, OperationFaults{UpdateConflict: 0.5})); err == nil {
		t.Error("updateConflict on GetResourcePolicy accepted")
	}
	for _, op := range []string{OpPutResourcePolicy, OpDeleteResourcePolicy} {
		if err := h.emu.SetFaults(only(op, OperationFaults{UpdateConflict: 0.5})); err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
	// The wire form of an injected 409 on Put.
	h.setFaults(only(OpPutResourcePolicy, OperationFaults{UpdateConflict: 1}))
	resp := rawRequest(t, http.MethodPut, h.url+"/2026-07-09/resource-policy/"+faultFnARN, `{"Policy":"{}"}`)
	if resp.status != 409 || resp.header.Get("X-Amzn-ErrorType") != codeResourceConflict ||
		resp.body != `{"Type":"User","message":"`+msgUpdateInProgress+faultFnARN+`"}` {
		t.Errorf("wire: %d %v %s", resp.status, resp.header, resp.body)
	}
}
