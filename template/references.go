package template

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checkReferences refuses a template that names what it does not define,
// as CloudFormation does ("Unresolved resource dependencies [X] in the
// Resources block of the template", "unresolved condition dependency"):
// a Ref to no parameter, resource or pseudo parameter, a GetAtt of no
// resource, an Fn::If or Condition naming no condition. Resources the
// transform generates (a function's role, its alias) count as defined.
func (t *Template) checkReferences() error {
	defined := func(id string) bool {
		if _, ok := t.Resources[id]; ok {
			return true
		}
		_, ok := t.SAM[id]
		return ok || implicitAPI(id)
	}
	var bad error
	var walk func(v any, where string)
	walk = func(v any, where string) {
		if bad != nil {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "Ref":
					if name, ok := e.(string); ok && !strings.HasPrefix(name, "AWS::") && !defined(name) {
						if _, ok := t.Parameters[name]; !ok {
							bad = fmt.Errorf("%s: Ref %s names no parameter or resource of the template (CloudFormation refuses it)", where, name)
							return
						}
					}
				case "Fn::GetAtt":
					id := ""
					switch a := e.(type) {
					case []any:
						if len(a) > 0 {
							id, _ = a[0].(string)
						}
					case string:
						id, _, _ = strings.Cut(a, ".")
					}
					if id != "" && !defined(id) {
						bad = fmt.Errorf("%s: Fn::GetAtt %s names no resource of the template (CloudFormation refuses it)", where, id)
						return
					}
				case "Fn::If":
					if a, ok := e.([]any); ok && len(a) > 0 {
						if name, ok := a[0].(string); ok {
							if _, ok := t.Conditions[name]; !ok {
								bad = fmt.Errorf("%s: Fn::If names no condition %s of the template (CloudFormation refuses it)", where, name)
								return
							}
						}
					}
				}
				walk(e, where)
			}
		case []any:
			for _, e := range x {
				walk(e, where)
			}
		}
	}
	for _, group := range []map[string]*Resource{t.SAM, t.Resources} {
		for _, id := range slices.Sorted(maps.Keys(group)) {
			r := group[id]
			if r.Condition != "" {
				if _, ok := t.Conditions[r.Condition]; !ok {
					return &InputError{Msg: fmt.Sprintf("resource %s: Condition %s names no condition of the template (CloudFormation refuses it)", id, r.Condition)}
				}
			}
			walk(r.Props, "resource "+id)
			if bad != nil {
				return &InputError{Msg: bad.Error()}
			}
		}
	}
	return nil
}
