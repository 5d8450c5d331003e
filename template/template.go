// Package template reads a SAM or CloudFormation template and builds the
// evidence a diagnosis needs for calls between its functions, before
// deploy: it expands the part of the SAM transform that decides
// permissions (aws-sam-translator's output for roles, policies, Lambda
// permissions, aliases and versions), resolves intrinsic functions or
// marks them unresolved, and writes one evidence.Evidence per caller and
// target.
package template

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Template is a template with the SAM transform applied to the resources
// that decide permissions.
type Template struct {
	doc        *document
	Parameters map[string]map[string]any
	Mappings   map[string]any
	Conditions map[string]any
	// Resources are the CloudFormation resources after the transform, by
	// logical ID.
	Resources map[string]*Resource
	// SAM are the template's own AWS::Serverless::* resources.
	SAM map[string]*Resource
	// Notes say what the transform did that changes permissions silently
	// (Role given, so Policies dropped) or what it does not model.
	Notes []Note
}

// Resource is one resource of the template or of the transform's output.
type Resource struct {
	ID        string
	Type      string
	Props     map[string]any
	Condition string
	// Connectors is the resource-level Connectors attribute (SAM).
	Connectors map[string]any
	// Pos is where the resource's logical ID is in the template; From is
	// the SAM resource a generated resource comes from.
	Pos  Pos
	From string
}

// NoteKind names a note for scripts.
type NoteKind string

const (
	// NotePoliciesDropped: Role is given, so SAM ignores Policies and
	// PermissionsBoundary.
	NotePoliciesDropped NoteKind = "policiesDropped"
	// NoteUnmodelled: a feature this tool does not model.
	NoteUnmodelled NoteKind = "unmodelled"
)

// Note is something the transform did, or that the tool cannot model.
type Note struct {
	Kind     NoteKind `json:"kind"`
	Resource string   `json:"resource"`
	Line     int      `json:"line,omitempty"`
	Message  string   `json:"message"`
}

// Parse reads a YAML or JSON template and applies the SAM transform's
// permission-relevant part when the template declares it.
func Parse(src []byte) (*Template, error) {
	doc, err := parse(src)
	if err != nil {
		return nil, err
	}
	t := &Template{doc: doc, Resources: map[string]*Resource{}, SAM: map[string]*Resource{}, Parameters: map[string]map[string]any{}}
	root := doc.root
	if m, ok := root["Parameters"].(map[string]any); ok {
		for k, v := range m {
			if pm, ok := v.(map[string]any); ok {
				t.Parameters[k] = pm
			}
		}
	}
	t.Mappings, _ = root["Mappings"].(map[string]any)
	t.Conditions, _ = root["Conditions"].(map[string]any)
	res, ok := root["Resources"].(map[string]any)
	if !ok || len(res) == 0 {
		p := doc.pos["/Resources"]
		return nil, &ParseError{Line: p.Line, Column: p.Column, Msg: "the template has no Resources (a CloudFormation template needs at least one)"}
	}
	sam := isSAM(root["Transform"])
	for _, tr := range transforms(root["Transform"]) {
		if tr != "AWS::Serverless-2016-10-31" {
			t.note(NoteUnmodelled, "", "Transform", "the template's Transform %s is not applied: what it adds or changes is not part of the diagnosis", tr)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(res)) {
		if strings.HasPrefix(id, "Fn::ForEach::") {
			t.note(NoteUnmodelled, "", "Resources/"+id, "%s (AWS::LanguageExtensions) is not expanded: the resources it makes are not part of the diagnosis", id)
			continue
		}
		m, ok := res[id].(map[string]any)
		p := doc.pos["/Resources/"+id]
		if !ok {
			return nil, &ParseError{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf("resource %s is not a mapping", id)}
		}
		typ, _ := m["Type"].(string)
		if typ == "" {
			return nil, &ParseError{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf("resource %s has no Type", id)}
		}
		r := &Resource{ID: id, Type: typ, Pos: p}
		if props, ok := m["Properties"].(map[string]any); ok {
			r.Props = props
		} else if m["Properties"] != nil {
			pp := doc.pos["/Resources/"+id+"/Properties"]
			return nil, &ParseError{Line: pp.Line, Column: pp.Column, Msg: fmt.Sprintf("Properties of %s is not a mapping", id)}
		} else {
			r.Props = map[string]any{}
		}
		r.Condition, _ = m["Condition"].(string)
		r.Connectors, _ = m["Connectors"].(map[string]any)
		if strings.HasPrefix(typ, "AWS::Serverless::") {
			if !sam {
				return nil, &ParseError{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf("resource %s is %s but the template does not declare Transform: AWS::Serverless-2016-10-31", id, typ)}
			}
			t.SAM[id] = r
			continue
		}
		t.Resources[id] = r
	}
	if sam {
		if err := t.expand(); err != nil {
			return nil, err
		}
	}
	if err := t.checkReferences(); err != nil {
		return nil, err
	}
	return t, nil
}

func transforms(tr any) []string {
	switch v := tr.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, transforms(x)...)
		}
		return out
	case map[string]any:
		return []string{fmt.Sprint(v["Name"])}
	}
	return nil
}

func isSAM(tr any) bool {
	switch v := tr.(type) {
	case string:
		return v == "AWS::Serverless-2016-10-31"
	case []any:
		return slices.ContainsFunc(v, isSAM)
	}
	return false
}

// Line is the line of a path in the template ("Resources/Fn/Properties"),
// or 0.
func (t *Template) Line(path string) int { return t.doc.pos["/"+path].Line }

func (t *Template) add(r *Resource) {
	if r.Props == nil {
		r.Props = map[string]any{}
	}
	t.Resources[r.ID] = r
}

func (t *Template) note(kind NoteKind, res, path, format string, args ...any) {
	t.Notes = append(t.Notes, Note{Kind: kind, Resource: res, Line: t.Line(path), Message: fmt.Sprintf(format, args...)})
}
