package diagnose

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/fixtext"
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
	widens bool
	// descriptions, caveats, commands and snippets of the parts, in order.
	descriptions, caveats, cli, cfn []string
	changes                         []evidence.Change
	finding                         int // index of the finding it belongs to
}

// maxFixesPerFinding keeps the output short: the first (narrowest) fixes.
const maxFixesPerFinding = 3

// proposeFixes attaches verified fixes to the findings of a denied verdict.
// Every candidate is applied to a copy of the evidence (evidence.Apply) and
// the copy decided again the same way the request was: a fix is shown only
// if the request becomes allowed, and only if the same change does not also
// allow a call to another function or another action that was denied
// before (it grants nothing beyond the request).
func (d *diagnosis) proposeFixes(in *policy.Input, base *outcome, v *Verdict) {
	// Layers that block only by what the simulator or a pasted message says
	// (SCPs whose documents were not read, say) cannot be fixed by a change
	// elsewhere: a fix must change them, and none can.
	var local []policy.Layer
	for _, l := range base.legs {
		local = append(local, l.res.BlockedBy...)
	}
	var unfixable []policy.Layer
	for _, l := range v.BlockedBy {
		if !slices.Contains(local, l) {
			unfixable = append(unfixable, l)
		}
	}
	if len(unfixable) > 0 {
		// A block the tool's own evaluation does not see cannot be lifted
		// by a change the tool could check: the verdict names whose word
		// it is (the simulator's, a pasted message's) instead.
		return
	}
	fx := fixer{d: d, in: in, base: base, v: v}
	var shown [][]string
	for _, c := range fx.candidates() {
		if c.finding < 0 || len(v.Findings[c.finding].Fixes) >= maxFixesPerFinding {
			continue
		}
		if containsAll(c.ids, shown) || !fx.verify(&c, unfixable) {
			continue
		}
		fix, err := fx.write(c)
		if err != nil {
			continue
		}
		shown = append(shown, c.ids)
		v.Findings[c.finding].Fixes = append(v.Findings[c.finding].Fixes, fix)
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
	d    *diagnosis
	in   *policy.Input
	base *outcome
	v    *Verdict
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

// actionsFor are the actions layer l does not allow: those of the checks it
// blocks (a function URL call has two).
func (f *fixer) actionsFor(l policy.Layer) []string {
	var out []string
	for _, lg := range f.base.legs {
		if slices.Contains(lg.blockedBy, l) {
			out = append(out, lg.action)
		}
	}
	if len(out) == 0 {
		for _, lg := range f.base.legs {
			out = append(out, lg.action)
		}
	}
	return out
}

// candidates lists the fixes to try, least privilege first: one option per
// blocking layer, combined when several layers block.
func (f *fixer) candidates() []candidate {
	req := f.in.Request
	unq, qual, isFn := arn.Function(req.Resource)
	var parts [][]candidate
	for _, l := range f.v.BlockedBy {
		actions := f.actionsFor(l)
		var grants []candidate
		switch l {
		case policy.LayerIdentity:
			if f.conditionsOnly(l) {
				break
			}
			resources := [][]string{{req.Resource}}
			if isFn && qual != "" {
				resources = append(resources, []string{unq, unq + ":*"})
			}
			for _, rs := range resources {
				if c, ok := f.identityGrant(actions, rs); ok {
					grants = append(grants, c)
				}
			}
			grants = append(grants, f.versionGrants(l)...)
		case policy.LayerResource:
			// A service's grant carries the request's own source; any other
			// grant without the conditions a statement set (an
			// organization, an address range) would drop them.
			if f.in.Request.Kind() != policy.KindService && f.conditionsOnly(l) {
				break
			}
			if c, ok := f.resourceGrant(actions); ok {
				grants = append(grants, c)
			}
		case policy.LayerPermissionsBoundary:
			if !f.conditionsOnly(l) {
				grants = append(grants, f.boundaryGrant(actions))
				grants = append(grants, f.versionGrants(l)...)
			}
		case policy.LayerSessionPolicy:
			if !f.conditionsOnly(l) {
				grants = append(grants, f.sessionGrant(actions))
			}
		case policy.LayerSCP:
			if !f.layerDenies(l) {
				if c, ok := f.scpAllow(actions); ok {
					grants = append(grants, c)
				}
			}
		}
		if f.deniedUnseen(l) {
			// A Deny only the simulator saw: no change the tool can check
			// would lift it.
			return nil
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
			// RCPs, SCPs the tool could not place, and a grant that would
			// drop a condition the policies set: no change is proposed.
			return nil
		}
		parts = append(parts, opts)
	}
	if len(parts) == 0 {
		return nil
	}
	return combine(parts)
}

// conditionsOnly reports whether a statement of layer l covers the call's
// action and resource and fails only on its conditions: a grant without
// them would remove a guardrail the user did not ask about (a source IP
// range, a tag), so none is proposed; the finding names the condition.
func (f *fixer) conditionsOnly(l policy.Layer) bool {
	for _, lg := range f.base.legs {
		lr := lg.res.Layer(l)
		if lr == nil {
			continue
		}
		for _, st := range lr.Statements {
			if st.Effect != policy.Allow || st.Matched || len(st.Failures) == 0 {
				continue
			}
			if !slices.ContainsFunc(st.Failures, func(m policy.Mismatch) bool { return m.Element != policy.ElemCondition }) {
				return true
			}
		}
	}
	return false
}

// deniedUnseen reports whether layer l denies explicitly by what the
// simulator or a message says, in no statement the tool read.
func (f *fixer) deniedUnseen(l policy.Layer) bool {
	for _, lg := range f.base.legs {
		if o := lg.outcome(l); o.Applies && o.Denies {
			if lr := lg.res.Layer(l); lr == nil || !lr.Denies {
				return true
			}
		}
	}
	return false
}

func (f *fixer) layerDenies(l policy.Layer) bool {
	for _, lg := range f.base.legs {
		if lr := lg.res.Layer(l); lr != nil && lr.Applies && lr.Denies {
			return true
		}
	}
	return false
}

// combine builds the cartesian product of per-layer options, in order.
func combine(parts [][]candidate) []candidate {
	out := []candidate{{finding: -1}}
	for _, opts := range parts {
		var next []candidate
		for _, acc := range out {
			for _, o := range opts {
				c := candidate{
					finding:      acc.finding,
					ids:          append(slices.Clone(acc.ids), o.ids...),
					widens:       acc.widens || o.widens,
					descriptions: append(slices.Clone(acc.descriptions), o.descriptions...),
					caveats:      append(slices.Clone(acc.caveats), o.caveats...),
					cli:          append(slices.Clone(acc.cli), o.cli...),
					cfn:          append(slices.Clone(acc.cfn), o.cfn...),
					changes:      append(slices.Clone(acc.changes), o.changes...),
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

// write turns a verified candidate into the Fix the user reads.
func (f *fixer) write(c candidate) (Fix, error) {
	docs, err := evidence.Changed(f.d.ev, c.changes)
	if err != nil {
		return Fix{}, err
	}
	shown, err := json.MarshalIndent(docs, "", "  ")
	if err != nil {
		return Fix{}, err
	}
	return Fix{
		Description:    strings.Join(c.descriptions, "; and "),
		Statement:      string(shown),
		CLI:            strings.Join(c.cli, "\n"),
		CloudFormation: strings.Join(c.cfn, "\n"),
		Caveat:         strings.Join(c.caveats, "; "),
		Changes:        c.changes,
		Verified:       true,
	}, nil
}

// verify applies the fix to a copy of the evidence and checks that the
// request is allowed, decided as the request itself was (every check of
// the call, the message's word on layers the tool cannot read, unreadable
// layers settled), and that another function and another action that were
// denied stay denied.
func (f *fixer) verify(c *candidate, unfixable []policy.Layer) bool {
	for _, l := range unfixable {
		if !slices.ContainsFunc(c.changes, func(ch evidence.Change) bool { return ch.Layer == l }) {
			return false
		}
	}
	fixedEv, err := evidence.Apply(f.d.ev, c.changes)
	if err != nil {
		return false
	}
	after, err := buildInput(fixedEv, f.d.now, f.d.docs)
	if err != nil {
		return false
	}
	// The simulator's answer still holds for a change to layers it does
	// not cover (the resource policy, a session policy); a change to the
	// identity side, the boundary or an SCP is the tool's to judge, and
	// then the identity and boundary policies the tool could not read are
	// unknown again, unless the simulator found no Deny in them.
	check := *f.d
	check.ev = fixedEv
	if slices.ContainsFunc(c.changes, func(ch evidence.Change) bool { return simulatedLayer(ch.Layer) }) {
		check.sim = nil
		check.unknown = check.unknownLayers()
		if sim := f.d.ev.Simulation; sim != nil && sim.Decision != string(policy.ExplicitDeny) {
			check.unknown = slices.DeleteFunc(check.unknown, func(l policy.Layer) bool { return l == policy.LayerIdentity })
		}
	}
	if decision, _, _ := check.decide(after); decision != policy.Allowed {
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
			c.caveats = append(c.caveats, fmt.Sprintf("it would also allow %s on %s", probe.Action, probe.Resource))
		}
	}
	return true
}

// probes are requests a fix must not newly allow: another function in the
// same account and region, and an action that changes the function.
func probes(req policy.Request) []policy.Request {
	var out []policy.Request
	if unq, _, ok := arn.Function(req.Resource); ok {
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
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
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

// fixName names what a fix adds (inline policy, statement ID) after the
// function and qualifier it grants, so that fixes for different targets do
// not overwrite each other: IAM names take [A-Za-z0-9+=,.@_-], up to 128.
func fixName(resource string, suffix ...string) string {
	_, qual, _ := arn.Function(resource)
	name := "why-denied-" + arn.FunctionName(resource)
	if qual != "" {
		name += "-" + qual
	}
	for _, s := range suffix {
		name += "-" + s
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("+=,.@_-", r):
			return r
		}
		return '-'
	}, name)
	return clean[:min(len(clean), 100)]
}

// accountNote says in which account a command is to be run, when the call
// crosses accounts.
func (f *fixer) accountNote(account, side string) string {
	if !f.base.legs[0].res.CrossAccount {
		return ""
	}
	return fixtext.AccountNote(account, side)
}

// identityGrant adds the statement to an inline policy of the caller's role
// or user, named after the target. If the caller already has an inline
// policy of that name (an earlier fix), the statement is added to it: the
// put command replaces the whole document, so it carries the old
// statements too.
func (f *fixer) identityGrant(actions, resources []string) (candidate, bool) {
	ev := f.d.ev
	kind, name, ok := arn.Entity(ev.Caller.ARN)
	if !ok {
		return candidate{}, false
	}
	st := grantStatement(actions, resources)
	policyName := fixName(f.in.Request.Resource)
	change := evidence.Change{Layer: policy.LayerIdentity, Kind: evidence.AddStatement, Policy: policyName, Document: compact(st)}
	docs, err := evidence.Changed(ev, []evidence.Change{change})
	if err != nil || len(docs) != 1 {
		return candidate{}, false
	}
	desc := fmt.Sprintf("allow %s on %s in the caller's identity policy", strings.Join(actions, " and "), strings.Join(resources, " and "))
	if len(resources) > 1 {
		desc += " (every version and alias of the function, and the unqualified call)"
	}
	if slices.ContainsFunc(ev.Caller.IdentityPolicies, func(p evidence.NamedPolicy) bool { return p.Name == policyName && p.ARN == "" }) {
		desc += fmt.Sprintf(" (added to its existing inline policy %s, whose statements the command keeps)", policyName)
	}
	c := candidate{
		ids:          []string{"identity:" + strings.Join(resources, ",")},
		descriptions: []string{desc},
		cli:          []string{f.accountNote(ev.Caller.Account, "caller's") + fixtext.PutPolicy(kind, name, policyName, string(docs[0]))},
		cfn:          []string{fixtext.IdentitySnippet(kind, policyName, actions, resources)},
		changes:      []evidence.Change{change},
		finding:      f.findingFor(policy.LayerIdentity),
	}
	if strings.HasPrefix(name, "AWSReservedSSO_") {
		c.caveats = append(c.caveats, "this role is provisioned by IAM Identity Center: add the statement to the permission set's inline policy (aws sso-admin put-inline-policy-to-permission-set, then provision-permission-set); a change to the role itself is overwritten")
	}
	return c, true
}

// resourceGrant adds statements to the function's resource policy for the
// qualifier called, one per action as lambda add-permission writes them: to
// the role (not the session, whose name changes), to "*" for an anonymous
// function URL call, or to the service with the request's source
// conditions. A service without a known source gets no fix: a grant to a
// service without SourceArn or SourceAccount lets any account's resources
// of that service invoke the function.
func (f *fixer) resourceGrant(actions []string) (candidate, bool) {
	ev := f.d.ev
	req := f.in.Request
	unq, qual, _ := arn.Function(req.Resource)
	if qual == "$LATEST" {
		// "Lambda does not support adding policies to version $LATEST."
		return candidate{}, false
	}
	kind := req.Kind()
	service := kind == policy.KindService
	who := req.Principal
	switch {
	case kind == policy.KindAnonymous && f.d.unsignedToIAMURL():
		// No grant lets an unsigned request through an AWS_IAM URL; a
		// public grant there would open it to every signed caller.
		return candidate{}, false
	case kind == policy.KindAnonymous:
		who = "*"
	case !service && ev.Caller.ARN != "":
		who = ev.Caller.ARN
	}
	sourceArn, hasArn := single(req.Context, "aws:SourceArn")
	sourceAccount, hasAccount := single(req.Context, "aws:SourceAccount")
	if service && !hasArn && !hasAccount {
		return candidate{}, false
	}
	viaURL := isURLCall(req.Action)
	name := "function policy"
	if ev.Target.ResourcePolicy != nil {
		name = ev.Target.ResourcePolicy.Name
	}
	c := candidate{ids: []string{"resource"}, finding: f.findingFor(policy.LayerResource)}
	var cli []string
	for _, a := range actions {
		perm := fixtext.Permission{
			Function: arn.FunctionName(req.Resource), FunctionARN: unq, Qualifier: qual,
			StatementID: fixName(req.Resource, strings.ToLower(strings.TrimPrefix(a, "lambda:"))),
			Action:      a, Principal: who,
		}
		st := stmt{Sid: perm.StatementID, Effect: "Allow", Action: a, Resource: req.Resource}
		switch {
		case who == "*":
			st.Principal = "*"
		case service:
			st.Principal = map[string]any{"Service": who}
		default:
			st.Principal = map[string]any{"AWS": who}
		}
		cond := map[string]any{}
		stringEquals := map[string]any{}
		if hasArn {
			cond["ArnLike"] = map[string]any{"AWS:SourceArn": sourceArn}
			perm.SourceArn = sourceArn
		}
		if hasAccount {
			stringEquals["AWS:SourceAccount"] = sourceAccount
			perm.SourceAccount = sourceAccount
		}
		if viaURL && strings.EqualFold(a, actionInvokeURL) {
			perm.FunctionURLAuthType = cmp.Or(ev.Target.FunctionURLAuthType, "AWS_IAM")
			stringEquals["lambda:FunctionUrlAuthType"] = perm.FunctionURLAuthType
		}
		if viaURL && strings.EqualFold(a, actionInvoke) {
			cond["Bool"] = map[string]any{"lambda:InvokedViaFunctionUrl": "true"}
			perm.InvokedViaFunctionURL = true
		}
		if len(stringEquals) > 0 {
			cond["StringEquals"] = stringEquals
		}
		if len(cond) > 0 {
			st.Condition = cond
		}
		cli = append(cli, fixtext.AddPermission(perm))
		c.cfn = append(c.cfn, fixtext.PermissionSnippet(perm))
		c.changes = append(c.changes, evidence.Change{Layer: policy.LayerResource, Kind: evidence.AddStatement, Policy: name, Document: compact(st)})
	}
	desc := fmt.Sprintf("allow %s to call %s in the function's resource policy", who, strings.Join(actions, " and "))
	if who == "*" {
		desc = fmt.Sprintf("allow anyone (Principal \"*\") to call %s through the function URL in the function's resource policy", strings.Join(actions, " and "))
		c.caveats = append(c.caveats, "the function URL's auth type is NONE: this grant is what makes it callable by anyone, without credentials")
	}
	if qual != "" {
		desc += " for qualifier " + qual + " (a function's resource policy applies only to the qualifier it was added for)"
	}
	c.descriptions = []string{desc}
	c.cli = []string{f.accountNote(ev.Target.Account, "function's") + strings.Join(cli, "\n")}
	return c, true
}

func single(ctx policy.Context, key string) (string, bool) {
	v, ok := ctx.Lookup(key)
	if !ok || len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

// boundaryGrant adds the action on the resource to the permissions boundary.
func (f *fixer) boundaryGrant(actions []string) candidate {
	req := f.in.Request
	st := grantStatement(actions, []string{req.Resource})
	policyARN, name := "BOUNDARY_POLICY_ARN", ""
	if b := f.d.ev.Caller.PermissionsBoundary; b != nil {
		name = b.Name
		if b.ARN != "" {
			policyARN = b.ARN
		}
	}
	return candidate{
		ids:          []string{"boundary"},
		descriptions: []string{fmt.Sprintf("allow %s on %s in the permissions boundary %s (boundaries are usually owned by a platform team: check with them; write the boundary's document with the statement added, shown above, to the file, and note that a managed policy keeps at most 5 versions)", strings.Join(actions, " and "), req.Resource, policyARN)},
		cli:          []string{fixtext.CreatePolicyVersion(policyARN, "boundary-with-the-statement.json")},
		changes:      []evidence.Change{{Layer: policy.LayerPermissionsBoundary, Kind: evidence.AddStatement, Policy: name, Document: compact(st)}},
		finding:      f.findingFor(policy.LayerPermissionsBoundary),
	}
}

// sessionGrant: session policies are passed when the session is created.
func (f *fixer) sessionGrant(actions []string) candidate {
	req := f.in.Request
	st := grantStatement(actions, []string{req.Resource})
	return candidate{
		ids:          []string{"session"},
		descriptions: []string{fmt.Sprintf("include %s on %s in the session policy passed to AssumeRole (or GetFederationToken) when the session is created", strings.Join(actions, " and "), req.Resource)},
		changes:      []evidence.Change{{Layer: policy.LayerSessionPolicy, Kind: evidence.AddStatement, Policy: "session policy", Document: compact(st)}},
		finding:      f.findingFor(policy.LayerSessionPolicy),
	}
}

// maxExemptions is how many matching Deny statements a fix may exempt the
// caller from: beyond that, exempting it is no narrow change but a new
// policy, which the verdict leaves to the Denies' owners.
const maxExemptions = 5

// denyExceptions narrows every Deny of layer l that matches the request.
func (f *fixer) denyExceptions(l policy.Layer) (candidate, bool) {
	var opts [][]candidate
	seen := map[string]bool{}
	for _, lg := range f.base.legs {
		lr := lg.res.Layer(l)
		if lr == nil {
			continue
		}
		for _, st := range lr.Statements {
			// SCP names repeat across levels: the level and the place in
			// it tell them apart.
			key := fmt.Sprintf("%s/%d/%d/%d", st.Policy, st.Level, st.PolicyIndex, st.Statement)
			if !st.Matched || st.Effect != policy.Deny || seen[key] {
				continue
			}
			seen[key] = true
			if len(seen) > maxExemptions {
				return candidate{}, false
			}
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
	if layer == policy.LayerSCP {
		return f.scpException(st)
	}
	if layer == policy.LayerRCP {
		return candidate{}, false
	}
	who, key, op := f.d.ev.Caller.ARN, "aws:PrincipalArn", "ArnNotEquals"
	if f.in.Request.Kind() == policy.KindService {
		who, key, op = f.in.Request.Principal, "aws:PrincipalServiceName", "StringNotEquals"
	}
	if who == "" {
		return candidate{}, false
	}
	cond := map[string]any{op: map[string]any{key: who}}
	return candidate{
		ids:          []string{fmt.Sprintf("deny:%s:%s:%d", layer, st.Policy, st.Statement)},
		widens:       true,
		descriptions: []string{fmt.Sprintf("the Deny in %q statement %d looks deliberate: only if its owner agrees that %s should be exempt, add the condition %s %s to it", st.Policy, st.Statement, who, op, key)},
		caveats:      []string{"exempting the caller from this Deny statement exempts it from everything the statement covers, not only this call"},
		changes:      []evidence.Change{{Layer: layer, Kind: evidence.AddCondition, Policy: st.Policy, Statement: st.Statement, Document: compact(cond)}},
		finding:      f.findingFor(layer),
	}, true
}
