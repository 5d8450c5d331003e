package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/template"
)

// TemplateCall is one call of a template (why-denied template) with its
// verdict and what the template itself says of it. It is the JSON output of
// the template command, one object per call.
type TemplateCall struct {
	Pair     template.Pair      `json:"pair"`
	Verdict  *diagnose.Verdict  `json:"verdict"`
	Template []template.Finding `json:"templateFindings"`
}

// TemplateFindings writes what the template says of a call, below its
// verdict: each finding with the resource and line it is about, and the
// template text of a fix.
func TemplateFindings(w io.Writer, fs []template.Finding) error {
	p := &printer{w: w}
	if len(fs) == 0 {
		return nil
	}
	p.line("")
	p.line("In the template:")
	for _, f := range fs {
		where := Escape(f.Resource)
		if where == "" {
			where = "template"
		}
		if f.Line > 0 {
			where += fmt.Sprintf(" (line %d)", f.Line)
		}
		p.line(fmt.Sprintf("  - %s: %s", where, Escape(f.Message)))
		if f.Snippet != "" {
			for _, l := range strings.Split(f.Snippet, "\n") {
				p.line("      " + Escape(l))
			}
		}
	}
	return p.err
}

// TemplateCalls writes one line per call a template makes, with its
// decision and summary, and the template's findings beneath.
func TemplateCalls(w io.Writer, calls []TemplateCall) error {
	p := &printer{w: w}
	for _, c := range calls {
		target := c.Pair.Target
		if c.Pair.Qualifier != "" {
			target += ":" + c.Pair.Qualifier
		}
		caller := c.Pair.Caller
		if c.Pair.Via != "" {
			caller += " via " + c.Pair.Via
		}
		p.line(fmt.Sprintf("%s -> %s  %s  %s", Escape(caller), Escape(target), c.Verdict.Decision, Escape(c.Verdict.Summary)))
		for _, f := range c.Template {
			if f.Kind != template.KindTemplateFix {
				p.line("    template: " + Escape(f.Message))
			}
		}
	}
	return p.err
}
