package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// messageFindings compare a pasted AccessDenied message with the
// diagnosis: AWS names only one blocking layer, the verdict names all of
// them, and the evidence may be about another call or have changed since.
// The decision already holds what the message settles (a layer the tool
// cannot read): these findings only say how the two compare.
func (d *diagnosis) messageFindings(v *Verdict) []Finding {
	m := d.message
	if m == nil {
		return nil
	}
	var out []Finding
	if mismatch := messageMismatch(d.ev, messageCaller(m), m.Action, messageResource(m)); mismatch != "" {
		out = append(out, Finding{Kind: KindMessageMismatch, Severity: SeverityWarning,
			Message: mismatch + ": the verdict is about the evidence file's call, not the message's"})
	}
	layer := m.Layer
	if layer == "" || layer == d.messageLayer {
		// The blocking finding of that layer already says the message
		// decided it.
		return out
	}
	switch {
	case v.Decision == DecisionUnknown:
	case v.Decision == policy.Allowed:
		out = append(out, Finding{Kind: KindMessageNotReproduced, Severity: SeverityWarning, Layer: layer,
			Message: fmt.Sprintf("the message says the %s denied the call, but the policies read now allow it: they may have changed since, IAM changes can take a few seconds to apply, or the call was made with other credentials, action or qualifier", layerWords[layer])})
	case !slices.Contains(v.BlockedBy, layer):
		out = append(out, Finding{Kind: KindMessageLayerDiffers, Severity: SeverityWarning, Layer: layer,
			Message: fmt.Sprintf("the message names the %s, but the policies read now block in the %s instead: the policies may have changed since the message", layerWords[layer], joinWords(v.BlockedBy))})
	case len(v.BlockedBy) > 1:
		others := slices.DeleteFunc(slices.Clone(v.BlockedBy), func(l policy.Layer) bool { return l == layer })
		out = append(out, Finding{Kind: KindMoreThanMessage, Severity: SeverityWarning, Layer: layer,
			Message: fmt.Sprintf("the message names only the %s; the %s also blocks: fixing only what the message names will not be enough", layerWords[layer], joinWords(others))})
	}
	if (v.Decision == policy.ImplicitDeny || v.Decision == policy.ExplicitDeny) && m.Explicit != (v.Decision == policy.ExplicitDeny) {
		out = append(out, Finding{Kind: KindMessageDenyKindDiffers, Severity: SeverityInfo, Layer: layer,
			Message: fmt.Sprintf("the message reports an %s deny, the policies read now give %s", map[bool]string{true: "explicit", false: "implicit"}[m.Explicit], v.Decision)})
	}
	return out
}

func joinWords(ls []policy.Layer) string {
	words := make([]string, len(ls))
	for i, l := range ls {
		words[i] = layerWords[l]
	}
	return strings.Join(words, " and the ")
}

// messageMismatch says how the call a message is about differs from the
// call in the evidence, or "" when they agree as far as the message tells.
// ARNs masked in the message, and all ARNs when the evidence is redacted
// (its names were replaced), are not compared.
func messageMismatch(ev *evidence.Evidence, caller, action, resource string) string {
	var inMessage, inEvidence []string
	differs := func(what, message, evidence string) {
		inMessage = append(inMessage, what+" "+message)
		inEvidence = append(inEvidence, what+" "+evidence)
	}
	switch {
	case caller == "" || ev.Redacted:
	case arn.Masked(caller):
		// Only the account is hidden: the names still tell.
		if !sameBeyondAccount(caller, ev.Request.Caller) && (ev.Caller.ARN == "" || !sameRoleName(caller, ev.Caller.ARN)) {
			differs("caller", caller, ev.Request.Caller)
		}
	case !SameCaller(caller, ev):
		differs("caller", caller, ev.Request.Caller)
	}
	// Action names are case-insensitive (IAM User Guide, "IAM JSON policy
	// elements: Action").
	if action != "" && !strings.EqualFold(action, ev.Request.Action) {
		differs("action", action, ev.Request.Action)
	}
	cutOff := arn.CutOff(resource) && strings.HasPrefix(ev.Request.Resource, resource)
	switch {
	case resource == "" || ev.Redacted || cutOff || resource == ev.Request.Resource:
	case arn.Masked(resource):
		if !sameBeyondAccount(resource, ev.Request.Resource) {
			differs("resource", resource, ev.Request.Resource)
		}
	default:
		differs("resource", resource, ev.Request.Resource)
	}
	if len(inMessage) == 0 {
		return ""
	}
	return fmt.Sprintf("the message is about %s, the evidence file about %s", strings.Join(inMessage, " and "), strings.Join(inEvidence, " and "))
}

// SameCaller reports whether a caller named in a message is the
// evidence's: the principal AWS saw, the role or user whose policies apply,
// or another session of that role (arn:aws:sts::A:assumed-role/R/S is a
// session of arn:aws:iam::A:role/PATH/R, whose ARN the session's omits the
// path of).
func SameCaller(caller string, ev *evidence.Evidence) bool {
	if caller == ev.Request.Caller || (ev.Caller.ARN != "" && caller == ev.Caller.ARN) {
		return true
	}
	role, ok := arn.SessionRole(caller)
	kind, name, entityOK := arn.Entity(ev.Caller.ARN)
	if !ok || !entityOK || kind != "role" {
		return false
	}
	s, _ := arn.Parse(caller)
	r, _ := arn.Parse(ev.Caller.ARN)
	return s.Account == r.Account && role == name
}

// messageCaller and messageResource are what a message says of the call,
// "" where a placeholder stands for the whole ARN: that cannot be compared.
// An ARN whose account alone is masked is kept: its names still tell.
func messageCaller(m *accessdenied.Denial) string {
	if _, ok := arn.Parse(m.Caller); !ok && m.Redacted {
		return ""
	}
	return m.Caller
}

func messageResource(m *accessdenied.Denial) string {
	if _, ok := arn.Parse(m.Resource); !ok && m.Redacted {
		return ""
	}
	return m.Resource
}

// sameBeyondAccount reports whether two ARNs agree in every field but the
// account (which a message may mask), or whether one cannot be read.
func sameBeyondAccount(masked, full string) bool {
	a, ok1 := arn.Parse(masked)
	b, ok2 := arn.Parse(full)
	if !ok1 || !ok2 || strings.ContainsAny(a.Resource, "*<>{}[]") || strings.Contains(a.Resource, "...") {
		return true
	}
	return a.Service == b.Service && a.Resource == b.Resource
}

// sameRoleName reports whether a session names the role of a role ARN.
func sameRoleName(session, roleARN string) bool {
	role, ok := arn.SessionRole(session)
	_, name, ok2 := arn.Entity(roleARN)
	return ok && ok2 && role == name
}
