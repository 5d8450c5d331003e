// Package diagnose turns evidence (the request and every policy that applies
// to it) into a verdict, in one pass: it evaluates the call (the policy
// engine, with AWS's simulator's answer and a pasted message laid over the
// layers they speak for, every leg of a function URL call), settles
// unreadable layers and request-time keys, compares with the message, finds
// near misses, searches and verifies fixes, and writes the summary last. It
// knows no SDK and no terminal.
package diagnose

import (
	"slices"
	"strings"
	"time"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// Options are what a diagnosis needs beside the evidence.
type Options struct {
	// Now is the moment the call is diagnosed for (aws:CurrentTime and
	// aws:EpochTime): --at, or the clock's time. Zero means the evidence's
	// request.at, else the clock's time.
	Now time.Time
	// Message is the pasted AccessDenied message the verdict explains
	// (why-denied explain): the authority on a layer the tool cannot read.
	Message *accessdenied.Denial
}

// diagnosis holds what every evaluation of the request and of its
// variants shares.
type diagnosis struct {
	ev  *evidence.Evidence
	now time.Time
	// sim is the simulator's recorded answer when it settles the request,
	// nil otherwise; simNote says why it does not.
	sim     *evidence.Simulation
	simNote string
	message *accessdenied.Denial
	// messageLayer is the layer a pasted message names that the tool
	// cannot read: the message is the authority on it.
	messageLayer policy.Layer
	// notRead are the layers the tool cannot read at all, with why.
	notRead map[policy.Layer]string
	// unknown are the layers whose unreadable policies could decide.
	unknown []policy.Layer
	// docs are the policy documents parsed so far.
	docs documents
	// versionFinding is where the nonDefaultPolicyVersion finding of each
	// managed policy is among the verdict's findings, by policy ARN.
	versionFinding map[string]int
}

// Diagnose evaluates the evidence and explains the outcome.
func Diagnose(ev *evidence.Evidence, opts Options) (*Verdict, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = ev.Moment(time.Now())
	}
	docs := documents{}
	in, err := buildInput(ev, now, docs)
	if err != nil {
		return nil, err
	}
	if m := opts.Message; m != nil {
		// A CloudTrail record says what the request carried (its source
		// address, endpoint, MFA): keys the evidence does not hold are
		// taken from it, as the request had them.
		for k, vals := range m.Context {
			if _, ok := in.Request.Context.Lookup(k); !ok && len(vals) > 0 {
				in.Request.Context[k] = slices.Clone(vals)
			}
		}
	}
	d := newDiagnosis(ev, in, now, opts.Message)
	d.docs = docs

	// 1. The call as it is, and what is settled of it.
	base := d.evaluate(in)
	decision, blockedBy, settledOutcome := d.decide(in)
	undecidable := d.settleUndecidable(in, &base, decision)
	var keys keysSettlement
	if decision != DecisionUnknown && len(undecidable) == 0 {
		keys = d.settleKeys(in, decision)
	}
	var assumed, assumedNotes map[string]string
	if len(keys.settledAt) > 0 {
		// Keys AWS always sends, whose every value gives one decision: the
		// request is decided (and shown) with one of those values.
		assumed, assumedNotes = keys.settledAt, keys.settledNote
		in = withContext(in, assumed)
		base = d.evaluate(in)
		decision, blockedBy, settledOutcome = d.decide(in)
		undecidable = d.settleUndecidable(in, &base, decision)
		keys = keysSettlement{}
		if decision != DecisionUnknown && len(undecidable) == 0 {
			keys = d.settleKeys(in, decision)
		}
	}
	v := &Verdict{
		Decision:     decision,
		BlockedBy:    blockedBy,
		Request:      ev.Request,
		Caller:       callerInfo(ev, base.legs[0].res),
		Target:       targetInfo(ev),
		CrossAccount: base.legs[0].res.CrossAccount,
		Simulator:    d.simulatorInfo(&base),
		Findings:     []Finding{},
		Message:      opts.Message,
	}
	v.Request.Context = evidence.ContextValues(in.Request.Context)
	for _, l := range base.legs {
		for _, p := range l.res.Problems {
			if !slices.Contains(v.Problems, p) {
				v.Problems = append(v.Problems, p)
			}
		}
	}
	// known is what the readable policies say on their own.
	known := decision
	if decision == DecisionUnknown {
		known = base.decision
	}
	switch {
	case decision == DecisionUnknown:
		v.UnknownLayers = d.unknown
	case len(undecidable) > 0:
		v.Decision, v.BlockedBy = DecisionUnknown, []policy.Layer{}
		for _, st := range undecidable {
			if !slices.Contains(v.UnknownLayers, st.Layer) {
				v.UnknownLayers = append(v.UnknownLayers, st.Layer)
			}
		}
	case len(keys.deciding) > 0:
		v.Decision, v.BlockedBy = DecisionUnknown, []policy.Layer{}
		v.DependsOn = keys.deciding
		if keys.unknownSeen {
			v.UnknownLayers = d.unknown
		}
		for _, k := range keys.deciding {
			dep := KeyDependence{Key: k, AlwaysSent: alwaysSentKey(k)}
			if !dep.AlwaysSent {
				// The request was judged without the key: that is its
				// decision when the key is absent.
				dep.WhenAbsent = known
			}
			v.DependsOnDetail = append(v.DependsOnDetail, dep)
		}
	}

	// 2. What each layer said, and why.
	v.Layers = d.layerReports(&base, &settledOutcome, v)

	// 3. Findings: why it is blocked, the traps around it, what the
	// message and the evidence do not say.
	v.Findings = d.findings(in, &base, v, known, keys)
	v.Findings = append(v.Findings, undecidableFindings(undecidable, known, v)...)
	v.Findings = append(v.Findings, assumedFindings(assumed, assumedNotes, decision)...)
	v.Findings = d.appendVersionFindings(v.Findings, v)

	// 4. Fixes, for a definite deny.
	if v.Decision == policy.ImplicitDeny || v.Decision == policy.ExplicitDeny {
		d.proposeFixes(in, &base, v)
	}

	// 5. The summary, last: it says what everything above found.
	v.Summary = d.summarize(in, v, known, keys, undecidable)
	return v, nil
}

func newDiagnosis(ev *evidence.Evidence, in *policy.Input, now time.Time, message *accessdenied.Denial) *diagnosis {
	d := &diagnosis{ev: ev, now: now, message: message, notRead: map[policy.Layer]string{}}
	if sim := ev.Simulation; sim != nil {
		if ok, why := simulationSettles(sim, in, evidence.AbsentKeys(ev), unknownPrefixes(ev)); ok {
			d.sim = sim
		} else {
			d.simNote = why
		}
	}
	kind := in.Request.Kind()
	if ev.Organization == nil && (d.sim == nil || d.sim.AllowedByOrganizations == nil) && kind != policy.KindService && kind != policy.KindAnonymous {
		d.notRead[policy.LayerSCP] = "not read: assumed to allow"
	}
	if ev.Caller.SessionPoliciesUnknown && kind == policy.KindSession {
		d.notRead[policy.LayerSessionPolicy] = "not read: a session's session policies cannot be read back; assumed none"
	}
	d.unknown = d.unknownLayers()
	// A message is the authority only on the call it is about.
	if message != nil && message.Layer != "" && messageMismatch(ev, messageCaller(message), message.Action, messageResource(message)) == "" {
		l := message.Layer
		// SCPs whose documents the tool does not hold (not read, or an
		// account DescribeOrganization placed in no organization) cannot
		// contradict AWS's word that one denied.
		noSCPs := l == policy.LayerSCP && (ev.Organization == nil || ev.Organization.SCPs == nil)
		if _, ok := d.notRead[l]; ok || noSCPs || l == policy.LayerVPCEndpoint || slices.Contains(d.unknown, l) {
			d.messageLayer = l
			d.unknown = slices.DeleteFunc(d.unknown, func(x policy.Layer) bool { return x == l })
		}
	}
	return d
}

func callerInfo(ev *evidence.Evidence, res *policy.Result) CallerInfo {
	req := policy.Request{Principal: ev.Request.Caller}
	return CallerInfo{
		Principal: ev.Request.Caller,
		Kind:      res.Kind,
		Entity:    ev.Caller.ARN,
		Account:   req.PrincipalAccount(),
	}
}

func targetInfo(ev *evidence.Evidence) TargetInfo {
	t := TargetInfo{Function: ev.Target.ARN, Account: ev.Target.Account, Tags: ev.Target.Tags}
	if q, ok := strings.CutPrefix(ev.Request.Resource, ev.Target.ARN+":"); ok {
		t.Qualifier = q
	}
	return t
}
