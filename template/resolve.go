package template

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Unresolved is a value the template does not determine before deploy
// (Fn::ImportValue without --import, an SSM-typed parameter, a parameter
// without default or value, a custom resource's attribute ...).
type Unresolved struct {
	// What names the element; Hint says what to pass to resolve it.
	What, Hint string
}

func (u Unresolved) String() string {
	if u.Hint == "" {
		return u.What
	}
	return u.What + " (" + u.Hint + ")"
}

// Settings are what the template does not say: the account, region and
// stack it is deployed to, parameter values and the exports of other
// stacks.
type Settings struct {
	Account, Region, StackName string
	Params                     map[string]string
	Imports                    map[string]string
	// Outside is what the account holds that the template names by ARN
	// without defining it; empty unless read (--profile).
	Outside Outside
	// suffix replaces the opaque token of generated names: only the
	// deploy harness of the tests, which creates the resources, knows it.
	suffix string
}

// generated stands for the random suffix CloudFormation appends to a
// name it generates (STACK-LogicalId-SUFFIX): never guessed, and no
// literal can equal it ("<" is not allowed in IAM or Lambda names).
const generated = "<generated>"

type resolver struct {
	t     *Template
	s     Settings
	names map[string]any // logical ID -> physical name, memoized
	steps int
}

// maxSteps bounds the work of resolving one template (hostile templates:
// deep Fn::Select/Fn::Join nesting over aliases).
const maxSteps = 1 << 20

func (t *Template) resolver(s Settings) *resolver {
	return &resolver{t: t, s: s, names: map[string]any{}}
}

func (r *resolver) partition() string {
	switch {
	case strings.HasPrefix(r.s.Region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(r.s.Region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// unmodelledFn marks a value the transform writes that this tool does
// not model (written by the expansion only, never read from a template).
const unmodelledFn = "Fn::WhyDenied::Unmodelled"

// noValue is AWS::NoValue: the property or list item is removed.
type noValue struct{}

// resolve evaluates every intrinsic function in v.
func (r *resolver) resolve(v any) any {
	if r.steps++; r.steps > maxSteps {
		return Unresolved{What: "a value too costly to evaluate"}
	}
	switch v := v.(type) {
	case string:
		if strings.Contains(v, "{{resolve:") {
			return Unresolved{What: "dynamic reference " + v, Hint: "resolved by CloudFormation at deploy time"}
		}
		return v
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			y := r.resolve(x)
			if _, skip := y.(noValue); !skip {
				out = append(out, y)
			}
		}
		return out
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return r.call(k, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			y := r.resolve(x)
			if _, skip := y.(noValue); !skip {
				out[k] = y
			}
		}
		return out
	}
	return v
}

func (r *resolver) call(fn string, arg any) any {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return Unresolved{What: "a Ref whose argument is not a name"}
		}
		return r.ref(name)
	case "Fn::GetAtt":
		var parts []any
		switch a := arg.(type) {
		case []any:
			parts = a
		case string:
			id, att, _ := strings.Cut(a, ".")
			parts = []any{id, att}
		}
		if len(parts) != 2 {
			return Unresolved{What: "Fn::GetAtt without Resource and Attribute"}
		}
		id, _ := parts[0].(string)
		att, ok := r.resolve(parts[1]).(string)
		if !ok {
			return Unresolved{What: "Fn::GetAtt " + id + " with an attribute that is not known"}
		}
		return r.getAtt(id, att)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return Unresolved{What: "Fn::Join without a delimiter and a list"}
		}
		delim, _ := r.resolve(a[0]).(string)
		items := r.resolve(a[1])
		list, ok := items.([]any)
		if !ok {
			return unresolvedOr(items, "Fn::Join of a value that is not a list")
		}
		var parts []string
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return unresolvedOr(x, "Fn::Join of a value that is not a string")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, delim)
	case "Fn::Select":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return Unresolved{What: "Fn::Select without an index and a list"}
		}
		idx := r.resolve(a[0])
		list, ok := r.resolve(a[1]).([]any)
		if !ok {
			return unresolvedOr(r.resolve(a[1]), "Fn::Select from a value that is not a list")
		}
		i, err := strconv.Atoi(fmt.Sprint(idx))
		if err != nil || i < 0 || i >= len(list) {
			return unresolvedOr(idx, fmt.Sprintf("Fn::Select index %v out of the list's %d items", idx, len(list)))
		}
		return list[i]
	case "Fn::Split":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return Unresolved{What: "Fn::Split without a delimiter and a string"}
		}
		delim, _ := r.resolve(a[0]).(string)
		s, ok := r.resolve(a[1]).(string)
		if !ok {
			return unresolvedOr(r.resolve(a[1]), "Fn::Split of a value that is not a string")
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out
	case "Fn::FindInMap":
		a, ok := arg.([]any)
		if !ok || len(a) < 3 {
			return Unresolved{What: "Fn::FindInMap without a map and two keys"}
		}
		keys := make([]string, 3)
		for i := range 3 {
			s, ok := r.resolve(a[i]).(string)
			if !ok {
				return unresolvedOr(r.resolve(a[i]), "Fn::FindInMap with a key that is not known")
			}
			keys[i] = s
		}
		m, _ := r.t.Mappings[keys[0]].(map[string]any)
		top, _ := m[keys[1]].(map[string]any)
		if v, ok := top[keys[2]]; ok {
			return r.resolve(v)
		}
		return Unresolved{What: fmt.Sprintf("Fn::FindInMap %s/%s/%s", keys[0], keys[1], keys[2]), Hint: "the mapping has no such entry"}
	case "Fn::If":
		a, ok := arg.([]any)
		if !ok || len(a) != 3 {
			return Unresolved{What: "Fn::If without a condition and two values"}
		}
		name, _ := a[0].(string)
		switch r.condition(name) {
		case condTrue:
			return r.resolve(a[1])
		case condFalse:
			return r.resolve(a[2])
		}
		return Unresolved{What: "Fn::If " + name, Hint: r.conditionHint(name)}
	case "Fn::ImportValue":
		name, ok := r.resolve(arg).(string)
		if !ok {
			return Unresolved{What: "Fn::ImportValue of a name that is not known"}
		}
		if v, ok := r.s.Imports[name]; ok {
			return v
		}
		return Unresolved{What: "Fn::ImportValue " + name, Hint: "pass --import " + name + "=VALUE"}
	case unmodelledFn:
		return Unresolved{What: fmt.Sprint(arg), Hint: "not modelled by this tool"}
	case "Fn::GetAZs":
		return Unresolved{What: "Fn::GetAZs", Hint: "the availability zones are known at deploy time"}
	}
	return Unresolved{What: fn, Hint: "not evaluated by this tool"}
}

func unresolvedOr(v any, what string) any {
	if u, ok := v.(Unresolved); ok {
		return u
	}
	return Unresolved{What: what}
}

func (r *resolver) ref(name string) any {
	switch name {
	case "AWS::AccountId":
		return r.s.Account
	case "AWS::Region":
		return r.s.Region
	case "AWS::Partition":
		return r.partition()
	case "AWS::StackName":
		return r.s.StackName
	case "AWS::URLSuffix":
		if r.partition() == "aws-cn" {
			return "amazonaws.com.cn"
		}
		return "amazonaws.com"
	case "AWS::NoValue":
		return noValue{}
	case "AWS::StackId":
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", r.partition(), r.s.Region, r.s.Account, r.s.StackName, generated)
	case "AWS::NotificationARNs":
		return Unresolved{What: "AWS::NotificationARNs", Hint: "known at deploy time"}
	}
	if p, ok := r.t.Parameters[name]; ok {
		return r.param(name, p)
	}
	if _, ok := r.t.Resources[name]; ok {
		return r.resourceRef(name)
	}
	if implicitAPI(name) {
		return "<" + name + " id>"
	}
	return Unresolved{What: "Ref " + name, Hint: "no parameter or resource of that name"}
}

func implicitAPI(name string) bool { return name == "ServerlessRestApi" || name == "ServerlessHttpApi" }

func (r *resolver) param(name string, p map[string]any) any {
	typ, _ := p["Type"].(string)
	if strings.HasPrefix(typ, "AWS::SSM::Parameter::Value") {
		return Unresolved{What: "SSM-typed parameter " + name, Hint: "its value is read from Parameter Store at deploy time"}
	}
	v, ok := r.s.Params[name]
	if !ok {
		d, has := p["Default"]
		if !has {
			return Unresolved{What: "parameter " + name, Hint: "pass --param " + name + "=VALUE"}
		}
		v = fmt.Sprint(d)
	}
	if typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
		var out []any
		for _, s := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(s))
		}
		return out
	}
	return v
}

// sub evaluates Fn::Sub in both forms: a string, or a string with a map
// of variables. ${!Literal} is the literal ${Literal}.
func (r *resolver) sub(arg any) any {
	var s string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		s = a
	case []any:
		if len(a) != 2 {
			return Unresolved{What: "Fn::Sub without a string and variables"}
		}
		s, _ = a[0].(string)
		m, _ := a[1].(map[string]any)
		for k, v := range m {
			vars[k] = r.resolve(v)
		}
	default:
		return Unresolved{What: "Fn::Sub of a value that is not a string"}
	}
	var b strings.Builder
	var missing []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var v any
		if x, ok := vars[name]; ok {
			v = x
		} else if id, att, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v = r.getAtt(id, att)
		} else {
			v = r.ref(name)
		}
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case Unresolved:
			missing = append(missing, x.String())
		default:
			missing = append(missing, "${"+name+"} is not a string")
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Unresolved{What: "Fn::Sub with " + strings.Join(slices.Compact(missing), ", ")}
	}
	return b.String()
}

// hasUnresolved reports whether v holds an unresolved value, and which.
func hasUnresolved(v any) []Unresolved {
	var out []Unresolved
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case Unresolved:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		}
	}
	walk(v)
	return out
}

// Deployments lists the values the parameters without a value can take
// when the template restricts them (AllowedValues), one map per
// combination: each is one deployment the template allows. Nil when every
// parameter has a value, when one without a value is not restricted, or
// when there are more than maxDeployments combinations.
func (t *Template) Deployments(s Settings) []map[string]string {
	const maxDeployments = 16
	out := []map[string]string{{}}
	for _, name := range slices.Sorted(maps.Keys(t.Parameters)) {
		p := t.Parameters[name]
		if _, given := s.Params[name]; given {
			continue
		}
		if _, ok := p["Default"]; ok {
			continue
		}
		allowed, _ := p["AllowedValues"].([]any)
		if len(allowed) == 0 {
			return nil
		}
		var next []map[string]string
		for _, d := range out {
			for _, v := range allowed {
				m := map[string]string{name: fmt.Sprint(v)}
				for k, x := range d {
					m[k] = x
				}
				next = append(next, m)
			}
		}
		if out = next; len(out) > maxDeployments {
			return nil
		}
	}
	if len(out) == 1 && len(out[0]) == 0 {
		return nil
	}
	return out
}

// conditionHint says what to pass for a condition that is not known
// before deploy: the parameters without a value it reads.
func (r *resolver) conditionHint(name string) string {
	var params []string
	var visit func(v any, depth int)
	visit = func(v any, depth int) {
		if depth > 32 {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "Ref" {
					if _, isParam := r.t.Parameters[s]; isParam {
						if _, given := r.s.Params[s]; !given && !slices.Contains(params, s) {
							params = append(params, s)
						}
					}
				}
				if s, ok := e.(string); ok && k == "Condition" {
					visit(r.t.Conditions[s], depth+1)
				}
				visit(e, depth+1)
			}
		case []any:
			for _, e := range x {
				visit(e, depth+1)
			}
		}
	}
	visit(r.t.Conditions[name], 0)
	if len(params) == 0 {
		return "the condition depends on a value not known before deploy"
	}
	slices.Sort(params)
	var flags []string
	for _, p := range params {
		flags = append(flags, "--param "+p+"=VALUE")
	}
	return "the condition depends on " + strings.Join(params, ", ") + ": pass " + strings.Join(flags, " ")
}
