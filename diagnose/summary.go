package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// summarize is the verdict in one sentence, written last, from what the
// verdict holds: the decision, the blocking layers, what is unknown.
func (d *diagnosis) summarize(in *policy.Input, v *Verdict, known policy.Decision, keys keysSettlement, undecidable []policy.StatementTrace) string {
	switch {
	case len(undecidable) > 0:
		st := undecidable[0]
		return fmt.Sprintf("UNKNOWN: the outcome turns on %s policy %q statement %s, which the tool cannot evaluate (%s); read as not matching it gives %s",
			st.Layer, st.Policy, traceName(st), st.Undecidable, known)
	case len(v.DependsOn) > 0:
		how := d.keysFlag(in)
		s := fmt.Sprintf("UNKNOWN: the outcome depends on %s, which the request carries but the tool cannot know; pass it with %s.", keyList(v.DependsOn), how)
		if slices.ContainsFunc(v.DependsOn, alwaysSentKey) {
			if len(keys.outcomes) > 0 {
				s += " It is " + keys.outcomes[0] + ", " + string(known) + " otherwise"
			}
			return s
		}
		return s + " Without it: " + string(known)
	case v.Decision == DecisionUnknown:
		what, actions := d.unreadableWords(v.UnknownLayers)
		unless := fmt.Sprintf("unless %s has a Deny", what)
		if slices.Contains(v.UnknownLayers, policy.LayerPermissionsBoundary) || slices.Contains(v.UnknownLayers, policy.LayerSessionPolicy) {
			unless = fmt.Sprintf("unless %s does not allow it (a boundary or session policy must allow the call) or has a Deny", what)
		}
		if known == policy.Allowed {
			return fmt.Sprintf("UNKNOWN: the policies read allow the call, %s; the tool could not read it (%s)", unless, needs(actions))
		}
		return fmt.Sprintf("UNKNOWN: the policies read deny the call (%s), unless it is allowed by %s; the tool could not read it (%s)", known, what, needs(actions))
	case v.Decision == policy.Allowed:
		for _, rep := range v.Layers {
			if rep.Result == ResultAllows && (rep.Layer == policy.LayerIdentity || rep.Layer == policy.LayerResource) && len(rep.Statements) > 0 {
				st := rep.Statements[0]
				return fmt.Sprintf("ALLOWED: %s may call %s on %s (%s %q, statement %s)", v.Caller.Principal, v.Request.Action, v.Request.Resource, layerWords[rep.Layer], st.Policy, st.Label())
			}
		}
		return fmt.Sprintf("ALLOWED: %s may call %s on %s", v.Caller.Principal, v.Request.Action, v.Request.Resource)
	}
	words := make([]string, len(v.BlockedBy))
	for i, l := range v.BlockedBy {
		words[i] = layerWords[l]
	}
	s := fmt.Sprintf("DENIED (%s) by the %s", v.Decision, strings.Join(words, " and the "))
	for _, rep := range v.Layers {
		if rep.Blocks && rep.Action != "" && rep.Action != v.Request.Action {
			s += fmt.Sprintf(" (for %s, which a function URL call also needs)", rep.Action)
			break
		}
	}
	return s
}

// keyList names keys, the first few of a long list.
func keyList(keys []string) string {
	const shown = 5
	if len(keys) <= shown {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more keys", strings.Join(keys[:shown], ", "), len(keys)-shown)
}
