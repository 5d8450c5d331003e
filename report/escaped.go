package report

import (
	"bytes"
	"encoding/json"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// escaped is a copy of v with every text that reaches the terminal passed
// through Escape: names, Sids, ARNs, notes, reasons, messages and fixes
// come from an account or a pasted message someone else may have written.
// Texts whose newlines are meant (commands, template snippets) keep them,
// line by line. The table renderers read only this copy, so no field can be
// printed raw; JSON is written from the verdict itself.
func escaped(v *diagnose.Verdict) *diagnose.Verdict {
	c := *v
	c.Summary = Escape(v.Summary)
	c.Request = evidence.Request{
		Caller:   Escape(v.Request.Caller),
		Action:   Escape(v.Request.Action),
		Resource: Escape(v.Request.Resource),
	}
	c.Caller = diagnose.CallerInfo{
		Principal: Escape(v.Caller.Principal),
		Kind:      v.Caller.Kind,
		Entity:    Escape(v.Caller.Entity),
		Account:   Escape(v.Caller.Account),
	}
	c.Target = diagnose.TargetInfo{
		Function:  Escape(v.Target.Function),
		Qualifier: Escape(v.Target.Qualifier),
		Account:   Escape(v.Target.Account),
	}
	if v.Target.Tags != nil {
		c.Target.Tags = make(map[string]string, len(v.Target.Tags))
		for k, val := range v.Target.Tags {
			c.Target.Tags[k] = Escape(val)
		}
	}
	c.Layers = make([]diagnose.LayerReport, len(v.Layers))
	for i, l := range v.Layers {
		l.Note = Escape(l.Note)
		l.Action = Escape(l.Action)
		sts := make([]diagnose.StatementReport, len(l.Statements))
		for j, st := range l.Statements {
			st.Policy = Escape(st.Policy)
			st.Sid = Escape(st.Sid)
			st.Reasons = escapeAll(st.Reasons)
			sts[j] = st
		}
		l.Statements = sts
		c.Layers[i] = l
	}
	c.Simulator.Note = Escape(v.Simulator.Note)
	c.Simulator.Decision = Escape(v.Simulator.Decision)
	c.Findings = make([]diagnose.Finding, len(v.Findings))
	for i, f := range v.Findings {
		f.Message = Escape(f.Message)
		fixes := make([]diagnose.Fix, len(f.Fixes))
		for j, fx := range f.Fixes {
			fixes[j] = escapedFix(fx)
		}
		f.Fixes = fixes
		c.Findings[i] = f
	}
	c.Problems = escapeAll(v.Problems)
	c.DependsOn = escapeAll(v.DependsOn)
	return &c
}

func escapedFix(f diagnose.Fix) diagnose.Fix {
	f.Description = Escape(f.Description)
	f.Statement = Escape(f.Statement)
	f.CLI = EscapeLines(f.CLI)
	f.CloudFormation = EscapeLines(f.CloudFormation)
	f.Caveat = Escape(f.Caveat)
	changes := make([]evidence.Change, len(f.Changes))
	for i, ch := range f.Changes {
		ch.Policy = Escape(ch.Policy)
		// A document is shown indented; JSON escapes control characters
		// but not bidi overrides, so each shown line is escaped too.
		var shown bytes.Buffer
		if err := json.Indent(&shown, ch.Document, "", "  "); err == nil {
			ch.Document = json.RawMessage(EscapeLines(shown.String()))
		} else {
			ch.Document = nil
		}
		changes[i] = ch
	}
	f.Changes = changes
	return f
}

func escapeAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}
