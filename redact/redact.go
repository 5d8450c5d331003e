package redact

// This file holds what makes a redaction trustworthy rather than the rules
// of what is a name: the entry point, the key that drives the substitution,
// the walk over the fields of an evidence file, and the checks that refuse
// a copy which diagnoses differently or spells an original name. What is
// kept and what is replaced is decided in redact_policy.go (policies and
// ARNs) and redact_text.go (free text); redact_cipher.go substitutes
// characters and redact_json.go keeps documents in their order.

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// Evidence returns a copy of ev that can be shared: account IDs and the names
// of roles, users, sessions, groups, functions, aliases, policies, buckets
// and other resources, statement and policy IDs, tag values and other
// identifying condition values are replaced, consistently, so that the copy
// diagnoses exactly as ev does (same decision, blocking layers, per-layer
// results and deciding statements). The copy is marked Redacted.
//
// Every letter and digit of an identifying string goes through one
// substitution: letters to letters (keeping case, so case-insensitive
// comparisons agree), digits to digits (an account ID stays 12 digits).
// Because the substitution works character by character and is one-to-one,
// a wildcard pattern such as function:Proc* or role/?ev-* matches the
// redacted names exactly when it matched the original ones. What policies
// are made of is kept: element names, Effect, Version, actions, condition
// operators and keys, ARN partitions, services, regions and resource types
// (function:, role/, assumed-role/ ...), $LATEST, service principals,
// policy variables, wildcards, and values that are numbers, dates, IP
// addresses or booleans. Names of AWS managed policies are public and kept.
// IAM unique IDs keep their prefix (AROA a role, AIDA a user: see
// redact_uniqueid.go), so a statement that names a deleted role still says so.
//
// The substitution is drawn from a key derived from ev itself: the same
// evidence always redacts the same way, and the key is in no source code. It
// hides names from a reader, not from cryptanalysis: lengths, case and
// repeated letters survive, as in a document whose names were blurred.
//
// Evidence checks its own work: it diagnoses both ev and the copy and returns
// an error rather than a copy that would diagnose differently, or one in
// which a replacement spells an original name.
func Evidence(ev *evidence.Evidence, opts diagnose.Options) (*evidence.Evidence, error) {
	canonical, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("redacting evidence: %w", err)
	}
	orig, err := decodeCopy(canonical)
	if err != nil {
		return nil, err
	}
	want, wantErr := diagnose.Diagnose(orig, opts)
	var last error
	for attempt := range redactAttempts {
		out, err := decodeCopy(canonical)
		if err != nil {
			return nil, err
		}
		r := newRedactor(canonical, attempt, out)
		if err := r.evidence(out); err != nil {
			return nil, fmt.Errorf("redacting evidence: %w", err)
		}
		if last = r.collision(); last != nil {
			continue
		}
		got, gotErr := diagnose.Diagnose(out, opts)
		if last = sameDiagnosis(want, wantErr, got, gotErr, r); last != nil {
			continue
		}
		return out, nil
	}
	return nil, fmt.Errorf("redacting evidence: %w", last)
}

// redactAttempts bounds the keys tried: a key is rejected when one of its
// replacements spells an original name, or (for patterns whose wildcards
// straddle a resource type and a name) when it would change the diagnosis.
const redactAttempts = 8

func decodeCopy(canonical []byte) (*evidence.Evidence, error) {
	var ev evidence.Evidence
	if err := json.Unmarshal(canonical, &ev); err != nil {
		return nil, fmt.Errorf("redacting evidence: copying: %w", err)
	}
	return &ev, nil
}

// redactor holds one substitution key and what it replaced.
type redactor struct {
	lower [26]byte // replacement of 'a'+i; upper case follows
	digit [10]byte // replacement of '0'+i
	// managed are AWS managed policy names, which are public.
	managed map[string]bool
	// words maps each original word that was replaced to its replacement.
	words map[string]string
}

// newRedactor derives the substitution from the evidence and the attempt
// number. Each alphabet is replaced by a single cycle (Sattolo's
// algorithm), so that no letter or digit stands for itself. It also notes
// the names of the AWS managed policies attached, which are public.
func newRedactor(canonical []byte, attempt int, ev *evidence.Evidence) *redactor {
	h := sha256.New()
	fmt.Fprintf(h, "why-denied redact v1 attempt %d\n", attempt)
	h.Write(canonical)
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	src := rand.NewChaCha8(seed)
	r := &redactor{managed: map[string]bool{}, words: map[string]string{}}
	for i, p := range cycle(26, src) {
		r.lower[i] = byte('a' + p)
	}
	for i, p := range cycle(10, src) {
		r.digit[i] = byte('0' + p)
	}
	for _, np := range namedPolicies(ev) {
		if a, ok := arn.Parse(np.ARN); ok && a.Account == "aws" {
			name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
			r.managed[name] = true
			r.managed[np.Name] = true
		}
	}
	// AWS managed organization policies (FullAWSAccess) are public too,
	// under the names and IDs the verdict shows them by.
	if org := ev.Organization; org != nil {
		for _, lv := range org.Levels {
			for _, p := range lv.SCPs {
				if a, ok := arn.Parse(p.ARN); ok && a.Account == "aws" {
					r.managed[p.Name], r.managed[p.ID] = true, true
				}
			}
		}
	}
	return r
}

// cycle returns a uniformly random cyclic permutation of 0..n-1.
func cycle(n int, src *rand.ChaCha8) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := uniform(src, i)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// uniform returns a number in [0, n) from the ChaCha8 stream, whose output
// is specified, so that a key never depends on the Go release.
func uniform(src *rand.ChaCha8, n int) int {
	bound := uint64(n)
	limit := ^uint64(0) - ^uint64(0)%bound
	for {
		if x := src.Uint64(); x < limit {
			return int(x % bound)
		}
	}
}

// namedPolicies lists the policies of ev that carry a name and maybe an
// ARN: those whose names are replaced, or kept when AWS manages them.
func namedPolicies(ev *evidence.Evidence) []*evidence.NamedPolicy {
	var out []*evidence.NamedPolicy
	for i := range ev.Caller.IdentityPolicies {
		out = append(out, &ev.Caller.IdentityPolicies[i])
	}
	for i := range ev.Caller.SessionPolicies {
		out = append(out, &ev.Caller.SessionPolicies[i])
	}
	if ev.Caller.PermissionsBoundary != nil {
		out = append(out, ev.Caller.PermissionsBoundary)
	}
	if ev.Target.ResourcePolicy != nil {
		out = append(out, ev.Target.ResourcePolicy)
	}
	return out
}

// evidence redacts ev in place. Free text goes last: it is redacted with
// the names learned from the structured fields.
func (r *redactor) evidence(ev *evidence.Evidence) error {
	ev.Redacted = true
	ev.Request.Caller = r.principal(ev.Request.Caller)
	ev.Request.Resource = r.arnOrText(ev.Request.Resource)
	for k, vals := range ev.Request.Context {
		for i, v := range vals {
			vals[i] = r.value(k, v)
		}
	}
	ev.Caller.ARN = r.arnOrText(ev.Caller.ARN)
	ev.Caller.Account = r.text(ev.Caller.Account)
	for k, v := range ev.Caller.Tags {
		ev.Caller.Tags[k] = r.value("aws:PrincipalTag/"+k, v)
	}
	ev.Target.ARN = r.arnOrText(ev.Target.ARN)
	ev.Target.Account = r.text(ev.Target.Account)
	ev.Target.OrgID, ev.Target.OrgPath = r.text(ev.Target.OrgID), r.text(ev.Target.OrgPath)
	// The function's tags name its stack and logical ID, and any value its
	// owners chose: replaced like every other name (they decide nothing in
	// the verdict, only the form a fix is shown in).
	for k, v := range ev.Target.Tags {
		ev.Target.Tags[k] = r.arnOrText(v)
	}
	for _, np := range namedPolicies(ev) {
		if err := r.named(np); err != nil {
			return err
		}
	}
	if org := ev.Organization; org != nil {
		// The organization's IDs and names are replaced like every other
		// name, with the same substitution as the condition values that
		// name them (aws:PrincipalOrgID, aws:PrincipalOrgPaths).
		org.ID = r.text(org.ID)
		org.ManagementAccountID = r.text(org.ManagementAccountID)
		for i := range org.Levels {
			lv := &org.Levels[i]
			lv.ID, lv.Name = r.text(lv.ID), r.text(lv.Name)
			for j := range lv.SCPs {
				r.orgPolicy(&lv.SCPs[j])
			}
		}
		if p := org.MessageSCP; p != nil {
			r.orgPolicy(p)
			if len(p.Document) > 0 {
				red, err := r.document(p.Document)
				if err != nil {
					return fmt.Errorf("the SCP the message names: %w", err)
				}
				p.Document = red
			}
		}
		for _, levels := range [][][]json.RawMessage{org.SCPs, org.RCPs} {
			for l, docs := range levels {
				for i, d := range docs {
					red, err := r.document(d)
					if err != nil {
						return fmt.Errorf("organization policy %d at level %d: %w", i, l, err)
					}
					docs[i] = red
				}
			}
		}
	}
	if sim := ev.Simulation; sim != nil {
		for i := range sim.MatchedStatements {
			sim.MatchedStatements[i].SourcePolicyID = r.policyName(sim.MatchedStatements[i].SourcePolicyID)
		}
	}
	ev.SimulatorUnavailable = r.prose(ev.SimulatorUnavailable)
	for i := range ev.Unreadable {
		ev.Unreadable[i].What = r.prose(ev.Unreadable[i].What)
		ev.Unreadable[i].Error = r.prose(ev.Unreadable[i].Error)
	}
	for i := range ev.Notes {
		ev.Notes[i] = r.prose(ev.Notes[i])
	}
	return nil
}

func (r *redactor) named(np *evidence.NamedPolicy) error {
	name := np.Name
	np.Name = r.policyName(np.Name)
	np.ARN = r.arnOrText(np.ARN)
	doc, err := r.document(np.Document)
	if err != nil {
		return fmt.Errorf("policy %q: %w", name, err)
	}
	np.Document = doc
	for i, v := range np.OtherVersions {
		doc, err := r.document(v.Document)
		if err != nil {
			return fmt.Errorf("policy %q version %s: %w", name, v.VersionID, err)
		}
		np.OtherVersions[i].Document = doc
	}
	return nil
}

// collision reports a replacement that spells an original word (a long
// one inside it, or a short one exactly): the reader would see an original
// name. Digit-only words other than account IDs are versions and numbers,
// not names.
func (r *redactor) collision() error {
	originals := map[string]bool{}
	longest := 0
	for w := range r.words {
		if allDigits(w) && len(w) != 12 || len(w) < 3 {
			continue
		}
		originals[w] = true
		longest = max(longest, len(w))
	}
	for w, red := range r.words {
		if originals[red] {
			return fmt.Errorf("the replacement of %q spells the original %q", w, red)
		}
		for i := range len(red) {
			for j := i + 4; j <= min(len(red), i+longest); j++ {
				if originals[red[i:j]] {
					return fmt.Errorf("the replacement of %q contains the original %q", w, red[i:j])
				}
			}
		}
	}
	return nil
}

// sameDiagnosis compares what a redacted evidence file must preserve: the
// decision, the blocking layers, each layer's result and source, and the
// statements that matched or came closest, with the elements that failed.
func sameDiagnosis(want *diagnose.Verdict, wantErr error, got *diagnose.Verdict, gotErr error, r *redactor) error {
	switch {
	case wantErr != nil && gotErr != nil:
		return nil
	case wantErr != nil:
		return fmt.Errorf("the evidence does not diagnose (%v) but its redacted copy does", wantErr)
	case gotErr != nil:
		return fmt.Errorf("the redacted copy does not diagnose: %v", gotErr)
	}
	w, g := fingerprint(want, r), fingerprint(got, nil)
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return &ChangedError{Original: a, Redacted: b}
		}
	}
	return nil
}

// ChangedError says how redacting would have changed the diagnosis.
type ChangedError struct{ Original, Redacted string }

func (e *ChangedError) Error() string {
	return fmt.Sprintf("redaction would change the diagnosis: %q became %q", e.Original, e.Redacted)
}

// fingerprint lists a verdict's deciding facts, one per line. With r, policy
// names are given as they read once redacted.
func fingerprint(v *diagnose.Verdict, r *redactor) []string {
	name := func(s string) string { return s }
	if r != nil {
		name = func(s string) string {
			// SCP and RCP names derived from their position are not names.
			if strings.HasPrefix(s, "SCP level ") || strings.HasPrefix(s, "RCP level ") {
				return s
			}
			return r.policyName(s)
		}
	}
	out := []string{
		fmt.Sprintf("decision %s", v.Decision),
		fmt.Sprintf("blockedBy %v", v.BlockedBy),
		fmt.Sprintf("crossAccount %v, caller kind %s", v.CrossAccount, v.Caller.Kind),
		fmt.Sprintf("unknown layers %v", v.UnknownLayers),
		fmt.Sprintf("simulator used %v, decision %s", v.Simulator.Used, v.Simulator.Decision),
		fmt.Sprintf("problems %d", len(v.Problems)),
		fmt.Sprintf("findings %v", verdictFindingKinds(v)),
	}
	for _, l := range v.Layers {
		out = append(out, fmt.Sprintf("layer %s: %s, blocks %v, source %s", l.Layer, l.Result, l.Blocks, l.Source))
		for _, st := range l.Statements {
			var failed []string
			for _, f := range st.Failures {
				failed = append(failed, string(f.Element))
			}
			out = append(out, fmt.Sprintf("  %s %s #%d level %d %s, failing %v", st.Status, name(st.Policy), st.Statement, st.Level, st.Effect, failed))
		}
	}
	return out
}

// verdictFindingKinds lists the kinds of a verdict's findings, in order: what a
// copy must still tell (a statement that names a deleted role's ID, a
// version that would allow the call) beyond the layers' results.
func verdictFindingKinds(v *diagnose.Verdict) []diagnose.FindingKind {
	var out []diagnose.FindingKind
	for _, f := range v.Findings {
		out = append(out, f.Kind)
	}
	return out
}

// orgPolicy replaces an SCP's name, ID and ARN; AWS managed ones
// (FullAWSAccess, p-FullAWSAccess) are public and kept, as managed IAM
// policies are.
func (r *redactor) orgPolicy(p *evidence.OrgPolicy) {
	if a, ok := arn.Parse(p.ARN); ok && a.Account == "aws" {
		return
	}
	p.Name, p.ID, p.ARN = r.policyName(p.Name), r.text(p.ID), r.arnOrText(p.ARN)
}
