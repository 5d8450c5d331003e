package diagnose

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
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
// Every candidate is applied to a copy of the evidence (evidence.Apply) and
// the copy diagnosed again: a fix is shown only if the request becomes
// allowed, and only if the same change does not also allow a call to
// another function or another action that was denied before (it grants
// nothing beyond the request).
func proposeFixes(ev *evidence.Evidence, in *policy.Input, res *policy.Result, v *Verdict) {
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
	ev  *evidence.Evidence
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
			if c, ok := f.resourceGrant(actions); ok {
				grants = append(grants, c)
			}
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
		Statement:      "[\n" + a.Statement + ",\n" + b.Statement + "\n]",
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
		if !slices.ContainsFunc(c.fix.Changes, func(ch evidence.Change) bool { return ch.Layer == l }) {
			return false
		}
	}
	fixedEv, err := evidence.Apply(f.ev, c.fix.Changes)
	if err != nil {
		return false
	}
	after, err := buildInput(fixedEv)
	if err != nil || policy.Evaluate(after).Decision != policy.Allowed || functionURLCheck(after) != nil {
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

// fixName names what a fix adds (inline policy, statement ID) after the
// function and qualifier it grants, so that fixes for different targets do
// not overwrite each other: IAM names take [A-Za-z0-9+=,.@_-], up to 128.
func fixName(resource string, suffix ...string) string {
	unq, qual, _ := functionParts(resource)
	name := "why-denied-" + unq[strings.LastIndexByte(unq, ':')+1:]
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
	if !f.res.CrossAccount || account == "" {
		return ""
	}
	return fmt.Sprintf("# with credentials of account %s (the %s)\n", account, side)
}

// shellQuote quotes an argument for a POSIX shell when it needs it ($LATEST,
// spaces ...).
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":/._-=,@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// identityGrant adds the statement to an inline policy of the caller's role
// or user, named after the target. If the caller already has an inline
// policy of that name (an earlier fix), the statement is added to it: the
// put command replaces the whole document, so it carries the old
// statements too.
func (f *fixer) identityGrant(actions, resources []string) (candidate, bool) {
	entity := f.ev.Caller.ARN
	if entity == "" {
		return candidate{}, false
	}
	st := grantStatement(actions, resources)
	policyName := fixName(f.in.Request.Resource)
	full, err := withExistingStatements(f.ev.Caller.IdentityPolicies, policyName, st)
	if err != nil {
		return candidate{}, false
	}
	kind, name := entityName(entity)
	desc := fmt.Sprintf("allow %s on %s in the caller's identity policy", strings.Join(actions, " and "), strings.Join(resources, " and "))
	if len(resources) > 1 {
		desc += " (every version and alias of the function, and the unqualified call)"
	}
	if len(full) > len(compact(document{Version: "2012-10-17", Statement: []stmt{st}})) {
		desc += fmt.Sprintf(" (added to its existing inline policy %s, whose statements the command keeps)", policyName)
	}
	cli := f.accountNote(f.ev.Caller.Account, "caller's") +
		fmt.Sprintf("aws iam put-%s-policy --%s-name %s --policy-name %s --policy-document '%s'", kind, kind, name, policyName, full)
	var caveat string
	if strings.HasPrefix(name, "AWSReservedSSO_") {
		caveat = "this role is provisioned by IAM Identity Center: add the statement to the permission set's inline policy (aws sso-admin put-inline-policy-to-permission-set, then provision-permission-set); a change to the role itself is overwritten"
	}
	return candidate{
		ids: []string{"identity:" + strings.Join(resources, ",")},
		fix: Fix{
			Description:    desc,
			Caveat:         caveat,
			Statement:      indented(json.RawMessage(full)),
			CLI:            cli,
			CloudFormation: identitySnippet(kind, policyName, actions, resources),
			Changes:        []evidence.Change{{Layer: policy.LayerIdentity, Kind: evidence.AddStatement, Policy: policyName, Document: compact(st)}},
		},
		finding: f.findingFor(policy.LayerIdentity),
	}, true
}

// withExistingStatements is the document of inline policy name with st
// added: the existing one's statements first, when there is one.
func withExistingStatements(policies []evidence.NamedPolicy, name string, st stmt) (json.RawMessage, error) {
	for _, p := range policies {
		if p.Name == name && p.ARN == "" {
			return evidence.AppendStatement(p.Document, compact(st))
		}
	}
	return compact(document{Version: "2012-10-17", Statement: []stmt{st}}), nil
}

// identitySnippet writes the statement as a template would: in a SAM
// function's Policies (for the role a function runs as) and in an
// AWS::IAM::Role's or AWS::IAM::User's Policies. Resources are literal
// ARNs; in the function's own template, !GetAtt LOGICAL_ID.Arn (or
// !Sub "${LOGICAL_ID.Arn}:alias") says the same.
func identitySnippet(kind, policyName string, actions, resources []string) string {
	var b strings.Builder
	stmt := func(indent string) {
		fmt.Fprintf(&b, "%s- Effect: Allow\n%s  Action:\n", indent, indent)
		for _, a := range actions {
			fmt.Fprintf(&b, "%s    - %s\n", indent, a)
		}
		fmt.Fprintf(&b, "%s  Resource:\n", indent)
		for _, r := range resources {
			fmt.Fprintf(&b, "%s    - %s\n", indent, r)
		}
	}
	if kind == "role" {
		b.WriteString("# AWS SAM: in the calling function's Properties\nPolicies:\n  - Statement:\n")
		stmt("      ")
		b.WriteString("# or CloudFormation: in the AWS::IAM::Role's Properties\n")
	} else {
		b.WriteString("# CloudFormation: in the AWS::IAM::User's Properties\n")
	}
	fmt.Fprintf(&b, "Policies:\n  - PolicyName: %s\n    PolicyDocument:\n      Version: \"2012-10-17\"\n      Statement:\n", policyName)
	stmt("        ")
	return strings.TrimRight(b.String(), "\n")
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

// resourceGrant adds statements to the function's resource policy for the
// qualifier called, one per action as lambda add-permission writes them: to
// the role (not the session, whose name changes), or to the service with
// the request's source conditions. A service without a known source gets
// no fix: a grant to a service without SourceArn or SourceAccount lets any
// account's resources of that service invoke the function.
func (f *fixer) resourceGrant(actions []string) (candidate, bool) {
	req := f.in.Request
	unq, qual, _ := functionParts(req.Resource)
	if qual == "$LATEST" {
		// "Lambda does not support adding policies to version $LATEST."
		return candidate{}, false
	}
	fnName := unq[strings.LastIndexByte(unq, ':')+1:]
	service := req.Kind() == policy.KindService
	who := req.Principal
	if !service && f.ev.Caller.ARN != "" {
		who = f.ev.Caller.ARN
	}
	sourceArn, hasArn := single(req.Context, "aws:SourceArn")
	sourceAccount, hasAccount := single(req.Context, "aws:SourceAccount")
	if service && !hasArn && !hasAccount {
		return candidate{}, false
	}
	viaURL := strings.EqualFold(req.Action, "lambda:InvokeFunctionUrl")
	var (
		stmts   []stmt
		cli     []string
		cfn     []string
		changes []evidence.Change
	)
	name := "function policy"
	if f.ev.Target.ResourcePolicy != nil {
		name = f.ev.Target.ResourcePolicy.Name
	}
	for _, a := range actions {
		short := strings.ToLower(strings.TrimPrefix(a, "lambda:"))
		sid := fixName(req.Resource, short)
		st := stmt{Sid: sid, Effect: "Allow", Action: a, Resource: req.Resource}
		if service {
			st.Principal = map[string]any{"Service": who}
		} else {
			st.Principal = map[string]any{"AWS": who}
		}
		cond := map[string]any{}
		c := "aws lambda add-permission --function-name " + shellQuote(fnName)
		if qual != "" {
			c += " --qualifier " + shellQuote(qual)
		}
		c += fmt.Sprintf(" --statement-id %s --action %s --principal %s", sid, a, who)
		p := fmt.Sprintf("# CloudFormation / SAM\n%s:\n  Type: AWS::Lambda::Permission\n  Properties:\n    FunctionName: %s\n    Action: %s\n    Principal: %s",
			logicalID(sid), req.Resource, a, who)
		if hasArn {
			cond["ArnLike"] = map[string]any{"AWS:SourceArn": sourceArn}
			c += " --source-arn " + shellQuote(sourceArn)
			p += "\n    SourceArn: " + sourceArn
		}
		if hasAccount {
			cond["StringEquals"] = map[string]any{"AWS:SourceAccount": sourceAccount}
			c += " --source-account " + sourceAccount
			p += "\n    SourceAccount: " + sourceAccount
		}
		if viaURL && strings.EqualFold(a, "lambda:InvokeFunctionUrl") {
			auth := cmpOr(f.ev.Target.FunctionURLAuthType, "AWS_IAM")
			cond["StringEquals"] = mergeCond(cond["StringEquals"], "lambda:FunctionUrlAuthType", auth)
			c += " --function-url-auth-type " + auth
			p += "\n    FunctionUrlAuthType: " + auth
		}
		if viaURL && strings.EqualFold(a, "lambda:InvokeFunction") {
			cond["Bool"] = map[string]any{"lambda:InvokedViaFunctionUrl": "true"}
			c += " --invoked-via-function-url"
			p += "\n    InvokedViaFunctionUrl: true"
		}
		if len(cond) > 0 {
			st.Condition = cond
		}
		stmts = append(stmts, st)
		cli = append(cli, c)
		cfn = append(cfn, p)
		changes = append(changes, evidence.Change{Layer: policy.LayerResource, Kind: evidence.AddStatement, Policy: name, Document: compact(st)})
	}
	desc := fmt.Sprintf("allow %s to call %s in the function's resource policy", who, strings.Join(actions, " and "))
	if qual != "" {
		desc += " for qualifier " + qual + " (a function's resource policy applies only to the qualifier it was added for)"
	}
	var shown any = stmts[0]
	if len(stmts) > 1 {
		shown = stmts
	}
	return candidate{
		ids: []string{"resource"},
		fix: Fix{
			Description:    desc,
			Statement:      indented(shown),
			CLI:            f.accountNote(f.ev.Target.Account, "function's") + strings.Join(cli, "\n"),
			CloudFormation: strings.Join(cfn, "\n"),
			Changes:        changes,
		},
		finding: f.findingFor(policy.LayerResource),
	}, true
}

func single(ctx policy.Context, key string) (string, bool) {
	v, ok := ctx.Lookup(key)
	if !ok || len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

func mergeCond(existing any, key, value string) map[string]any {
	m, _ := existing.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m[key] = value
	return m
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// logicalID turns a name into a CloudFormation logical ID (alphanumeric).
func logicalID(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
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
			Description: fmt.Sprintf("allow %s on %s in the permissions boundary %s (boundaries are usually owned by a platform team: check with them; add the statement to the boundary's current document, and note that a managed policy keeps at most 5 versions)", strings.Join(actions, " and "), req.Resource, arn),
			Statement:   indented(st),
			CLI:         fmt.Sprintf("aws iam create-policy-version --policy-arn %s --set-as-default --policy-document file://boundary-with-the-statement.json", arn),
			Changes:     []evidence.Change{{Layer: policy.LayerPermissionsBoundary, Kind: evidence.AddStatement, Policy: name, Document: compact(st)}},
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
			Changes:     []evidence.Change{{Layer: policy.LayerSessionPolicy, Kind: evidence.AddStatement, Policy: "session policy", Document: compact(st)}},
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
			Changes:     []evidence.Change{{Layer: layer, Kind: evidence.AddCondition, Policy: st.Policy, Statement: st.Statement, Document: compact(cond)}},
		},
		finding: f.findingFor(layer),
	}, true
}
