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

// FindingKind names a template finding for scripts.
type FindingKind string

const (
	KindPoliciesDropped   FindingKind = "policiesDropped"
	KindLiteralName       FindingKind = "literalFunctionName"
	KindInvokePolicyARN   FindingKind = "lambdaInvokePolicyGivenArn"
	KindUnqualifiedOnly   FindingKind = "unqualifiedGrantWithAlias"
	KindServicePermission FindingKind = "servicePermissionForRoleCaller"
	KindUnmodelled        FindingKind = "unmodelled"
	KindTemplateFix       FindingKind = "templateFix"
	KindEveryDeployment   FindingKind = "everyAllowedValue"
)

// Finding is something about the template itself, with the logical ID
// and line it is about.
type Finding struct {
	Kind     FindingKind `json:"kind"`
	Resource string      `json:"resource"`
	Line     int         `json:"line,omitempty"`
	Message  string      `json:"message"`
	// Snippet is the template text of a fix, for the resource and line
	// named.
	Snippet string `json:"snippet,omitempty"`
}

// FixChange is the part of a verdict's fix the template writes: the
// structured edits of the evidence (diagnose.Fix.Changes) and whether the
// fix was verified.
type FixChange struct {
	Changes  []evidence.Change
	Verified bool
}

// Findings are the template's own findings for one call, and the
// verdict's verified fixes written for the template.
func (st *Stack) Findings(p Pair, ev *evidence.Evidence, denied bool, fixes []FixChange) []Finding {
	out := []Finding{}
	caller, target := st.Functions[p.Caller], st.Functions[p.Target]
	for _, n := range st.T.Notes {
		if n.Resource == p.Caller || n.Resource == p.Target || n.Resource == "" {
			k := KindUnmodelled
			if n.Kind == NotePoliciesDropped {
				k = KindPoliciesDropped
			}
			out = append(out, Finding{Kind: k, Resource: n.Resource, Line: n.Line, Message: n.Message})
		}
	}
	if caller != nil && target != nil {
		out = append(out, st.identityFindings(caller, target, p, ev, denied)...)
		if denied {
			for _, g := range st.Grants {
				svc, _ := g.Statement["Principal"].(map[string]any)
				if g.Function == target.ID && svc["Service"] != nil {
					out = append(out, Finding{Kind: KindServicePermission, Resource: g.ID, Line: st.T.Line("Resources/" + g.ID),
						Message: fmt.Sprintf("%s grants the service principal %v, which a call from %s never matches: %s calls as a session of its role (%s), so this permission does not help it, and aws:SourceArn is not in an SDK call's request", g.ID, svc["Service"], caller.ID, caller.ID, ev.Request.Caller)})
				}
			}
		}
	}
	for _, f := range fixes {
		if !f.Verified {
			continue
		}
		for _, c := range f.Changes {
			if fx, ok := st.templateFix(c, p, caller, target); ok {
				out = append(out, fx)
			}
		}
	}
	return out
}

func (st *Stack) identityFindings(caller, target *Function, p Pair, ev *evidence.Evidence, denied bool) []Finding {
	var out []Finding
	line := st.T.Line("Resources/" + caller.ID + "/Properties/Policies")
	if line == 0 {
		line = st.T.Line("Resources/" + caller.ID)
	}
	generatedName := strings.Contains(target.Name, generated)
	for _, np := range ev.Caller.IdentityPolicies {
		for _, r := range lambdaResources(np.Document) {
			name := r
			if i := strings.Index(r, ":function:"); i >= 0 {
				name = r[i+len(":function:"):]
			}
			base, _, _ := strings.Cut(name, ":")
			if generatedName && (base == target.ID || strings.TrimSuffix(base, "*") == target.ID) {
				out = append(out, Finding{Kind: KindLiteralName, Resource: caller.ID, Line: line,
					Message: fmt.Sprintf("%s names the function %q literally, but CloudFormation will name %s %q (no FunctionName is given): the literal never equals it, and a call to it is denied (AWS answers AccessDenied, not ResourceNotFound, for a function the caller may not invoke). Use !GetAtt %s.Arn, or give %s a FunctionName", np.Name, base, target.ID, target.Name, target.ID, target.ID)})
			}
			if denied && p.Qualifier != "" && p.Qualifier == target.AutoPublishAlias && r == target.ARN {
				out = append(out, Finding{Kind: KindUnqualifiedOnly, Resource: caller.ID, Line: line,
					Message: fmt.Sprintf("%s grants only %s's unqualified ARN, but %s has AutoPublishAlias %s: calls to %s:%s are denied (an unqualified ARN matches only unqualified calls). Grant !Ref %sAlias%s, or !Sub \"${%s.Arn}:*\" for every alias and version", np.Name, target.ID, target.ID, target.AutoPublishAlias, target.ID, p.Qualifier, target.ID, alnum(target.AutoPublishAlias), target.ID)})
			}
		}
	}
	if sam := st.T.SAM[caller.ID]; sam != nil {
		list, _ := sam.Props["Policies"].([]any)
		for i, item := range list {
			m, _ := item.(map[string]any)
			params, ok := m["LambdaInvokePolicy"].(map[string]any)
			if !ok {
				continue
			}
			v := st.r.resolve(params["FunctionName"])
			if s, ok := v.(string); ok && strings.HasPrefix(s, "arn:") {
				out = append(out, Finding{Kind: KindInvokePolicyARN, Resource: caller.ID, Line: st.T.Line(fmt.Sprintf("Resources/%s/Properties/Policies/%d", caller.ID, i)),
					Message: fmt.Sprintf("LambdaInvokePolicy is given an ARN (%s): SAM writes function:${FunctionName}*, so the grant is for a function named after an ARN and matches nothing. Give it the name: FunctionName: !Ref %s", s, target.ID)})
			}
		}
	}
	return out
}

// lambdaResources are the Resource strings of a policy's statements that
// name Lambda functions.
func lambdaResources(doc json.RawMessage) []string {
	var d struct {
		Statement []struct {
			Resource any
		}
	}
	if json.Unmarshal(doc, &d) != nil {
		return nil
	}
	var out []string
	for _, s := range d.Statement {
		switch r := s.Resource.(type) {
		case string:
			out = append(out, r)
		case []any:
			for _, x := range r {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return !strings.Contains(s, ":lambda:") })
}

// templateExpr writes an ARN of the stack as the template would: !GetAtt
// for a function's ARN, !Sub "${Fn.Arn}:QUALIFIER" for a qualified one.
func (st *Stack) templateExpr(s string) string {
	for _, fn := range sortedFunctions(st) {
		switch {
		case s == fn.ARN:
			return "!GetAtt " + fn.ID + ".Arn"
		case strings.HasPrefix(s, fn.ARN+":"):
			return fmt.Sprintf("!Sub \"${%s.Arn}%s\"", fn.ID, strings.TrimPrefix(s, fn.ARN))
		}
	}
	return fmt.Sprintf("%q", s)
}

// templateFix writes one verified change of a fix for the template.
func (st *Stack) templateFix(c evidence.Change, p Pair, caller, target *Function) (Finding, bool) {
	var stmt map[string]any
	if c.Kind != evidence.AddStatement || json.Unmarshal(c.Document, &stmt) != nil {
		return Finding{}, false
	}
	list := strList
	var b strings.Builder
	switch c.Layer {
	case policy.LayerIdentity:
		if caller == nil {
			return Finding{}, false
		}
		if st.T.SAM[caller.ID] == nil || st.T.SAM[caller.ID].Props["Role"] != nil {
			role := caller.RoleID
			if role == "" {
				return Finding{}, false
			}
			fmt.Fprintf(&b, "# add to %s's Properties.Policies (an AWS::IAM::Role)\n- PolicyName: InvokeTarget\n  PolicyDocument:\n    Version: \"2012-10-17\"\n    Statement:\n", role)
			writeStatement(&b, "      ", stmt, list, st)
			return Finding{Kind: KindTemplateFix, Resource: role, Line: st.T.Line("Resources/" + role), Message: "add this statement to " + role + "'s Policies", Snippet: b.String()}, true
		}
		line := st.T.Line("Resources/" + caller.ID + "/Properties/Policies")
		where := "under Properties.Policies"
		if line == 0 {
			line, where = st.T.Line("Resources/"+caller.ID+"/Properties"), "as Properties.Policies"
		}
		fmt.Fprintf(&b, "# %s, %s\n- Statement:\n", caller.ID, where)
		writeStatement(&b, "    ", stmt, list, st)
		msg := fmt.Sprintf("add this to %s's Policies (line %d)", caller.ID, line)
		if p.Qualifier == "" {
			// A connector grants the destination's unqualified ARN only.
			msg += fmt.Sprintf("; or a connector, under %s's Connectors: To%s: {Properties: {Destination: {Id: %s}, Permissions: [Write]}}", caller.ID, target.ID, target.ID)
		}
		if !strings.Contains(target.Name, "*") {
			msg += fmt.Sprintf("; or the SAM policy template - LambdaInvokePolicy: {FunctionName: !Ref %s}, which grants function:NAME* (the function, every version and alias, and every function whose name starts the same way)", target.ID)
		}
		return Finding{Kind: KindTemplateFix, Resource: caller.ID, Line: line, Message: msg, Snippet: b.String()}, true
	case policy.LayerResource:
		fnExpr := "!GetAtt " + target.ID + ".Arn"
		if p.Qualifier != "" {
			fnExpr = fmt.Sprintf("!Sub \"${%s.Arn}:%s\"", target.ID, p.Qualifier)
			for _, id := range slices.Sorted(maps.Keys(st.T.Resources)) {
				if r := st.T.Resources[id]; r.Type == "AWS::Lambda::Alias" && r.Props["Name"] == p.Qualifier && refID(r.Props["FunctionName"]) == target.ID {
					fnExpr = "!Ref " + id
				}
			}
		}
		id := target.ID + "InvokePermission"
		fmt.Fprintf(&b, "%s:\n  Type: AWS::Lambda::Permission\n  Properties:\n    FunctionName: %s\n    Action: %s\n", id, fnExpr, strings.Join(list(stmt["Action"]), ","))
		switch pr := stmt["Principal"].(type) {
		case string:
			fmt.Fprintf(&b, "    Principal: %q\n", pr)
		case map[string]any:
			for _, k := range []string{"Service", "AWS"} {
				if v, ok := pr[k]; ok {
					fmt.Fprintf(&b, "    Principal: %s\n", st.principalExpr(fmt.Sprint(v)))
				}
			}
		}
		if cond, ok := stmt["Condition"].(map[string]any); ok {
			if al, ok := cond["ArnLike"].(map[string]any); ok {
				fmt.Fprintf(&b, "    SourceArn: %s\n", st.templateExpr(fmt.Sprint(al["AWS:SourceArn"])))
			}
			if se, ok := cond["StringEquals"].(map[string]any); ok {
				if v, ok := se["AWS:SourceAccount"]; ok {
					fmt.Fprintf(&b, "    SourceAccount: %q\n", v)
				}
				if v, ok := se["lambda:FunctionUrlAuthType"]; ok {
					fmt.Fprintf(&b, "    FunctionUrlAuthType: %v\n", v)
				}
			}
			if _, ok := cond["Bool"]; ok {
				b.WriteString("    InvokedViaFunctionUrl: true\n")
			}
		}
		return Finding{Kind: KindTemplateFix, Resource: target.ID, Line: st.T.Line("Resources/" + target.ID),
			Message: "add this resource to the template's Resources", Snippet: strings.TrimSuffix(b.String(), "\n")}, true
	}
	return Finding{}, false
}

// principalExpr writes a caller's role ARN as the template would.
func (st *Stack) principalExpr(s string) string {
	for _, id := range slices.Sorted(maps.Keys(st.Roles)) {
		if st.Roles[id].ARN == s {
			return "!GetAtt " + id + ".Arn"
		}
	}
	return fmt.Sprintf("%q", s)
}

func writeStatement(b *strings.Builder, indent string, stmt map[string]any, list func(any) []string, st *Stack) {
	fmt.Fprintf(b, "%s- Effect: %v\n%s  Action:\n", indent, stmt["Effect"], indent)
	for _, a := range list(stmt["Action"]) {
		fmt.Fprintf(b, "%s    - %s\n", indent, a)
	}
	fmt.Fprintf(b, "%s  Resource:\n", indent)
	for _, r := range list(stmt["Resource"]) {
		fmt.Fprintf(b, "%s    - %s\n", indent, st.templateExpr(r))
	}
	if c, ok := stmt["Condition"]; ok {
		j, _ := json.Marshal(c)
		fmt.Fprintf(b, "%s  Condition: %s\n", indent, j)
	}
	s := strings.TrimSuffix(b.String(), "\n")
	b.Reset()
	b.WriteString(s)
}
