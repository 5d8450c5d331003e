package template

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// Pairs finds the calls the stack is built to make: identity statements
// granting lambda:Invoke* on another function of the stack (connectors
// included: they are such statements), the Lambda permissions of event
// sources, and environment variables passing another function's name or
// ARN. Each target is listed unqualified and per alias.
func (st *Stack) Pairs() []Pair {
	var out []Pair
	seen := map[string]bool{}
	add := func(caller string, target *Function, why string, ctx evidence.ContextValues, quals ...string) {
		if len(quals) == 0 {
			quals = append([]string{""}, target.Aliases...)
		}
		for _, q := range quals {
			// Service calls differ by their source: one line per source.
			k := caller + "\x00" + target.ID + "\x00" + q + "\x00" + strings.Join(ctx["aws:SourceArn"], ",")
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, Pair{Caller: caller, Target: target.ID, Qualifier: q, Why: why, Context: ctx})
		}
	}
	fns := sortedFunctions(st)
	for _, caller := range fns {
		role := st.Roles[caller.RoleID]
		if role != nil {
			for _, np := range role.Identity {
				for _, target := range fns {
					if target != caller && grantsInvokeOn(np.Document, target) {
						add(caller.ID, target, "an identity statement of "+np.Name+" invokes it", nil)
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(caller.Env)) {
			v, ok := st.r.resolve(caller.Env[k]).(string)
			if !ok {
				continue
			}
			if target, q := st.functionOf(v); target != nil && target != caller {
				if q != "" {
					add(caller.ID, target, "environment variable "+k+" passes its name", nil, q)
				} else {
					add(caller.ID, target, "environment variable "+k+" passes its name", nil)
				}
			}
		}
	}
	// Roles no function runs as (a ScheduleV2 schedule's role, say) call
	// with sessions of their own.
	used := map[string]bool{}
	for _, fn := range fns {
		used[fn.RoleID] = true
	}
	for _, id := range slices.Sorted(maps.Keys(st.Roles)) {
		if used[id] {
			continue
		}
		for _, np := range st.Roles[id].Identity {
			for _, target := range fns {
				if grantsInvokeOn(np.Document, target) {
					add(id, target, "an identity statement of "+np.Name+" invokes it", nil)
				}
			}
		}
	}
	// A function URL with auth type NONE is called by anyone.
	for _, fn := range fns {
		for _, q := range slices.Sorted(maps.Keys(fn.URLAuth)) {
			if fn.URLAuth[q] != "NONE" {
				continue
			}
			k := "anonymous\x00" + fn.ID + "\x00" + q
			if !seen[k] {
				seen[k] = true
				out = append(out, Pair{Caller: "anonymous", Target: fn.ID, Qualifier: q, Why: "its function URL has auth type NONE", Action: "lambda:InvokeFunctionUrl"})
			}
		}
	}
	for _, g := range st.Grants {
		svc, _ := g.Statement["Principal"].(map[string]any)
		s, ok := svc["Service"].(string)
		if !ok || s == "lambda.amazonaws.com" {
			continue
		}
		ctx := evidence.ContextValues{"aws:SourceAccount": {st.Settings.Account}}
		if src := st.sourceArn(g); src != "" {
			ctx["aws:SourceArn"] = []string{src}
		}
		n := len(out)
		add(s, st.Functions[g.Function], g.ID+" grants it", ctx, g.Qualifier)
		for i := n; i < len(out); i++ {
			out[i].Via = g.ID
		}
	}
	return out
}

// sourceArn is the ARN a service calls on behalf of, for a permission of
// the stack: its SourceArn with wildcards standing for one concrete value
// (an API's stage), or an S3 event's bucket.
func (st *Stack) sourceArn(g *Grant) string {
	cond, _ := g.Statement["Condition"].(map[string]any)
	al, _ := cond["ArnLike"].(map[string]any)
	if s, ok := al["AWS:SourceArn"].(string); ok {
		return concreteSourceArn(s)
	}
	res := st.T.Resources[g.ID]
	if res == nil || res.From == "" {
		return ""
	}
	sam := st.T.SAM[res.From]
	events, _ := sam.Props["Events"].(map[string]any)
	for name, e := range events {
		em, _ := e.(map[string]any)
		if g.ID == res.From+name+"Permission" && em["Type"] == "S3" {
			p, _ := em["Properties"].(map[string]any)
			if b, ok := p["Bucket"].(map[string]any); ok && refID(b) != "" {
				if a, ok := st.r.getAtt(refID(b), "Arn").(string); ok {
					return a
				}
			}
		}
	}
	return ""
}

// grantsInvokeOn reports whether a policy has a statement allowing a
// lambda:Invoke* action on the function (any qualifier), or naming it
// literally by its logical ID (a near miss worth diagnosing).
func grantsInvokeOn(doc json.RawMessage, fn *Function) bool {
	var d struct {
		Statement []struct {
			Effect   string
			Action   any
			Resource any
		}
	}
	_ = json.Unmarshal(doc, &d)
	for _, s := range d.Statement {
		if s.Effect != "Allow" || !slices.ContainsFunc(strList(s.Action), invokeAction) {
			continue
		}
		for _, r := range strList(s.Resource) {
			if r == "*" {
				continue
			}
			// A grant of the function or of any of its qualifiers (an
			// alias: ${B.Arn}:live), its ARN inside another (a
			// LambdaInvokePolicy given the ARN), or its logical ID where
			// the generated name belongs: each is a call worth diagnosing.
			if policy.Like(r, fn.ARN) || policy.Like(r, fn.ARN+":x") || strings.HasPrefix(r, fn.ARN+":") || strings.Contains(r, fn.ARN) ||
				strings.HasSuffix(strings.TrimSuffix(r, "*"), ":function:"+fn.ID) || strings.Contains(r, ":function:"+fn.ID+":") {
				return true
			}
		}
	}
	return false
}

func invokeAction(a string) bool {
	a = strings.ToLower(a)
	return a == "*" || a == "lambda:*" || strings.HasPrefix(a, "lambda:invoke")
}

func strList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// concreteSourceArn is one ARN an API calls from, for a permission's
// execute-api SourceArn pattern (API/STAGE/METHOD/PATH): a wildcard stage
// stands for Prod and a wildcard method for GET. Other ARNs are kept.
func concreteSourceArn(s string) string {
	i := strings.Index(s, ":execute-api:")
	if i < 0 {
		return s
	}
	head, res := s, ""
	if j := strings.IndexByte(s[i+len(":execute-api:"):], '/'); j >= 0 {
		cut := i + len(":execute-api:") + j
		head, res = s[:cut], s[cut+1:]
	}
	parts := strings.Split(res, "/")
	if len(parts) > 0 && parts[0] == "*" {
		parts[0] = "Prod"
	}
	if len(parts) > 1 && parts[1] == "*" {
		parts[1] = "GET"
	}
	return head + "/" + strings.Join(parts, "/")
}
