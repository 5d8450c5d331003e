package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// Table writes the verdict for a person: the summary, the request, one row
// per layer, then the findings and fixes.
func Table(w io.Writer, v *diagnose.Verdict) error {
	p := &printer{w: w}
	p.line(v.Summary)
	p.line("")
	p.field("caller", callerLine(v))
	p.field("action", v.Request.Action)
	p.field("resource", v.Request.Resource)
	if v.CrossAccount {
		p.field("accounts", fmt.Sprintf("%s -> %s (cross-account: both sides must allow)", v.Caller.Account, v.Target.Account))
	}
	p.field("simulator", simulatorLine(v.Simulator))
	if p.err != nil {
		return p.err
	}
	p.line("")

	t := tablewriter.NewTable(w,
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoFormat(tw.On),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
	t.Header("Layer", "Result", "Blocks", "Source", "Statement")
	for _, l := range v.Layers {
		if err := t.Append(string(l.Layer), resultWords(l), yesNo(l.Blocks), string(l.Source), statementCell(l)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	// Why each statement shown missed, in full sentences.
	first := true
	for _, l := range v.Layers {
		for _, st := range l.Statements {
			if st.Status != diagnose.StatusClosest || len(st.Reasons) == 0 {
				continue
			}
			if first {
				p.line("")
				p.line("Closest statements and why they do not match:")
				first = false
			}
			p.line(fmt.Sprintf("  %s: %s", l.Layer, statementName(st)))
			for _, r := range st.Reasons {
				p.line(wrap("    - ", "      ", r, 100))
			}
		}
	}

	if len(v.Findings) > 0 {
		p.line("")
		p.line("Findings:")
		for _, f := range v.Findings {
			p.bullet(fmt.Sprintf("[%s] %s", f.Severity, f.Message))
			for _, fix := range f.Fixes {
				p.fix(fix)
			}
		}
	}
	for _, pr := range v.Problems {
		p.bullet("[problem] " + pr)
	}
	return p.err
}

func callerLine(v *diagnose.Verdict) string {
	s := fmt.Sprintf("%s (%s", v.Caller.Principal, diagnose.KindWords(v.Caller.Kind))
	if v.Caller.Entity != "" && v.Caller.Entity != v.Caller.Principal {
		s += "; policies of " + v.Caller.Entity
	}
	return s + ")"
}

func simulatorLine(s diagnose.SimulatorInfo) string {
	if !s.Used {
		return s.Note
	}
	line := fmt.Sprintf("%s (%s)", s.Decision, s.Note)
	if s.AgreesWithLocal != nil && !*s.AgreesWithLocal {
		line += "; DISAGREES with the local engine"
	}
	return line
}

func resultWords(l diagnose.LayerReport) string {
	switch l.Result {
	case diagnose.ResultAllows:
		return "allows"
	case diagnose.ResultDenies:
		return "explicit deny"
	case diagnose.ResultNoAllow:
		return "no allow"
	case diagnose.ResultUnknown:
		return "UNKNOWN"
	case diagnose.ResultNotRead:
		return "not read"
	}
	return "n/a"
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "-"
}

// statementCell names the deciding statements, or the closest ones, or
// says why the layer does not apply.
func statementCell(l diagnose.LayerReport) string {
	if len(l.Statements) == 0 {
		return l.Note
	}
	var parts []string
	for _, st := range l.Statements {
		if st.Status == diagnose.StatusMatched {
			parts = append(parts, fmt.Sprintf("%s: %s matches", statementName(st), st.Effect))
		} else {
			parts = append(parts, "closest: "+statementName(st))
		}
	}
	return strings.Join(parts, "\n")
}

func statementName(st diagnose.StatementReport) string {
	if st.Sid != "" {
		return fmt.Sprintf("%s #%d (%s)", st.Policy, st.Statement, st.Sid)
	}
	return fmt.Sprintf("%s #%d", st.Policy, st.Statement)
}

// printer writes lines and remembers the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}

func (p *printer) field(name, value string) { p.line(fmt.Sprintf("  %-10s %s", name, value)) }

func (p *printer) bullet(s string) { p.line(wrap("  - ", "    ", s, 100)) }

func (p *printer) fix(f diagnose.Fix) {
	p.line(wrap("    fix: ", "         ", f.Description, 100))
	if f.Caveat != "" {
		p.line(wrap("         caveat: ", "         ", f.Caveat, 100))
	}
	// The statements the fix adds or changes (the whole documents after the
	// change are in the JSON output).
	for _, c := range f.Changes {
		var shown bytes.Buffer
		if err := json.Indent(&shown, c.Document, "", "  "); err != nil {
			continue
		}
		switch c.Kind {
		case evidence.AddCondition:
			p.line(fmt.Sprintf("         in %s policy %s, statement %d, add:", c.Layer, c.Policy, c.Statement))
		default:
			p.line(fmt.Sprintf("         add to %s policy %s:", c.Layer, c.Policy))
		}
		p.line(indent("           ", shown.String()))
	}
	for _, c := range strings.Split(f.CLI, "\n") {
		switch {
		case c == "":
		case strings.HasPrefix(c, "#"):
			p.line("         " + c)
		default:
			p.line("         $ " + c)
		}
	}
	if f.CloudFormation != "" {
		p.line(indent("         ", f.CloudFormation))
	}
}

func indent(prefix, s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

// wrap folds s at word boundaries to width columns.
func wrap(first, rest, s string, width int) string {
	var b strings.Builder
	b.WriteString(first)
	col := len(first)
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(word) > width {
				b.WriteString("\n" + rest)
				col = len(rest)
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// Meaning writes what an AccessDenied message means, when the account could
// not be read.
func Meaning(w io.Writer, m *accessdenied.Meaning) error {
	p := &printer{w: w}
	p.line(wrap("", "", m.Summary, 100))
	if m.Reason != "" {
		p.line("")
		p.line(wrap("No diagnosis: ", "  ", m.Reason+".", 100))
	}
	p.line("")
	p.line(wrap("Look at: ", "  ", m.LookAt, 100))
	if len(m.NextSteps) > 0 {
		p.line("")
		p.line("Next:")
		for _, s := range m.NextSteps {
			p.line("  $ " + s)
		}
	}
	return p.err
}
