package diagnose

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/policy"
)

// describeMismatch says in words why one element of a statement did not
// match the request.
func describeMismatch(f policy.Mismatch, req *policy.Request) string {
	switch f.Element {
	case policy.ElemAction:
		return fmt.Sprintf("Action %s does not include %s", list(f.Values), req.Action) + actionHint(f.Values, req.Action)
	case policy.ElemNotAction:
		return fmt.Sprintf("%s is excluded by NotAction %s", req.Action, list(f.Values))
	case policy.ElemResource:
		if f.Reason != "" {
			return f.Reason
		}
		return describeResource(f.Values, req.Resource)
	case policy.ElemNotResource:
		return fmt.Sprintf("%s is excluded by NotResource %s", req.Resource, list(f.Values))
	case policy.ElemPrincipal:
		if f.Reason != "" {
			return f.Reason
		}
		return describePrincipal(f.Values, req)
	case policy.ElemNotPrincipal:
		return fmt.Sprintf("the caller is listed in NotPrincipal %s, so the statement does not apply to it", list(f.Values))
	case policy.ElemCondition:
		return describeCondition(f.Condition, req.Kind() == policy.KindService)
	}
	return string(f.Element) + " does not match"
}

// describeResource explains why none of the statement's resources covers
// the requested ARN, naming the field that differs.
func describeResource(values []string, target string) string {
	unq, qual, isFn := arn.Function(target)
	for _, v := range values {
		if isFn && qual != "" && v == unq {
			return fmt.Sprintf("Resource %s is the unqualified function ARN: it covers only unqualified calls, not the qualified call to :%s (add %s:%s or %s:*)", v, qual, unq, qual, unq)
		}
		if isFn && qual == "" && v == unq+":*" {
			return fmt.Sprintf("Resource %s covers only qualified calls (an alias or version), not the unqualified call to %s", v, unq)
		}
		if isFn {
			if vu, vq, ok := arn.Function(v); ok && vu == unq && vq != qual && !strings.ContainsAny(vq, "*?") {
				if qual == "" {
					return fmt.Sprintf("Resource %s names the qualifier :%s, but the call is unqualified", v, vq)
				}
				return fmt.Sprintf("Resource %s names the qualifier :%s, but the call is to :%s", v, vq, qual)
			}
		}
	}
	if d := fieldDifference(values, target); d != "" {
		return d
	}
	return fmt.Sprintf("Resource %s does not match %s", list(values), target)
}

// fieldDifference names every ARN field (partition, service, region,
// account, resource) in which the closest of values differs from target:
// a grant copied from another stack is often wrong in several at once
// (region and name, say), and naming only the first sends the user back
// for another denied call after fixing it. The closest value is the one
// with the fewest differing fields; wildcard values are left to the
// engine's own words.
func fieldDifference(values []string, target string) string {
	t, ok := arn.Parse(target)
	if !ok {
		return ""
	}
	var best []fieldDiff
	bestValue := ""
	for _, v := range values {
		a, ok := arn.Parse(v)
		if !ok || strings.ContainsAny(v, "*?") {
			continue
		}
		diffs := arnFieldDiffs(a, t)
		if len(diffs) > 0 && (best == nil || len(diffs) < len(best)) {
			best, bestValue = diffs, v
		}
	}
	switch {
	case best == nil:
		return ""
	case len(best) == 1 && best[0].name == "resource":
		if strings.EqualFold(best[0].got, best[0].want) {
			return fmt.Sprintf("Resource %s differs from %s only in letter case; ARNs are case-sensitive", bestValue, target)
		}
		return fmt.Sprintf("Resource %s names %q, but the call is to %q", bestValue, best[0].got, best[0].want)
	}
	got := make([]string, len(best))
	want := make([]string, len(best))
	for i, d := range best {
		got[i] = fmt.Sprintf("%s %q", d.name, d.got)
		want[i] = fmt.Sprintf("%s %q", d.name, d.want)
	}
	return fmt.Sprintf("Resource %s names %s, but the call is to %s", bestValue, andList(got), andList(want))
}

// fieldDiff is one ARN field in which a policy's ARN differs from the
// request's.
type fieldDiff struct{ name, got, want string }

// arnFieldDiffs lists the fields of a that differ from t, in ARN order. Two
// function ARNs that differ in the function's name (and qualifier) are said
// to differ in "function name", the words the Lambda console uses.
func arnFieldDiffs(a, t arn.ARN) []fieldDiff {
	var out []fieldDiff
	check := func(name, got, want string) {
		if got != want {
			out = append(out, fieldDiff{name, got, want})
		}
	}
	check("partition", a.Partition, t.Partition)
	check("service", a.Service, t.Service)
	check("region", a.Region, t.Region)
	check("account", a.Account, t.Account)
	got, gotFn := strings.CutPrefix(a.Resource, "function:")
	want, wantFn := strings.CutPrefix(t.Resource, "function:")
	if gotFn && wantFn && len(out) > 0 {
		check("function name", got, want)
	} else {
		check("resource", a.Resource, t.Resource)
	}
	return out
}

// andList joins items as a sentence does: "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func describePrincipal(values []string, req *policy.Request) string {
	kind := req.Kind()
	for _, v := range values {
		id := strings.TrimPrefix(v, "AWS:")
		if uniqueID(id) {
			return fmt.Sprintf("Principal %s is a unique ID, not an ARN: AWS shows a principal this way when the role or user it named was deleted; a role recreated with the same name has a new ID, so the statement no longer applies to it (name the role's ARN again)", id)
		}
	}
	var services []string
	for _, v := range values {
		if s, ok := strings.CutPrefix(v, "Service:"); ok {
			services = append(services, s)
		}
	}
	if kind != policy.KindService && len(services) == len(values) && len(services) > 0 {
		return fmt.Sprintf("Principal names the service %s; the caller is %s %s, which a service principal never matches",
			strings.Join(services, ", "), article(kind), req.Principal)
	}
	if kind == policy.KindService {
		return fmt.Sprintf("Principal %s does not name the service %s", list(values), req.Principal)
	}
	return fmt.Sprintf("Principal %s names neither the caller %s, nor its role or user, nor its account", list(values), req.Principal)
}

// KindWords names a kind of principal in words ("role session").
func KindWords(k policy.PrincipalKind) string {
	switch k {
	case policy.KindSession:
		return "role session"
	case policy.KindUser:
		return "IAM user"
	case policy.KindRole:
		return "role"
	case policy.KindService:
		return "AWS service principal"
	case policy.KindFederatedUser:
		return "federated user"
	case policy.KindAccount:
		return "account root user"
	}
	return "principal"
}

func article(k policy.PrincipalKind) string { return "the " + KindWords(k) }

func describeCondition(c *policy.ConditionTrace, serviceCaller bool) string {
	if c == nil {
		return "a condition does not hold"
	}
	switch {
	case c.UnknownOperator:
		return fmt.Sprintf("condition operator %q is not one the engine knows; the statement is treated as not matching", c.Operator)
	case len(c.Unresolved) > 0:
		return fmt.Sprintf("condition %s %s uses the policy variable ${%s}, which has no value in this request", c.Operator, c.Key, strings.Join(c.Unresolved, "}, ${"))
	case !c.KeyPresent && alwaysSentKey(c.Key):
		// AWS sends it in every request: not absent, only unknown to the
		// tool.
		return fmt.Sprintf("condition %s %s %s depends on the request's %s, which the tool cannot know (pass it with --context %s=VALUE)", c.Operator, c.Key, list(c.Values), c.Key, c.Key)
	case !c.KeyPresent:
		msg := fmt.Sprintf("condition %s %s %s needs the key %s, which is absent from this request", c.Operator, c.Key, list(c.Values), c.Key)
		switch {
		case sourceKeys[strings.ToLower(c.Key)] && serviceCaller:
			msg += " (the service sends it: pass it with --source-arn or --source-account)"
		case sourceKeys[strings.ToLower(c.Key)]:
			msg += " (it exists only when an AWS service calls on behalf of a resource, never in an SDK call from a function, role or user)"
		}
		return msg
	}
	if bound := boundWords(c.Operator); bound != "" {
		return fmt.Sprintf("condition %s %s %s holds only %s %s; the request has %s", c.Operator, c.Key, list(c.Values), bound, list(c.Values), list(c.RequestValues))
	}
	return fmt.Sprintf("condition %s %s wants %s, the request has %s", c.Operator, c.Key, list(c.Values), list(c.RequestValues))
}

// boundWords says what an ordering operator asks of the request's value:
// "before", "at or after" ...; "" for other operators.
func boundWords(op string) string {
	op = strings.TrimSuffix(strings.ToLower(op), "ifexists")
	switch op {
	case "datelessthan":
		return "before"
	case "datelessthanequals":
		return "at or before"
	case "dategreaterthan":
		return "after"
	case "dategreaterthanequals":
		return "at or after"
	case "numericlessthan":
		return "for values less than"
	case "numericlessthanequals":
		return "for values at most"
	case "numericgreaterthan":
		return "for values greater than"
	case "numericgreaterthanequals":
		return "for values at least"
	}
	return ""
}

func list(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	return "[" + strings.Join(v, ", ") + "]"
}

// whyMatched says why a statement (a Deny, typically) applies to the
// request: which action, resource, principal and conditions matched.
func whyMatched(s *policy.Statement, tr policy.StatementTrace, req *policy.Request, hasBoundary bool) []string {
	if s == nil {
		return nil
	}
	var out []string
	if s.NotAction {
		out = append(out, fmt.Sprintf("NotAction %s does not exclude %s", list(s.Actions), req.Action))
	} else {
		out = append(out, fmt.Sprintf("Action %s covers %s", list(s.Actions), req.Action))
	}
	switch {
	case !s.HasResource:
	case s.NotResource:
		out = append(out, fmt.Sprintf("NotResource %s does not exclude %s", list(s.Resources), req.Resource))
	default:
		out = append(out, fmt.Sprintf("Resource %s covers %s", list(s.Resources), req.Resource))
	}
	switch {
	case s.Principal != nil && s.NotPrincipal && hasBoundary && s.Effect == policy.Deny:
		out = append(out, "the caller has a permissions boundary, and a Deny with NotPrincipal \"will always deny any IAM principal that has a permissions boundary policy attached, regardless of the values specified in the NotPrincipal element\" (IAM User Guide, NotPrincipal)")
	case s.Principal != nil && s.NotPrincipal:
		out = append(out, "NotPrincipal does not list every identity of the caller: to be excluded, a role session must be listed with its account, its role and the session ARN (IAM User Guide, NotPrincipal)")
	case tr.Principal != policy.MatchNone && s.Principal != nil:
		out = append(out, fmt.Sprintf("the principal element covers the caller (as its %s)", tr.Principal))
	}
	for _, c := range tr.Conditions {
		if c.KeyPresent {
			out = append(out, fmt.Sprintf("condition %s %s %s holds: the request has %s", c.Operator, c.Key, list(c.Values), list(c.RequestValues)))
		} else if alwaysSentKey(c.Key) {
			out = append(out, fmt.Sprintf("condition %s %s %s holds when the tool does not know the request's %s", c.Operator, c.Key, list(c.Values), c.Key))
		} else {
			out = append(out, fmt.Sprintf("condition %s %s %s holds with the key absent from the request", c.Operator, c.Key, list(c.Values)))
		}
	}
	return out
}

// uniqueID recognizes IAM unique IDs (AROA... roles, AIDA... users), which a
// policy shows in place of an ARN once the principal was deleted.
func uniqueID(s string) bool {
	if len(s) < 16 || !(strings.HasPrefix(s, "AROA") || strings.HasPrefix(s, "AIDA")) {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// actionHint explains common action mistakes around Lambda invokes.
func actionHint(values []string, action string) string {
	for _, v := range values {
		lv, la := strings.ToLower(v), strings.ToLower(action)
		switch {
		case lv == "lambda:invokeasync" && la == "lambda:invokefunction":
			return " (lambda:InvokeAsync is the deprecated asynchronous API; the Invoke API needs lambda:InvokeFunction)"
		case lv == "lambda:invoke" && la == "lambda:invokefunction":
			return " (there is no action lambda:Invoke: the Invoke API is authorized as lambda:InvokeFunction)"
		case lv == "lambda:invokefunctionurl" && la == "lambda:invokefunction":
			return " (lambda:InvokeFunctionUrl covers only function URLs; the Invoke API needs lambda:InvokeFunction)"
		case !strings.ContainsAny(v, "*?") && editDistance(lv, la) <= 2:
			return fmt.Sprintf(" (did you mean %s? %s is not an action)", action, v)
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
