// Package golden reads testdata/golden_cases.json: AddPermission requests and
// the statements AWS stored for them, recorded from real AWS or published by
// AWS (docs/lambda-api/SPEC.md). The tests of the policy model, the emulator,
// the API and the controller all read them through here.
package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Case is one recorded request and what AWS did with it.
type Case struct {
	ID           string          `json:"id"`
	Input        Input           `json:"input"`
	FunctionARN  string          `json:"function_arn"`
	Statement    json.RawMessage `json:"statement"`     // as stored; the key order is AWS's
	StatementRaw string          `json:"statement_raw"` // the exact text, where it is known
	GetPolicy    *struct {
		Policy string `json:"Policy"`
	} `json:"get_policy"`
	// SkipInDiff marks a published output its authors edited by hand.
	SkipInDiff bool `json:"skip_in_diff"`
	HTTP       *struct {
		Status        int `json:"status"`
		ContentLength int `json:"content_length"`
	} `json:"http"`
}

// Input is the AddPermission request, with the SDK's member names; an empty
// string is a member the request did not send.
type Input struct {
	FunctionName          string
	Qualifier             string
	StatementId           string //nolint:revive // the SDK's name
	Action                string
	Principal             string
	SourceArn             string
	SourceAccount         string
	PrincipalOrgID        string
	EventSourceToken      string
	FunctionUrlAuthType   string
	InvokedViaFunctionUrl bool
}

// Load reads every case.
func Load() ([]Case, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "golden_cases.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cases []Case
	if err := json.Unmarshal(data, &cases); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cases) < 16 {
		return nil, fmt.Errorf("%s holds %d cases, want at least 16", path, len(cases))
	}
	return cases, nil
}

// MustLoad is Load for tests and fuzz targets.
func MustLoad(t testing.TB) []Case {
	t.Helper()
	cases, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return cases
}
