package accessdenied

import (
	"strings"
	"testing"

	"github.com/why-denied/why-denied/policy"
)

// FuzzParseDenial feeds arbitrary text to the message parser: no input may
// panic, an error is one non-empty line, and a parsed message has an action
// and a layer the rest of the tool knows. Seeds: testdata/fuzz/FuzzParseDenial
// and every message of testdata/messages.json.
func FuzzParseDenial(f *testing.F) {
	for _, c := range loadMessageCases(f) {
		f.Add(c.Message)
	}
	known := map[policy.Layer]bool{"": true, policy.LayerIdentity: true, policy.LayerResource: true,
		policy.LayerPermissionsBoundary: true, policy.LayerSessionPolicy: true, policy.LayerSCP: true,
		policy.LayerRCP: true, policy.LayerVPCEndpoint: true}
	f.Fuzz(func(t *testing.T, msg string) {
		d, err := ParseDenial(msg)
		if err != nil {
			if e := err.Error(); e == "" || strings.ContainsAny(e, "\n\r") {
				t.Fatalf("error %q is not one non-empty line", e)
			}
			return
		}
		// A cut-off paste or another denial text may name no action; a
		// caller may be a service's name in words or a placeholder with
		// spaces, never more than one line.
		if strings.ContainsAny(d.Action, " \t\n") {
			t.Fatalf("action %q", d.Action)
		}
		if d.Action == "" && d.Form == "" && !d.CutOff && !d.CloudTrail {
			t.Fatalf("no action, yet neither another form nor cut off: %+v", d)
		}
		for _, v := range []string{d.Caller, d.Resource, d.PolicyARN} {
			if strings.ContainsAny(v, "\t\n\r\ue000") {
				t.Fatalf("field %q spans lines or keeps a space mark", v)
			}
		}
		m := Explain(d)
		if m.Summary == "" || m.LookAt == "" {
			t.Fatalf("not explained: %+v", m)
		}
		if !known[d.Layer] || !known[d.Via] {
			t.Fatalf("layer %q via %q", d.Layer, d.Via)
		}
	})
}
