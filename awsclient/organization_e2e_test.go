package awsclient_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
	"github.com/why-denied/why-denied/policy"
)

// TestOrganizationEndToEnd reads, from moto's Organizations, the chain
// that governs a member account two OUs below the root: the
// organization's ID and management account from the member's credentials,
// the tree and the SCPs with the management account's (--org-profile);
// and, from a member without access (AWS's refusal injected: moto answers
// "not found" instead), says exactly what could not be read and who can.
func TestOrganizationEndToEnd(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	faults := awstest.StartFaultProxy(t, moto.URL)
	mgmt := awstest.NewBuilder(t, moto.URL)
	org := mgmt.Organization()
	workloads := org.OU(org.Root, "Workloads")
	prod := org.OU(workloads, "Prod")
	member := org.Account("member")
	org.Move(member, org.Root, prod)
	denyID, denyARN := org.SCP("DenyLambdaInvoke", awstest.Document(awstest.Statement{Effect: "Deny", Action: "lambda:InvokeFunction", Resource: "*"}), prod)
	m := mgmt.InAccount(member)
	sam := m.SAM("")
	awstest.Profiles(t, map[string]aws.Credentials{"member": m.Credentials, "mgmt": mgmt.Credentials})

	t.Run("with --org-profile", func(t *testing.T) {
		var rec awstest.Recorder
		client := newClient(t, faults.URL, awsclient.Options{Profile: "member", OrgProfile: "mgmt"}, &rec)
		ev, err := client.FetchEvidence(context.Background(), awsclient.Request{Caller: sam.RequestFunction, Target: sam.ProcessorFunction + ":live"})
		if err != nil {
			t.Fatalf("FetchEvidence: %v", err)
		}
		o := ev.Organization
		if o == nil || o.ID != org.ID || o.ManagementAccountID != awstest.Account || o.ManagementAccount {
			t.Fatalf("organization = %+v, want %s managed by %s", o, org.ID, awstest.Account)
		}
		var ids []string
		for _, l := range o.Levels {
			ids = append(ids, l.ID)
		}
		if want := []string{org.Root, workloads, prod, member}; !slices.Equal(ids, want) {
			t.Errorf("levels %v, want %v (root first, the account last)", ids, want)
		}
		if len(o.SCPs) != 4 || len(o.Levels[2].SCPs) != 2 || o.Levels[2].Name != "Prod" {
			t.Fatalf("SCPs per level %v, level 2 %+v", o.SCPs, o.Levels[2])
		}
		if p := o.Levels[2].SCPs[1]; p.ID != denyID || p.ARN != denyARN || p.Name != "DenyLambdaInvoke" || !strings.Contains(string(o.SCPs[2][1]), `"Deny"`) {
			t.Errorf("Prod's second SCP = %+v %s, want DenyLambdaInvoke %s %s", p, o.SCPs[2][1], denyID, denyARN)
		}
		if got, want := ev.Target.OrgPath, org.Path(workloads, prod); ev.Target.OrgID != org.ID || got != want {
			t.Errorf("target organization %q %q, want %q %q", ev.Target.OrgID, got, org.ID, want)
		}
		if len(ev.Unreadable) != 0 {
			t.Errorf("unreadable: %+v", ev.Unreadable)
		}
		for _, op := range rec.Operations() {
			if op.Service == "Organizations" && !awsclient.IsReadOperation(op.Name) {
				t.Errorf("sent %s", op)
			}
		}
	})

	t.Run("function in another account", func(t *testing.T) {
		// The function's account answers DescribeOrganization for
		// aws:ResourceOrgID: the management account is in the
		// organization, an account outside it is in none.
		inOrg := mgmt.Function("MgmtFunction", mgmt.Role("MgmtRole", "/"))
		outside := mgmt.InAccount("333333333333")
		alone := outside.Function("Alone", outside.Role("AloneRole", "/"))
		awstest.Profiles(t, map[string]aws.Credentials{"member": m.Credentials, "mgmt": mgmt.Credentials, "outside": outside.Credentials})
		for _, tt := range []struct {
			profile, fn string
			orgID       string
			none        bool
		}{{"mgmt", inOrg, org.ID, false}, {"outside", alone, "", true}} {
			client := newClient(t, faults.URL, awsclient.Options{CallerProfile: "member", TargetProfile: tt.profile}, nil)
			ev, err := client.FetchEvidence(context.Background(), awsclient.Request{Caller: sam.RequestFunctionARN, Target: tt.fn})
			if err != nil {
				t.Fatalf("FetchEvidence: %v", err)
			}
			if ev.Target.OrgID != tt.orgID || ev.Target.NoOrganization != tt.none || ev.Target.OrgPath != "" {
				t.Errorf("%s: target organization %q none %v path %q, want %q none %v", tt.fn, ev.Target.OrgID, ev.Target.NoOrganization, ev.Target.OrgPath, tt.orgID, tt.none)
			}
		}
	})

	t.Run("member without access", func(t *testing.T) {
		for _, op := range []string{"ListRoots", "ListParents", "ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy", "DescribePolicy", "DescribeOrganizationalUnit"} {
			faults.Inject("organizations:"+op, awstest.Fault{Kind: awstest.AccessDenied})
		}
		defer faults.Clear()
		client := newClient(t, faults.URL, awsclient.Options{Profile: "member"}, nil)
		ev, err := client.FetchEvidence(context.Background(), awsclient.Request{Caller: sam.RequestFunction, Target: sam.ProcessorFunction,
			MessageSCP: denyARN})
		if err != nil {
			t.Fatalf("FetchEvidence: %v", err)
		}
		if o := ev.Organization; o == nil || o.ID != org.ID || o.SCPs != nil || o.MessageSCP != nil {
			t.Fatalf("organization = %+v, want its ID and no SCPs", o)
		}
		i := slices.IndexFunc(ev.Unreadable, func(u evidence.Unreadable) bool { return u.Layer == policy.LayerSCP })
		if i < 0 {
			t.Fatalf("unreadable = %+v, want the SCPs", ev.Unreadable)
		}
		u := ev.Unreadable[i]
		if u.Action != "organizations:ListParents" || !strings.Contains(u.What, "management account "+awstest.Account) || !strings.Contains(u.What, "--org-profile") {
			t.Errorf("unreadable SCPs = %+v, want the permission and the account that has it", u)
		}
		if !slices.ContainsFunc(ev.Notes, func(n string) bool {
			return strings.Contains(n, "aws organizations describe-policy --policy-id "+denyID)
		}) {
			t.Errorf("notes %q: want the command that reads the message's SCP", ev.Notes)
		}
	})

	t.Run("message SCP read directly", func(t *testing.T) {
		faults.Inject("organizations:ListParents", awstest.Fault{Kind: awstest.AccessDenied})
		defer faults.Clear()
		client := newClient(t, faults.URL, awsclient.Options{Profile: "member", OrgProfile: "mgmt"}, nil)
		ev, err := client.FetchEvidence(context.Background(), awsclient.Request{Caller: sam.RequestFunction, Target: sam.ProcessorFunction, MessageSCP: denyARN})
		if err != nil {
			t.Fatalf("FetchEvidence: %v", err)
		}
		if p := ev.Organization.MessageSCP; p == nil || p.ID != denyID || p.Name != "DenyLambdaInvoke" || len(p.Document) == 0 {
			t.Errorf("message SCP = %+v, want DenyLambdaInvoke read with DescribePolicy", p)
		}
	})
}
