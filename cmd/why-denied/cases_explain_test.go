package main

// Cases of explain and of the simulator's answer over the file: evidence
// files written by hand (README, "Evidence file") under
// testdata/cases_explain, run offline as
// `why-denied --from-snapshot FILE` or `why-denied explain --from-snapshot
// FILE MESSAGE`. Each asserts what a user reads: exit code, JSON fields.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func explainCase(name string) string { return filepath.Join("testdata", "cases_explain", name) }

// The simulator answered implicitDeny for a role session whose only
// identity policy, as recorded in the file, allows lambda:InvokeFunction on
// F. The verdict follows the simulator (README: it is the authority on the
// identity side), but then the identity row must not list that Allow as
// "matched" under result noAllow/blocks, and the fix must not be the very
// statement the file already holds, marked verified: applied to the
// evidence it changes nothing AWS answered, so "verified" (README: "every
// fix shown was applied to the evidence and the call re-evaluated as
// allowed") is not true of it.
func TestCaseExplainSimulatorDenyOverFileAllowRowAndFix(t *testing.T) {
	r := runOffline(t, "--from-snapshot", explainCase("dis-allow-simdeny.json"), "-o", "json")
	v := decode(t, r)
	if r.code != 1 || v.Decision != "implicitDeny" {
		t.Fatalf("exit %d decision %q, want 1 implicitDeny (the simulator's answer)\n%s", r.code, v.Decision, r.stdout)
	}
	for _, l := range v.Layers {
		if l.Layer != "identity" || !l.Blocks {
			continue
		}
		for _, s := range l.Statements {
			if s.Status == "matched" {
				t.Errorf("identity row blocks (result %s) and lists %s as a matched Allow: the row contradicts itself", l.Result, s.Policy)
			}
		}
	}
	for _, f := range v.Findings {
		for _, x := range f.Fixes {
			if x.Verified && strings.Contains(x.CLI, `"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111111111111:function:F"`) {
				t.Errorf("fix %q is the statement policy Id already holds, shown as verified", x.Description)
			}
		}
	}
}

// IAM user, same account, the simulator included the function's resource
// policy (includedResourcePolicy) and answered implicitDeny, while the
// file's resource policy grants the user by ARN. IAM User Guide, "Policy
// evaluation for requests within a single account": "If either the
// identity-based policy or the resource-based policy within the same
// account allows the request and the other doesn't, the request is still
// allowed." A verdict of implicitDeny "by the identity-based policy" with
// the resource row "allows" contradicts that, and so does the info finding
// that an identity Allow is enough next to a resource row that allows.
func TestCaseExplainUserResourceGrantRowAgreesWithDeny(t *testing.T) {
	r := runOffline(t, "--from-snapshot", explainCase("user-rp-simdeny.json"), "-o", "json")
	v := decode(t, r)
	res, src := v.layer(t, "resource")
	if v.Decision == "implicitDeny" && res == "allows" {
		t.Errorf("decision implicitDeny (blockedBy %v) while the resource row says %s (source %s): in one account a resource-policy Allow for the user is enough", v.BlockedBy, res, src)
	}
	for _, f := range v.Findings {
		for _, x := range f.Fixes {
			if x.Verified && v.Simulator.AgreesWithLocal != nil && !*v.Simulator.AgreesWithLocal {
				t.Errorf("fix %q is verified although the local engine, which verified it, already allows the call the simulator denied", x.Description)
			}
		}
	}
}

// The simulator reports an explicit Deny in policy "Id"; the file holds
// that policy whole and it has no Deny. The blocking finding says "the tool
// could not read the statement itself", which is false: it read the policy
// and it holds none (the evidence is stale or disagrees with AWS).
func TestCaseExplainSimulatorDenyInReadPolicyWording(t *testing.T) {
	r := runOffline(t, "--from-snapshot", explainCase("dis-allow-simexplicit.json"), "-o", "json")
	v := decode(t, r)
	if r.code != 1 || v.Decision != "explicitDeny" {
		t.Fatalf("exit %d decision %q, want 1 explicitDeny", r.code, v.Decision)
	}
	for _, f := range v.Findings {
		if f.Severity == "blocking" && strings.Contains(f.Message, "could not read") {
			t.Errorf("blocking finding says the tool could not read policy Id, which the file holds whole: %q", f.Message)
		}
	}
}

// README, "Explaining a pasted AccessDenied message": explain reads a
// CloudTrail record and takes "its eventTime as the moment diagnosed". With
// --from-snapshot the record's eventTime (2026-11-30T23:59:59Z) is dropped
// and the call is diagnosed now: a grant valid until DateLessThan
// 2026-12-01T00:00:00Z is reported expired ("the request has <now>"). At
// the record's time the evidence allows the call.
func TestCaseExplainExplainCloudTrailFromSnapshotUsesEventTime(t *testing.T) {
	rec, err := os.ReadFile(explainCase("cloudtrail-before-expiry.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "explain", "--from-snapshot", explainCase("date.json"), "-o", "json", string(rec))
	v := decode(t, r)
	if v.Decision != "allowed" || r.code != 0 {
		t.Errorf("exit %d decision %q, want 0 allowed at the record's eventTime 2026-11-30T23:59:59Z; summary %q; findings %v", r.code, v.Decision, v.Summary, v.findingKinds())
	}
}

// Same record, a policy on aws:SourceIp 203.0.113.0/24: the record's
// sourceIPAddress (203.0.113.7) is dropped with --from-snapshot, and the
// verdict is unknown, telling the user to "pass it with --context", a flag
// explain rejects (exit 2, "unknown flag: --context").
func TestCaseExplainExplainCloudTrailFromSnapshotUsesSourceIP(t *testing.T) {
	rec, err := os.ReadFile(explainCase("cloudtrail-before-expiry.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "explain", "--from-snapshot", explainCase("sourceip.json"), "-o", "json", string(rec))
	v := decode(t, r)
	if v.Decision != "allowed" || r.code != 0 {
		t.Errorf("exit %d decision %q, want 0 allowed with the record's sourceIPAddress 203.0.113.7; summary %q", r.code, v.Decision, v.Summary)
	}
	if strings.Contains(v.Summary, "--context") {
		t.Errorf("explain's summary tells the user to pass --context, which explain rejects: %q", v.Summary)
	}
}

// A Deny on StringNotEquals aws:PrincipalTag/team for a role session whose
// session policies (and so its session tags) cannot be read back
// (sessionPoliciesUnknown). IAM User Guide, "Pass session tags in AWS STS":
// a session's principal tags "come from the following sources: Session tags
// ... Incoming transitive session tags ... IAM tags". The role has no team
// tag, but a session tag team=payments would make the Deny not apply; the
// evidence cannot rule that out, so a definite explicitDeny is not what it
// supports.
func TestCaseExplainPrincipalTagDenyWithUnknownSessionTags(t *testing.T) {
	r := runOffline(t, "--from-snapshot", explainCase("tag-absent-session-unk.json"), "-o", "json")
	v := decode(t, r)
	if v.Decision == "explicitDeny" {
		t.Errorf("definite explicitDeny on aws:PrincipalTag/team absent, for a session whose session tags are unknown; summary %q", v.Summary)
	}
}

// DateLessThan aws:CurrentTime 2026-12-01T00:00:00Z at --at
// 2026-12-01T00:00:00Z: the reason reads "wants 2026-12-01T00:00:00Z, the
// request has 2026-12-01T00:00:00Z", which reads as a match; it must say
// the time must be before that moment.
func TestCaseExplainDateLessThanReasonWording(t *testing.T) {
	r := runOffline(t, "--from-snapshot", explainCase("date.json"), "--at", "2026-12-01T00:00:00Z", "-o", "json")
	v := decode(t, r)
	if r.code != 1 || v.Decision != "implicitDeny" {
		t.Fatalf("exit %d decision %q, want 1 implicitDeny", r.code, v.Decision)
	}
	if strings.Contains(v.Summary+v.Findings[0].Message, "wants 2026-12-01T00:00:00Z, the request has 2026-12-01T00:00:00Z") {
		t.Errorf("reason says the policy wants the value the request has: %q", v.Findings[0].Message)
	}
}

// README, "Explaining a pasted AccessDenied message": with --from-snapshot
// "it warns when the evidence file is about another caller, action or
// resource than the message". A message with its account redacted (`***`)
// about role Other and function G, against evidence about R/sess and F:
// redaction hides the account only, yet no warning is printed (the same
// message with the account in it warns about G).
func TestCaseExplainRedactedMessageAboutAnotherCallWarns(t *testing.T) {
	msg := "User: arn:aws:sts::***:assumed-role/Other/x is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:***:function:G because no identity-based policy allows the lambda:InvokeFunction action"
	r := runOffline(t, "explain", "--from-snapshot", explainCase("identity-qualified-only.json"), "-o", "json", msg)
	if !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "function:G") {
		t.Errorf("no warning that the redacted message is about function G and role Other, the evidence about F and R; stderr %q", r.stderr)
	}
}
