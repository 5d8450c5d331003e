package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// redactCase is evidence written as a user's snapshot would be, with the
// decision it must keep and the names it must lose.
type redactCase struct {
	name     string
	decision policy.Decision
	// secrets are names to look for in the redacted file, besides those the
	// test finds in ARNs, policy names, Sids and tag values by itself.
	secrets []string
	json    string
}

// evidenceJSON fills the parts most cases share.
func evidenceJSON(request, caller, target string, rest ...string) string {
	extra := ""
	if len(rest) > 0 {
		extra = "," + strings.Join(rest, ",")
	}
	for _, k := range []string{"organization", "simulation"} {
		if !strings.Contains(extra, `"`+k+`":`) {
			extra = `,"` + k + `":null` + extra
		}
	}
	return `{"version":1,"request":` + request + `,"caller":` + caller + `,"target":` + target + extra + `}`
}

const (
	rcSession = `arn:aws:sts::210987654321:assumed-role/OrdersRole/OrdersFunction`
	rcRole    = `arn:aws:iam::210987654321:role/service-role/OrdersRole`
	rcTarget  = `arn:aws:lambda:eu-west-1:210987654321:function:ProcessPayments`
)

func rcRequest(caller, resource, context string) string {
	if context == "" {
		context = "{}"
	}
	return fmt.Sprintf(`{"caller":%q,"action":"lambda:InvokeFunction","resource":%q,"context":%s}`, caller, resource, context)
}

func rcCaller(arn, account, tags string, identity ...string) string {
	if tags == "" {
		tags = "{}"
	}
	var pols []string
	for i, d := range identity {
		pols = append(pols, fmt.Sprintf(`{"name":"OrdersInline%d","arn":"","document":%s}`, i, d))
	}
	return fmt.Sprintf(`{"arn":%q,"account":%q,"identityPolicies":[%s],"permissionsBoundary":null,"sessionPolicies":[],"tags":%s}`,
		arn, account, strings.Join(pols, ","), tags)
}

func rcTargetJSON(arn, account, resourcePolicy string) string {
	rp := "null"
	if resourcePolicy != "" {
		rp = `{"name":"ProcessPayments","arn":"","document":` + resourcePolicy + `}`
	}
	return fmt.Sprintf(`{"arn":%q,"account":%q,"resourcePolicy":%s}`, arn, account, rp)
}

func rcDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

var redactCases = []redactCase{
	{name: "wildcard function name", decision: policy.Allowed, json: evidenceJSON(
		rcRequest(rcSession, rcTarget+":live", ""),
		rcCaller(rcRole, "210987654321", "",
			rcDoc(`{"Sid":"OnlyReports","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:210987654321:function:Reports*"}`,
				`{"Sid":"PaymentsAnyQualifier","Effect":"Allow","Action":"lambda:Invoke*","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:Process*"}`)),
		rcTargetJSON(rcTarget, "210987654321", ""))},

	{name: "single-character wildcards", decision: policy.ImplicitDeny, json: evidenceJSON(
		rcRequest(rcSession, rcTarget, ""),
		rcCaller(rcRole, "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:Process?ayment"}`,
				`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:Process?ayments:*"}`)),
		rcTargetJSON(rcTarget, "210987654321", rcDoc(
			`{"Sid":"DevRoles","Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::210987654321:role/service-role/Orders?ole?"}}}`)))},

	{name: "StringLike on names, StringEqualsIgnoreCase on tags", decision: policy.Allowed, json: evidenceJSON(
		rcRequest(rcSession, rcTarget, ""),
		rcCaller(rcRole, "210987654321", `{"team":"Payments","costcenter":"Orders-Europe"}`,
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"PAYMENTS"},"StringLike":{"aws:PrincipalTag/costcenter":"Orders-*","aws:PrincipalArn":"arn:aws:iam::*:role/service-role/Orders*"}}}`,
				`{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"PAYMENTS"}}}`)),
		rcTargetJSON(rcTarget, "210987654321", ""))},

	{name: "NotPrincipal with the account root, the role and the session", decision: policy.Allowed, json: evidenceJSON(
		rcRequest(rcSession, rcTarget, ""),
		rcCaller(rcRole, "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)),
		rcTargetJSON(rcTarget, "210987654321", rcDoc(
			`{"Sid":"OnlyOrders","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::210987654321:root","`+rcRole+`","`+rcSession+`"]},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)))},

	{name: "NotPrincipal that misses the session", decision: policy.ExplicitDeny, json: evidenceJSON(
		rcRequest(rcSession, rcTarget, ""),
		rcCaller(rcRole, "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)),
		rcTargetJSON(rcTarget, "210987654321", rcDoc(
			`{"Sid":"OnlyOrders","Effect":"Deny","NotPrincipal":{"AWS":["210987654321","`+rcRole+`"]},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)))},

	{name: "cross-account grant to a bare account ID", decision: policy.Allowed, json: evidenceJSON(
		rcRequest("arn:aws:sts::380452901876:assumed-role/BillingRole/BillingSession", rcTarget, ""),
		rcCaller("arn:aws:iam::380452901876:role/BillingRole", "380452901876", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:ProcessPayments"}`)),
		rcTargetJSON(rcTarget, "210987654321", rcDoc(
			`{"Sid":"BillingAccount","Effect":"Allow","Principal":{"AWS":"380452901876"},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`,
			`{"Sid":"AuditRoot","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::695847362514:root"},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)))},

	{name: "cross-account grant to another account's root", decision: policy.ImplicitDeny, json: evidenceJSON(
		rcRequest("arn:aws:sts::380452901876:assumed-role/BillingRole/BillingSession", rcTarget, ""),
		rcCaller("arn:aws:iam::380452901876:role/BillingRole", "380452901876", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:*"}`)),
		rcTargetJSON(rcTarget, "210987654321", rcDoc(
			`{"Sid":"AuditRoot","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::695847362514:root"},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)))},

	{name: "S3 bucket notification", decision: policy.Allowed, json: evidenceJSON(
		rcRequest("s3.amazonaws.com", rcTarget, `{"aws:SourceArn":"arn:aws:s3:::invoices-upload-eu","aws:SourceAccount":"210987654321"}`),
		`{"identityPolicies":[],"permissionsBoundary":null,"sessionPolicies":[]}`,
		rcTargetJSON(rcTarget, "210987654321", rcDoc(
			`{"Sid":"invoices-bucket","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::invoices-*"},"StringEquals":{"AWS:SourceAccount":"210987654321"}}}`,
			`{"Sid":"archive-bucket","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`","Condition":{"ArnEquals":{"AWS:SourceArn":"arn:aws:s3:::archive-bucket"}}}`)))},

	{name: "policy variables with a user caller", decision: policy.Allowed, secrets: []string{"anonymous"}, json: evidenceJSON(
		rcRequest("arn:aws:iam::210987654321:user/mallory", "arn:aws:lambda:eu-west-1:210987654321:function:mallory-tools", ""),
		rcCaller("arn:aws:iam::210987654321:user/mallory", "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:${aws:username}-*"}`,
				`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:${aws:PrincipalTag/nickname, 'anonymous'}-*"}`,
				`{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringNotEquals":{"aws:username":"${aws:username}"}}}`)),
		rcTargetJSON("arn:aws:lambda:eu-west-1:210987654321:function:mallory-tools", "210987654321", ""))},

	{name: "policy variables naming another user", decision: policy.ImplicitDeny, json: evidenceJSON(
		rcRequest("arn:aws:iam::210987654321:user/trent", "arn:aws:lambda:eu-west-1:210987654321:function:mallory-tools", ""),
		rcCaller("arn:aws:iam::210987654321:user/trent", "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:${aws:username}-*"}`,
				`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"aws:username":"mallory"}}}`)),
		rcTargetJSON("arn:aws:lambda:eu-west-1:210987654321:function:mallory-tools", "210987654321", ""))},

	{name: "numeric, date, IP and boolean conditions", decision: policy.ExplicitDeny, json: evidenceJSON(
		rcRequest(rcSession, rcTarget, `{"aws:SourceIp":"203.0.113.9","aws:CurrentTime":"2025-06-01T12:00:00Z","aws:MultiFactorAuthAge":"120","aws:EpochTime":"1748779200"}`),
		rcCaller(rcRole, "210987654321", `{"tier":"3"}`,
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]},"DateGreaterThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"},"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"Bool":{"aws:SecureTransport":true}}}`,
				`{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"NumericGreaterThanEquals":{"aws:PrincipalTag/tier":"3"},"DateLessThan":{"aws:EpochTime":"1767225600"}}}`,
				`{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"},"NumericEquals":{"aws:PrincipalTag/tier":"4"}}}`)),
		rcTargetJSON(rcTarget, "210987654321", ""))},

	{name: "AWS words in condition values", decision: policy.Allowed, json: evidenceJSON(
		rcRequest(rcSession, rcTarget+":$LATEST", ""),
		rcCaller(rcRole, "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:function:ProcessPayments:$LATEST","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole","aws:PrincipalAccount":"210987654321"},"StringLike":{"aws:RequestedRegion":"eu-*"},"StringEqualsIgnoreCase":{"aws:ResourceAccount":["210987654321"]}}}`)),
		rcTargetJSON(rcTarget, "210987654321", ""))},

	{name: "boundary, session policy, SCPs and RCPs", decision: policy.ImplicitDeny, json: evidenceJSON(
		rcRequest("arn:aws:sts::210987654321:assumed-role/DeployRole/ci-pipeline-7", rcTarget, `{"aws:PrincipalOrgID":"o-exampleorgid"}`),
		`{"arn":"arn:aws:iam::210987654321:role/platform/DeployRole","account":"210987654321",
		  "identityPolicies":[{"name":"group/platform-admins/InvokeEverything","arn":"arn:aws:iam::210987654321:policy/platform/InvokeEverything","document":`+rcDoc(`{"Effect":"Allow","Action":"lambda:*","Resource":"*"}`)+`},
		    {"name":"AWSLambdaRole","arn":"arn:aws:iam::aws:policy/service-role/AWSLambdaRole","document":`+rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":["*"]}`)+`}],
		  "permissionsBoundary":{"name":"PlatformBoundary","arn":"arn:aws:iam::210987654321:policy/PlatformBoundary","document":`+rcDoc(`{"Sid":"BoundaryInvoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:Process*"}`)+`},
		  "sessionPolicies":[{"name":"CiSessionPolicy","arn":"","document":`+rcDoc(`{"Sid":"CiOnlyBuilds","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:BuildArtifacts*"}`)+`}]}`,
		rcTargetJSON(rcTarget, "210987654321", ""),
		`"organization":{"scps":[[{"Version":"2012-10-17","Id":"FullAccessGuardrail","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}],
		   [{"Version":"2012-10-17","Statement":[{"Sid":"EuropeOnly","Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}]],
		  "rcps":[[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"lambda:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-exampleorgid"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}]]}`)},

	{name: "simulator answer, unreadable policies and notes", decision: policy.Allowed,
		secrets: []string{"SecretInline", "LegacyDeny"}, json: evidenceJSON(
			rcRequest(rcSession, rcTarget, ""),
			rcCaller(rcRole, "210987654321", "",
				rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"`+rcTarget+`"}`)),
			rcTargetJSON(rcTarget, "210987654321", ""),
			`"simulation":{"decision":"allowed","matchedStatements":[{"sourcePolicyId":"OrdersInline0","sourcePolicyType":"IAM Policy"}],"allowedByOrganizations":null,"allowedByPermissionsBoundary":null,"missingContextValues":[]}`,
			`"unreadable":[{"layer":"identity","what":"inline policy SecretInline of role OrdersRole","action":"iam:GetRolePolicy","error":"AccessDenied: User: arn:aws:sts::210987654321:assumed-role/Auditor/auditor-session is not authorized to perform: iam:GetRolePolicy on resource: role OrdersRole because no identity-based policy allows the iam:GetRolePolicy action"},
			   {"layer":"identity","what":"managed policy arn:aws:iam::210987654321:policy/LegacyDeny attached to role OrdersRole","action":"iam:GetPolicyVersion"}]`,
			`"notes":["session policies of `+rcSession+` cannot be read from the account; none are assumed","function ProcessPayments:live has no function URL"]`)},
}

// redactInputs are every bundled fixture and every case above.
func redactInputs(t *testing.T) []redactCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "fixtures", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []redactCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, redactCase{name: filepath.Base(f), json: string(data)})
	}
	return append(out, redactCases...)
}

func readCase(t *testing.T, c redactCase) *evidence.Evidence {
	t.Helper()
	ev, err := evidence.Read(strings.NewReader(c.json))
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return ev
}

// TestRedactKeepsTheDiagnosis redacts every fixture and case and diagnoses
// both: the decision, the blocking layers, each layer's result and the
// statements that matched or came closest must be the same.
func TestRedactKeepsTheDiagnosis(t *testing.T) {
	for _, c := range redactInputs(t) {
		t.Run(c.name, func(t *testing.T) {
			ev := readCase(t, c)
			want, err := diagnose.Diagnose(ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if c.decision != "" && want.Decision != c.decision {
				t.Fatalf("the case does not test what it says: decision %s, want %s (%s)", want.Decision, c.decision, want.Summary)
			}
			red, err := Evidence(ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if !red.Redacted {
				t.Error("the copy is not marked redacted")
			}
			// What is shared is the file: diagnose what a reader would read.
			var buf bytes.Buffer
			if err := evidence.Write(&buf, red); err != nil {
				t.Fatal(err)
			}
			back, err := evidence.Read(&buf)
			if err != nil {
				t.Fatalf("the redacted file does not read back: %v", err)
			}
			got, err := diagnose.Diagnose(back, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if got.Decision != want.Decision || !slices.Equal(got.BlockedBy, want.BlockedBy) || got.CrossAccount != want.CrossAccount {
				t.Fatalf("decision %s blockedBy %v crossAccount %v, want %s %v %v", got.Decision, got.BlockedBy, got.CrossAccount, want.Decision, want.BlockedBy, want.CrossAccount)
			}
			if len(got.Layers) != len(want.Layers) {
				t.Fatalf("%d layers, want %d", len(got.Layers), len(want.Layers))
			}
			wantPos, gotPos := policyPositions(ev), policyPositions(back)
			for i, wl := range want.Layers {
				gl := got.Layers[i]
				if gl.Layer != wl.Layer || gl.Result != wl.Result || gl.Blocks != wl.Blocks || gl.Source != wl.Source {
					t.Errorf("layer %s: %s/%v/%s, want %s %s/%v/%s", gl.Layer, gl.Result, gl.Blocks, gl.Source, wl.Layer, wl.Result, wl.Blocks, wl.Source)
				}
				if g, w := statementKeys(gl, gotPos), statementKeys(wl, wantPos); !slices.Equal(g, w) {
					t.Errorf("layer %s statements:\n got %v\nwant %v", wl.Layer, g, w)
				}
			}
			if (got.Simulator.AgreesWithLocal == nil) != (want.Simulator.AgreesWithLocal == nil) ||
				got.Simulator.AgreesWithLocal != nil && *got.Simulator.AgreesWithLocal != *want.Simulator.AgreesWithLocal {
				t.Errorf("simulator agreement changed: %+v, want %+v", got.Simulator, want.Simulator)
			}
			if !slices.Equal(findingKinds(got), findingKinds(want)) {
				t.Errorf("findings %v, want %v", findingKinds(got), findingKinds(want))
			}
		})
	}
}

// policyPositions says where each policy name sits in the evidence, so that
// statements are compared by the policy they belong to, whatever its name
// became.
func policyPositions(ev *evidence.Evidence) map[string]string {
	pos := map[string]string{}
	for i, np := range ev.Caller.IdentityPolicies {
		pos[np.Name] = fmt.Sprintf("identity[%d]", i)
	}
	for i, np := range ev.Caller.SessionPolicies {
		pos[np.Name] = fmt.Sprintf("session[%d]", i)
	}
	if np := ev.Caller.PermissionsBoundary; np != nil {
		pos[np.Name] = "boundary"
	}
	if np := ev.Target.ResourcePolicy; np != nil {
		pos[np.Name] = "resource"
	}
	if org := ev.Organization; org != nil {
		for kind, levels := range map[string][][]json.RawMessage{"scp": org.SCPs, "rcp": org.RCPs} {
			for l, docs := range levels {
				for i, d := range docs {
					var id struct{ Id string }
					_ = json.Unmarshal(d, &id)
					if id.Id != "" {
						pos[id.Id] = fmt.Sprintf("%s[%d][%d]", kind, l, i)
					}
				}
			}
		}
		// SCPs named by the organization's levels.
		for l, lv := range org.Levels {
			for i, p := range lv.SCPs {
				pos[p.Name] = fmt.Sprintf("scp[%d][%d]", l, i)
			}
		}
	}
	return pos
}

func statementKeys(l diagnose.LayerReport, pos map[string]string) []string {
	var out []string
	for _, st := range l.Statements {
		p, ok := pos[st.Policy]
		if !ok {
			p = st.Policy // a name the engine made up ("SCP level 0 #0")
		}
		var failed []string
		for _, f := range st.Failures {
			failed = append(failed, string(f.Element))
		}
		out = append(out, fmt.Sprintf("%s %s #%d level %d %s failing %v", st.Status, p, st.Statement, st.Level, st.Effect, failed))
	}
	return out
}

func findingKinds(v *diagnose.Verdict) []string {
	var out []string
	for _, f := range v.Findings {
		out = append(out, string(f.Kind)+"/"+string(f.Layer))
	}
	return out
}

// TestRedactRemovesNamesAndAccounts looks in the redacted file for every
// account ID and every name of the original: those in ARNs, policy names,
// Sids and Ids, tag values, and each case's own list.
func TestRedactRemovesNamesAndAccounts(t *testing.T) {
	for _, c := range redactInputs(t) {
		t.Run(c.name, func(t *testing.T) {
			ev := readCase(t, c)
			red, err := Evidence(ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := evidence.Write(&buf, red); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			secrets := append(originalNames(t, c.json), c.secrets...)
			if len(secrets) < 3 {
				t.Fatalf("found only %v to look for", secrets)
			}
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%q is still in the redacted file", s)
				}
			}
			if t.Failed() {
				t.Logf("redacted:\n%s", out)
			}
		})
	}
}

var (
	accountRun  = regexp.MustCompile(`\b\d{12}\b`)
	arnInJSON   = regexp.MustCompile(`arn:[^"\s]+`)
	variable    = regexp.MustCompile(`\$\{[^}]*\}`)
	wordsOfName = regexp.MustCompile(`[A-Za-z0-9_+=.@-]{4,}`)
	// The words ARNs are made of besides names.
	arnWords = map[string]bool{"function": true, "role": true, "user": true, "policy": true, "root": true,
		"assumed-role": true, "group": true, "$LATEST": true, "service-role": true, "aws-service-role": true,
		"federated-user": true, "rule": true, "service_control_policy": true, "resource_control_policy": true}
	// AWS managed organization policies are public, like managed IAM ones.
	awsManagedNames = map[string]bool{"FullAWSAccess": true, "RCPFullAWSAccess": true}
	// The evidence format's own element names.
	formatWords = "version request caller action resource context identityPolicies permissionsBoundary sessionPolicies " +
		"serviceLinkedRole resourcePolicy functionUrlAuthType organization managementAccount simulation document redacted"
)

// originalNames finds, independently of the redactor, the account IDs and
// names (4 characters or more) a redacted file must not contain.
func originalNames(t *testing.T, doc string) []string {
	t.Helper()
	found := map[string]bool{}
	for _, a := range accountRun.FindAllString(doc, -1) {
		found[a] = true
	}
	// Policy variables are AWS's words; defaults are in a case's list.
	plain := variable.ReplaceAllString(strings.ReplaceAll(doc, "${$}", "$"), "")
	for _, arn := range arnInJSON.FindAllString(plain, -1) {
		f := strings.SplitN(arn, ":", 6)
		if len(f) < 6 || f[4] == "aws" {
			continue // AWS managed policies are public
		}
		segs := strings.FieldsFunc(f[5], func(r rune) bool { return r == ':' || r == '/' })
		for _, s := range segs {
			if arnWords[s] {
				continue
			}
			for _, w := range wordsOfName.FindAllString(s, -1) {
				found[w] = true
			}
		}
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "tags" {
					for _, tv := range e.(map[string]any) {
						found[tv.(string)] = true
					}
				}
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case string:
			if (key == "Sid" || key == "Id" || key == "name") && len(x) >= 4 && !strings.HasPrefix(x, "AWS") && !awsManagedNames[x] {
				for _, w := range wordsOfName.FindAllString(x, -1) {
					found[w] = true
				}
			}
		}
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	walk("", v)
	delete(found, "group") // the label "group/NAME/POLICY"
	var out []string
	for w := range found {
		if len(w) >= 3 && !strings.Contains(formatWords, w) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// TestRedactIsDeterministicAndConsistent: the same evidence redacts to the
// same bytes (also when its documents are spaced differently), and a word
// has one replacement wherever it occurs, and no two words share one.
func TestRedactIsDeterministicAndConsistent(t *testing.T) {
	for _, c := range redactInputs(t) {
		t.Run(c.name, func(t *testing.T) {
			ev := readCase(t, c)
			a, err := Evidence(ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(c.json)); err != nil {
				t.Fatal(err)
			}
			b, err := Evidence(readCase(t, redactCase{name: c.name, json: compact.String()}), testOptions)
			if err != nil {
				t.Fatal(err)
			}
			ja, jb := mustJSON(t, a), mustJSON(t, b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("two redactions differ:\n%s\n---\n%s", ja, jb)
			}
			var orig, red any
			if err := json.Unmarshal(mustJSON(t, ev), &orig); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(ja, &red); err != nil {
				t.Fatal(err)
			}
			if m := red.(map[string]any); m["redacted"] != true {
				t.Fatal(`no "redacted": true`)
			} else {
				delete(m, "redacted")
			}
			to, from := map[string]string{}, map[string]string{}
			alignWords(t, "", orig, red, to, from)
			if len(to) == 0 {
				t.Fatal("nothing was replaced")
			}
		})
	}
}

func mustJSON(t *testing.T, ev *evidence.Evidence) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := evidence.Write(&buf, ev); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var wordRun = regexp.MustCompile(`[A-Za-z0-9_+=.@-]+`)

// alignWords walks the original and the redacted evidence side by side. A
// replacement keeps lengths, so each word of an original string sits at the
// same place in its redacted string: every replaced word must always get the
// same replacement, and different words different ones.
func alignWords(t *testing.T, path string, orig, red any, to, from map[string]string) {
	t.Helper()
	switch o := orig.(type) {
	case map[string]any:
		r, ok := red.(map[string]any)
		if !ok || len(r) != len(o) {
			t.Fatalf("%s: shape changed", path)
		}
		for k, v := range o {
			rv, ok := r[k]
			if !ok {
				t.Fatalf("%s: key %q is gone", path, k)
			}
			alignWords(t, path+"."+k, v, rv, to, from)
		}
	case []any:
		r, ok := red.([]any)
		if !ok || len(r) != len(o) {
			t.Fatalf("%s: shape changed", path)
		}
		for i := range o {
			alignWords(t, fmt.Sprintf("%s[%d]", path, i), o[i], r[i], to, from)
		}
	case string:
		r, ok := red.(string)
		if !ok || len(r) != len(o) {
			t.Fatalf("%s: %q became %v (lengths must be kept)", path, o, red)
		}
		for _, loc := range wordRun.FindAllStringIndex(o, -1) {
			w, rw := o[loc[0]:loc[1]], r[loc[0]:loc[1]]
			if w == rw {
				continue
			}
			if prev, ok := to[w]; ok && prev != rw {
				t.Errorf("%s: %q became %q here and %q elsewhere", path, w, rw, prev)
			}
			if prev, ok := from[rw]; ok && prev != w {
				t.Errorf("%s: %q and %q both became %q", path, w, prev, rw)
			}
			to[w], from[rw] = rw, w
		}
	case float64:
		// Numbers are kept, or become strings of the same digits' length.
		if r, ok := red.(string); ok {
			alignWords(t, path, fmt.Sprint(o), r, to, from)
		} else if red != orig {
			t.Errorf("%s: %v became %v", path, orig, red)
		}
	default:
		if red != orig {
			t.Errorf("%s: %v became %v", path, orig, red)
		}
	}
}

// TestRedactKeepsWhatPoliciesAreMadeOf checks the words a reader and the
// engine need are untouched.
func TestRedactKeepsWhatPoliciesAreMadeOf(t *testing.T) {
	var c redactCase
	for _, rc := range redactCases {
		if rc.name == "boundary, session policy, SCPs and RCPs" {
			c = rc
		}
	}
	red, err := Evidence(readCase(t, c), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	out := string(mustJSON(t, red))
	for _, kept := range []string{
		`"Version": "2012-10-17"`, `"lambda:InvokeFunction"`, `"lambda:*"`, `"StringNotEqualsIfExists"`,
		`"aws:PrincipalOrgID"`, `"aws:RequestedRegion"`, `"eu-west-1"`, `"eu-central-1"`, "arn:aws:lambda:*:*:function:",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaRole", `"AWSLambdaRole"`, ":role/", ":assumed-role/",
		":policy/", `"group/`, `"Principal": "*"`, `"Effect": "Deny"`, `"aws:PrincipalIsAWSService": "false"`,
	} {
		if !strings.Contains(out, kept) {
			t.Errorf("%s is gone from the redacted file", kept)
		}
	}
	for _, gone := range []string{"platform", "DeployRole", "ci-pipeline-7", "InvokeEverything", "PlatformBoundary",
		"FullAccessGuardrail", "EuropeOnly", "o-exampleorgid", "BuildArtifacts", "210987654321"} {
		if strings.Contains(out, gone) {
			t.Errorf("%s is still in the redacted file", gone)
		}
	}
}

// TestRedactRedactsFreeText covers notes, simulator and unreadable-policy
// messages: names, ARNs and account IDs go, AWS's wording stays.
func TestRedactRedactsFreeText(t *testing.T) {
	var c redactCase
	for _, rc := range redactCases {
		if rc.name == "simulator answer, unreadable policies and notes" {
			c = rc
		}
	}
	red, err := Evidence(readCase(t, c), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	what := red.Unreadable[0].What
	if !strings.HasPrefix(what, "inline policy ") || !strings.Contains(what, " of role ") {
		t.Errorf("wording lost: %q", what)
	}
	msg := red.Unreadable[0].Error
	for _, keep := range []string{"is not authorized to perform: iam:GetRolePolicy on resource: role ", "because no identity-based policy allows the iam:GetRolePolicy action", ":assumed-role/"} {
		if !strings.Contains(msg, keep) {
			t.Errorf("wording %q lost: %q", keep, msg)
		}
	}
	for _, s := range []string{"Auditor", "auditor-session", "OrdersRole", "SecretInline", "LegacyDeny", "ProcessPayments", "210987654321"} {
		for _, text := range append([]string{red.Unreadable[0].What, red.Unreadable[0].Error, red.Unreadable[1].What}, red.Notes...) {
			if strings.Contains(text, s) {
				t.Errorf("%q is still in %q", s, text)
			}
		}
	}
	// The role's name reads the same in the messages as in the ARNs.
	role := strings.TrimPrefix(red.Caller.ARN[strings.LastIndexByte(red.Caller.ARN, '/'):], "/")
	if !strings.HasSuffix(red.Unreadable[0].What, " of role "+role) {
		t.Errorf("%q does not name the role %q", red.Unreadable[0].What, role)
	}
	if red.Simulation.MatchedStatements[0].SourcePolicyID != red.Caller.IdentityPolicies[0].Name {
		t.Errorf("simulator names policy %q, evidence %q", red.Simulation.MatchedStatements[0].SourcePolicyID, red.Caller.IdentityPolicies[0].Name)
	}
}

// A pattern whose wildcard straddles the resource type and the name
// ("*tion:Process*") cannot keep its meaning under a substitution of names:
// Redact must refuse rather than write evidence that diagnoses differently.
func TestRedactRefusesToChangeTheDiagnosis(t *testing.T) {
	ev := readCase(t, redactCase{name: "straddling wildcard", json: evidenceJSON(
		rcRequest(rcSession, rcTarget, ""),
		rcCaller(rcRole, "210987654321", "",
			rcDoc(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:210987654321:*tion:Process*"}`)),
		rcTargetJSON(rcTarget, "210987654321", ""))})
	if v, err := diagnose.Diagnose(ev, testOptions); err != nil || v.Decision != policy.Allowed {
		t.Fatalf("the original must be allowed: %v %v", v, err)
	}
	_, err := Evidence(ev, testOptions)
	var re *ChangedError
	if !errors.As(err, &re) {
		t.Fatalf("Redact: %v, want a ChangedError", err)
	}
	if !strings.Contains(err.Error(), "decision allowed") {
		t.Errorf("the error does not say what would change: %v", err)
	}
}

func TestRedactDoesNotChangeItsInput(t *testing.T) {
	c := redactInputs(t)[0]
	ev := readCase(t, c)
	before := mustJSON(t, ev)
	if _, err := Evidence(ev, testOptions); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, mustJSON(t, ev)) {
		t.Error("Redact changed the evidence it was given")
	}
}

// corpusCase is the part of a policy corpus case (policy/testdata) that
// makes evidence.
type corpusCase struct {
	Description string `json:"description"`
	Request     struct {
		Principal       string                 `json:"principal"`
		PrincipalARN    string                 `json:"principalArn"`
		Action          string                 `json:"action"`
		Resource        string                 `json:"resource"`
		ResourceAccount string                 `json:"resourceAccount"`
		Context         evidence.ContextValues `json:"context"`
	} `json:"request"`
	Policies struct {
		Identity            []json.RawMessage   `json:"identity"`
		Resource            json.RawMessage     `json:"resource"`
		PermissionsBoundary json.RawMessage     `json:"permissionsBoundary"`
		Session             []json.RawMessage   `json:"session"`
		SCPs                [][]json.RawMessage `json:"scps"`
		RCPs                [][]json.RawMessage `json:"rcps"`
	} `json:"policies"`
	Options struct {
		ManagementAccount bool `json:"managementAccount"`
		ServiceLinkedRole bool `json:"serviceLinkedRole"`
	} `json:"options"`
}

func (c corpusCase) evidence() *evidence.Evidence {
	ev := &evidence.Evidence{Version: 1,
		Request: evidence.Request{Caller: c.Request.Principal, Action: c.Request.Action, Resource: c.Request.Resource, Context: c.Request.Context},
		Caller:  evidence.Caller{ARN: c.Request.PrincipalARN, ServiceLinkedRole: c.Options.ServiceLinkedRole},
		Target:  evidence.Target{ARN: c.Request.Resource, Account: c.Request.ResourceAccount},
	}
	if a, ok := arn.Parse(c.Request.Principal); ok {
		ev.Caller.Account = a.Account
	}
	if a, ok := arn.Parse(c.Request.Resource); ok && ev.Target.Account == "" {
		ev.Target.Account = a.Account
	}
	for i, d := range c.Policies.Identity {
		ev.Caller.IdentityPolicies = append(ev.Caller.IdentityPolicies, evidence.NamedPolicy{Name: fmt.Sprintf("CorpusIdentity%d", i), Document: d})
	}
	for i, d := range c.Policies.Session {
		ev.Caller.SessionPolicies = append(ev.Caller.SessionPolicies, evidence.NamedPolicy{Name: fmt.Sprintf("CorpusSession%d", i), Document: d})
	}
	if len(c.Policies.PermissionsBoundary) > 0 {
		ev.Caller.PermissionsBoundary = &evidence.NamedPolicy{Name: "CorpusBoundaryPolicy", Document: c.Policies.PermissionsBoundary}
	}
	if len(c.Policies.Resource) > 0 {
		ev.Target.ResourcePolicy = &evidence.NamedPolicy{Name: "CorpusFunctionPolicy", Document: c.Policies.Resource}
	}
	if c.Policies.SCPs != nil || c.Policies.RCPs != nil || c.Options.ManagementAccount {
		ev.Organization = &evidence.Organization{SCPs: c.Policies.SCPs, RCPs: c.Policies.RCPs, ManagementAccount: c.Options.ManagementAccount}
	}
	return ev
}

// TestRedactPolicyCorpus redacts every case of the policy engine's corpus,
// each a passage of the AWS documentation with its odd corners: Redact must
// keep each diagnosis, or refuse.
func TestRedactPolicyCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "policy", "testdata", "corpus", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policy corpus under ../policy/testdata/corpus: %v", err)
	}
	var refusals []string
	defer func() {
		if len(refusals) > 2 {
			t.Errorf("Redact refused %d corpus cases (at most 2 expected): %v", len(refusals), refusals)
		}
	}()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c corpusCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ev := c.evidence()
		red, err := Evidence(ev, testOptions)
		var refused *ChangedError
		if errors.As(err, &refused) {
			// A wildcard that spans the ARN's fields (a segment-ending *
			// covering region and account) cannot keep its meaning under a
			// per-field substitution: refusing is the documented answer.
			refusals = append(refusals, filepath.Base(f))
			continue
		}
		if err != nil {
			t.Errorf("%s (%s): %v", filepath.Base(f), c.Description, err)
			continue
		}
		orig, out := mustJSON(t, ev), mustJSON(t, red)
		for _, s := range originalNames(t, string(orig)) {
			// A substitution can spell a short fragment of a name by
			// chance; whole names are checked by Redact itself.
			if len(s) < 5 {
				continue
			}
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s: %q is still in the redacted evidence", filepath.Base(f), s)
			}
		}
	}
}

// testOptions diagnose every case at one fixed moment.
var testOptions = diagnose.Options{Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
