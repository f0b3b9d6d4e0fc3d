package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// goldenInput is a case's AddPermission request, with the SDK's member names.
type goldenInput struct {
	FunctionName          string
	StatementId           string
	Action                string
	Principal             string
	SourceArn             *string
	SourceAccount         *string
	EventSourceToken      *string
	PrincipalOrgID        *string
	FunctionUrlAuthType   *string
	InvokedViaFunctionUrl *bool
	Qualifier             *string
}

// goldenCase is one entry of testdata/golden_cases.json (real AWS outputs).
type goldenCase struct {
	ID           string          `json:"id"`
	Input        goldenInput     `json:"input"`
	FunctionARN  string          `json:"function_arn"`
	Statement    json.RawMessage `json:"statement"`
	StatementRaw string          `json:"statement_raw"`
	GetPolicy    *struct {
		Policy string `json:"Policy"`
	} `json:"get_policy"`
	SkipInDiff bool `json:"skip_in_diff"`
	HTTP       *struct {
		Status        int `json:"status"`
		ContentLength int `json:"content_length"`
	} `json:"http"`
}

func loadGoldenCases(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile("../../../testdata/golden_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	return cases
}

// target splits function_arn and works out the qualifier the input aims at
// (the Qualifier member, else a ":q" suffix on FunctionName).
func (c goldenCase) target(t *testing.T) (region, account, name, qualifier string) {
	t.Helper()
	parts := strings.Split(c.FunctionARN, ":")
	if len(parts) != 7 || parts[5] != "function" {
		t.Fatalf("unexpected function_arn %q", c.FunctionARN)
	}
	region, account, name = parts[3], parts[4], parts[6]
	if c.Input.Qualifier != nil {
		return region, account, name, *c.Input.Qualifier
	}
	if i := strings.Index(c.Input.FunctionName, name+":"); i >= 0 {
		qualifier = c.Input.FunctionName[i+len(name)+1:]
	}
	return region, account, name, qualifier
}

func (in goldenInput) sdkInput() *lambda.AddPermissionInput {
	out := &lambda.AddPermissionInput{
		FunctionName:          aws.String(in.FunctionName),
		StatementId:           aws.String(in.StatementId),
		Action:                aws.String(in.Action),
		Principal:             aws.String(in.Principal),
		SourceArn:             in.SourceArn,
		SourceAccount:         in.SourceAccount,
		EventSourceToken:      in.EventSourceToken,
		PrincipalOrgID:        in.PrincipalOrgID,
		InvokedViaFunctionUrl: in.InvokedViaFunctionUrl,
		Qualifier:             in.Qualifier,
	}
	if in.FunctionUrlAuthType != nil {
		out.FunctionUrlAuthType = types.FunctionUrlAuthType(*in.FunctionUrlAuthType)
	}
	return out
}

// wireBody is the AddPermission JSON body; FunctionName and Qualifier
// travel in the path and query instead.
func (in goldenInput) wireBody(t *testing.T) string {
	t.Helper()
	if in.Qualifier != nil {
		t.Fatal("wireBody does not send a Qualifier")
	}
	body := map[string]any{"StatementId": in.StatementId, "Action": in.Action, "Principal": in.Principal}
	optional := map[string]*string{
		"SourceArn": in.SourceArn, "SourceAccount": in.SourceAccount, "EventSourceToken": in.EventSourceToken,
		"PrincipalOrgID": in.PrincipalOrgID, "FunctionUrlAuthType": in.FunctionUrlAuthType,
	}
	for key, value := range optional {
		if value != nil {
			body[key] = *value
		}
	}
	if in.InvokedViaFunctionUrl != nil {
		body["InvokedViaFunctionUrl"] = *in.InvokedViaFunctionUrl
	}
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// expected returns the statement AWS stores for the case. Cases marked
// skip_in_diff come from published docs whose output was edited by hand;
// exactly those edits are undone here: SourceArn becomes the input's
// SourceArn verbatim, and Resource gets ":" + qualifier when the input
// targets one (SPEC §3.3, §3.4).
func (c goldenCase) expected(t *testing.T, qualifier string) (raw string, statement map[string]any) {
	t.Helper()
	raw = c.StatementRaw
	if err := json.Unmarshal(c.Statement, &statement); err != nil {
		t.Fatal(err)
	}
	if !c.SkipInDiff {
		return raw, statement
	}
	corrected := false
	if c.Input.SourceArn != nil {
		arnLike := statement["Condition"].(map[string]any)["ArnLike"].(map[string]any)
		if published := arnLike["AWS:SourceArn"].(string); published != *c.Input.SourceArn {
			raw = strings.Replace(raw, `"AWS:SourceArn":`+encodeJSONString(published), `"AWS:SourceArn":`+encodeJSONString(*c.Input.SourceArn), 1)
			arnLike["AWS:SourceArn"] = *c.Input.SourceArn
			corrected = true
		}
	}
	if qualifier != "" && statement["Resource"] == c.FunctionARN {
		raw = strings.Replace(raw, `"Resource":`+encodeJSONString(c.FunctionARN), `"Resource":`+encodeJSONString(c.FunctionARN+":"+qualifier), 1)
		statement["Resource"] = c.FunctionARN + ":" + qualifier
		corrected = true
	}
	if !corrected {
		t.Fatalf("case is marked skip_in_diff but needs no correction; update the test or the data")
	}
	return raw, statement
}

// TestGoldenCases replays every recorded AddPermission through the SDK.
func TestGoldenCases(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			region, account, name, qualifier := c.target(t)
			h := newHarness(t, Config{Region: region, AccountID: account})
			h.createFunction(name)
			switch {
			case qualifier == "":
			case isVersionNumber(qualifier):
				want, _ := strconv.Atoi(qualifier)
				for i := 0; i < want; i++ {
					h.publishVersion(name)
				}
			default:
				h.createAlias(name, qualifier, h.publishVersion(name))
			}

			out, err := h.client.AddPermission(h.ctx, c.Input.sdkInput())
			if err != nil {
				t.Fatalf("AddPermission: %v", err)
			}
			got := aws.ToString(out.Statement)
			wantRaw, wantStatement := c.expected(t, qualifier)
			if wantRaw != "" && got != wantRaw {
				t.Errorf("Statement bytes differ\n got: %s\nwant: %s", got, wantRaw)
			}
			var gotStatement map[string]any
			if err := json.Unmarshal([]byte(got), &gotStatement); err != nil {
				t.Fatalf("Statement is not JSON: %v", err)
			}
			if !reflect.DeepEqual(gotStatement, wantStatement) {
				t.Errorf("Statement differs semantically\n got: %v\nwant: %v", gotStatement, wantStatement)
			}

			policy, _ := h.mustPolicy(name, qualifier)
			if want := `{"Version":"2012-10-17","Id":"default","Statement":[` + got + `]}`; policy != want {
				t.Errorf("GetPolicy does not hold the exact statement\n got: %s\nwant: %s", policy, want)
			}
			if c.GetPolicy != nil && policy != c.GetPolicy.Policy {
				t.Errorf("Policy bytes differ\n got: %s\nwant: %s", policy, c.GetPolicy.Policy)
			}
		})
	}
}

// TestGoldenWire checks the recorded HTTP status and Content-Length, which
// pin down the escaping of the Statement string inside the response body.
func TestGoldenWire(t *testing.T) {
	checked := 0
	for _, c := range loadGoldenCases(t) {
		if c.HTTP == nil {
			continue
		}
		checked++
		t.Run(c.ID, func(t *testing.T) {
			region, account, name, _ := c.target(t)
			h := newHarness(t, Config{Region: region, AccountID: account})
			h.createFunction(name)
			path := "/2015-03-31/functions/" + url.PathEscape(c.Input.FunctionName) + "/policy"
			resp, err := http.Post(h.url+path, "application/json", strings.NewReader(c.Input.wireBody(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.HTTP.Status || resp.ContentLength != int64(c.HTTP.ContentLength) {
				t.Errorf("got status %d length %d, want %d and %d", resp.StatusCode, resp.ContentLength, c.HTTP.Status, c.HTTP.ContentLength)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no golden case records HTTP details")
	}
}
