package evidence

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/policy"
)

func orgEvidence() *Evidence {
	return &Evidence{
		Version: Version,
		Request: Request{
			Caller:   "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
			Action:   "lambda:InvokeFunction",
			Resource: "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction",
		},
		Caller: Caller{ARN: "arn:aws:iam::111111111111:role/RequestRole", Account: "111111111111"},
		Target: Target{ARN: "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction", Account: "111111111111",
			OrgID: "o-a1b2c3d4e5", OrgPath: "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"},
		Organization: &Organization{
			ID: "o-a1b2c3d4e5", ManagementAccountID: "999999999999",
			SCPs: [][]json.RawMessage{
				{json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)},
				{json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}}]}`)},
				{json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)},
			},
			Levels: []OrgLevel{
				{ID: "r-ab12", Type: "ROOT", SCPs: []OrgPolicy{{Name: "FullAWSAccess", ID: "p-FullAWSAccess"}}},
				{ID: "ou-ab12-11111111", Type: "ORGANIZATIONAL_UNIT", Name: "Workloads", SCPs: []OrgPolicy{{Name: "DenyLambda", ID: "p-11111111"}}},
				{ID: "111111111111", Type: "ACCOUNT", SCPs: []OrgPolicy{{Name: "FullAWSAccess", ID: "p-FullAWSAccess"}}},
			},
		},
	}
}

// TestOrganizationKeys: with the organization read, the principal's and
// the resource's organization keys are in the request context, the path as
// aws:PrincipalOrgPaths writes it (the account's parent last).
func TestOrganizationKeys(t *testing.T) {
	ev := orgEvidence()
	if got, want := ev.Organization.OrgPath(), "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"; got != want {
		t.Errorf("OrgPath() = %q, want %q", got, want)
	}
	ctx := RequestContext(ev, time.Now())
	for k, want := range map[string]string{
		"aws:PrincipalOrgID":    "o-a1b2c3d4e5",
		"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
		"aws:ResourceOrgID":     "o-a1b2c3d4e5",
		"aws:ResourceOrgPaths":  "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
	} {
		if v, ok := ctx.Lookup(k); !ok || len(v) != 1 || v[0] != want {
			t.Errorf("%s = %v, want %q", k, v, want)
		}
	}
	if _, ok := ctx.Lookup("aws:SourceOrgID"); ok {
		t.Errorf("aws:SourceOrgID set for a direct call")
	}
	if got := ev.Organization.Level(1); got != "OU Workloads (ou-ab12-11111111)" {
		t.Errorf("Level(1) = %q", got)
	}

	// A service call from a source in the function's account carries the
	// function's organization as aws:SourceOrgID; a service principal has
	// no aws:PrincipalOrgID.
	svc := orgEvidence()
	svc.Request.Caller = "s3.amazonaws.com"
	svc.Request.Context = ContextValues{"aws:SourceAccount": {"111111111111"}}
	ctx = RequestContext(svc, time.Now())
	if v, _ := ctx.Lookup("aws:SourceOrgID"); len(v) != 1 || v[0] != "o-a1b2c3d4e5" {
		t.Errorf("aws:SourceOrgID = %v, want o-a1b2c3d4e5", v)
	}
	if _, ok := ctx.Lookup("aws:PrincipalOrgID"); ok {
		t.Errorf("aws:PrincipalOrgID set for a service principal")
	}
}

// TestAbsentKeys: an account in no organization sends no organization
// keys, and the evidence says so.
func TestAbsentKeys(t *testing.T) {
	ev := orgEvidence()
	ev.Organization = &Organization{None: true}
	ev.Target.OrgID, ev.Target.OrgPath, ev.Target.NoOrganization = "", "", true
	ctx := RequestContext(ev, time.Now())
	if _, ok := ctx.Lookup("aws:PrincipalOrgID"); ok {
		t.Errorf("aws:PrincipalOrgID set for an account in no organization")
	}
	got := strings.Join(AbsentKeys(ev), ",")
	if got != "aws:PrincipalOrgID,aws:PrincipalOrgPaths,aws:ResourceOrgID,aws:ResourceOrgPaths" {
		t.Errorf("AbsentKeys = %s", got)
	}
}

// TestApplySCPChange: a fix may add a condition to an SCP statement, which
// joins an exemption list the statement already has instead of replacing
// it, and leaves the original evidence as it was.
func TestApplySCPChange(t *testing.T) {
	ev := orgEvidence()
	before := string(ev.Organization.SCPs[1][0])
	ch := Change{Layer: policy.LayerSCP, Kind: AddCondition, Level: 1, Index: 0, Statement: 0, Guardrail: true,
		Document: json.RawMessage(`{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/RequestRole"}}`)}
	out, err := Apply(ev, []Change{ch})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out.Organization.SCPs[1][0])
	if !strings.Contains(got, `"aws:PrincipalArn":["arn:aws:iam::*:role/Admin","arn:aws:iam::111111111111:role/RequestRole"]`) {
		t.Errorf("changed SCP = %s, want both exemptions", got)
	}
	if string(ev.Organization.SCPs[1][0]) != before {
		t.Errorf("Apply changed the original evidence")
	}
	docs, err := Changed(ev, []Change{ch})
	if err != nil || len(docs) != 1 || string(docs[0]) != got {
		t.Errorf("Changed = %s, %v", docs, err)
	}
	if _, err := Apply(ev, []Change{{Layer: policy.LayerSCP, Kind: AddCondition, Level: 5, Document: ch.Document}}); err == nil {
		t.Errorf("a change to an SCP level that does not exist was applied")
	}
}

// TestValidateLevels: levels that do not name the SCPs they describe are
// bad input.
func TestValidateLevels(t *testing.T) {
	ev := orgEvidence()
	ev.Organization.Levels = ev.Organization.Levels[:2]
	if err := ev.Validate(); err == nil || !strings.Contains(err.Error(), "organization.levels") {
		t.Errorf("Validate = %v, want an error naming organization.levels", err)
	}
}

// TestOrganizationRoundTrip: the organization fields survive --snapshot and
// --from-snapshot.
func TestOrganizationRoundTrip(t *testing.T) {
	ev := orgEvidence()
	ev.Organization.MessageSCP = &OrgPolicy{Name: "DenyLambda", ID: "p-11111111", ARN: "arn:aws:organizations::999999999999:policy/o-a1b2c3d4e5/service_control_policy/p-11111111",
		Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[]}`)}
	var b strings.Builder
	if err := Write(&b, ev); err != nil {
		t.Fatal(err)
	}
	back, err := Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("Read: %v\n%s", err, b.String())
	}
	o := back.Organization
	if o.ID != "o-a1b2c3d4e5" || o.ManagementAccountID != "999999999999" || len(o.Levels) != 3 || o.Levels[1].SCPs[0].ID != "p-11111111" ||
		o.MessageSCP == nil || o.MessageSCP.ID != "p-11111111" || back.Target.OrgPath != ev.Target.OrgPath {
		t.Errorf("round trip lost organization fields: %+v %+v", o, back.Target)
	}
}
