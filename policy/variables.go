package policy

import (
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// substitute replaces policy variables in s with their values from ctx, as
// IAM does for Resource elements and String/ARN condition values of
// Version 2012-10-17 policies ("IAM policy elements: Variables and tags"):
//
//   - ${key} takes the request's value of key (keys case-insensitive);
//   - ${key, 'default'} takes default when key is absent;
//   - ${*}, ${?} and ${$} stand for a literal *, ? and $.
//
// Substituted text is literal: a '*' inside a user name is not a wildcard.
// ok is false when a variable has no value in the request (and no default) or
// names a multivalued key; AWS then treats the element as not matching.
// unresolved names the variable that had no value.
func substitute(s string, ctx keyIndex) (p pattern, ok bool, unresolved string) {
	if !strings.Contains(s, "${") {
		return plain(s), true, ""
	}
	var b strings.Builder
	var lit []bool
	emit := func(text string, literal bool) {
		b.WriteString(text)
		for range len(text) {
			lit = append(lit, literal)
		}
	}
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			emit(rest, false)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			emit(rest, false)
			break
		}
		emit(rest[:i], false)
		inner := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		switch inner {
		case "*", "?", "$":
			emit(inner, true)
			continue
		}
		key, def, hasDefault := splitDefault(inner)
		vals, present := ctx.lookup(key)
		switch {
		case present && len(vals) == 1:
			emit(vals[0], true)
		case hasDefault && !present:
			emit(def, true)
		default:
			return pattern{}, false, key
		}
	}
	return pattern{text: b.String(), literal: lit}, true, ""
}

// splitDefault parses "key, 'default'" (spaces around the comma optional).
func splitDefault(inner string) (key, def string, ok bool) {
	comma := strings.IndexByte(inner, ',')
	if comma < 0 {
		return strings.TrimSpace(inner), "", false
	}
	key = strings.TrimSpace(inner[:comma])
	d := strings.TrimSpace(inner[comma+1:])
	if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
		return key, d[1 : len(d)-1], true
	}
	return strings.TrimSpace(inner), "", false
}

// usesVariables reports whether a policy of this version substitutes
// variables: only Version 2012-10-17 does; in 2008-10-17 or without a Version,
// ${...} is literal text.
func usesVariables(version string) bool { return version == "2012-10-17" }

// substituteResource substitutes variables in a Resource ARN: "You can use
// policy variables only in the resource portion of the ARN", after the fifth
// colon; elsewhere ${...} is literal text.
func substituteResource(r string, ctx keyIndex) (pattern, bool, string) {
	fields, ok := arn.Split(r)
	if !ok || !strings.HasPrefix(r, "arn:") {
		return plain(r), true, ""
	}
	head := r[:len(r)-len(fields[5])]
	p, ok, miss := substitute(fields[5], ctx)
	if !ok {
		return pattern{}, false, miss
	}
	out := pattern{text: head + p.text}
	if p.literal != nil {
		out.literal = make([]bool, len(head), len(out.text))
		out.literal = append(out.literal, p.literal...)
	}
	return out, true, ""
}
