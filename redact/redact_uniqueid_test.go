package redact

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// TestRedactKeepsUniqueIDsReadable: a resource policy that names a deleted
// role shows the role's unique ID (AROA...) in place of its ARN. The
// redacted copy must still read as a unique ID, so that it explains the
// same thing ("names a deleted role"), and each ID must map to one
// replacement wherever it appears (a Principal, an aws:userid condition,
// a note), so that a reader can tell which statements name the same party.
func TestRedactKeepsUniqueIDsReadable(t *testing.T) {
	const role, user = "AROAEXAMPLEUNIQUEID1", "AIDAJQABLZS4A3QDU576Q"
	ev := &evidence.Evidence{
		Version: 1,
		Request: evidence.Request{Caller: rcSession, Action: "lambda:InvokeFunction", Resource: rcTarget},
		Caller:  evidence.Caller{ARN: rcRole, Account: "210987654321", IdentityPolicies: []evidence.NamedPolicy{}, SessionPolicies: []evidence.NamedPolicy{}},
		Target: evidence.Target{ARN: rcTarget, Account: "210987654321", ResourcePolicy: &evidence.NamedPolicy{
			Name: "resource policy of ProcessPayments",
			Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[` +
				`{"Sid":"deleted","Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"lambda:InvokeFunction","Resource":"` + rcTarget + `"},` +
				`{"Sid":"byuserid","Effect":"Allow","Principal":{"AWS":["` + user + `","arn:aws:iam::210987654321:root"]},"Action":"lambda:GetFunction","Resource":"` + rcTarget + `","Condition":{"StringLike":{"aws:userid":"` + role + `:*"}}}]}`),
		}},
		Notes: []string{"statement deleted names " + role},
	}
	red, err := Evidence(ev, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(red)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, id := range []string{role, user, "EXAMPLEUNIQUEID1", "JQABLZS4A3QDU576Q"} {
		if strings.Contains(text, id) {
			t.Errorf("the redacted file still holds %s:\n%s", id, text)
		}
	}
	roles := regexp.MustCompile(`AROA[A-Z0-9]{16}`).FindAllString(text, -1)
	if len(roles) != 3 || roles[0] != roles[1] || roles[1] != roles[2] {
		t.Errorf("role unique IDs in the redacted file %v, want one replacement three times (principal, condition, note)", roles)
	}
	if users := regexp.MustCompile(`AIDA[A-Z0-9]{17}`).FindAllString(text, -1); len(users) != 1 {
		t.Errorf("user unique IDs in the redacted file %v, want one AIDA... replacement", users)
	}

	v, err := diagnose.Diagnose(red, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, l := range v.Layers {
		for _, st := range l.Statements {
			reasons = append(reasons, st.Reasons...)
		}
	}
	all := strings.Join(reasons, "\n")
	if !strings.Contains(all, "is a unique ID") || !strings.Contains(all, "was deleted") {
		t.Errorf("the redacted copy no longer explains that the statement names a deleted role:\n%s", all)
	}
}

// TestRedactOtherPolicyVersions: a managed policy's other versions are
// documents like its default one, and are redacted the same way, so that
// the copy still says which version would allow the call.
func TestRedactOtherPolicyVersions(t *testing.T) {
	const policyARN = "arn:aws:iam::210987654321:policy/OrdersInvoke"
	ev := &evidence.Evidence{
		Version: 1,
		Request: evidence.Request{Caller: rcSession, Action: "lambda:InvokeFunction", Resource: rcTarget},
		Caller: evidence.Caller{ARN: rcRole, Account: "210987654321", SessionPolicies: []evidence.NamedPolicy{}, IdentityPolicies: []evidence.NamedPolicy{{
			Name: "OrdersInvoke", ARN: policyARN,
			Document:      json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`),
			OtherVersions: []evidence.PolicyVersion{{VersionID: "v1", Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"` + rcTarget + `"}]}`)}},
		}}},
		Target: evidence.Target{ARN: rcTarget, Account: "210987654321"},
	}
	red, err := Evidence(ev, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(red)
	for _, name := range []string{"ProcessPayments", "210987654321", "OrdersInvoke"} {
		if strings.Contains(string(b), name) {
			t.Errorf("the redacted file still holds %s:\n%s", name, b)
		}
	}
	v, err := diagnose.Diagnose(red, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range v.Findings {
		found = found || f.Kind == diagnose.KindNonDefaultVersion && strings.Contains(f.Message, "(v1)")
	}
	if !found {
		t.Errorf("the redacted copy no longer says version v1 would allow the call: %+v", v.Findings)
	}
}
