package doctest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// chartDir is the project's chart; a helm command names it by a path or
// reference ending in its name.
const chartDir = "charts/lambda-permission-operator"

// helmInstalls are the helm commands that take --set.
var helmInstalls = map[string]bool{"install": true, "upgrade": true, "template": true}

// chartValues are the chart's values.yaml and values.schema.json.
type chartValues struct {
	values map[string]any
	schema map[string]any
	err    error
}

func (s *shellChecker) chartValues() *chartValues {
	if s.chart != nil {
		return s.chart
	}
	s.chart = &chartValues{}
	data, err := fs.ReadFile(s.fsys, chartDir+"/values.yaml")
	if err == nil {
		err = yaml.Unmarshal(data, &s.chart.values)
	}
	if schema, serr := fs.ReadFile(s.fsys, chartDir+"/values.schema.json"); err == nil && serr == nil {
		err = json.Unmarshal(schema, &s.chart.schema)
	}
	s.chart.err = err
	return s.chart
}

// helmValues checks each key that --set or --set-string gives the
// project's chart.
func (s *shellChecker) helmValues(args []token) []problem {
	if !slices.ContainsFunc(args, isProjectChart) {
		return nil
	}
	var out []problem
	for i, a := range args {
		value, ok := setValue(args, i)
		if !ok {
			continue
		}
		chart := s.chartValues()
		if chart.err != nil {
			return []problem{{a.line, fmt.Sprintf("helm --set: reading the chart's values: %v", chart.err)}}
		}
		for _, key := range setKeys(value) {
			if msg := chart.missing(key); msg != "" {
				out = append(out, problem{a.line, fmt.Sprintf("helm --set %s: %s", value, msg)})
			}
		}
	}
	return out
}

// isProjectChart says whether an argument names the project's chart
// (charts/lambda-permission-operator, oci://…/lambda-permission-operator).
func isProjectChart(a token) bool {
	return strings.Contains(a.text, "/") && path.Base(strings.TrimSuffix(a.text, "/")) == path.Base(chartDir)
}

// setValue is the value of a --set or --set-string at args[i].
func setValue(args []token, i int) (string, bool) {
	for _, flag := range []string{"--set", "--set-string"} {
		if args[i].text == flag && i+1 < len(args) {
			return args[i+1].text, true
		}
		if v, ok := strings.CutPrefix(args[i].text, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

// setKeys splits a --set value (a.b=1,c[0].d=2,e={x,y}) into its keys'
// paths, as helm does: \ escapes, . separates, [n] indexes a list.
func setKeys(value string) [][]string {
	var keys [][]string
	var key []string
	var seg strings.Builder
	inKey, depth := true, 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c == '\\' && i+1 < len(value):
			i++
			if inKey {
				seg.WriteByte(value[i])
			}
		case !inKey:
			switch c {
			case '{':
				depth++
			case '}':
				depth--
			case ',':
				inKey = depth == 0
			}
		case c == '=':
			keys, key, inKey = append(keys, append(key, seg.String())), nil, false
			seg.Reset()
		case c == '.' || c == '[':
			key = append(key, seg.String())
			seg.Reset()
		default:
			seg.WriteByte(c)
		}
	}
	return keys
}

// missing says why values.yaml and the schema have no such key, or "".
// A key values.yaml lacks is refused only where the schema closes the
// object (additionalProperties: false), as helm would; below a list item,
// nothing is checked.
func (c *chartValues) missing(key []string) string {
	var node any = c.values
	schema := c.schema
	for i, k := range key {
		if strings.HasSuffix(k, "]") {
			return ""
		}
		m, isMap := node.(map[string]any)
		if node != nil && !isMap {
			return fmt.Sprintf("%s is %T in %s/values.yaml, not a map", strings.Join(key[:i], "."), node, chartDir)
		}
		child, inValues := m[k]
		childSchema, inSchema := properties(schema)[k].(map[string]any)
		if !inValues && !inSchema {
			if schema != nil && schema["additionalProperties"] == false {
				return fmt.Sprintf("%s/values.yaml has no %s, and values.schema.json allows no other key", chartDir, strings.Join(key[:i+1], "."))
			}
			return ""
		}
		node, schema = child, childSchema
	}
	return ""
}

func properties(schema map[string]any) map[string]any {
	p, _ := schema["properties"].(map[string]any)
	return p
}

func TestSetKeys(t *testing.T) {
	got := fmt.Sprint(setKeys(`a.b=1,c[0].d=x\,y,e={x,y},serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:a`))
	want := "[[a b] [c 0] d] [e] [serviceAccount annotations eks.amazonaws.com/role-arn]]"
	if got != want {
		t.Errorf("setKeys = %s, want %s", got, want)
	}
}
