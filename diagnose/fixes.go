package diagnose

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// candidate is a proposed fix, made of changes to the evidence, checked
// before it is shown.
type candidate struct {
	// ids name the elementary changes the candidate is made of; a candidate
	// that contains every change of one already shown is not shown.
	ids []string
	// widens: the change may open more than the request (narrowing a Deny
	// exempts the caller from all of it); the probes then describe what
	// else opens instead of rejecting the fix.
	widens  bool
	fix     Fix
	finding int // index of the finding it belongs to
}

// maxFixesPerFinding keeps the output short: the first (narrowest) fixes.
const maxFixesPerFinding = 3

// proposeFixes attaches verified fixes to the findings of a denied verdict.
// Every candidate is applied to a copy of the evidence (ApplyChanges) and
// the copy diagnosed again: a fix is shown only if the request becomes
// allowed, and only if the same change does not also allow a call to
// another function or another action that was denied before (it grants
// nothing beyond the request).
func proposeFixes(ev *Evidence, in *policy.Input, res *policy.Result, v *Verdict) {
	if v.Decision == policy.Allowed {
		return
	}
	localBlocked := policy.Evaluate(in).BlockedBy
	// Layers only the simulator saw blocking (SCPs whose documents were not
	// read, say) cannot be fixed by a change elsewhere.
	var simOnly []policy.Layer
	for _, l := range v.BlockedBy {
		if !slices.Contains(localBlocked, l) {
			simOnly = append(simOnly, l)
		}
	}
	fx := fixer{ev: ev, in: in, res: res, v: v}
	var shown [][]string
	for _, c := range fx.candidates() {
		if c.finding < 0 || len(v.Findings[c.finding].Fixes) >= maxFixesPerFinding {
			continue
		}
		if containsAll(c.ids, shown) || !fx.verify(&c, simOnly) {
			continue
		}
		shown = append(shown, c.ids)
		c.fix.Verified = true
		v.Findings[c.finding].Fixes = append(v.Findings[c.finding].Fixes, c.fix)
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

// findingFor returns the index of the first blocking finding about layer l.
func (f *fixer) findingFor(l policy.Layer) int {
	for i, fd := range f.v.Findings {
		if fd.Layer == l && fd.Severity == SeverityBlocking {
			return i
		}
	}
	return -1
}

// candidates lists the fixes to try, least privilege first: one option per
// blocking layer, combined when several layers block.
func (f *fixer) candidates() []candidate {
	req := f.in.Request
	unq, qual, isFn := functionParts(req.Resource)
	actions := []string{req.Action}
	if strings.EqualFold(req.Action, "lambda:InvokeFunctionUrl") {
		actions = append(actions, "lambda:InvokeFunction")
	}
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
				if c, ok := f.identityGrant(actions, rs); ok {
					grants = append(grants, c)
				}
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
				c := candidate{
					finding: acc.finding,
					ids:     append(slices.Clone(acc.ids), o.ids...),
					widens:  acc.widens || o.widens,
					fix:     mergeFix(acc.fix, o.fix),
				}
				if c.finding < 0 {
					c.finding = o.finding
				}
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
	join := func(x, y, sep string) string {
		if x == "" || y == "" {
			return x + y
		}
		return x + sep + y
	}
	return Fix{
		Description:    a.Description + "; and " + b.Description,
		Caveat:         join(a.Caveat, b.Caveat, "; "),
		Statement:      join(a.Statement, b.Statement, "\n"),
		CLI:            join(a.CLI, b.CLI, "\n"),
		CloudFormation: join(a.CloudFormation, b.CloudFormation, "\n"),
		Changes:        append(slices.Clone(a.Changes), b.Changes...),
	}
}

// verify applies the fix to a copy of the evidence and checks that the
// request is allowed, and that another function and another action that
// were denied stay denied.
func (f *fixer) verify(c *candidate, simOnly []policy.Layer) bool {
	for _, l := range simOnly {
		if !slices.ContainsFunc(c.fix.Changes, func(ch Change) bool { return ch.Layer == l }) {
			return false
		}
	}
	fixedEv, err := ApplyChanges(f.ev, c.fix.Changes)
	if err != nil {
		return false
	}
	after, err := buildInput(fixedEv)
	if err != nil || policy.Evaluate(after).Decision != policy.Allowed {
		return false
	}
	for _, probe := range probes(f.in.Request) {
		before := *f.in
		before.Request = probe
		fixed := *after
		fixed.Request = probe
		if policy.Evaluate(&before).Decision != policy.Allowed && policy.Evaluate(&fixed).Decision == policy.Allowed {
			if !c.widens {
				return false
			}
			c.fix.Caveat = strings.TrimPrefix(c.fix.Caveat+fmt.Sprintf("; it would also allow %s on %s", probe.Action, probe.Resource), "; ")
		}
	}
	return true
}

// probes are requests a fix must not newly allow: another function in the
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
	return append(out, write)
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

func indented(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func compact(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
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

// fixPolicyName is the name of the inline policy a fix adds.
const fixPolicyName = "why-denied-invoke"

// identityGrant adds an inline policy to the caller's role or user.
func (f *fixer) identityGrant(actions, resources []string) (candidate, bool) {
	entity := f.ev.Caller.ARN
	if entity == "" {
		return candidate{}, false
	}
	st := grantStatement(actions, resources)
	doc := document{Version: "2012-10-17", Statement: []stmt{st}}
	kind, name := entityName(entity)
	desc := fmt.Sprintf("allow %s on %s in the caller's identity policy", strings.Join(actions, " and "), strings.Join(resources, " and "))
	if len(resources) > 1 {
		desc += " (every version and alias of the function, and the unqualified call)"
	}
	return candidate{
		ids: []string{"identity:" + strings.Join(resources, ",")},
		fix: Fix{
			Description:    desc,
			Statement:      indented(doc),
			CLI:            fmt.Sprintf("aws iam put-%s-policy --%s-name %s --policy-name %s --policy-document '%s'", kind, kind, name, fixPolicyName, compact(doc)),
			CloudFormation: samIdentitySnippet(actions, resources),
			Changes:        []Change{{Layer: policy.LayerIdentity, Kind: addStatement, Policy: fixPolicyName, Document: compact(st)}},
		},
		finding: f.findingFor(policy.LayerIdentity),
	}, true
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

// samResource writes a function ARN as a !GetAtt or !Sub on the function's
// logical ID, as templates name it (the ID is taken to be the function name;
// the literal ARN follows as a comment).
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
// qualifier called: to the role (not the session, whose name changes), or
// to the service with the request's source conditions.
func (f *fixer) resourceGrant(actions []string) candidate {
	req := f.in.Request
	unq, qual, _ := functionParts(req.Resource)
	fnName := unq[strings.LastIndexByte(unq, ':')+1:]
	service := req.Kind() == policy.KindService
	who := req.Principal
	var principal map[string]any
	cond := map[string]any{}
	var extra, cfnExtra string
	if service {
		principal = map[string]any{"Service": who}
		if v, ok := req.Context.Lookup("aws:SourceArn"); ok && len(v) == 1 {
			cond["ArnLike"] = map[string]any{"AWS:SourceArn": v[0]}
			extra += " --source-arn " + v[0]
			cfnExtra += "\n    SourceArn: " + v[0]
		}
		if v, ok := req.Context.Lookup("aws:SourceAccount"); ok && len(v) == 1 {
			cond["StringEquals"] = map[string]any{"AWS:SourceAccount": v[0]}
			extra += " --source-account " + v[0]
			cfnExtra += "\n    SourceAccount: " + v[0]
		}
	} else {
		if f.ev.Caller.ARN != "" {
			who = f.ev.Caller.ARN
		}
		principal = map[string]any{"AWS": who}
	}
	st := stmt{Sid: fixPolicyName, Effect: "Allow", Principal: principal, Action: oneOrMany(actions), Resource: req.Resource}
	if len(cond) > 0 {
		st.Condition = cond
	}
	var cli []string
	for _, a := range actions {
		c := "aws lambda add-permission --function-name " + fnName
		if qual != "" {
			c += " --qualifier " + qual
		}
		c += fmt.Sprintf(" --statement-id why-denied-%s --action %s --principal %s%s", strings.ToLower(strings.TrimPrefix(a, "lambda:")), a, who, extra)
		cli = append(cli, c)
	}
	cfn := fmt.Sprintf("# CloudFormation / SAM\nInvokePermission:\n  Type: AWS::Lambda::Permission\n  Properties:\n    FunctionName: %s\n    Action: %s\n    Principal: %s%s", samResource(req.Resource), actions[0], who, cfnExtra)
	desc := fmt.Sprintf("allow %s to call %s in the function's resource policy", who, strings.Join(actions, " and "))
	if qual != "" {
		desc += " for qualifier " + qual + " (a function's resource policy applies only to the qualifier it was added for)"
	}
	name := "function policy"
	if f.ev.Target.ResourcePolicy != nil {
		name = f.ev.Target.ResourcePolicy.Name
	}
	return candidate{
		ids:     []string{"resource"},
		fix:     Fix{Description: desc, Statement: indented(st), CLI: strings.Join(cli, "\n"), CloudFormation: cfn, Changes: []Change{{Layer: policy.LayerResource, Kind: addStatement, Policy: name, Document: compact(st)}}},
		finding: f.findingFor(policy.LayerResource),
	}
}

// boundaryGrant adds the action on the resource to the permissions boundary.
func (f *fixer) boundaryGrant(actions []string) candidate {
	req := f.in.Request
	st := grantStatement(actions, []string{req.Resource})
	arn, name := "BOUNDARY_POLICY_ARN", ""
	if b := f.ev.Caller.PermissionsBoundary; b != nil {
		name = b.Name
		if b.ARN != "" {
			arn = b.ARN
		}
	}
	return candidate{
		ids: []string{"boundary"},
		fix: Fix{
			Description: fmt.Sprintf("allow %s on %s in the permissions boundary %s (boundaries are usually owned by a platform team: check with them)", strings.Join(actions, " and "), req.Resource, arn),
			Statement:   indented(st),
			CLI:         fmt.Sprintf("aws iam create-policy-version --policy-arn %s --set-as-default --policy-document file://boundary-with-the-statement.json", arn),
			Changes:     []Change{{Layer: policy.LayerPermissionsBoundary, Kind: addStatement, Policy: name, Document: compact(st)}},
		},
		finding: f.findingFor(policy.LayerPermissionsBoundary),
	}
}

// sessionGrant: session policies are passed when the session is created.
func (f *fixer) sessionGrant(actions []string) candidate {
	req := f.in.Request
	st := grantStatement(actions, []string{req.Resource})
	return candidate{
		ids: []string{"session"},
		fix: Fix{
			Description: fmt.Sprintf("include %s on %s in the session policy passed to AssumeRole (or GetFederationToken) when the session is created", strings.Join(actions, " and "), req.Resource),
			Statement:   indented(st),
			Changes:     []Change{{Layer: policy.LayerSessionPolicy, Kind: addStatement, Policy: "session policy", Document: compact(st)}},
		},
		finding: f.findingFor(policy.LayerSessionPolicy),
	}
}

// denyExceptions narrows every Deny of layer l that matches the request.
func (f *fixer) denyExceptions(l policy.Layer) (candidate, bool) {
	var opts [][]candidate
	for _, st := range f.res.Layer(l).Statements {
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

// denyException exempts the caller from a matching Deny with a condition.
// A Deny is usually deliberate: the fix says so, and what else the
// exemption opens.
func (f *fixer) denyException(layer policy.Layer, st policy.StatementTrace) (candidate, bool) {
	if layer == policy.LayerSCP || layer == policy.LayerRCP {
		return candidate{}, false
	}
	who, key, op := f.ev.Caller.ARN, "aws:PrincipalArn", "ArnNotEquals"
	if f.in.Request.Kind() == policy.KindService {
		who, key, op = f.in.Request.Principal, "aws:PrincipalServiceName", "StringNotEquals"
	}
	if who == "" {
		return candidate{}, false
	}
	cond := map[string]any{op: map[string]any{key: who}}
	return candidate{
		ids:    []string{fmt.Sprintf("deny:%s:%s:%d", layer, st.Policy, st.Statement)},
		widens: true,
		fix: Fix{
			Description: fmt.Sprintf("the Deny in %q statement %d looks deliberate: only if its owner agrees that %s should be exempt, add the condition %s %s to it", st.Policy, st.Statement, who, op, key),
			Statement:   indented(map[string]any{"Condition": cond}),
			Caveat:      "exempting the caller from this Deny statement exempts it from everything the statement covers, not only this call",
			Changes:     []Change{{Layer: layer, Kind: addCondition, Policy: st.Policy, Statement: st.Statement, Document: compact(cond)}},
		},
		finding: f.findingFor(layer),
	}, true
}
