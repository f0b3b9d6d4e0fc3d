package upgrade

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// What the previous release's and the current CRDs' schemas constrain, node
// by node, and how that changed. A stored object that was valid can become
// invalid only where a constraint was added or tightened at a node that
// existed before; the upgrade test needs, for each such change, an object the
// old CRD accepts and the new one refuses (a ruleCase), or a reason why no
// stored object can violate it (acknowledged).

// Classes of a change.
const (
	tighter = "tighter" // a stored object may now fail it
	looser  = "looser"  // anything valid before still is
	onRead  = "on read" // a default: applied to stored objects when they are read
)

// change is one constraint of one schema node that differs.
type change struct {
	Kind, Version string
	Path          string // .spec.conditions[*].key; . is the root
	Key           string // rule: <CEL>, maxLength, required: x, property: x …
	Old, New      string // the values; "" when absent
	Class         string
	NewNode       bool // the node did not exist before (a new field)
}

// ID names a change in ruleCase.Change and acknowledged.
func (c change) ID() string {
	return fmt.Sprintf("%s/%s %s %s", c.Kind, c.Version, c.Path, c.Key)
}

func (c change) String() string {
	switch {
	case c.Old == "" && c.New == present:
		return fmt.Sprintf("%s: added (%s)", c.ID(), c.Class)
	case c.Old == present && c.New == "":
		return fmt.Sprintf("%s: removed (%s)", c.ID(), c.Class)
	case c.Old == "":
		return fmt.Sprintf("%s: added %s (%s)", c.ID(), c.New, c.Class)
	case c.New == "":
		return fmt.Sprintf("%s: removed %s (%s)", c.ID(), c.Old, c.Class)
	default:
		return fmt.Sprintf("%s: %s -> %s (%s)", c.ID(), c.Old, c.New, c.Class)
	}
}

// constraints are a node's constraints by key. Keys naming a list member
// (rule:, required:, property:) hold a marker value "present".
type constraints map[string]string

const present = "present"

// schemaNodes walks a schema: every node's constraints by path.
func schemaNodes(s *apiextensionsv1.JSONSchemaProps) map[string]constraints {
	nodes := map[string]constraints{}
	var walk func(path string, s *apiextensionsv1.JSONSchemaProps)
	walk = func(path string, s *apiextensionsv1.JSONSchemaProps) {
		c := constraints{}
		nodes[path] = c
		set := func(key string, ok bool, value string) {
			if ok {
				c[key] = value
			}
		}
		set("type", s.Type != "", s.Type)
		set("format", s.Format != "", s.Format)
		set("pattern", s.Pattern != "", s.Pattern)
		set("maxLength", s.MaxLength != nil, int64String(s.MaxLength))
		set("minLength", s.MinLength != nil, int64String(s.MinLength))
		set("maxItems", s.MaxItems != nil, int64String(s.MaxItems))
		set("minItems", s.MinItems != nil, int64String(s.MinItems))
		set("maxProperties", s.MaxProperties != nil, int64String(s.MaxProperties))
		set("minProperties", s.MinProperties != nil, int64String(s.MinProperties))
		if s.Maximum != nil {
			c["maximum"] = bound(*s.Maximum, s.ExclusiveMaximum)
		}
		if s.Minimum != nil {
			c["minimum"] = bound(*s.Minimum, s.ExclusiveMinimum)
		}
		set("multipleOf", s.MultipleOf != nil, floatString(s.MultipleOf))
		set("uniqueItems", s.UniqueItems, "true")
		set("nullable", s.Nullable, "true")
		if len(s.Enum) > 0 {
			values := make([]string, len(s.Enum))
			for i, e := range s.Enum {
				values[i] = string(e.Raw)
			}
			sort.Strings(values)
			c["enum"] = strings.Join(values, ",")
		}
		if s.Default != nil {
			c["default"] = string(s.Default.Raw)
		}
		for _, r := range s.Required {
			c["required: "+r] = present
		}
		for _, v := range s.XValidations {
			key := "rule: " + v.Rule
			if v.OptionalOldSelf != nil && *v.OptionalOldSelf {
				key += " (optionalOldSelf)"
			}
			c[key] = present
		}
		set("x-kubernetes-preserve-unknown-fields", s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields, "true")
		set("x-kubernetes-int-or-string", s.XIntOrString, "true")
		set("x-kubernetes-embedded-resource", s.XEmbeddedResource, "true")
		set("x-kubernetes-list-type", s.XListType != nil, strPtr(s.XListType))
		set("x-kubernetes-list-map-keys", len(s.XListMapKeys) > 0, strings.Join(s.XListMapKeys, ","))
		set("x-kubernetes-map-type", s.XMapType != nil, strPtr(s.XMapType))
		for name, list := range map[string][]apiextensionsv1.JSONSchemaProps{"allOf": s.AllOf, "anyOf": s.AnyOf, "oneOf": s.OneOf} {
			if len(list) > 0 {
				data, _ := json.Marshal(list)
				c[name] = string(data)
			}
		}
		if s.Not != nil {
			data, _ := json.Marshal(s.Not)
			c["not"] = string(data)
		}
		for name := range s.Properties {
			c["property: "+name] = present
		}
		for name, p := range s.Properties {
			walk(path+childSep(path)+name, &p)
		}
		if s.Items != nil && s.Items.Schema != nil {
			walk(path+"[*]", s.Items.Schema)
		}
		if s.AdditionalProperties != nil {
			if s.AdditionalProperties.Schema != nil {
				c["additionalProperties"] = "schema"
				walk(path+"{*}", s.AdditionalProperties.Schema)
			} else {
				c["additionalProperties"] = strconv.FormatBool(s.AdditionalProperties.Allows)
			}
		}
	}
	walk(".", s)
	return nodes
}

func childSep(path string) string {
	if path == "." {
		return ""
	}
	return "."
}

func int64String(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func floatString(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func strPtr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func bound(v float64, exclusive bool) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if exclusive {
		s += " (exclusive)"
	}
	return s
}

// classify says whether a constraint that went from old to new ("" when
// absent) can refuse what was accepted.
func classify(key, old, new string) string {
	if key == "default" {
		return onRead
	}
	switch {
	case strings.HasPrefix(key, "rule: "), strings.HasPrefix(key, "required: "):
		if new == "" {
			return looser
		}
		return tighter
	case strings.HasPrefix(key, "property: "):
		// A property taken out of the schema is pruned from stored objects
		// when they are read: data lost, counted as tighter.
		if new == "" {
			return tighter
		}
		return looser
	}
	switch key {
	case "maxLength", "maxItems", "maxProperties":
		return numericClass(old, new, func(o, n float64) bool { return n >= o })
	case "minLength", "minItems", "minProperties":
		return numericClass(old, new, func(o, n float64) bool { return n <= o })
	case "maximum":
		return boundClass(old, new, func(o, n float64) bool { return n >= o })
	case "minimum":
		return boundClass(old, new, func(o, n float64) bool { return n <= o })
	case "enum":
		if new == "" {
			return looser
		}
		if old == "" {
			return tighter
		}
		have := strings.Split(new, ",")
		for _, v := range strings.Split(old, ",") {
			if !slices.Contains(have, v) {
				return tighter
			}
		}
		return looser
	case "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string":
		if new == "" {
			return tighter
		}
		return looser
	}
	// pattern, format, type, list types, allOf… : a change of any kind may
	// refuse what was accepted.
	if new == "" && (key == "pattern" || key == "format" || key == "uniqueItems" ||
		key == "allOf" || key == "anyOf" || key == "oneOf" || key == "not" || key == "multipleOf") {
		return looser
	}
	return tighter
}

func numericClass(old, new string, loosened func(o, n float64) bool) string {
	if new == "" {
		return looser
	}
	if old == "" {
		return tighter
	}
	o, err1 := strconv.ParseFloat(old, 64)
	n, err2 := strconv.ParseFloat(new, 64)
	if err1 != nil || err2 != nil || !loosened(o, n) {
		return tighter
	}
	return looser
}

func boundClass(old, new string, loosened func(o, n float64) bool) string {
	if new == "" {
		return looser
	}
	if old == "" {
		return tighter
	}
	oValue, oExclusive := strings.CutSuffix(old, " (exclusive)")
	nValue, nExclusive := strings.CutSuffix(new, " (exclusive)")
	if nExclusive && !oExclusive && oValue == nValue {
		return tighter
	}
	return numericClass(oValue, nValue, loosened)
}

// diffCRD lists how the schemas of the versions both CRDs have differ. A
// constraint of a node that did not exist before is listed only when it
// is a default (a new field cannot have been stored: it was pruned).
func diffCRD(old, new *apiextensionsv1.CustomResourceDefinition) []change {
	var changes []change
	for _, nv := range new.Spec.Versions {
		var ov *apiextensionsv1.CustomResourceDefinitionVersion
		for i := range old.Spec.Versions {
			if old.Spec.Versions[i].Name == nv.Name {
				ov = &old.Spec.Versions[i]
			}
		}
		if ov == nil || ov.Schema == nil || nv.Schema == nil {
			continue
		}
		oldNodes := schemaNodes(ov.Schema.OpenAPIV3Schema)
		newNodes := schemaNodes(nv.Schema.OpenAPIV3Schema)
		paths := make([]string, 0, len(newNodes))
		for p := range newNodes {
			paths = append(paths, p)
		}
		for p := range oldNodes {
			if _, ok := newNodes[p]; !ok {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		for _, path := range paths {
			o, existed := oldNodes[path]
			n, exists := newNodes[path]
			if !exists {
				continue // a removed node: its property: removal at the parent says it
			}
			keys := map[string]bool{}
			for k := range n {
				keys[k] = true
			}
			for k := range o {
				keys[k] = true
			}
			sorted := make([]string, 0, len(keys))
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			for _, key := range sorted {
				ov, nv2 := o[key], n[key]
				if ov == nv2 {
					continue
				}
				c := change{Kind: new.Spec.Names.Kind, Version: nv.Name, Path: path, Key: key,
					Old: ov, New: nv2, Class: classify(key, ov, nv2), NewNode: !existed}
				if c.NewNode && c.Class != onRead {
					continue
				}
				changes = append(changes, c)
			}
		}
	}
	return changes
}

// TestClassify pins how a constraint's change is read.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		key, old, new, want string
	}{
		{"rule: self.size() < 3", "", present, tighter},
		{"rule: self.size() < 3", present, "", looser},
		{"required: x", "", present, tighter},
		{"property: x", present, "", tighter},
		{"property: x", "", present, looser},
		{"maxLength", "64", "32", tighter},
		{"maxLength", "32", "64", looser},
		{"maxLength", "", "64", tighter},
		{"maxLength", "64", "", looser},
		{"minItems", "1", "2", tighter},
		{"minItems", "2", "1", looser},
		{"maximum", "10", "10 (exclusive)", tighter},
		{"maximum", "10", "11", looser},
		{"minimum", "0", "1", tighter},
		{"enum", `"A","B"`, `"A","B","C"`, looser},
		{"enum", `"A","B"`, `"A"`, tighter},
		{"enum", "", `"A"`, tighter},
		{"pattern", "^a$", "^b$", tighter},
		{"pattern", "^a$", "", looser},
		{"x-kubernetes-list-type", "atomic", "set", tighter},
		{"nullable", "true", "", tighter},
		{"default", "", `"x"`, onRead},
	} {
		if got := classify(tc.key, tc.old, tc.new); got != tc.want {
			t.Errorf("classify(%q, %q, %q) = %s, want %s", tc.key, tc.old, tc.new, got, tc.want)
		}
	}
}

// TestDiffCRD checks the walk on a small schema: a rule added at an old
// node, a maxLength loosened, a property taken out, a new field with its
// own rule (not listed) and default (listed).
func TestDiffCRD(t *testing.T) {
	str := func(max int64, rules ...string) apiextensionsv1.JSONSchemaProps {
		s := apiextensionsv1.JSONSchemaProps{Type: "string", MaxLength: &max}
		for _, r := range rules {
			s.XValidations = append(s.XValidations, apiextensionsv1.ValidationRule{Rule: r})
		}
		return s
	}
	crd := func(spec map[string]apiextensionsv1.JSONSchemaProps) *apiextensionsv1.CustomResourceDefinition {
		return &apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: "Thing"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Schema: &apiextensionsv1.CustomResourceValidation{
				OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
					"spec": {Type: "object", Properties: spec},
				}},
			}}},
		}}
	}
	withDefault := str(8, "self != 'x'")
	withDefault.Default = &apiextensionsv1.JSON{Raw: []byte(`"y"`)}
	old := crd(map[string]apiextensionsv1.JSONSchemaProps{"a": str(10), "b": str(10), "gone": str(1)})
	new := crd(map[string]apiextensionsv1.JSONSchemaProps{"a": str(10, "self.size() > 1"), "b": str(20), "c": withDefault})
	var got []string
	for _, c := range diffCRD(old, new) {
		got = append(got, c.String())
	}
	want := []string{
		"Thing/v1 .spec property: c: added (looser)",
		"Thing/v1 .spec property: gone: removed (tighter)",
		"Thing/v1 .spec.a rule: self.size() > 1: added (tighter)",
		"Thing/v1 .spec.b maxLength: 10 -> 20 (looser)",
		`Thing/v1 .spec.c default: added "y" (on read)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
