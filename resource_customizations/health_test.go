package resourcecustomizations

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// healthTestFile is Argo CD's health_test.yaml: the health each input object
// must get.
type healthTestFile struct {
	Tests []struct {
		HealthStatus healthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

// healthStatus is what a health script returns, as Argo CD reads it.
type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// argoHealthStatuses are the statuses Argo CD accepts from a script; it
// turns any other into Unknown.
var argoHealthStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true,
	"Suspended": true, "Missing": true, "Unknown": true,
}

// kstatusToArgo is the health Argo CD must show for each kstatus status,
// so that Argo CD and kstatus-based tools (Flux, kpt, cli-utils) agree.
var kstatusToArgo = map[status.Status]string{
	status.CurrentStatus:     "Healthy",
	status.InProgressStatus:  "Progressing",
	status.TerminatingStatus: "Progressing",
	status.FailedStatus:      "Degraded",
}

// customizations returns every GROUP/KIND directory that has a health.lua.
func customizations(t *testing.T) []string {
	t.Helper()
	scripts, err := filepath.Glob(filepath.Join("*", "*", "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatal("no GROUP/KIND/health.lua found")
	}
	dirs := make([]string, 0, len(scripts))
	for _, script := range scripts {
		dirs = append(dirs, filepath.Dir(script))
	}
	return dirs
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readHealthTests(t *testing.T, dir string) healthTestFile {
	t.Helper()
	var tests healthTestFile
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(dir, "health_test.yaml")), &tests); err != nil {
		t.Fatalf("%s/health_test.yaml: %v", dir, err)
	}
	if len(tests.Tests) == 0 {
		t.Fatalf("%s/health_test.yaml has no tests", dir)
	}
	return tests
}

// fixtures returns the objects under dir/testdata, relative to dir.
func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no objects in %s/testdata", dir)
	}
	for i, path := range paths {
		if paths[i], err = filepath.Rel(dir, path); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(paths)
	return paths
}

// loadObject reads an object the way Argo CD's own health tests do: YAML to
// a plain map, numbers as float64.
func loadObject(t *testing.T, path string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal(readFile(t, path), &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if obj == nil {
		t.Fatalf("%s: empty", path)
	}
	return obj
}

// loadUnstructured reads an object the way a client does, integers as int64,
// which kstatus needs.
func loadUnstructured(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON(readFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return u
}

// toLua converts a decoded object to Lua values as Argo CD does: maps and
// lists become tables, numbers become Lua numbers.
func toLua(L *lua.LState, value any) (lua.LValue, error) {
	switch v := value.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(v), nil
	case string:
		return lua.LString(v), nil
	case float64:
		return lua.LNumber(v), nil
	case int64:
		return lua.LNumber(v), nil
	case int:
		return lua.LNumber(v), nil
	case []any:
		list := L.CreateTable(len(v), 0)
		for _, item := range v {
			lv, err := toLua(L, item)
			if err != nil {
				return nil, err
			}
			list.Append(lv)
		}
		return list, nil
	case map[string]any:
		table := L.CreateTable(0, len(v))
		for key, item := range v {
			lv, err := toLua(L, item)
			if err != nil {
				return nil, err
			}
			table.RawSetH(lua.LString(key), lv)
		}
		return table, nil
	}
	return nil, fmt.Errorf("no Lua value for %T", value)
}

// runHealthLua runs a health script as Argo CD runs one set in argocd-cm:
// only the package, base and table libraries open (Argo CD adds a reduced
// os library, which these scripts do not use), a one-second limit, the
// object as the global obj, and the returned table read as a health status.
func runHealthLua(t *testing.T, script string, obj map[string]any) healthStatus {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			t.Fatalf("opening %s: %v", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)

	value, err := toLua(L, obj)
	if err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("obj", value)
	if err := L.DoString(script); err != nil {
		t.Fatalf("health.lua: %v", err)
	}
	returned, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health.lua returned %s, want a table", L.Get(-1).Type())
	}
	var hs healthStatus
	for field, dst := range map[string]*string{"status": &hs.Status, "message": &hs.Message} {
		switch v := L.GetField(returned, field).(type) {
		case lua.LString:
			*dst = string(v)
		case *lua.LNilType:
			if field == "status" {
				t.Fatal("health.lua returned no status")
			}
		default:
			t.Fatalf("health.lua returned %s %s, want a string", field, v.Type())
		}
	}
	if !argoHealthStatuses[hs.Status] {
		t.Fatalf("health.lua returned status %q, which Argo CD shows as Unknown", hs.Status)
	}
	return hs
}

// TestHealthLua runs every case of every health_test.yaml, as Argo CD's own
// test suite does for its built-in customizations.
func TestHealthLua(t *testing.T) {
	for _, dir := range customizations(t) {
		t.Run(dir, func(t *testing.T) {
			script := string(readFile(t, filepath.Join(dir, "health.lua")))
			tests := readHealthTests(t, dir)
			covered := map[string]bool{}
			for _, tc := range tests.Tests {
				covered[filepath.Clean(tc.InputPath)] = true
				t.Run(tc.InputPath, func(t *testing.T) {
					got := runHealthLua(t, script, loadObject(t, filepath.Join(dir, tc.InputPath)))
					if got != tc.HealthStatus {
						t.Errorf("health = %+v\nwant     %+v", got, tc.HealthStatus)
					}
				})
			}
			for _, fixture := range fixtures(t, dir) {
				if !covered[fixture] {
					t.Errorf("%s is in no test of health_test.yaml", fixture)
				}
			}
		})
	}
}

// TestHealthLuaAgreesWithKstatus checks that, for every object under
// testdata, Argo CD's health (from health.lua) and kstatus's status (what
// Flux's wait and other kstatus-based tools use) say the same thing.
func TestHealthLuaAgreesWithKstatus(t *testing.T) {
	for _, dir := range customizations(t) {
		script := string(readFile(t, filepath.Join(dir, "health.lua")))
		for _, fixture := range fixtures(t, dir) {
			t.Run(filepath.Join(dir, fixture), func(t *testing.T) {
				path := filepath.Join(dir, fixture)
				u := loadUnstructured(t, path)
				result, err := status.Compute(u)
				if err != nil {
					t.Fatalf("kstatus: %v", err)
				}
				got := runHealthLua(t, script, loadObject(t, path))

				if noStatusYet(t, u) {
					// kstatus's one blind spot: an object its controller has
					// not written a status to yet looks like an object that
					// never gets one, and kstatus calls those Current. The
					// controller always writes status.observedGeneration, so
					// health.lua knows better and waits for it.
					if result.Status != status.CurrentStatus || got.Status != "Progressing" {
						t.Errorf("no status yet: kstatus %s, health.lua %s; want kstatus Current (its fallback) and health.lua Progressing",
							result.Status, got.Status)
					}
					return
				}

				want, ok := kstatusToArgo[result.Status]
				if !ok {
					t.Fatalf("kstatus says %s (%s), which no fixture should get", result.Status, result.Message)
				}
				if got.Status != want {
					t.Errorf("health.lua says %s (%s), kstatus says %s (%s); want %s",
						got.Status, got.Message, result.Status, result.Message, want)
				}
				if result.Status == status.FailedStatus && got.Message != result.Message {
					t.Errorf("Degraded message %q, want the Stalled message %q", got.Message, result.Message)
				}
			})
		}
	}
}

// noStatusYet says whether the object has neither status.observedGeneration
// nor conditions: the controller has not reconciled it yet.
func noStatusYet(t *testing.T, u *unstructured.Unstructured) bool {
	t.Helper()
	_, hasGeneration, err := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if err != nil {
		t.Fatal(err)
	}
	conditions, _, err := unstructured.NestedSlice(u.Object, "status", "conditions")
	if err != nil {
		t.Fatal(err)
	}
	return !hasGeneration && len(conditions) == 0
}

// Every kind of the group reports its state with the same conditions, so the
// one script serves all of them; Argo CD's layout wants a copy per kind, and
// the copies must not drift.
func TestHealthScriptsAreOneScript(t *testing.T) {
	var first []byte
	for _, dir := range customizations(t) {
		script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = script
		} else if string(script) != string(first) {
			t.Errorf("%s/health.lua differs from the others", dir)
		}
	}
}
