package diagnose

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

const (
	orgAcct    = "111111111111"
	orgMgmt    = "999999999999"
	orgRole    = "arn:aws:iam::" + orgAcct + ":role/service-role/RequestRole"
	orgFn      = "arn:aws:lambda:us-east-1:" + orgAcct + ":function:ProcessorFunction"
	fullAWS    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	denyInvoke = `{"Version":"2012-10-17","Statement":[{"Sid":"NoLambdaInvoke","Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	onlyS3     = `{"Version":"2012-10-17","Statement":[{"Sid":"S3Only","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	exempt     = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"` + orgRole + `"}}}]}`
)

// orgEv is a role session calling a function in its own account, which
// its identity policy allows, in an account two OUs below the root; ou2 is
// what the Prod OU holds besides nothing else (FullAWSAccess unless given).
func orgEv(prod ...string) *evidence.Evidence {
	levelSCPs := func(docs []string, names ...string) ([]json.RawMessage, []evidence.OrgPolicy) {
		var d []json.RawMessage
		var n []evidence.OrgPolicy
		for i, doc := range docs {
			d = append(d, json.RawMessage(doc))
			n = append(n, evidence.OrgPolicy{Name: names[i], ID: "p-" + strings.ToLower(names[i]), ARN: "arn:aws:organizations::" + orgMgmt + ":policy/o-a1b2c3d4e5/service_control_policy/p-" + strings.ToLower(names[i])})
		}
		return d, n
	}
	if prod == nil {
		prod = []string{fullAWS}
	}
	prodNames := []string{"FullAWSAccess", "DenyLambdaInvoke", "ExemptRequestRole"}[:len(prod)]
	if len(prod) == 1 && prod[0] == onlyS3 {
		prodNames = []string{"AllowOnlyS3"}
	}
	rootD, rootN := levelSCPs([]string{fullAWS}, "FullAWSAccess")
	workD, workN := levelSCPs([]string{fullAWS}, "FullAWSAccess")
	prodD, prodN := levelSCPs(prod, prodNames...)
	acctD, acctN := levelSCPs([]string{fullAWS}, "FullAWSAccess")
	for _, n := range [][]evidence.OrgPolicy{rootN, workN, acctN} {
		n[0].ID = "p-FullAWSAccess"
	}
	if prodNames[0] == "FullAWSAccess" {
		prodN[0].ID = "p-FullAWSAccess"
	}
	return &evidence.Evidence{
		Version: evidence.Version,
		Request: evidence.Request{Caller: "arn:aws:sts::" + orgAcct + ":assumed-role/RequestRole/RequestFunction", Action: "lambda:InvokeFunction", Resource: orgFn},
		Caller: evidence.Caller{ARN: orgRole, Account: orgAcct, SessionPolicies: []evidence.NamedPolicy{},
			IdentityPolicies: []evidence.NamedPolicy{{Name: "Inline0", Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"` + orgFn + `"}]}`)}}},
		Target: evidence.Target{ARN: orgFn, Account: orgAcct, OrgID: "o-a1b2c3d4e5", OrgPath: "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"},
		Organization: &evidence.Organization{
			ID: "o-a1b2c3d4e5", ManagementAccountID: orgMgmt,
			SCPs: [][]json.RawMessage{rootD, workD, prodD, acctD},
			Levels: []evidence.OrgLevel{
				{ID: "r-ab12", Type: "ROOT", SCPs: rootN},
				{ID: "ou-ab12-11111111", Type: "ORGANIZATIONAL_UNIT", Name: "Workloads", SCPs: workN},
				{ID: "ou-ab12-22222222", Type: "ORGANIZATIONAL_UNIT", Name: "Prod", SCPs: prodN},
				{ID: orgAcct, Type: "ACCOUNT", SCPs: acctN},
			},
		},
	}
}

func layerOf(v *Verdict, l policy.Layer) LayerReport {
	for _, r := range v.Layers {
		if r.Layer == l {
			return r
		}
	}
	return LayerReport{}
}

func findingOf(v *Verdict, kind FindingKind, l policy.Layer) *Finding {
	for i, f := range v.Findings {
		if f.Kind == kind && (l == "" || f.Layer == l) {
			return &v.Findings[i]
		}
	}
	return nil
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustDiagnose(t *testing.T, ev *evidence.Evidence, opts Options) *Verdict {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testOptions.Now
	}
	v, err := Diagnose(ev, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSCPDenyAtOU: a Deny in an SCP attached to an OU blocks; the verdict
// names the level, the policy (name, ID, ARN) and the statement, and the
// fix is a guardrail change naming the owner, exempting this role alone,
// verified.
func TestSCPDenyAtOU(t *testing.T) {
	v := mustDiagnose(t, orgEv(fullAWS, denyInvoke), Options{})
	if v.Decision != policy.ExplicitDeny || !slices.Equal(v.BlockedBy, []policy.Layer{policy.LayerSCP}) {
		t.Fatalf("decision %s blocked by %v, want explicitDeny by scp", v.Decision, v.BlockedBy)
	}
	row := layerOf(v, policy.LayerSCP)
	if row.Result != ResultDenies || len(row.Statements) != 1 {
		t.Fatalf("SCP row %+v", row)
	}
	st := row.Statements[0]
	if st.Policy != "DenyLambdaInvoke" || st.Level != 2 || st.LevelName != "OU Prod (ou-ab12-22222222)" || st.PolicyID != "p-denylambdainvoke" ||
		!strings.HasSuffix(st.PolicyARN, "/service_control_policy/p-denylambdainvoke") || st.Sid != "NoLambdaInvoke" {
		t.Errorf("SCP statement %+v", st)
	}
	f := findingOf(v, KindExplicitDeny, policy.LayerSCP)
	if f == nil {
		t.Fatalf("no explicit deny finding: %+v", v.Findings)
	}
	for _, want := range []string{`SCP "DenyLambdaInvoke" (p-denylambdainvoke, arn:aws:organizations::999999999999:policy/`, "attached to OU Prod (ou-ab12-22222222)", "statement 0 (NoLambdaInvoke)", "management account 999999999999"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("finding %q lacks %q", f.Message, want)
		}
	}
	if len(f.Fixes) == 0 {
		t.Fatalf("no fix for the SCP Deny")
	}
	fix := f.Fixes[0]
	if !fix.Verified || len(fix.Changes) != 1 || !fix.Changes[0].Guardrail || fix.Changes[0].Level != 2 || fix.Changes[0].Index != 1 {
		t.Errorf("fix %+v", fix)
	}
	for _, want := range []string{"organization's guardrails", "management account 999999999999", "ArnNotLike aws:PrincipalArn " + orgRole} {
		if !strings.Contains(fix.Description, want) {
			t.Errorf("fix description %q lacks %q", fix.Description, want)
		}
	}
	if !strings.Contains(fix.CLI, "aws organizations update-policy --policy-id p-denylambdainvoke") || strings.Contains(fix.CLI, "detach") || strings.Contains(fix.CLI, "delete") {
		t.Errorf("fix CLI %q", fix.CLI)
	}
	if !strings.Contains(compactJSON(t, fix.Statement), `"ArnNotLike":{"aws:PrincipalArn":"`+orgRole+`"}`) {
		t.Errorf("fix statement %s", fix.Statement)
	}
}

// TestSCPExemptedRole: a Deny whose condition exempts the role by
// aws:PrincipalArn does not block it.
func TestSCPExemptedRole(t *testing.T) {
	v := mustDiagnose(t, orgEv(fullAWS, exempt), Options{})
	if v.Decision != policy.Allowed {
		t.Fatalf("decision %s (%s), want allowed: the role is exempt", v.Decision, v.Summary)
	}
	other := orgEv(fullAWS, exempt)
	other.Request.Caller = "arn:aws:sts::" + orgAcct + ":assumed-role/OtherRole/s"
	other.Caller.ARN = "arn:aws:iam::" + orgAcct + ":role/OtherRole"
	if v := mustDiagnose(t, other, Options{}); v.Decision != policy.ExplicitDeny {
		t.Errorf("another role: %s, want explicitDeny", v.Decision)
	}
}

// TestSCPLevelWithoutAllow: FullAWSAccess detached from an OU whose other
// SCP allows only S3: that level has no Allow, so the call is denied there
// even though every other level allows it. The fix adds an Allow for this
// role to that level's SCP, and verifies.
func TestSCPLevelWithoutAllow(t *testing.T) {
	v := mustDiagnose(t, orgEv(onlyS3), Options{})
	if v.Decision != policy.ImplicitDeny || !slices.Equal(v.BlockedBy, []policy.Layer{policy.LayerSCP}) {
		t.Fatalf("decision %s blocked by %v, want implicitDeny by scp", v.Decision, v.BlockedBy)
	}
	row := layerOf(v, policy.LayerSCP)
	if row.Result != ResultNoAllow || len(row.Statements) == 0 || row.Statements[0].Policy != "AllowOnlyS3" || row.Statements[0].Level != 2 {
		t.Errorf("SCP row %+v: want the near miss at level 2", row)
	}
	f := findingOf(v, KindBlocked, policy.LayerSCP)
	if f == nil {
		t.Fatalf("no blocking SCP finding: %+v", v.Findings)
	}
	for _, want := range []string{"no SCP attached to OU Prod (ou-ab12-22222222) allows lambda:InvokeFunction", "every level of the organization", "AllowOnlyS3 (p-allowonlys3)", "FullAWSAccess, which AWS attaches to every level, is not attached here", "S3Only"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("finding %q lacks %q", f.Message, want)
		}
	}
	if len(f.Fixes) == 0 || !f.Fixes[0].Verified || f.Fixes[0].Changes[0].Kind != evidence.AddStatement || !f.Fixes[0].Changes[0].Guardrail {
		t.Fatalf("fixes %+v", f.Fixes)
	}
	if st := compactJSON(t, f.Fixes[0].Statement); !strings.Contains(st, `"ArnEquals":{"aws:PrincipalArn":"`+orgRole+`"}`) || !strings.Contains(st, `"S3Only"`) {
		t.Errorf("fix statement %s: want the level's SCP with an Allow for this role alone", f.Fixes[0].Statement)
	}
}

// TestSCPExemptions: the management account, service-linked roles (known
// by their path alone) and service principals are not subject to SCPs; the
// member account's root user is.
func TestSCPExemptions(t *testing.T) {
	mgmt := orgEv(fullAWS, denyInvoke)
	mgmt.Organization.ManagementAccount = true
	if v := mustDiagnose(t, mgmt, Options{}); v.Decision != policy.Allowed || !strings.Contains(layerOf(v, policy.LayerSCP).Note, "management account") {
		t.Errorf("management account: %s, SCP note %q", v.Decision, layerOf(v, policy.LayerSCP).Note)
	}
	slr := orgEv(fullAWS, denyInvoke)
	slr.Caller.ARN = "arn:aws:iam::" + orgAcct + ":role/aws-service-role/ops.example.amazonaws.com/AWSServiceRoleForOps"
	slr.Request.Caller = "arn:aws:sts::" + orgAcct + ":assumed-role/AWSServiceRoleForOps/s"
	if v := mustDiagnose(t, slr, Options{}); v.Decision != policy.Allowed || !strings.Contains(layerOf(v, policy.LayerSCP).Note, "service-linked") {
		t.Errorf("service-linked role: %s, SCP note %q", v.Decision, layerOf(v, policy.LayerSCP).Note)
	}
	root := orgEv(fullAWS, denyInvoke)
	root.Request.Caller, root.Caller.ARN, root.Caller.IdentityPolicies = "arn:aws:iam::"+orgAcct+":root", "", []evidence.NamedPolicy{}
	if v := mustDiagnose(t, root, Options{}); v.Decision != policy.ExplicitDeny || !slices.Contains(v.BlockedBy, policy.LayerSCP) {
		t.Errorf("member account's root user: %s by %v, want explicitDeny by the SCP", v.Decision, v.BlockedBy)
	}
	svc := orgEv(fullAWS, denyInvoke)
	svc.Request.Caller, svc.Caller = "s3.amazonaws.com", evidence.Caller{IdentityPolicies: []evidence.NamedPolicy{}, SessionPolicies: []evidence.NamedPolicy{}}
	svc.Target.ResourcePolicy = &evidence.NamedPolicy{Name: "p", Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + orgFn + `"}]}`)}
	if v := mustDiagnose(t, svc, Options{}); v.Decision != policy.Allowed {
		t.Errorf("service principal: %s, want allowed (caller-side SCPs do not apply)", v.Decision)
	}
}

// orgConditioned is a resource policy that lets any principal of one
// organization call the function, the caller having no identity policy.
func orgConditioned(orgID string) *evidence.Evidence {
	ev := orgEv()
	ev.Caller.IdentityPolicies = []evidence.NamedPolicy{}
	ev.Target.ResourcePolicy = &evidence.NamedPolicy{Name: "function policy", Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"OrgOnly","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + orgFn + `","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + orgID + `"}}}]}`)}
	return ev
}

// TestOrgKeysSettled: with the organization read, a resource policy with
// Principal "*" and an aws:PrincipalOrgID condition gets a definite
// verdict; an account in no organization has no such key (definite too);
// an organization not read leaves the verdict unknown, and dependsOnDetail
// says the decision without the key.
func TestOrgKeysSettled(t *testing.T) {
	if v := mustDiagnose(t, orgConditioned("o-a1b2c3d4e5"), Options{}); v.Decision != policy.Allowed || len(v.DependsOn) != 0 {
		t.Errorf("same organization: %s depends on %v, want allowed", v.Decision, v.DependsOn)
	}
	if v := mustDiagnose(t, orgConditioned("o-zzzzzzzzzz"), Options{}); v.Decision != policy.ImplicitDeny || len(v.DependsOn) != 0 {
		t.Errorf("another organization: %s depends on %v, want implicitDeny", v.Decision, v.DependsOn)
	}
	none := orgConditioned("o-a1b2c3d4e5")
	none.Organization = &evidence.Organization{None: true}
	none.Target.OrgID, none.Target.OrgPath, none.Target.NoOrganization = "", "", true
	if v := mustDiagnose(t, none, Options{}); v.Decision != policy.ImplicitDeny || len(v.DependsOn) != 0 {
		t.Errorf("no organization: %s depends on %v, want implicitDeny (the key is absent)", v.Decision, v.DependsOn)
	} else if n := layerOf(v, policy.LayerSCP).Note; !strings.Contains(n, "no organization") {
		t.Errorf("SCP note %q", n)
	}
	unread := orgConditioned("o-a1b2c3d4e5")
	unread.Organization, unread.Target.OrgID, unread.Target.OrgPath = nil, "", ""
	v := mustDiagnose(t, unread, Options{})
	if v.Decision != DecisionUnknown || !slices.Equal(v.DependsOn, []string{"aws:PrincipalOrgID"}) {
		t.Fatalf("organization not read: %s depends on %v", v.Decision, v.DependsOn)
	}
	if len(v.DependsOnDetail) != 1 || v.DependsOnDetail[0] != (KeyDependence{Key: "aws:PrincipalOrgID", WhenAbsent: policy.ImplicitDeny}) {
		t.Errorf("dependsOnDetail %+v", v.DependsOnDetail)
	}
}

// TestSCPsUnreadable: a member account that cannot read the policies:
// without the simulator the SCPs could still block an otherwise allowed
// call (unknown, naming the permission and the account that has it); with
// the simulator its AllowedByOrganizations decides.
func TestSCPsUnreadable(t *testing.T) {
	unread := func() *evidence.Evidence {
		ev := orgEv()
		ev.Organization.SCPs, ev.Organization.Levels = nil, nil
		ev.Unreadable = []evidence.Unreadable{{Layer: policy.LayerSCP, Action: "organizations:ListParents",
			What: "the SCPs that govern account 111111111111 in organization o-a1b2c3d4e5 (readable from the management account 999999999999 or a delegated administrator for AWS Organizations: pass its profile with --org-profile)"}}
		return ev
	}
	v := mustDiagnose(t, unread(), Options{})
	if v.Decision != DecisionUnknown || !slices.Contains(v.UnknownLayers, policy.LayerSCP) {
		t.Fatalf("no simulator: %s unknown %v, want unknown on scp", v.Decision, v.UnknownLayers)
	}
	if n := layerOf(v, policy.LayerSCP).Note; !strings.Contains(n, "organizations:ListParents") || !strings.Contains(n, "999999999999") {
		t.Errorf("SCP note %q: want the permission and the account", n)
	}
	ev := unread()
	no := false
	ev.Simulation = &evidence.Simulation{Decision: "implicitDeny", AllowedByOrganizations: &no, MatchedStatements: []evidence.MatchedStatement{}, MissingContextValues: []string{}}
	v = mustDiagnose(t, ev, Options{})
	if v.Decision != policy.ImplicitDeny || !slices.Contains(v.BlockedBy, policy.LayerSCP) || layerOf(v, policy.LayerSCP).Source != SourceSimulator {
		t.Fatalf("with the simulator: %s by %v", v.Decision, v.BlockedBy)
	}
	f := findingOf(v, KindBlocked, policy.LayerSCP)
	if f == nil || !strings.Contains(f.Message, "management account 999999999999") || !strings.Contains(f.Message, "--org-profile") || !strings.Contains(f.Message, "organizations:ListParents") {
		t.Errorf("finding %+v: want the owner and how to read the SCPs", f)
	}
}

// TestSCPSimulatorDisagrees: the SCPs read allow, the simulator says the
// organization does not: a finding says so.
func TestSCPSimulatorDisagrees(t *testing.T) {
	ev := orgEv()
	no := false
	ev.Simulation = &evidence.Simulation{Decision: "implicitDeny", AllowedByOrganizations: &no, MatchedStatements: []evidence.MatchedStatement{}, MissingContextValues: []string{}}
	v := mustDiagnose(t, ev, Options{})
	f := findingOf(v, KindSCPSimulatorDisagrees, policy.LayerSCP)
	if f == nil || !strings.Contains(f.Message, "read from the organization allow the call") {
		t.Fatalf("findings %+v: want the SCP disagreement", v.Findings)
	}
}

// TestMessageSCP: explain with a message ending in an SCP ARN. Read with
// DescribePolicy, its Deny statement is named; not read, the command that
// reads it from the management account is.
func TestMessageSCP(t *testing.T) {
	const scpARN = "arn:aws:organizations::999999999999:policy/o-a1b2c3d4e5/service_control_policy/p-denylambdainvoke"
	msg := &accessdenied.Denial{Caller: "arn:aws:sts::" + orgAcct + ":assumed-role/RequestRole/RequestFunction", Action: "lambda:InvokeFunction", Resource: orgFn,
		Layer: policy.LayerSCP, Explicit: true, PolicyARN: scpARN}
	ev := orgEv()
	ev.Organization.SCPs, ev.Organization.Levels = nil, nil
	ev.Unreadable = []evidence.Unreadable{{Layer: policy.LayerSCP, Action: "organizations:ListParents", What: "the SCPs"}}
	v := mustDiagnose(t, ev, Options{Message: msg})
	f := findingOf(v, KindMessageLayerNotRead, policy.LayerSCP)
	if v.Decision != policy.ExplicitDeny || f == nil || !strings.Contains(f.Message, "aws organizations describe-policy --policy-id p-denylambdainvoke") {
		t.Fatalf("not read: %s, finding %+v", v.Decision, f)
	}
	ev.Organization.MessageSCP = &evidence.OrgPolicy{Name: "DenyLambdaInvoke", ID: "p-denylambdainvoke", ARN: scpARN, Document: json.RawMessage(denyInvoke)}
	v = mustDiagnose(t, ev, Options{Message: msg})
	f = findingOf(v, KindMessageLayerNotRead, policy.LayerSCP)
	if f == nil || !strings.Contains(f.Message, `SCP "DenyLambdaInvoke" (p-denylambdainvoke, `+scpARN+`), whose statement 0 (NoLambdaInvoke) denies`) {
		t.Errorf("read: finding %+v", f)
	}
}
