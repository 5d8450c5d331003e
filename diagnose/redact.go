package diagnose

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// Redact returns a copy of ev that can be shared: account IDs and the names
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
//
// The substitution is drawn from a key derived from ev itself: the same
// evidence always redacts the same way, and the key is in no source code. It
// hides names from a reader, not from cryptanalysis: lengths, case and
// repeated letters survive, as in a document whose names were blurred.
//
// Redact checks its own work: it diagnoses both ev and the copy and returns
// an error rather than a copy that would diagnose differently, or one in
// which a replacement spells an original name.
func Redact(ev *Evidence) (*Evidence, error) {
	canonical, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("redacting evidence: %w", err)
	}
	orig, err := decodeCopy(canonical)
	if err != nil {
		return nil, err
	}
	want, wantErr := Diagnose(orig)
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
		got, gotErr := Diagnose(out)
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

func decodeCopy(canonical []byte) (*Evidence, error) {
	var ev Evidence
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
// algorithm), so that no letter or digit stands for itself.
func newRedactor(canonical []byte, attempt int, ev *Evidence) *redactor {
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
		if a, ok := splitARNFields(np.ARN); ok && a[4] == "aws" {
			name := a[5][strings.LastIndexByte(a[5], '/')+1:]
			r.managed[name] = true
			r.managed[np.Name] = true
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

func namedPolicies(ev *Evidence) []*NamedPolicy {
	var out []*NamedPolicy
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
func (r *redactor) evidence(ev *Evidence) error {
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
	for _, np := range namedPolicies(ev) {
		if err := r.named(np); err != nil {
			return err
		}
	}
	if org := ev.Organization; org != nil {
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

func (r *redactor) named(np *NamedPolicy) error {
	name := np.Name
	np.Name = r.policyName(np.Name)
	np.ARN = r.arnOrText(np.ARN)
	doc, err := r.document(np.Document)
	if err != nil {
		return fmt.Errorf("policy %q: %w", name, err)
	}
	np.Document = doc
	return nil
}

// policyName redacts a policy's name or label: an inline or managed policy
// name, "group/GROUP/POLICY", or "resource policy of FUNCTION[:QUALIFIER]"
// (labels awsclient writes).
func (r *redactor) policyName(name string) string {
	if rest, ok := strings.CutPrefix(name, "resource policy of "); ok {
		return "resource policy of " + r.arnOrText(rest)
	}
	if rest, ok := strings.CutPrefix(name, "group/"); ok {
		group, pol, found := strings.Cut(rest, "/")
		if found {
			return "group/" + r.text(group) + "/" + r.policyName(pol)
		}
	}
	if r.managed[name] {
		return name
	}
	return r.text(name)
}

// principal redacts a principal: an ARN, an account ID or unique ID, or a
// service principal (kept).
func (r *redactor) principal(p string) string {
	switch {
	case p == "*", isServicePrincipal(p):
		return p
	case strings.HasPrefix(p, "arn:"):
		return r.arn(p)
	}
	return r.text(p)
}

func (r *redactor) arnOrText(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return r.arn(s)
	}
	return r.text(s)
}

// arn redacts the account field and the names in the resource field of an
// ARN or ARN pattern; partition, service and region are kept. ARNs owned by
// AWS (account "aws", as in managed policies) are public and kept.
func (r *redactor) arn(s string) string {
	f := strings.SplitN(s, ":", 6)
	switch {
	case len(f) < 5:
		// Not an ARN, which matches nothing: keep only what can be told.
		if len(f) < 4 {
			return s[:min(len(s), len("arn:"))] + r.text(s[min(len(s), len("arn:")):])
		}
		return strings.Join(f[:3], ":") + ":" + r.text(f[3])
	case f[4] == "aws":
		return s
	}
	f[4] = r.text(f[4])
	if len(f) == 6 {
		f[5] = r.resource(f[2], f[5])
	}
	return strings.Join(f, ":")
}

// resourceTypes are the resource types that start the resource field of an
// ARN ("function:NAME", "role/PATH/NAME"); they are kept, and everything
// after them is a name, a path or a qualifier.
var resourceTypes = map[string]bool{
	// Lambda
	"function": true, "layer": true, "event-source-mapping": true, "code-signing-config": true,
	// IAM and STS
	"role": true, "user": true, "group": true, "policy": true, "root": true, "instance-profile": true,
	"oidc-provider": true, "saml-provider": true, "server-certificate": true, "mfa": true,
	"assumed-role": true, "federated-user": true,
	// Services that commonly call or are named in Lambda policies
	"rule": true, "event-bus": true, "log-group": true, "table": true, "stream": true,
	"key": true, "alias": true, "secret": true, "stateMachine": true, "execution": true,
}

// untypedServices name resources without a type: the resource field is the
// name itself (arn:aws:s3:::bucket/key, arn:aws:sqs:REGION:ACCT:queue).
var untypedServices = map[string]bool{"s3": true, "sqs": true, "sns": true}

func (r *redactor) resource(service, res string) string {
	if untypedServices[service] {
		return r.text(res)
	}
	head, rest := res, ""
	if i := separatorIndex(res); i >= 0 {
		head, rest = res[:i], res[i:]
	}
	if resourceTypes[head] {
		return head + r.text(rest)
	}
	// A wildcard in the type itself ("func*", "rol?/dev-*"): keep the
	// literal start when it begins a type, so that it still meets the type.
	if w := strings.IndexAny(head, "*?"); w >= 0 && startsType(head[:w]) {
		return head[:w] + r.text(res[w:])
	}
	return r.text(res)
}

// separatorIndex finds the first ':' or '/' outside policy variables.
func separatorIndex(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				// Not a variable: the rest is literal text.
				if k := strings.IndexAny(s[i:], ":/"); k >= 0 {
					return i + k
				}
				return -1
			}
			i += j
		case s[i] == ':' || s[i] == '/':
			return i
		}
	}
	return -1
}

func startsType(prefix string) bool {
	for t := range resourceTypes {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// text replaces every ASCII letter and digit of s, keeping policy variables
// (but replacing their default values) and $LATEST.
func (r *redactor) text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$LATEST"), strings.HasPrefix(s[i:], "${$}LATEST"):
			// The version qualifier, also spelled with ${$} for its dollar.
			n := strings.Index(s[i:], "LATEST") + len("LATEST")
			b.WriteString(s[i : i+n])
			i += n
		case strings.HasPrefix(s[i:], "${") && strings.IndexByte(s[i:], '}') > 0:
			j := i + strings.IndexByte(s[i:], '}') + 1
			b.WriteString(r.variable(s[i:j]))
			i = j
		default:
			b.WriteByte(r.char(s[i]))
			i++
		}
	}
	out := b.String()
	r.learn(s, out)
	return out
}

// variable keeps a policy variable's key and replaces its default value
// ("${aws:username, 'anonymous'}"): the default takes the place of a name.
func (r *redactor) variable(v string) string {
	inner := v[2 : len(v)-1]
	comma := strings.IndexByte(inner, ',')
	if comma < 0 {
		return v
	}
	tail := inner[comma+1:]
	d := strings.TrimSpace(tail)
	if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
		return v
	}
	red := "'" + r.text(d[1:len(d)-1]) + "'"
	return "${" + inner[:comma+1] + strings.Replace(tail, d, red, 1) + "}"
}

func (r *redactor) char(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z':
		return r.lower[c-'a']
	case 'A' <= c && c <= 'Z':
		return r.lower[c-'A'] - 'a' + 'A'
	case '0' <= c && c <= '9':
		return r.digit[c-'0']
	}
	return c
}

// nameWord matches the words names are made of (IAM name characters, no
// separators), to remember them for free text and the collision check.
var nameWord = regexp.MustCompile(`[A-Za-z0-9_+=.@-]+`)

// learn records the words of s that text replaced. The replacement keeps
// lengths, so the words of out are at the same places.
func (r *redactor) learn(s, out string) {
	if s == out {
		return
	}
	for _, loc := range nameWord.FindAllStringIndex(s, -1) {
		w, red := s[loc[0]:loc[1]], out[loc[0]:loc[1]]
		if w != red {
			r.words[w] = red
		}
	}
}

// keptValueKeys are condition keys whose values are AWS's own words, not
// names: the engine derives some of them (aws:PrincipalType "AssumedRole",
// aws:RequestedRegion from the resource ARN) and policies must still match.
var keptValueKeys = map[string]bool{
	"aws:principaltype": true, "aws:requestedregion": true,
	"aws:principalservicename": true, "aws:principalservicenameslist": true,
	"aws:calledvia": true, "aws:calledviafirst": true, "aws:calledvialast": true,
	"aws:tagkeys": true, "lambda:functionurlauthtype": true,
	"aws:securetransport": true, "aws:principalisawsservice": true, "aws:viaawsservice": true,
	"aws:multifactorauthpresent": true, "aws:multifactorauthage": true,
	"aws:sourceip": true, "aws:epochtime": true, "aws:currenttime": true, "aws:tokenissuetime": true,
}

// value redacts a condition value or a request context value by its key and
// its shape; policy values and request values of a key go through the same
// rule, so they compare as before.
func (r *redactor) value(key, v string) string {
	k := strings.ToLower(key)
	switch {
	case k == "aws:username":
		// Derived from the user ARN's name, which is always replaced.
		return r.text(v)
	case keptValueKeys[k]:
		return v
	case strings.HasPrefix(v, "arn:"):
		return r.arn(v)
	case isAccountID(v):
		return r.text(v)
	case isServicePrincipal(v), isLiteral(v):
		return v
	}
	return r.text(v)
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isServicePrincipal(s string) bool {
	return strings.HasSuffix(s, ".amazonaws.com") || strings.HasSuffix(s, ".amazonaws.com.cn")
}

var number = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// isLiteral reports values that are not names: booleans, numbers, dates and
// IP addresses or CIDR blocks, as the Bool, Numeric, Date and IpAddress
// operators read them.
func isLiteral(v string) bool {
	t := strings.TrimSpace(v)
	if strings.EqualFold(t, "true") || strings.EqualFold(t, "false") || number.MatchString(t) {
		return true
	}
	if _, err := netip.ParseAddr(t); err == nil {
		return true
	}
	if _, err := netip.ParsePrefix(t); err == nil {
		return true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01"} {
		if _, err := time.Parse(layout, t); err == nil {
			return true
		}
	}
	return false
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

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// proseKeywords are the words after which messages name an entity ("role
// RequestRole", "inline policy Inline0 of user alice").
var proseKeywords = map[string]bool{
	"role": true, "user": true, "group": true, "policy": true, "function": true, "bucket": true,
	"session": true, "alias": true, "layer": true, "profile": true,
}

var proseStopWords = map[string]bool{
	"of": true, "to": true, "for": true, "on": true, "in": true, "is": true, "the": true, "a": true,
	"an": true, "and": true, "or": true, "with": true, "from": true, "by": true, "attached": true,
	"because": true, "not": true, "was": true, "cannot": true, "could": true, "has": true, "its": true,
	"allows": true, "allow": true, "denies": true, "deny": true, "that": true, "which": true, "as": true,
	"at": true, "be": true, "are": true, "does": true, "no": true, "any": true, "all": true, "none": true,
	"policies": true, "url": true, "urls": true, "name": true, "names": true, "arn": true, "path": true,
	"tags": true, "permissions": true, "boundary": true, "sessions": true, "configuration": true, "code": true,
}

var proseToken = regexp.MustCompile(`[^\s"'()\[\]<>,;]+`)

// prose redacts free text (notes, AWS error messages): ARNs, account IDs,
// names already replaced elsewhere, typed names (role/NAME) and the word
// after an entity keyword. It keeps the rest, which is AWS's wording.
func (r *redactor) prose(s string) string {
	prev := ""
	return proseToken.ReplaceAllStringFunc(s, func(tok string) string {
		core := strings.TrimRight(tok, ".:")
		trail := tok[len(core):]
		after := prev
		prev = strings.ToLower(core)
		switch {
		case core == "":
			return tok
		case strings.HasPrefix(core, "arn:"):
			return r.arn(core) + trail
		case isAccountID(core):
			return r.text(core) + trail
		}
		if red, ok := r.words[core]; ok {
			return red + trail
		}
		if i := separatorIndex(core); i > 0 && resourceTypes[core[:i]] {
			return core[:i] + r.text(core[i:]) + trail
		}
		if proseKeywords[after] && !proseStopWords[prev] && !proseKeywords[prev] {
			return r.text(core) + trail
		}
		return tok
	})
}

// sameDiagnosis compares what a redacted evidence file must preserve: the
// decision, the blocking layers, each layer's result and source, and the
// statements that matched or came closest, with the elements that failed.
func sameDiagnosis(want *Verdict, wantErr error, got *Verdict, gotErr error, r *redactor) error {
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
			return &RedactionError{Original: a, Redacted: b}
		}
	}
	return nil
}

// RedactionError says how redacting would have changed the diagnosis.
type RedactionError struct{ Original, Redacted string }

func (e *RedactionError) Error() string {
	return fmt.Sprintf("redaction would change the diagnosis: %q became %q", e.Original, e.Redacted)
}

// fingerprint lists a verdict's deciding facts, one per line. With r, policy
// names are given as they read once redacted.
func fingerprint(v *Verdict, r *redactor) []string {
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

// splitARNFields splits an ARN into its six fields.
func splitARNFields(s string) ([]string, bool) {
	f := strings.SplitN(s, ":", 6)
	return f, len(f) == 6 && f[0] == "arn"
}

// document redacts a policy document, knowing what each element holds, and
// keeps the order of its elements.
func (r *redactor) document(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return raw, nil
	}
	n, err := parseNode(raw)
	if err != nil {
		return nil, err
	}
	if n.kind != '{' {
		r.strings(n)
	} else {
		for i, k := range n.keys {
			v := n.vals[i]
			switch k {
			case "Version":
			case "Id":
				// Organization policies are known by their Id.
				v.eachString(r.policyName)
			case "Statement":
				if v.kind == '{' {
					r.statement(v)
					continue
				}
				for _, st := range v.items {
					r.statement(st)
				}
				if v.kind != '[' {
					r.strings(v)
				}
			default:
				r.strings(v)
			}
		}
	}
	var b bytes.Buffer
	n.encode(&b)
	return b.Bytes(), nil
}

func (r *redactor) statement(n *node) {
	if n.kind != '{' {
		r.strings(n)
		return
	}
	for i, k := range n.keys {
		v := n.vals[i]
		switch k {
		case "Effect", "Action", "NotAction":
		case "Resource", "NotResource":
			v.eachString(func(s string) string {
				if s == "*" {
					return s
				}
				return r.arnOrText(s)
			})
		case "Principal", "NotPrincipal":
			r.principalElement(v)
		case "Condition":
			r.condition(v)
		default: // Sid and anything else
			r.strings(v)
		}
	}
}

func (r *redactor) principalElement(n *node) {
	if n.kind != '{' {
		if !(n.kind == '"' && n.str == "*") {
			r.strings(n)
		}
		return
	}
	for i, k := range n.keys {
		v := n.vals[i]
		switch k {
		case "Service":
		case "AWS", "Federated", "CanonicalUser":
			v.eachString(r.principal)
		default:
			r.strings(v)
		}
	}
}

func (r *redactor) condition(n *node) {
	if n.kind != '{' {
		r.strings(n)
		return
	}
	for _, keys := range n.vals {
		if keys.kind != '{' {
			r.strings(keys)
			continue
		}
		for i, key := range keys.keys {
			redactValues(keys.vals[i], func(v string) string { return r.value(key, v) })
		}
	}
}

// redactValues applies f to a condition's values: strings, numbers (kept as
// numbers when f keeps them) and lists of them. Booleans are kept.
func redactValues(n *node, f func(string) string) {
	switch n.kind {
	case '"':
		n.str = f(n.str)
	case '0':
		if red := f(n.str); red != n.str {
			n.kind, n.str = '"', red
		}
	case '[':
		for _, it := range n.items {
			redactValues(it, f)
		}
	case '{':
		for _, v := range n.vals {
			redactValues(v, f)
		}
	}
}

// strings redacts every string of an element whose meaning the engine does
// not read as structure (Sid, Id, unknown elements).
func (r *redactor) strings(n *node) {
	redactValues(n, func(s string) string {
		if isLiteral(s) && !isAccountID(s) {
			return s
		}
		return r.arnOrText(s)
	})
}

// node is a JSON value that keeps the order of object members.
type node struct {
	kind  byte // '{' object, '[' array, '"' string, '0' number, 't' true, 'f' false, 'n' null
	keys  []string
	vals  []*node
	items []*node
	str   string
}

func (n *node) eachString(f func(string) string) {
	switch n.kind {
	case '"':
		n.str = f(n.str)
	case '[':
		for _, it := range n.items {
			if it.kind == '"' {
				it.str = f(it.str)
			}
		}
	}
}

func parseNode(raw []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, fmt.Errorf("reading policy JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("reading policy JSON: unexpected data after the document")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &node{kind: byte(t)}
		for dec.More() {
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			if t == '{' {
				n.vals = append(n.vals, v)
			} else {
				n.items = append(n.items, v)
			}
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &node{kind: '"', str: t}, nil
	case json.Number:
		return &node{kind: '0', str: t.String()}, nil
	case bool:
		if t {
			return &node{kind: 't'}, nil
		}
		return &node{kind: 'f'}, nil
	}
	return &node{kind: 'n'}, nil
}

func (n *node) encode(b *bytes.Buffer) {
	switch n.kind {
	case '{':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			n.vals[i].encode(b)
		}
		b.WriteByte('}')
	case '[':
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.encode(b)
		}
		b.WriteByte(']')
	case '"':
		writeString(b, n.str)
	case '0':
		b.WriteString(n.str)
	case 't':
		b.WriteString("true")
	case 'f':
		b.WriteString("false")
	default:
		b.WriteString("null")
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}
