package template

import (
	"encoding/json"
	"strings"
)

// unresolvedOperator is a condition operator no policy can hold: the
// engine reads a statement with it as undecidable, and the diagnosis
// then settles it both ways, so that an unresolved value decides only
// where it matters (an unresolved Allow when the rest denies, an
// unresolved Deny when the rest allows), naming it.
const unresolvedOperator = "UnresolvedBeforeDeploy"

// markStatement replaces each unresolved element of a statement by what
// matches anything and makes the statement undecidable, naming what is
// missing. A list with resolved and unresolved items splits in two: the
// resolved items still decide on their own.
func markStatement(s map[string]any, extra []Unresolved) []any {
	var out []any
	for _, key := range []string{"Action", "Resource", "NotAction", "NotResource"} {
		list, ok := s[key].([]any)
		if !ok {
			continue
		}
		var known, unknown []any
		for _, x := range list {
			if len(hasUnresolved(x)) > 0 {
				unknown = append(unknown, x)
			} else {
				known = append(known, x)
			}
		}
		if len(known) > 0 && len(unknown) > 0 && !strings.HasPrefix(key, "Not") {
			a, b := cloneMap(s), cloneMap(s)
			a[key], b[key] = known, unknown
			return append(markStatement(a, extra), markStatement(b, extra)...)
		}
	}
	missing := append(hasUnresolved(s), extra...)
	if len(missing) == 0 {
		return append(out, s)
	}
	s = cloneMap(s)
	for _, key := range []string{"Action", "Resource", "Principal"} {
		if len(hasUnresolved(s[key])) > 0 {
			s[key] = "*"
		}
	}
	for _, key := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if len(hasUnresolved(s[key])) > 0 {
			delete(s, key)
			s[strings.TrimPrefix(key, "Not")] = "*"
		}
	}
	cond, _ := s["Condition"].(map[string]any)
	if len(hasUnresolved(cond)) > 0 {
		cond = nil
	}
	cond = cloneMap(cond)
	names := map[string]any{}
	for _, u := range missing {
		// The key is what the diagnosis names: the element and what to
		// pass to resolve it.
		names["unresolved before deploy: "+u.String()] = "?"
	}
	cond[unresolvedOperator] = names
	s["Condition"] = cond
	return append(out, s)
}

func markedDoc(stmts []any, why []Unresolved) json.RawMessage {
	var out []any
	for _, s := range stmts {
		out = append(out, markStatement(s.(map[string]any), why)...)
	}
	return mustJSON(map[string]any{"Version": "2012-10-17", "Statement": out})
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps, lists, strings, numbers and booleans
	}
	return b
}
