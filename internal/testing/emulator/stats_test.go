package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
)

// TestStatsEndpoint: GET /_emulator/stats counts calls and errors per
// operation; DELETE resets; admin calls are not counted.
func TestStatsEndpoint(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	h.allow("fn", "", "a")
	h.allow("fn", "", "b")
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "a"))       // 409
	_, _ = h.client.AddPermission(h.ctx, s3Permission("fn", "", "bad.sid")) // 400
	_ = h.remove("fn", "", "zzz", "")                                       // 404
	h.mustPolicy("fn", "")

	want := Stats{
		Calls: map[string]int{"CreateFunction": 1, "AddPermission": 4, "RemovePermission": 1, "GetPolicy": 1},
		Errors: map[string]map[string]int{
			"AddPermission":    {codeResourceConflict: 1, codeValidation: 1},
			"RemovePermission": {codeResourceNotFound: 1},
		},
	}
	want.ByAccount = map[string]AccountStats{testAccount: {Calls: want.Calls, Errors: want.Errors}}
	for range 2 { // reading the stats does not count
		if got := fetchStats(t, h.url); !reflect.DeepEqual(got, want) {
			t.Fatalf("GET /_emulator/stats\n got: %+v\nwant: %+v", got, want)
		}
	}
	if got := h.emu.Stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stats()\n got: %+v\nwant: %+v", got, want)
	}

	req, _ := http.NewRequest(http.MethodDelete, h.url+"/_emulator/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE status %d", resp.StatusCode)
	}
	if body := fetchRaw(t, h.url+"/_emulator/stats"); body != `{"calls":{},"errors":{},"byAccount":{}}` {
		t.Errorf("after reset: %s", body)
	}

	h.mustPolicy("fn", "")
	h.emu.ResetStats()
	if got := h.emu.Stats(); len(got.Calls) != 0 || len(got.Errors) != 0 {
		t.Errorf("ResetStats left %+v", got)
	}
}

func fetchRaw(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

func fetchStats(t *testing.T, baseURL string) Stats {
	t.Helper()
	var s Stats
	if err := json.Unmarshal([]byte(fetchRaw(t, baseURL+"/_emulator/stats")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}
