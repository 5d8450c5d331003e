package diagnose

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

const invokeARN = "arn:aws:iam::111111111111:policy/InvokeProcessor"

// versioned is the caller's managed policy InvokeProcessor: its default
// version allows only logs; its other versions are as given.
func versioned(others ...evidence.PolicyVersion) evidence.NamedPolicy {
	return evidence.NamedPolicy{Name: "InvokeProcessor", ARN: invokeARN, Document: doc(allow("logs:*", "*")), OtherVersions: others}
}

// TestNonDefaultVersionWouldAllow: IAM evaluates a managed policy's default
// version only. When the grant is in another version (a new version that
// dropped it, a rollback), the verdict says which version would allow the
// call and offers aws iam set-default-policy-version, verified by applying
// it to the evidence.
func TestNonDefaultVersionWouldAllow(t *testing.T) {
	grant := evidence.PolicyVersion{VersionID: "v1", Document: doc(allow("lambda:InvokeFunction", targetARN))}
	other := evidence.PolicyVersion{VersionID: "v2", Document: doc(allow("s3:GetObject", "*"))}
	cases := []struct {
		name string
		ev   *evidence.Evidence
	}{
		{"attached to the role", func() *evidence.Evidence {
			ev := scenario(targetARN)
			ev.Caller.IdentityPolicies = []evidence.NamedPolicy{versioned(other, grant)}
			return ev
		}()},
		{"attached to the role and to a group: one policy, one default", func() *evidence.Evidence {
			ev := scenario(targetARN)
			g := versioned(other, grant)
			g.Name = "group/developers/InvokeProcessor"
			ev.Caller.IdentityPolicies = []evidence.NamedPolicy{versioned(other, grant), g}
			return ev
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Diagnose(c.ev, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != policy.ImplicitDeny {
				t.Fatalf("decision %s, want implicitDeny: the default version does not allow", v.Decision)
			}
			var found []Finding
			for _, f := range v.Findings {
				if f.Kind == KindNonDefaultVersion {
					found = append(found, f)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d nonDefaultPolicyVersion findings, want 1:\n%s", len(found), verdictText(v))
			}
			f := found[0]
			for _, want := range []string{"InvokeProcessor", "(v1)", "not its default"} {
				if !strings.Contains(f.Message, want) {
					t.Errorf("finding %q does not say %q", f.Message, want)
				}
			}
			if strings.Contains(f.Message, "v2") {
				t.Errorf("finding %q names v2, which does not allow the call", f.Message)
			}
			cli := "aws iam set-default-policy-version --policy-arn " + invokeARN + " --version-id v1"
			var fix *Fix
			for i := range f.Fixes {
				if f.Fixes[i].CLI == cli {
					fix = &f.Fixes[i]
				}
				if strings.Contains(f.Fixes[i].CLI, "v2") {
					t.Errorf("fix %q makes v2 the default, which does not allow the call", f.Fixes[i].CLI)
				}
			}
			if fix == nil {
				t.Fatalf("fixes %+v, want %q", f.Fixes, cli)
			}
			if fix.Caveat == "" || !strings.Contains(fix.Caveat, "every role, user and group") {
				t.Errorf("caveat %q, want it to say the change reaches every entity the policy is attached to", fix.Caveat)
			}
			if len(fix.Changes) != 1 || fix.Changes[0].Kind != evidence.SetDefaultVersion || fix.Changes[0].VersionID != "v1" || fix.Changes[0].PolicyARN != invokeARN {
				t.Errorf("changes %+v, want one setDefaultPolicyVersion of v1", fix.Changes)
			}
			checkFix(t, c.ev, *fix)
		})
	}
}

// TestNonDefaultVersionThatDoesNotHelp: other versions that would not
// allow the call are not mentioned.
func TestNonDefaultVersionThatDoesNotHelp(t *testing.T) {
	ev := scenario(targetARN)
	ev.Caller.IdentityPolicies = []evidence.NamedPolicy{versioned(evidence.PolicyVersion{VersionID: "v2", Document: doc(allow("s3:GetObject", "*"))})}
	v, err := Diagnose(ev, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range v.Findings {
		if f.Kind == KindNonDefaultVersion {
			t.Errorf("finding %q about a version that does not allow the call", f.Message)
		}
		for _, fix := range f.Fixes {
			if strings.Contains(fix.CLI, "set-default-policy-version") {
				t.Errorf("fix %q does not allow the call", fix.CLI)
			}
		}
	}
}

// TestNonDefaultBoundaryVersion: a permissions boundary is a managed
// policy too, with versions.
func TestNonDefaultBoundaryVersion(t *testing.T) {
	ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
	ev.Caller.PermissionsBoundary = &evidence.NamedPolicy{Name: "Boundary", ARN: "arn:aws:iam::111111111111:policy/Boundary", Document: doc(allow("logs:*", "*")),
		OtherVersions: []evidence.PolicyVersion{{VersionID: "v4", Document: doc(allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111111111111:function:*"))}}}
	v, err := Diagnose(ev, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	text := verdictText(v)
	if !strings.Contains(text, "managed policy Boundary that is not its default (v4)") {
		t.Errorf("the verdict does not name the boundary's version v4:\n%s", text)
	}
	var offered bool
	for _, f := range v.Findings {
		for _, fix := range f.Fixes {
			if strings.Contains(fix.CLI, "set-default-policy-version --policy-arn arn:aws:iam::111111111111:policy/Boundary --version-id v4") {
				offered = true
				checkFix(t, ev, fix)
			}
		}
	}
	if !offered {
		t.Errorf("no set-default-policy-version fix for the boundary:\n%s", text)
	}
}

// TestOtherVersionsInAnEvidenceFile: the field reads and writes back.
func TestOtherVersionsInAnEvidenceFile(t *testing.T) {
	ev := scenario(targetARN)
	ev.Caller.IdentityPolicies = []evidence.NamedPolicy{versioned(evidence.PolicyVersion{VersionID: "v1", Document: doc(allow("lambda:InvokeFunction", targetARN))})}
	var b strings.Builder
	if err := evidence.Write(&b, ev); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"otherVersions"`) || !strings.Contains(b.String(), `"versionId": "v1"`) {
		t.Errorf("written evidence lacks otherVersions:\n%s", b.String())
	}
	back, err := evidence.Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(back.Caller.IdentityPolicies[0].OtherVersions)
	want, _ := json.Marshal(ev.Caller.IdentityPolicies[0].OtherVersions)
	if string(got) != string(want) {
		t.Errorf("read back %s, want %s", got, want)
	}
}
