package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/why-denied/why-denied/internal/awstest"
)

// orgVerdict is the part of the JSON verdict the organization tests read.
type orgVerdict struct {
	Decision  string   `json:"decision"`
	BlockedBy []string `json:"blockedBy"`
	Summary   string   `json:"summary"`
	Layers    []struct {
		Layer      string `json:"layer"`
		Result     string `json:"result"`
		Source     string `json:"source"`
		Note       string `json:"note"`
		Statements []struct {
			Policy    string `json:"policy"`
			Statement int    `json:"statement"`
			Sid       string `json:"sid"`
			Effect    string `json:"effect"`
			Status    string `json:"status"`
			Level     int    `json:"level"`
			LevelName string `json:"levelName"`
			PolicyID  string `json:"policyId"`
			PolicyARN string `json:"policyArn"`
		} `json:"statements"`
	} `json:"layers"`
	Findings []struct {
		Kind    string `json:"kind"`
		Layer   string `json:"layer"`
		Message string `json:"message"`
		Fixes   []struct {
			Description string `json:"description"`
			CLI         string `json:"cli"`
			Verified    bool   `json:"verified"`
			Changes     []struct {
				Layer     string `json:"layer"`
				Kind      string `json:"kind"`
				Level     int    `json:"level"`
				Guardrail bool   `json:"guardrail"`
			} `json:"changes"`
		} `json:"fixes"`
	} `json:"findings"`
	DependsOn []string `json:"dependsOn"`
}

func decodeOrg(t *testing.T, r result) orgVerdict {
	t.Helper()
	var v orgVerdict
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("-o json output is not a verdict: %v\n%s", err, r)
	}
	return v
}

func (v orgVerdict) scp(t *testing.T) (result, source, note string) {
	t.Helper()
	for _, l := range v.Layers {
		if l.Layer == "scp" {
			return l.Result, l.Source, l.Note
		}
	}
	t.Fatalf("no scp layer: %+v", v.Layers)
	return
}

// finding returns the first finding about layer, failing without one.
func (v orgVerdict) finding(t *testing.T, layer string) (msg string, fixes int, verified, guardrail bool) {
	t.Helper()
	for _, f := range v.Findings {
		if f.Layer == layer && (f.Kind == "blocked" || f.Kind == "explicitDeny" || f.Kind == "messageLayerNotRead") {
			if len(f.Fixes) > 0 {
				fx := f.Fixes[0]
				return f.Message, len(f.Fixes), fx.Verified, len(fx.Changes) > 0 && fx.Changes[0].Guardrail
			}
			return f.Message, 0, false, false
		}
	}
	t.Fatalf("no blocking finding on %s: %+v", layer, v.Findings)
	return
}

// orgWorld is an organization in moto: the management account (moto's
// default) with its own function, and member accounts under
// root > Workloads > Prod (an SCP there denies lambda:InvokeFunction,
// except for ExemptRole) and root > Workloads > Sandbox (FullAWSAccess
// replaced by an SCP that allows only S3: no Allow for Lambda at that
// level), and one directly in Workloads (FullAWSAccess everywhere).
type orgWorld struct {
	proxy                  *awstest.SimulatorProxy
	faults                 *awstest.FaultProxy
	org                    awstest.Org
	mgmt, prod, sandbox    *awstest.Builder
	work                   *awstest.Builder
	workloads, prodOU, box string
	denyID, denyARN        string
	samMgmt, samProd       awstest.SAM
	samSandbox             awstest.SAM
}

const denyInvokeSCP = `{"Version":"2012-10-17","Statement":[{"Sid":"NoLambdaInvoke","Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*",` +
	`"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/service-role/ExemptRole"}}}]}`

// TestOrganizationEndToEnd runs the command against moto's Organizations:
// for each case the verdict names the level, the SCP and the statement,
// and the fix verifies; where the SCPs cannot be read it says so and falls
// back on the simulator.
func TestOrganizationEndToEnd(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	w := &orgWorld{proxy: awstest.StartSimulatorProxy(t, moto.URL), mgmt: awstest.NewBuilder(t, moto.URL)}
	w.faults = awstest.StartFaultProxy(t, w.proxy.URL)
	w.org = w.mgmt.Organization()
	w.workloads = w.org.OU(w.org.Root, "Workloads")
	w.prodOU = w.org.OU(w.workloads, "Prod")
	w.box = w.org.OU(w.workloads, "Sandbox")
	prodAcct, boxAcct, workAcct := w.org.Account("prod"), w.org.Account("sandbox"), w.org.Account("work")
	w.org.Move(prodAcct, w.org.Root, w.prodOU)
	w.org.Move(boxAcct, w.org.Root, w.box)
	w.org.Move(workAcct, w.org.Root, w.workloads)
	w.denyID, w.denyARN = w.org.SCP("DenyLambdaInvoke", denyInvokeSCP, w.prodOU, awstest.Account)
	// AWS keeps one SCP attached to every level: the S3 one first, then
	// FullAWSAccess detached.
	w.org.SCP("AllowOnlyS3", `{"Version":"2012-10-17","Statement":[{"Sid":"S3Only","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, w.box)
	w.org.Detach(awstest.FullAWSAccess, w.box)

	w.prod, w.sandbox, w.work = w.mgmt.InAccount(prodAcct), w.mgmt.InAccount(boxAcct), w.mgmt.InAccount(workAcct)
	w.samMgmt, w.samProd, w.samSandbox = w.mgmt.SAM(""), w.prod.SAM(""), w.sandbox.SAM("")
	awstest.Profiles(t, map[string]aws.Credentials{
		"mgmt": w.mgmt.Credentials, "prod": w.prod.Credentials, "sandbox": w.sandbox.Credentials, "work": w.work.Credentials,
	})

	t.Run("deny at the OU", w.testDenyAtOU)
	t.Run("exemption by aws:PrincipalArn", w.testExemption)
	t.Run("level without an Allow", w.testNoAllowLevel)
	t.Run("management account", w.testManagement)
	t.Run("service-linked role", w.testServiceLinked)
	t.Run("org-conditioned resource policy", w.testOrgConditioned)
	t.Run("member without access", w.testMemberWithoutAccess)
	t.Run("SCP ARN from a pasted message", w.testMessageSCP)
}

func (w *orgWorld) run(t *testing.T, args ...string) result {
	t.Helper()
	return runLive(t, append([]string{"--endpoint-url", w.faults.URL, "--region", awstest.Region, "--no-simulate", "-o", "json"}, args...)...)
}

func (w *orgWorld) testDenyAtOU(t *testing.T) {
	r := w.run(t, "--profile", "prod", "--org-profile", "mgmt", w.samProd.RequestFunction, w.samProd.ProcessorFunction)
	wantExit(t, r, exitDenied)
	v := decodeOrg(t, r)
	if v.Decision != "explicitDeny" || !slices.Equal(v.BlockedBy, []string{"scp"}) {
		t.Fatalf("decision %s by %v, want explicitDeny by scp", v.Decision, v.BlockedBy)
	}
	for _, l := range v.Layers {
		if l.Layer != "scp" {
			continue
		}
		if len(l.Statements) != 1 {
			t.Fatalf("SCP statements %+v", l.Statements)
		}
		st := l.Statements[0]
		if st.Policy != "DenyLambdaInvoke" || st.PolicyID != w.denyID || st.PolicyARN != w.denyARN || st.Sid != "NoLambdaInvoke" || st.LevelName != "OU Prod ("+w.prodOU+")" || st.Level != 2 {
			t.Errorf("SCP statement %+v, want DenyLambdaInvoke %s at OU Prod", st, w.denyID)
		}
	}
	msg, fixes, verified, guardrail := v.finding(t, "scp")
	for _, want := range []string{"DenyLambdaInvoke", w.denyID, "attached to OU Prod (" + w.prodOU + ")", "statement 0 (NoLambdaInvoke)", "management account " + awstest.Account} {
		if !strings.Contains(msg, want) {
			t.Errorf("finding %q lacks %q", msg, want)
		}
	}
	if fixes == 0 || !verified || !guardrail {
		t.Errorf("fixes %d verified %v guardrail %v, want a verified guardrail change", fixes, verified, guardrail)
	}
	if !strings.Contains(r.stdout, "aws organizations update-policy --policy-id "+w.denyID) || strings.Contains(r.stdout, "detach-policy") || strings.Contains(r.stdout, "delete-policy") {
		t.Errorf("the fix must change the SCP, never remove it:\n%s", r.stdout)
	}
}

func (w *orgWorld) testExemption(t *testing.T) {
	w.prod.Role("ExemptRole", "/service-role/")
	w.prod.RolePolicy("ExemptRole", "Invoke", awstest.Allow("lambda:InvokeFunction", w.samProd.ProcessorFunctionARN))
	r := w.run(t, "--profile", "prod", "--org-profile", "mgmt", "role/ExemptRole", w.samProd.ProcessorFunction)
	wantExit(t, r, exitAllowed)
	if res, _, _ := decodeOrg(t, r).scp(t); res != "allows" {
		t.Errorf("SCP result %s, want allows: the Deny exempts the role by aws:PrincipalArn", res)
	}
}

func (w *orgWorld) testNoAllowLevel(t *testing.T) {
	r := w.run(t, "--profile", "sandbox", "--org-profile", "mgmt", w.samSandbox.RequestFunction, w.samSandbox.ProcessorFunction)
	wantExit(t, r, exitDenied)
	v := decodeOrg(t, r)
	if v.Decision != "implicitDeny" || !slices.Equal(v.BlockedBy, []string{"scp"}) {
		t.Fatalf("decision %s by %v, want implicitDeny by scp", v.Decision, v.BlockedBy)
	}
	msg, fixes, verified, guardrail := v.finding(t, "scp")
	for _, want := range []string{"no SCP attached to OU Sandbox (" + w.box + ")", "AllowOnlyS3", "FullAWSAccess, which AWS attaches to every level, is not attached here", "S3Only"} {
		if !strings.Contains(msg, want) {
			t.Errorf("finding %q lacks %q", msg, want)
		}
	}
	if fixes == 0 || !verified || !guardrail {
		t.Errorf("fixes %d verified %v guardrail %v, want a verified guardrail change", fixes, verified, guardrail)
	}
}

func (w *orgWorld) testManagement(t *testing.T) {
	// DenyLambdaInvoke is attached to the management account itself: SCPs
	// do not apply to it.
	r := w.run(t, "--profile", "mgmt", w.samMgmt.RequestFunction, w.samMgmt.ProcessorFunction)
	wantExit(t, r, exitAllowed)
	if res, _, note := decodeOrg(t, r).scp(t); res != "notApplicable" || !strings.Contains(note, "management account") {
		t.Errorf("SCP %s (%s), want not applicable to the management account", res, note)
	}
}

func (w *orgWorld) testServiceLinked(t *testing.T) {
	w.prod.Role("AWSServiceRoleForOps", "/aws-service-role/ops.example.amazonaws.com/")
	w.prod.RolePolicy("AWSServiceRoleForOps", "Invoke", awstest.Allow("lambda:InvokeFunction", w.samProd.ProcessorFunctionARN))
	r := w.run(t, "--profile", "prod", "--org-profile", "mgmt", "role/AWSServiceRoleForOps", w.samProd.ProcessorFunction)
	wantExit(t, r, exitAllowed)
	if res, _, note := decodeOrg(t, r).scp(t); res != "notApplicable" || !strings.Contains(note, "service-linked") {
		t.Errorf("SCP %s (%s), want not applicable to a service-linked role", res, note)
	}
}

func (w *orgWorld) testOrgConditioned(t *testing.T) {
	role := w.work.Role("NoPolicyRole", "/")
	fn := w.work.Function("OrgShared", role)
	doc := func(orgID string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"OrgOnly","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn +
			`","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + orgID + `"}}}]}`
	}
	defer w.proxy.ResourcePolicy(fn, "")
	for _, tt := range []struct {
		orgID string
		code  int
	}{{w.org.ID, exitAllowed}, {"o-zzzzzzzzzz", exitDenied}} {
		w.proxy.ResourcePolicy(fn, doc(tt.orgID))
		r := w.run(t, "--profile", "work", "--org-profile", "mgmt", "role/NoPolicyRole", fn)
		wantExit(t, r, tt.code)
		if v := decodeOrg(t, r); len(v.DependsOn) != 0 {
			t.Errorf("%s: depends on %v, want a definite verdict", tt.orgID, v.DependsOn)
		}
	}
}

// testMemberWithoutAccess: the member's credentials may call
// DescribeOrganization but not read the tree (AWS's refusal injected:
// moto does not refuse it); the simulator's word on SCPs decides, and the
// verdict says which permission, in which account, would read them.
func (w *orgWorld) testMemberWithoutAccess(t *testing.T) {
	for _, op := range []string{"ListRoots", "ListParents", "ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy", "DescribePolicy", "DescribeOrganizationalUnit"} {
		w.faults.Inject("organizations:"+op, awstest.Fault{Kind: awstest.AccessDenied})
	}
	defer w.faults.Clear()
	w.proxy.Evaluate()
	w.proxy.SCPs([][]string{{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, {denyInvokeSCP}})
	defer w.proxy.SCPs(nil)
	r := runLive(t, "--endpoint-url", w.faults.URL, "--region", awstest.Region, "-o", "json", "--profile", "prod", w.samProd.RequestFunction, w.samProd.ProcessorFunction)
	wantExit(t, r, exitDenied)
	v := decodeOrg(t, r)
	if !slices.Contains(v.BlockedBy, "scp") {
		t.Fatalf("blocked by %v, want scp (the simulator's answer)", v.BlockedBy)
	}
	if _, source, _ := v.scp(t); source != "simulator" {
		t.Errorf("SCP source %s, want simulator", source)
	}
	msg, _, _, _ := v.finding(t, "scp")
	for _, want := range []string{"management account " + awstest.Account, "organizations:ListParents", "--org-profile"} {
		if !strings.Contains(msg, want) {
			t.Errorf("finding %q lacks %q", msg, want)
		}
	}
}

// testMessageSCP: explain a message that ends with the SCP's ARN. With
// the tree unreadable but DescribePolicy allowed (--org-profile), the SCP
// is read and its statement named; with nothing readable, the command that
// reads it from the management account is.
func (w *orgWorld) testMessageSCP(t *testing.T) {
	session := "arn:aws:sts::" + w.prod.Account + ":assumed-role/" + w.samProd.RequestRole + "/" + w.samProd.RequestFunction
	msg := "An error occurred (AccessDeniedException) when calling the Invoke operation: User: " + session +
		" is not authorized to perform: lambda:InvokeFunction on resource: " + w.samProd.ProcessorFunctionARN +
		" with an explicit deny in a service control policy: " + w.denyARN

	w.faults.Inject("organizations:ListParents", awstest.Fault{Kind: awstest.AccessDenied})
	r := runLive(t, "explain", "--endpoint-url", w.faults.URL, "--no-simulate", "-o", "json", "--profile", "prod", "--org-profile", "mgmt", msg)
	w.faults.Clear()
	wantExit(t, r, exitDenied)
	text, _, _, _ := decodeOrg(t, r).finding(t, "scp")
	if !strings.Contains(text, `SCP "DenyLambdaInvoke" (`+w.denyID+", "+w.denyARN+"), whose statement 0 (NoLambdaInvoke) denies") {
		t.Errorf("finding %q: want the message's SCP and its statement", text)
	}

	for _, op := range []string{"ListRoots", "ListParents", "ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy", "DescribePolicy", "DescribeOrganizationalUnit"} {
		w.faults.Inject("organizations:"+op, awstest.Fault{Kind: awstest.AccessDenied})
	}
	defer w.faults.Clear()
	r = runLive(t, "explain", "--endpoint-url", w.faults.URL, "--no-simulate", "-o", "json", "--profile", "prod", msg)
	wantExit(t, r, exitDenied)
	text, _, _, _ = decodeOrg(t, r).finding(t, "scp")
	if !strings.Contains(text, "aws organizations describe-policy --policy-id "+w.denyID) || !strings.Contains(text, "management account "+awstest.Account) {
		t.Errorf("finding %q: want the command to run from the management account", text)
	}
}
