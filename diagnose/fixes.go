package diagnose

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// candidate is a proposed change, with the function that applies it to an
// engine input so that it can be checked before it is shown.
type candidate struct {
	// ids name the elementary changes the candidate is made of; a candidate
	// that contains every change of one already shown is not shown.
	ids []string
	// widens: the change may open more than the request (narrowing a Deny
	// exempts the caller from all of it); the probes then describe what
	// else opens instead of rejecting the fix.
	widens  bool
	fix     Fix
	layers  []policy.Layer // layers the change touches
	apply   func(*policy.Input)
	finding int // index of the finding it belongs to
}

// proposeFixes attaches verified fixes to the findings of a denied verdict.
// Every candidate is applied to a copy of the evidence and the request
// re-evaluated: a fix is shown only if the request becomes allowed, and
// only if the same change leaves a call to another function and another
// action as they were (it grants nothing beyond the request).
func proposeFixes(ev *Evidence, in *policy.Input, res *policy.Result, v *Verdict) {
	if v.Decision == policy.Allowed {
		return
	}
	localBlocked := policy.Evaluate(in).BlockedBy
	// Layers only the simulator saw blocking (SCPs whose documents were not
	// read, say) cannot be changed by a fix to other layers.
	var simOnly []policy.Layer
	for _, l := range v.BlockedBy {
		if !slices.Contains(localBlocked, l) {
			simOnly = append(simOnly, l)
		}
	}
	fx := fixer{ev: ev, in: in, res: res, v: v}
	var shown [][]string
	for _, c := range fx.candidates() {
		if containsAll(c.ids, shown) || !fx.verify(&c, simOnly) {
			continue
		}
		shown = append(shown, c.ids)
		c.fix.Verified = true
		if c.finding >= 0 && c.finding < len(v.Findings) {
			v.Findings[c.finding].Fixes = append(v.Findings[c.finding].Fixes, c.fix)
		}
	}
}

// containsAll reports whether ids includes every id of one of the sets.
func containsAll(ids []string, sets [][]string) bool {
	for _, set := range sets {
		all := true
		for _, id := range set {
			if !slices.Contains(ids, id) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

type fixer struct {
	ev  *Evidence
	in  *policy.Input
	res *policy.Result
	v   *Verdict
}

// findingFor returns the index of the first finding about layer l.
func (f *fixer) findingFor(l policy.Layer) int {
	for i, fd := range f.v.Findings {
		if fd.Layer == l && fd.Severity == SeverityBlocking {
			return i
		}
	}
	return -1
}

// candidates lists the changes to try, least privilege first. When several
// layers block, each candidate combines one change per blocking layer.
func (f *fixer) candidates() []candidate {
	req := f.in.Request
	unq, qual, isFn := functionParts(req.Resource)
	actions := []string{req.Action}
	if strings.EqualFold(req.Action, "lambda:InvokeFunctionUrl") {
		actions = append(actions, "lambda:InvokeFunction")
	}

	// One list of options per blocking layer; a candidate takes one option
	// from each list. A layer with an explicit Deny offers narrowing the
	// Deny, alone or with a grant.
	var parts [][]candidate
	for _, l := range f.v.BlockedBy {
		var grants []candidate
		switch l {
		case policy.LayerIdentity:
			resources := [][]string{{req.Resource}}
			if isFn && qual != "" {
				resources = append(resources, []string{unq, unq + ":*"})
			}
			for _, rs := range resources {
				grants = append(grants, f.identityGrant(actions, rs))
			}
		case policy.LayerResource:
			grants = append(grants, f.resourceGrant(actions))
		case policy.LayerPermissionsBoundary:
			grants = append(grants, f.boundaryGrant(actions))
		case policy.LayerSessionPolicy:
			grants = append(grants, f.sessionGrant(actions))
		}
		opts := grants
		if f.layerDenies(l) {
			ex, ok := f.denyExceptions(l)
			if !ok {
				return nil
			}
			opts = []candidate{ex}
			for _, g := range grants {
				opts = append(opts, combine([][]candidate{{ex}, {g}})...)
			}
		}
		if len(opts) == 0 {
			// SCPs and RCPs belong to the organization: no change of ours
			// can be proposed for them.
			return nil
		}
		parts = append(parts, opts)
	}
	if len(parts) == 0 {
		return nil
	}
	return combine(parts)
}

func (f *fixer) layerDenies(l policy.Layer) bool {
	lr := f.res.Layer(l)
	return lr != nil && lr.Applies && lr.Denies
}

// combine builds the cartesian product of per-layer options, in order.
func combine(parts [][]candidate) []candidate {
	out := []candidate{{finding: -1}}
	for _, opts := range parts {
		var next []candidate
		for _, acc := range out {
			for _, o := range opts {
				c := candidate{finding: acc.finding, layers: append(slices.Clone(acc.layers), o.layers...), ids: append(slices.Clone(acc.ids), o.ids...), widens: acc.widens || o.widens}
				if c.finding < 0 {
					c.finding = o.finding
				}
				accApply, oApply := acc.apply, o.apply
				c.apply = func(in *policy.Input) {
					if accApply != nil {
						accApply(in)
					}
					oApply(in)
				}
				c.fix = mergeFix(acc.fix, o.fix)
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

func mergeFix(a, b Fix) Fix {
	if a.Description == "" {
		return b
	}
	join := func(x, y string) string {
		if x == "" {
			return y
		}
		if y == "" {
			return x
		}
		return x + "\n" + y
	}
	return Fix{
		Description:    a.Description + "; and " + b.Description,
		Caveat:         strings.TrimPrefix(a.Caveat+"; "+b.Caveat, "; "),
		Statement:      join(a.Statement, b.Statement),
		CLI:            join(a.CLI, b.CLI),
		CloudFormation: join(a.CloudFormation, b.CloudFormation),
	}
}

// verify applies c to a copy of the input and checks that the request is
// allowed, and that the same change does not open a different function or
// a different action that was closed before.
func (f *fixer) verify(c *candidate, simOnly []policy.Layer) bool {
	for _, l := range simOnly {
		if !slices.Contains(c.layers, l) {
			return false
		}
	}
	after := cloneInput(f.in)
	c.apply(after)
	if policy.Evaluate(after).Decision != policy.Allowed {
		return false
	}
	for _, probe := range probes(f.in.Request) {
		before := cloneInput(f.in)
		before.Request = probe
		fixed := cloneInput(after)
		fixed.Request = probe
		if policy.Evaluate(before).Decision != policy.Allowed && policy.Evaluate(fixed).Decision == policy.Allowed {
			if !c.widens {
				return false
			}
			c.fix.Caveat = strings.TrimPrefix(c.fix.Caveat+fmt.Sprintf("; it would also allow %s on %s", probe.Action, probe.Resource), "; ")
		}
	}
	return true
}

// probes are requests the fix must not newly allow: another function in the
// same account and region, and an action that changes the function.
func probes(req policy.Request) []policy.Request {
	var out []policy.Request
	if unq, _, ok := functionParts(req.Resource); ok {
		other := req
		other.Resource = unq + "-other-function"
		out = append(out, other)
	}
	write := req
	write.Action = "lambda:UpdateFunctionCode"
	out = append(out, write)
	return out
}

// cloneInput copies an input deeply enough for a fix to change it.
func cloneInput(in *policy.Input) *policy.Input {
	c := *in
	c.Identity = slices.Clone(in.Identity)
	c.SessionPolicies = slices.Clone(in.SessionPolicies)
	if in.Resource != nil {
		r := *in.Resource
		c.Resource = &r
	}
	if in.PermissionsBoundary != nil {
		b := *in.PermissionsBoundary
		c.PermissionsBoundary = &b
	}
	return &c
}

// stmt is a policy statement with its elements in the order AWS writes
// them.
type stmt struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

type document struct {
	Version   string `json:"Version"`
	Statement []stmt `json:"Statement"`
}

// statementJSON renders v as indented JSON.
func statementJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func grantStatement(actions, resources []string) stmt {
	return stmt{Effect: "Allow", Action: oneOrMany(actions), Resource: oneOrMany(resources)}
}

func oneOrMany(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// withStatement returns a copy of np with one more statement.
func withStatement(np policy.Named, st stmt) policy.Named {
	b, _ := json.Marshal(document{Version: "2012-10-17", Statement: []stmt{st}})
	extra := policy.MustParse(string(b))
	p := &policy.Policy{Version: "2012-10-17"}
	if np.Policy != nil {
		p.Version, p.ID = np.Policy.Version, np.Policy.ID
		p.Statements = slices.Clone(np.Policy.Statements)
	}
	s := extra.Statements[0]
	s.Index = len(p.Statements)
	p.Statements = append(p.Statements, s)
	return policy.Named{Name: np.Name, Policy: p}
}

func newPolicy(name string, st stmt) policy.Named {
	return withStatement(policy.Named{Name: name}, st)
}

// identityGrant adds an inline policy to the caller's role or user.
func (f *fixer) identityGrant(actions, resources []string) candidate {
	st := grantStatement(actions, resources)
	entity := f.ev.Caller.ARN
	kind, name := entityName(entity)
	doc := statementJSON(document{Version: "2012-10-17", Statement: []stmt{st}})
	compact, _ := json.Marshal(document{Version: "2012-10-17", Statement: []stmt{st}})
	desc := fmt.Sprintf("allow %s on %s in the caller's identity policy", strings.Join(actions, " and "), strings.Join(resources, " and "))
	if len(resources) > 1 {
		desc += " (every version and alias of the function, and the unqualified call)"
	}
	cli := fmt.Sprintf("aws iam put-%s-policy --%s-name %s --policy-name why-denied-invoke --policy-document '%s'", kind, kind, name, compact)
	return candidate{
		fix: Fix{
			Description:    desc,
			Statement:      doc,
			CLI:            cli,
			CloudFormation: samIdentitySnippet(actions, resources),
		},
		ids:     []string{"identity:" + strings.Join(resources, ",")},
		layers:  []policy.Layer{policy.LayerIdentity},
		finding: f.findingFor(policy.LayerIdentity),
		apply: func(in *policy.Input) {
			in.Identity = append(in.Identity, newPolicy("why-denied-invoke", st))
		},
	}
}

func samIdentitySnippet(actions, resources []string) string {
	var b strings.Builder
	b.WriteString("# AWS SAM: under the calling function's Properties (or the role's Policies)\nPolicies:\n  - Statement:\n      - Effect: Allow\n        Action:\n")
	for _, a := range actions {
		fmt.Fprintf(&b, "          - %s\n", a)
	}
	b.WriteString("        Resource:\n")
	for _, r := range resources {
		fmt.Fprintf(&b, "          - %s\n", samResource(r))
	}
	return strings.TrimRight(b.String(), "\n")
}

// samResource writes a function ARN as a !Sub on the function's logical ID,
// which is how templates name it (the ID is assumed to be the function
// name).
func samResource(arn string) string {
	unq, qual, ok := functionParts(arn)
	if !ok {
		return arn
	}
	name := unq[strings.LastIndexByte(unq, ':')+1:]
	if qual == "" {
		return fmt.Sprintf("!GetAtt %s.Arn   # %s", name, arn)
	}
	return fmt.Sprintf("!Sub \"${%s.Arn}:%s\"   # %s", name, qual, arn)
}

// entityName splits a role or user ARN into "role"/"user" and its name.
func entityName(arn string) (kind, name string) {
	a, ok := policy.ParseARN(arn)
	if !ok {
		return "role", "ROLE_NAME"
	}
	kind, rest, _ := strings.Cut(a.Resource, "/")
	return kind, rest[strings.LastIndexByte(rest, '/')+1:]
}

// resourceGrant adds a statement to the function's resource policy for the
// qualifier called: the role (not a session, whose name changes), or the
// service with the source conditions of the request.
func (f *fixer) resourceGrant(actions []string) candidate {
	req := f.in.Request
	unq, qual, _ := functionParts(req.Resource)
	fnName := unq[strings.LastIndexByte(unq, ':')+1:]
	var principal map[string]any
	var cliPrincipal string
	cond := map[string]any{}
	extra := ""
	if req.Kind() == policy.KindService {
		principal = map[string]any{"Service": req.Principal}
		cliPrincipal = req.Principal
		if v, ok := req.Context.Lookup("aws:SourceArn"); ok && len(v) == 1 {
			cond["ArnLike"] = map[string]any{"AWS:SourceArn": v[0]}
			extra += " --source-arn " + v[0]
		}
		if v, ok := req.Context.Lookup("aws:SourceAccount"); ok && len(v) == 1 {
			cond["StringEquals"] = map[string]any{"AWS:SourceAccount": v[0]}
			extra += " --source-account " + v[0]
		}
	} else {
		who := f.ev.Caller.ARN
		if who == "" {
			who = req.Principal
		}
		principal = map[string]any{"AWS": who}
		cliPrincipal = who
	}
	st := stmt{Sid: "why-denied-invoke", Effect: "Allow", Principal: principal, Action: oneOrMany(actions), Resource: req.Resource}
	if len(cond) > 0 {
		st.Condition = cond
	}
	var cli []string
	for _, a := range actions {
		c := fmt.Sprintf("aws lambda add-permission --function-name %s", fnName)
		if qual != "" {
			c += " --qualifier " + qual
		}
		c += fmt.Sprintf(" --statement-id why-denied-%s --action %s --principal %s%s", strings.ToLower(strings.TrimPrefix(a, "lambda:")), a, cliPrincipal, extra)
		cli = append(cli, c)
	}
	cfn := fmt.Sprintf("# CloudFormation / SAM\nInvokePermission:\n  Type: AWS::Lambda::Permission\n  Properties:\n    FunctionName: %s\n    Action: %s\n    Principal: %s", samResource(req.Resource), actions[0], cliPrincipal)
	if v, ok := req.Context.Lookup("aws:SourceArn"); ok && len(v) == 1 && req.Kind() == policy.KindService {
		cfn += "\n    SourceArn: " + v[0]
	}
	if v, ok := req.Context.Lookup("aws:SourceAccount"); ok && len(v) == 1 && req.Kind() == policy.KindService {
		cfn += "\n    SourceAccount: " + v[0]
	}
	desc := fmt.Sprintf("allow %s to call %s in the function's resource policy", cliPrincipal, strings.Join(actions, " and "))
	if qual != "" {
		desc += " for qualifier " + qual + " (a function's resource policy applies only to the qualifier it was added for)"
	}
	return candidate{
		fix:     Fix{Description: desc, Statement: statementJSON(st), CLI: strings.Join(cli, "\n"), CloudFormation: cfn},
		ids:     []string{"resource"},
		layers:  []policy.Layer{policy.LayerResource},
		finding: f.findingFor(policy.LayerResource),
		apply: func(in *policy.Input) {
			base := policy.Named{Name: "function policy"}
			if in.Resource != nil {
				base = *in.Resource
			}
			n := withStatement(base, st)
			in.Resource = &n
		},
	}
}

// boundaryGrant adds the action on the resource to the permissions boundary.
func (f *fixer) boundaryGrant(actions []string) candidate {
	req := f.in.Request
	st := grantStatement(actions, []string{req.Resource})
	b := f.ev.Caller.PermissionsBoundary
	arn := "BOUNDARY_POLICY_ARN"
	if b != nil && b.ARN != "" {
		arn = b.ARN
	}
	return candidate{
		fix: Fix{
			Description: fmt.Sprintf("allow %s on %s in the permissions boundary %s (a boundary is usually owned by a platform team: check with them)", strings.Join(actions, " and "), req.Resource, arn),
			Statement:   statementJSON(st),
			CLI:         fmt.Sprintf("aws iam create-policy-version --policy-arn %s --set-as-default --policy-document file://boundary-with-statement.json", arn),
		},
		ids:     []string{"boundary"},
		layers:  []policy.Layer{policy.LayerPermissionsBoundary},
		finding: f.findingFor(policy.LayerPermissionsBoundary),
		apply: func(in *policy.Input) {
			if in.PermissionsBoundary != nil {
				n := withStatement(*in.PermissionsBoundary, st)
				in.PermissionsBoundary = &n
			}
		},
	}
}

// sessionGrant: session policies are passed when the session is created.
func (f *fixer) sessionGrant(actions []string) candidate {
	req := f.in.Request
	st := grantStatement(actions, []string{req.Resource})
	return candidate{
		fix: Fix{
			Description: fmt.Sprintf("include %s on %s in the session policy passed to AssumeRole (or GetFederationToken) when the session is created", strings.Join(actions, " and "), req.Resource),
			Statement:   statementJSON(st),
		},
		ids:     []string{"session"},
		layers:  []policy.Layer{policy.LayerSessionPolicy},
		finding: f.findingFor(policy.LayerSessionPolicy),
		apply: func(in *policy.Input) {
			in.SessionPolicies = append(in.SessionPolicies, newPolicy("session policy", st))
		},
	}
}

// denyExceptions narrows every Deny of layer l that matches the request.
func (f *fixer) denyExceptions(l policy.Layer) (candidate, bool) {
	var opts [][]candidate
	lr := f.res.Layer(l)
	for _, st := range lr.Statements {
		if st.Matched && st.Effect == policy.Deny {
			c, ok := f.denyException(l, st)
			if !ok {
				return candidate{}, false
			}
			opts = append(opts, []candidate{c})
		}
	}
	if len(opts) == 0 {
		return candidate{}, false
	}
	return combine(opts)[0], true
}

// denyException narrows a matching Deny so that it no longer applies to
// this caller. A Deny is usually deliberate: the fix says so.
func (f *fixer) denyException(layer policy.Layer, st policy.StatementTrace) (candidate, bool) {
	if layer == policy.LayerSCP || layer == policy.LayerRCP {
		return candidate{}, false
	}
	who := f.ev.Caller.ARN
	key, op := "aws:PrincipalArn", "ArnNotEquals"
	if f.in.Request.Kind() == policy.KindService {
		who, key, op = f.in.Request.Principal, "aws:PrincipalServiceName", "StringNotEquals"
	}
	if who == "" {
		return candidate{}, false
	}
	name := st.Policy
	idx := st.PolicyIndex
	stmt := st.Statement
	id := fmt.Sprintf("deny:%s:%d:%d", layer, idx, stmt)
	desc := fmt.Sprintf("the Deny in %q statement %d looks deliberate: only if its owner agrees that %s should be exempt, add the condition %s %s to it", name, stmt, who, op, key)
	return candidate{
		fix: Fix{
			Description: desc,
			Statement:   statementJSON(map[string]any{"Condition": map[string]any{op: map[string]any{key: who}}}),
			Caveat:      "exempting the caller from this Deny statement exempts it for everything the statement covers, not only this call",
		},
		ids:     []string{id},
		widens:  true,
		layers:  []policy.Layer{layer},
		finding: f.findingFor(layer),
		apply: func(in *policy.Input) {
			edit := func(np *policy.Named) {
				if np == nil || np.Policy == nil || stmt >= len(np.Policy.Statements) {
					return
				}
				p := *np.Policy
				p.Statements = slices.Clone(p.Statements)
				s := p.Statements[stmt]
				s.Conditions = append(slices.Clone(s.Conditions), policy.Condition{Operator: op, Key: key, Values: []string{who}})
				p.Statements[stmt] = s
				np.Policy = &p
			}
			switch layer {
			case policy.LayerIdentity:
				if idx < len(in.Identity) {
					edit(&in.Identity[idx])
				}
			case policy.LayerResource:
				edit(in.Resource)
			case policy.LayerPermissionsBoundary:
				edit(in.PermissionsBoundary)
			case policy.LayerSessionPolicy:
				if idx < len(in.SessionPolicies) {
					edit(&in.SessionPolicies[idx])
				}
			}
		},
	}, true
}
