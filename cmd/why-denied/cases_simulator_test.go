package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Cases where the simulator's answer, unreadable layers and request-time
// keys meet: each test names the evidence file under
// testdata/cases_simulator and asserts what a user reads (exit code, JSON
// fields).

func simulatorCase(name string) string { return filepath.Join("testdata", "cases_simulator", name) }

// The simulator is asked about lambda:InvokeFunctionUrl only (awsclient
// sends ActionNames: [request.action]); the lambda:InvokeFunction leg of a
// URL call is evaluated locally. An identity policy the tool could not read
// is then not "answered by the simulator" for that leg: it may deny (or
// allow) lambda:InvokeFunction. The verdict must not be a definite ALLOWED.
func TestCaseSimulatorURLLegUnreadableIdentityNotAllowed(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("url-unreadable-allowed.json"), "-o", "json")
	v := decode(t, r)
	if r.code == 0 || v.Decision == "allowed" {
		t.Errorf("exit %d, decision %q: the unreadable managed policy may deny lambda:InvokeFunction, which the simulator was never asked about; want unknown (exit 3)\n%s", r.code, v.Decision, r.stdout)
	}
	for _, f := range v.Findings {
		if f.Kind == "unreadable" && strings.Contains(f.Message, "the verdict does not depend on it") {
			t.Errorf("finding says the verdict does not depend on the unreadable policy, but the simulator did not answer for lambda:InvokeFunction: %s", f.Message)
		}
	}
}

// Same, the other way: the readable policy grants only InvokeFunctionUrl,
// the unreadable one may grant InvokeFunction. A definite DENIED with a
// verified identity fix is not what the evidence supports.
func TestCaseSimulatorURLLegUnreadableIdentityNotDenied(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("url-unreadable-denied.json"), "-o", "json")
	v := decode(t, r)
	if v.Decision != "unknown" || r.code != 3 {
		t.Errorf("exit %d, decision %q: the unreadable managed policy may allow lambda:InvokeFunction; want unknown (exit 3)", r.code, v.Decision)
	}
}

// The simulator reports an explicit Deny from a policy the tool could not
// read (MatchedStatements names it). The blocking finding must not present
// a non-matching Allow statement as "an explicit Deny", and no fix may be
// shown as verified: an Allow never beats the Deny the simulator saw.
func TestCaseSimulatorSimulatorDenyFromUnreadablePolicy(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("sim-deny-unreadable.json"), "-o", "json")
	v := decode(t, r)
	if v.Decision != "explicitDeny" {
		t.Fatalf("decision %q, want explicitDeny (the simulator's word)", v.Decision)
	}
	for _, f := range v.Findings {
		if f.Severity != "blocking" {
			continue
		}
		if strings.Contains(f.Message, `"Inline0"`) {
			t.Errorf("blocking finding names the Allow statement Inline0 #0 as the explicit Deny: %s", f.Message)
		}
		if !strings.Contains(f.Message, "Guard") {
			t.Errorf("blocking finding does not name the policy the simulator matched (Guard): %s", f.Message)
		}
		for _, fx := range f.Fixes {
			t.Errorf("fix %q is shown as verified, but adding an Allow cannot override the explicit Deny in the unreadable policy Guard", fx.Description)
		}
	}
}

// explain with a message about another function: the message's SCP deny is
// about OtherFunction, and the verdict itself says it is about the evidence
// file's call; it must not take the message's word for that call.
func TestCaseSimulatorMessageAuthorityOnlyForItsCall(t *testing.T) {
	msg := "User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:OtherFunction with an explicit deny in a service control policy"
	r := runOffline(t, "explain", "--from-snapshot", filepath.Join("..", "..", "fixtures", "sam-unqualified-invoke.json"), "-o", "json", msg)
	v := decode(t, r)
	if v.Decision == "explicitDeny" {
		t.Errorf("decision explicitDeny blocked by %v: an SCP deny of a call to OtherFunction was laid over the call to ProcessorFunction, which the readable policies allow (exit %d)", v.BlockedBy, r.code)
	}
}

// A URL call blocked by the identity layer on both legs: no Allow for
// lambda:InvokeFunctionUrl, an explicit Deny on lambda:InvokeFunction. The
// decision is explicitDeny; the identity row and the blocking finding must
// say so (issue 8, item 3: "the findings must agree"), not only "no
// identity-based policy allows lambda:InvokeFunctionUrl".
func TestCaseSimulatorURLExplicitDenyFindingAgrees(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("url-invoke-deny.json"), "-o", "json")
	v := decode(t, r)
	if v.Decision != "explicitDeny" {
		t.Fatalf("decision %q, want explicitDeny", v.Decision)
	}
	if res, _ := v.layer(t, "identity"); res != "denies" {
		t.Errorf("identity row result %q under an explicitDeny decided by the identity layer, want denies", res)
	}
	explicit := false
	for _, f := range v.Findings {
		if f.Severity == "blocking" && f.Kind == "explicitDeny" {
			explicit = true
		}
	}
	if !explicit {
		t.Errorf("no explicitDeny finding under an explicitDeny decision:\n%s", r.stdout)
	}
}

// Cross-account: the simulator says the caller's identity side allows (a
// managed policy the tool could not read); only the function's resource
// policy blocks. The add-permission fix is exactly what is needed, but
// verification drops the simulator and rejects it.
func TestCaseSimulatorCrossAccountResourceFixWithSimulatorIdentity(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("cross-sim-allows-identity.json"), "-o", "json")
	v := decode(t, r)
	if strings.Join(v.BlockedBy, ",") != "resource" {
		t.Fatalf("blockedBy %v, want [resource]", v.BlockedBy)
	}
	n := 0
	for _, f := range v.Findings {
		n += len(f.Fixes)
	}
	if n == 0 {
		t.Errorf("no fix proposed, though lambda add-permission for the role is what the call needs")
	}
}

// The outcome turns on aws:SourceIp and, inside 10.0.0.0/8, on SCPs the tool
// could not read. unknownLayers must name scp: passing --context
// aws:SourceIp alone does not settle it.
func TestCaseSimulatorKeysAndUnreadableLayer(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("scp-unreadable-sourceip.json"), "-o", "json")
	var v struct {
		Decision      string   `json:"decision"`
		UnknownLayers []string `json:"unknownLayers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	if v.Decision != "unknown" {
		t.Fatalf("decision %q, want unknown", v.Decision)
	}
	if !strings.Contains(strings.Join(v.UnknownLayers, ","), "scp") {
		t.Errorf("unknownLayers %v: the unreadable SCPs decide the outcome when aws:SourceIp is in 10.0.0.0/8", v.UnknownLayers)
	}
}

// "Deny unless from 203.0.113.5/32" and no Allow: denied either way, but
// the kind of deny and the fix turn on aws:SourceIp, which AWS always sends.
// The verdict calls it a definite explicitDeny (judged with the key absent,
// not a possible request) and offers only an exemption from the guardrail
// plus a grant; from the office a grant alone is the whole fix.
func TestCaseSimulatorAlwaysSentKeyDecidesDenyKindAndFix(t *testing.T) {
	r := runOffline(t, "--from-snapshot", simulatorCase("deny-unless-office-no-allow.json"), "-o", "json")
	v := decode(t, r)
	grantOnly := false
	for _, f := range v.Findings {
		for _, fx := range f.Fixes {
			if !strings.Contains(fx.Description, "exempt") {
				grantOnly = true
			}
		}
	}
	if v.Decision == "explicitDeny" && !grantOnly {
		t.Errorf("definite explicitDeny with only an exemption fix, decided as if aws:SourceIp were absent; a call from 203.0.113.5 is an implicit deny that a grant alone fixes:\n%s", r.stdout)
	}
}
