package template

import "fmt"

type condValue int

const (
	condUnknown condValue = iota
	condTrue
	condFalse
)

func boolCond(b bool) condValue {
	if b {
		return condTrue
	}
	return condFalse
}

// condition evaluates a named condition of the Conditions section.
func (r *resolver) condition(name string) condValue {
	return r.condExpr(r.t.Conditions[name], 0)
}

func (r *resolver) condExpr(v any, depth int) condValue {
	if depth > maxDepth {
		return condUnknown
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return condUnknown
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return r.condExpr(r.t.Conditions[name], depth+1)
		case "Fn::Equals":
			if len(args) != 2 {
				return condUnknown
			}
			a, b := r.resolve(args[0]), r.resolve(args[1])
			if _, ok := a.(Unresolved); ok {
				return condUnknown
			}
			if _, ok := b.(Unresolved); ok {
				return condUnknown
			}
			return boolCond(fmt.Sprint(a) == fmt.Sprint(b))
		case "Fn::Not":
			if len(args) != 1 {
				return condUnknown
			}
			switch r.condExpr(args[0], depth+1) {
			case condTrue:
				return condFalse
			case condFalse:
				return condTrue
			}
			return condUnknown
		case "Fn::And", "Fn::Or":
			out := boolCond(fn == "Fn::And")
			for _, a := range args {
				c := r.condExpr(a, depth+1)
				switch {
				case fn == "Fn::And" && c == condFalse, fn == "Fn::Or" && c == condTrue:
					return c
				case c == condUnknown:
					out = condUnknown
				}
			}
			return out
		}
	}
	return condUnknown
}

// exists says whether a resource is created: its Condition holds.
func (r *resolver) exists(res *Resource) condValue {
	if res.Condition == "" {
		return condTrue
	}
	return r.condition(res.Condition)
}
