package main

// AWS-documented Lambda invoke cases about conditions, caller kinds and
// function URLs, as evidence files built in the test (README, "Evidence
// file"), run offline as `why-denied --from-snapshot FILE`.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	caseAcct    = "111111111111"
	caseFn      = "arn:aws:lambda:us-east-1:111111111111:function:F"
	caseSession = "arn:aws:sts::111111111111:assumed-role/R/sess"
	caseRole    = "arn:aws:iam::111111111111:role/R"
)

type caseStmts = []map[string]any

func casePolicy(name string, stmts caseStmts) map[string]any {
	return map[string]any{"name": name, "arn": "", "document": map[string]any{"Version": "2012-10-17", "Statement": stmts}}
}

// caseEvidence is a role session (or, with callerARN "", a principal without
// identity policies) calling F in one account.
func caseEvidence(caller, callerARN, action string, identity caseStmts, resourcePolicy caseStmts) map[string]any {
	c := map[string]any{"identityPolicies": []any{}, "permissionsBoundary": nil, "sessionPolicies": []any{}}
	if callerARN != "" {
		c["arn"] = callerARN
		c["account"] = caseAcct
	}
	if identity != nil {
		c["identityPolicies"] = []any{casePolicy("Id0", identity)}
	}
	t := map[string]any{"arn": caseFn, "account": caseAcct, "resourcePolicy": nil}
	if resourcePolicy != nil {
		t["resourcePolicy"] = casePolicy("rp", resourcePolicy)
	}
	return map[string]any{
		"version":              1,
		"request":              map[string]any{"caller": caller, "action": action, "resource": caseFn},
		"caller":               c,
		"target":               t,
		"organization":         nil,
		"simulation":           nil,
		"simulatorUnavailable": "--no-simulate",
	}
}

func caseRun(t *testing.T, ev map[string]any) (result, jsonVerdict) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "evidence.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "--from-snapshot", path, "-o", "json")
	return r, decode(t, r)
}

// Lambda Developer Guide, "Control access to Lambda function URLs": with
// AuthType AWS_IAM "Lambda uses AWS Identity and Access Management (IAM) to
// authenticate and authorize requests based on the IAM principal's identity
// policy and the function's resource-based policy"; "only authenticated IAM
// users and roles" can call such a URL. An unsigned (anonymous) request to an
// AWS_IAM URL is refused whatever the resource policy says.
func TestCaseAnonymousCallToAWSIAMURLIsNeverAllowed(t *testing.T) {
	rp := caseStmts{
		{"Sid": "u", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl", "Resource": caseFn,
			"Condition": map[string]any{"StringEquals": map[string]any{"lambda:FunctionUrlAuthType": "AWS_IAM"}}},
		{"Sid": "i", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": caseFn,
			"Condition": map[string]any{"Bool": map[string]any{"lambda:InvokedViaFunctionUrl": "true"}}},
	}
	ev := caseEvidence("anonymous", "", "lambda:InvokeFunctionUrl", nil, rp)
	ev["target"].(map[string]any)["functionUrlAuthType"] = "AWS_IAM"
	r, v := caseRun(t, ev)
	if r.code == exitAllowed || v.Decision == "allowed" {
		t.Errorf("anonymous call to an AWS_IAM function URL: exit %d, decision %s; AWS refuses unsigned requests to an AWS_IAM URL", r.code, v.Decision)
	}
}

// The fix for the same call without any resource policy: a Principal "*"
// grant with FunctionUrlAuthType AWS_IAM does not let an anonymous caller in
// (the request is still unsigned) and opens the function to every
// authenticated principal of every AWS account; the caveat speaks of auth
// type NONE while the URL is AWS_IAM.
func TestCaseAnonymousAWSIAMURLFixIsNotAPublicGrant(t *testing.T) {
	ev := caseEvidence("anonymous", "", "lambda:InvokeFunctionUrl", nil, nil)
	ev["target"].(map[string]any)["functionUrlAuthType"] = "AWS_IAM"
	r, v := caseRun(t, ev)
	for _, f := range v.Findings {
		for _, fx := range f.Fixes {
			if strings.Contains(fx.CLI, "--principal '*' --function-url-auth-type AWS_IAM") {
				t.Errorf("fix %q would not let an anonymous caller in and grants every AWS principal:\n%s", fx.Description, fx.CLI)
			}
		}
	}
	if strings.Contains(r.stdout, "with auth type NONE the function URL is public") {
		t.Errorf("the caveat speaks of auth type NONE for an AWS_IAM URL:\n%s", r.stdout)
	}
}

// Lambda Developer Guide, "Secure your functions by tag", step 2: the
// documented ABAC policy allows lambda:InvokeFunction when
// "aws:ResourceTag/project": "${aws:PrincipalTag/project}". The function's
// tags are a request-time key the tool does not use (README, "When the
// answer depends on the request"): with a literal value the verdict is
// unknown (exit 3); with the documented policy variable it is a definite
// implicitDeny (exit 1), which AWS would not give for a function tagged
// like the caller (here the evidence even records the tag).
func TestCaseABACPolicyVariableOnResourceTagIsNotADefiniteDeny(t *testing.T) {
	id := caseStmts{{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
		"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}}
	ev := caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", id, nil)
	ev["caller"].(map[string]any)["tags"] = map[string]string{"team": "blue"}
	ev["target"].(map[string]any)["tags"] = map[string]string{"team": "blue"}
	r, v := caseRun(t, ev)
	if r.code == exitDenied || v.Decision == "implicitDeny" {
		t.Errorf("ABAC on aws:ResourceTag/team = ${aws:PrincipalTag/team}: exit %d, %s; the function's tags decide (exit 3 unknown at least)", r.code, v.Summary)
	}
}

// aws:SourceIp is in every request and is always an IPv4 or IPv6 address
// (IAM User Guide, "AWS global condition context keys", aws:SourceIp). A
// Deny on IpAddress 0.0.0.0/0 and ::/0 matches every possible request, so
// the call is denied, definitely (exit 1). The tool answers unknown (exit 3)
// because it also tries the non-address "why-denied-other-value".
func TestCaseSourceIpRangeCoveringEveryAddressIsDefinite(t *testing.T) {
	id := caseStmts{
		{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"},
		{"Effect": "Deny", "Action": "lambda:*", "Resource": "*",
			"Condition": map[string]any{"IpAddress": map[string]any{"aws:SourceIp": []string{"0.0.0.0/0", "::/0"}}}},
	}
	r, v := caseRun(t, caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", id, nil))
	if r.code != exitDenied || v.Decision != "explicitDeny" {
		t.Errorf("Deny on every IPv4 and IPv6 address: exit %d, %s; want exit 1 explicitDeny", r.code, v.Summary)
	}
}

// A Deny on NotIpAddress 10.0.0.0/8: the summary says "allowed with
// aws:SourceIp = 10.0.0.1, explicitDeny otherwise", the finding says
// "allowed with aws:SourceIp = 10.0.0.1; allowed with aws:SourceIp =
// why-denied-other-value": the two contradict, and the second value is no
// address a request can carry.
func TestCaseSourceIpFindingAgreesWithSummary(t *testing.T) {
	id := caseStmts{
		{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"},
		{"Effect": "Deny", "Action": "lambda:*", "Resource": "*",
			"Condition": map[string]any{"NotIpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}}},
	}
	r, v := caseRun(t, caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", id, nil))
	wantExit(t, r, exitIncomplete)
	for _, f := range v.Findings {
		if strings.Contains(f.Message, "why-denied-other-value") {
			t.Errorf("finding names a value no request carries, and contradicts the summary %q:\n%s", v.Summary, f.Message)
		}
	}
}

// aws:MultiFactorAuthPresent is a Boolean key (IAM User Guide, global
// condition keys): "true" or "false", or absent for long-term keys. For the
// common "Deny BoolIfExists aws:MultiFactorAuthPresent false", the value
// that allows the call is "true"; the finding offers
// "why-denied-other-value" and "198.51.100.7" instead, and never "true".
func TestCaseMFAFindingNamesTheValueThatAllows(t *testing.T) {
	id := caseStmts{
		{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"},
		{"Effect": "Deny", "Action": "*", "Resource": "*",
			"Condition": map[string]any{"BoolIfExists": map[string]any{"aws:MultiFactorAuthPresent": "false"}}},
	}
	r, v := caseRun(t, caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", id, nil))
	wantExit(t, r, exitIncomplete)
	for _, f := range v.Findings {
		if f.Kind != "dependsOnContext" {
			continue
		}
		if strings.Contains(f.Message, "198.51.100.7") || strings.Contains(f.Message, "why-denied-other-value") || !strings.Contains(f.Message, "= true") {
			t.Errorf("the MFA finding should say the call is allowed with aws:MultiFactorAuthPresent = true:\n%s", f.Message)
		}
	}
}

// IAM User Guide, "NotPrincipal": a NotPrincipal Deny "will always deny any
// IAM principal that has a permissions boundary policy attached, regardless
// of the values specified in the NotPrincipal element". The verdict is right
// (explicitDeny) but the reason says "the principal element covers the
// caller (as its session)" while the caller's session, role and account are
// all listed in NotPrincipal: a user reads that their session was not
// listed, and the boundary, which decides, is not named.
func TestCaseNotPrincipalWithBoundaryNamesTheBoundary(t *testing.T) {
	inv := map[string]any{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}
	rp := caseStmts{{"Sid": "d", "Effect": "Deny", "NotPrincipal": map[string]any{"AWS": []string{caseRole, caseSession, "arn:aws:iam::" + caseAcct + ":root"}},
		"Action": "lambda:InvokeFunction", "Resource": caseFn}}
	ev := caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", caseStmts{inv}, rp)
	ev["caller"].(map[string]any)["permissionsBoundary"] = map[string]any{"name": "Boundary", "arn": "arn:aws:iam::" + caseAcct + ":policy/Boundary",
		"document": map[string]any{"Version": "2012-10-17", "Statement": caseStmts{inv}}}
	r, v := caseRun(t, ev)
	wantExit(t, r, exitDenied)
	if !strings.Contains(strings.ToLower(v.Summary+r.stdout), "boundary") || strings.Contains(r.stdout, "the principal element covers the caller") {
		t.Errorf("the NotPrincipal Deny applies because of the permissions boundary, which the verdict should say; it says:\n%s", r.stdout)
	}
}

// The first screen of a session-policy denial reads "add to sessionPolicy
// policy session policy:".
func TestCaseSessionPolicyFixWording(t *testing.T) {
	b, _ := json.Marshal(func() map[string]any {
		ev := caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", caseStmts{{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}}, nil)
		ev["caller"].(map[string]any)["sessionPolicies"] = []any{casePolicy("Sess", caseStmts{{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})}
		return ev
	}())
	path := filepath.Join(t.TempDir(), "evidence.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "--from-snapshot", path, "--color", "never")
	wantExit(t, r, exitDenied)
	if strings.Contains(r.stdout, "sessionPolicy policy session policy") {
		t.Errorf("garbled fix heading:\n%s", r.stdout)
	}
}

// The hint under a function URL fix reads "this one as policy JSON,
// CloudFormation / SAM or CloudFormation / SAM".
func TestCaseURLFixFormsNamedOnce(t *testing.T) {
	ev := caseEvidence("anonymous", "", "lambda:InvokeFunctionUrl", nil, nil)
	ev["target"].(map[string]any)["functionUrlAuthType"] = "NONE"
	b, _ := json.Marshal(ev)
	path := filepath.Join(t.TempDir(), "evidence.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "--from-snapshot", path, "--color", "never")
	wantExit(t, r, exitDenied)
	if strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "CloudFormation / SAM or CloudFormation / SAM") {
		t.Errorf("the -v hint names one form twice:\n%s", r.stdout)
	}
}

// Two identity policies: Id0 grants function F (another function), Id1
// grants exactly F2, the function called, until 2026-06-01. Called on
// 2026-12-01, the first screen names Id0's resource mismatch as the
// closest statement and shows no fix; the expired time window, which is
// why the call stopped working, appears only under -v.
func TestCaseClosestStatementIsTheExpiredGrantOfTheFunction(t *testing.T) {
	f2 := "arn:aws:lambda:us-east-1:111111111111:function:F2"
	ev := caseEvidence(caseSession, caseRole, "lambda:InvokeFunction", caseStmts{{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": caseFn}}, nil)
	ev["caller"].(map[string]any)["identityPolicies"] = append(ev["caller"].(map[string]any)["identityPolicies"].([]any),
		casePolicy("Id1", caseStmts{{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f2,
			"Condition": map[string]any{"DateLessThan": map[string]any{"aws:CurrentTime": "2026-06-01T00:00:00Z"}}}}))
	ev["request"].(map[string]any)["resource"] = f2
	ev["request"].(map[string]any)["at"] = "2026-12-01T00:00:00Z"
	ev["target"].(map[string]any)["arn"] = f2
	b, _ := json.Marshal(ev)
	path := filepath.Join(t.TempDir(), "evidence.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "--from-snapshot", path, "--color", "never")
	wantExit(t, r, exitDenied)
	if !strings.Contains(r.stdout, "aws:CurrentTime") {
		t.Errorf("the first screen does not name the expired time condition of the one statement granting F2:\n%s", r.stdout)
	}
}
