package diagnose

import (
	"strings"
	"testing"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/policy"
)

// A message naming an SCP, when the tool did not read SCPs and the
// simulator did not speak for them: the message is the authority, the
// verdict says so and does not claim the policies changed.
func TestMessageNamingAnUnreadLayer(t *testing.T) {
	ev := scenario(targetARN, doc(allow("lambda:InvokeFunction", targetARN)))
	d, err := accessdenied.ParseDenial("User: " + session + " is not authorized to perform: lambda:InvokeFunction on resource: " + targetARN + " with an explicit deny in a service control policy")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Diagnose(ev, Options{Now: testOptions.Now, Message: d})
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != policy.ExplicitDeny || !contains(v.BlockedBy, policy.LayerSCP) {
		t.Errorf("decision %s blocked by %v", v.Decision, v.BlockedBy)
	}
	text := verdictText(v)
	if !strings.Contains(text, "AWS's message is the authority") || strings.Contains(text, "may have changed") {
		t.Errorf("findings:\n%s", text)
	}
}
