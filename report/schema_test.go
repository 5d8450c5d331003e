package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// TestJSONGoldenMatchesSchema writes every fixture's -o json output to
// testdata/<fixture>.json (go test ./report -update rewrites them) and
// validates each against schema/verdict.schema.json. The JSON is checked
// by decoding and by the schema, not by its bytes alone: a golden file
// changing is a contract change to look at.
func TestJSONGoldenMatchesSchema(t *testing.T) {
	schema := loadSchema(t)
	fixtures, err := filepath.Glob("../fixtures/*.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range fixtures {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := JSON(&buf, verdictFor(t, name+".json")); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", name+".json"), buf.Bytes())
			if errs := schema.validate(decodeJSON(t, buf.Bytes())); len(errs) > 0 {
				t.Errorf("testdata/%s.json does not match the schema:\n  %s", name, strings.Join(errs, "\n  "))
			}
		})
	}
	t.Run("explain", func(t *testing.T) {
		// The message field exists only with explain.
		d, err := accessdenied.ParseDenial("User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live because no identity-based policy allows the lambda:InvokeFunction action")
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open("../fixtures/sam-qualified-invoke.json")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ev, err := evidence.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := diagnose.Diagnose(ev, diagnose.Options{Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Message: d})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := JSON(&buf, v); err != nil {
			t.Fatal(err)
		}
		if errs := schema.validate(decodeJSON(t, buf.Bytes())); len(errs) > 0 || v.Message == nil {
			t.Errorf("explain's JSON does not match the schema (message %v):\n  %s", v.Message, strings.Join(errs, "\n  "))
		}
	})
}

// TestSchemaValidatorRejects: the validator is worth trusting only if it
// says no.
func TestSchemaValidatorRejects(t *testing.T) {
	schema := loadSchema(t)
	var buf bytes.Buffer
	if err := JSON(&buf, verdictFor(t, "sam-qualified-invoke.json")); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"missing decision":     func(m map[string]any) { delete(m, "decision") },
		"decision not in enum": func(m map[string]any) { m["decision"] = "denied" },
		"unknown field":        func(m map[string]any) { m["verdict"] = "x" },
		"wrong type":           func(m map[string]any) { m["crossAccount"] = "no" },
		"bad layer in list":    func(m map[string]any) { m["blockedBy"] = []any{"iam"} },
		"nested": func(m map[string]any) {
			m["layers"].([]any)[0].(map[string]any)["result"] = "maybe"
		},
	} {
		m := decodeJSON(t, buf.Bytes()).(map[string]any)
		edit(m)
		if errs := schema.validate(m); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

func loadSchema(t *testing.T) *jsonSchema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("schema", "verdict.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s jsonSchema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema: %v", err)
	}
	s.root = &s
	return &s
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return v
}

// jsonSchema is the subset of JSON Schema (2020-12) the verdict's schema
// uses: type, enum, required, properties, additionalProperties, items and
// local $ref. A keyword outside it fails the test, rather than being
// silently ignored.
type jsonSchema struct {
	Schema               string                 `json:"$schema"`
	ID                   string                 `json:"$id"`
	Title                string                 `json:"title"`
	Description          string                 `json:"description"`
	Ref                  string                 `json:"$ref"`
	Defs                 map[string]*jsonSchema `json:"$defs"`
	Type                 typeList               `json:"type"`
	Enum                 []any                  `json:"enum"`
	Required             []string               `json:"required"`
	Properties           map[string]*jsonSchema `json:"properties"`
	AdditionalProperties *additional            `json:"additionalProperties"`
	Items                *jsonSchema            `json:"items"`
	root                 *jsonSchema
}

// UnmarshalJSON refuses keywords the validator does not implement.
func (s *jsonSchema) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	known := []string{"$schema", "$id", "title", "description", "$ref", "$defs", "type", "enum", "required", "properties", "additionalProperties", "items"}
	for k := range raw {
		if !slices.Contains(known, k) {
			return fmt.Errorf("keyword %q is not implemented by the test's validator", k)
		}
	}
	type plain jsonSchema
	return json.Unmarshal(b, (*plain)(s))
}

type typeList []string

func (t *typeList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*t = typeList{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(t))
}

// additional is additionalProperties: false, or a schema.
type additional struct {
	allowed bool
	schema  *jsonSchema
}

func (a *additional) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &a.allowed) == nil {
		return nil
	}
	a.allowed = true
	return json.Unmarshal(b, &a.schema)
}

func (s *jsonSchema) validate(v any) []string {
	var errs []string
	s.check(s, "$", v, &errs)
	return errs
}

func (s *jsonSchema) check(root *jsonSchema, at string, v any, errs *[]string) {
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/$defs/")
		def := root.Defs[name]
		if !ok || def == nil {
			*errs = append(*errs, fmt.Sprintf("%s: unresolved $ref %s", at, s.Ref))
			return
		}
		def.check(root, at, v, errs)
		return
	}
	if len(s.Type) > 0 && !slices.ContainsFunc(s.Type, func(t string) bool { return isType(t, v) }) {
		*errs = append(*errs, fmt.Sprintf("%s: %s is not of type %v", at, jsonText(v), []string(s.Type)))
		return
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) && isType(typeOf(e), v) }) {
		*errs = append(*errs, fmt.Sprintf("%s: %s is not one of %v", at, jsonText(v), s.Enum))
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range s.Required {
			if _, ok := x[k]; !ok {
				*errs = append(*errs, fmt.Sprintf("%s: required %q is missing", at, k))
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch p, ok := s.Properties[k]; {
			case ok:
				p.check(root, at+"."+k, x[k], errs)
			case s.AdditionalProperties == nil:
			case s.AdditionalProperties.schema != nil:
				s.AdditionalProperties.schema.check(root, at+"."+k, x[k], errs)
			case !s.AdditionalProperties.allowed:
				*errs = append(*errs, fmt.Sprintf("%s: %q is not allowed", at, k))
			}
		}
	case []any:
		if s.Items != nil {
			for i, e := range x {
				s.Items.check(root, fmt.Sprintf("%s[%d]", at, i), e, errs)
			}
		}
	}
}

func typeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case float64, json.Number:
		return "number"
	}
	return "object"
}

func isType(t string, v any) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
