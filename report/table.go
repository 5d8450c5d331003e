package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// boxWidth is the narrowest terminal the layers are drawn in a box for;
// below it they are a list, which does not break each row into slivers.
const boxWidth = 90

// full writes the whole report: the summary, the request, every layer,
// the closest statements (the blocking layers' first), then the findings
// (blocking first) with every fix in every form.
func (o Options) full(w io.Writer, v *diagnose.Verdict) error {
	p := &printer{w: w}
	cols := o.width()
	p.line(o.verdictLine(v.Summary))
	p.line("")
	p.field("caller", callerLine(v), cols)
	p.field("action", v.Request.Action, cols)
	p.field("resource", v.Request.Resource, cols)
	if v.CrossAccount {
		p.field("accounts", fmt.Sprintf("%s -> %s (cross-account: both sides must allow)", v.Caller.Account, v.Target.Account), cols)
	}
	p.field("simulator", simulatorLine(v.Simulator), cols)
	if p.err != nil {
		return p.err
	}
	p.line("")
	if cols >= boxWidth {
		if err := o.layerBox(p, v.Layers); err != nil {
			return err
		}
	} else {
		o.layerList(p, v.Layers)
	}

	// Why each statement shown missed, in full sentences: the blocking
	// layers first.
	first := true
	for _, blocking := range []bool{true, false} {
		for _, l := range v.Layers {
			if l.Blocks != blocking {
				continue
			}
			for _, st := range l.Statements {
				if st.Status != diagnose.StatusClosest || len(st.Reasons) == 0 {
					continue
				}
				if first {
					p.line("")
					p.line("Closest statements and why they do not match:")
					first = false
				}
				head := clip(fmt.Sprintf("  %s: %s", l.Layer, statementName(st)), maxCell)
				if l.Blocks {
					head = o.paint(sgrRed, head) + " (blocks)"
				}
				p.line(head)
				for _, r := range st.Reasons {
					p.line(wrap("    - ", "      ", r, cols))
				}
			}
		}
	}

	if len(v.Findings) > 0 {
		p.line("")
		p.line("Findings:")
		for _, f := range blockingFirst(v.Findings) {
			p.line(wrap("  - ", "    ", fmt.Sprintf("[%s] %s", f.Severity, f.Message), cols))
			for _, fix := range f.Fixes {
				p.fix(fix, cols)
			}
		}
	}
	for _, pr := range v.Problems {
		p.line(wrap("  - ", "    ", "[problem] "+pr, cols))
	}
	return p.err
}

// layerBox draws the layers as a table that fits cols columns: the
// statement column takes what the others leave, and its cells wrap inside
// it. The cells are folded here rather than by tablewriter, whose word
// wrapping under a column width drops the words that do not fit.
func (o Options) layerBox(p *printer, layers []diagnose.LayerReport) error {
	cols := o.width()
	heads := []string{"Layer", "Result", "Blocks", "Source", "Statement"}
	rows := make([][]string, len(layers))
	widths := make([]int, len(heads))
	for i, h := range heads {
		widths[i] = len(h)
	}
	var details []string
	for i, l := range layers {
		note, detail := shortNote(l.Note)
		if detail {
			details = append(details, fmt.Sprintf("%s: %s", l.Layer, l.Note))
		}
		rows[i] = []string{string(l.Layer), resultWords(l), yesNo(l.Blocks), string(l.Source), statementCell(l, note)}
		for j, c := range rows[i][:4] {
			widths[j] = max(widths[j], width(clip(c, maxCell)))
		}
	}
	// Each column has a space of padding on either side and a border.
	rest := cols - 1
	for _, w := range widths[:4] {
		rest -= w + 3
	}
	rest -= 3
	if rest < 16 {
		o.layerList(p, layers)
		return p.err
	}
	t := tablewriter.NewTable(p.w,
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoFormat(tw.On),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(heads)
	for i, l := range layers {
		cells := make([]string, len(heads))
		for j, c := range rows[i] {
			if j < 4 {
				cells[j] = wrapCell(c, widths[j])
			} else {
				cells[j] = wrapCell(c, rest)
			}
		}
		cells[1] = o.paint(resultColor(l), cells[1])
		if l.Blocks {
			cells[0], cells[2] = o.paint(sgrRed, cells[0]), o.paint(sgrRed, cells[2])
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if len(details) > 0 {
		p.line("")
		p.line("Notes:")
		for _, d := range details {
			p.line(wrap("  ", "    ", d, cols))
		}
	}
	return p.err
}

// layerList writes the layers one after another, for a narrow terminal:
// each layer's result on one line, its statements or note under it.
func (o Options) layerList(p *printer, layers []diagnose.LayerReport) {
	cols := o.width()
	p.line("Layers, in the order AWS evaluates them:")
	for _, l := range layers {
		head := fmt.Sprintf("%s: %s (%s)", l.Layer, resultWords(l), l.Source)
		if l.Blocks {
			head = fmt.Sprintf("%s: %s, BLOCKS (%s)", l.Layer, resultWords(l), l.Source)
		}
		head = clip(head, maxCell)
		color := resultColor(l)
		if l.Blocks {
			color = sgrRed
		}
		p.line("  " + o.paint(color, head))
		for _, line := range strings.Split(statementCell(l, l.Note), "\n") {
			if line != "" {
				p.line(wrap("      ", "        ", clip(line, maxCell), cols))
			}
		}
	}
}

// shortNote keeps a layer's note to its first clause in the table; the
// whole note goes below it.
func shortNote(note string) (short string, cut bool) {
	i := strings.Index(note, "; ")
	if j := strings.Index(note, " ("); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return note, false
	}
	return note[:i] + " …", true
}

func resultColor(l diagnose.LayerReport) string {
	switch l.Result {
	case diagnose.ResultAllows:
		return sgrGreen
	case diagnose.ResultDenies:
		return sgrRed
	case diagnose.ResultNoAllow:
		if l.Blocks {
			return sgrRed
		}
	case diagnose.ResultUnknown:
		return sgrYellow
	}
	return ""
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
// gives the note that says why the layer does not apply.
func statementCell(l diagnose.LayerReport, note string) string {
	if len(l.Statements) == 0 {
		return note
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
	return st.Policy + " #" + st.Label()
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

func (p *printer) field(name, value string, cols int) {
	p.line(wrap(fmt.Sprintf("  %-10s ", name), strings.Repeat(" ", 13), value, cols))
}

// commands writes shell commands as the user copies them: whole, one to a
// line after "$ ", comments as they are. They are not folded: a folded
// command would not paste.
func (p *printer) commands(prefix, cli string) {
	for _, c := range strings.Split(cli, "\n") {
		switch {
		case c == "":
		case strings.HasPrefix(c, "#"):
			p.line(prefix + c)
		default:
			p.line(prefix + "$ " + c)
		}
	}
}

// changes writes the statements a fix adds or changes (the whole
// documents after the change are in the JSON output); escaped has already
// indented them.
func (p *printer) changes(prefix string, changes []evidence.Change) {
	for _, c := range changes {
		if c.Document == nil {
			continue
		}
		switch c.Kind {
		case evidence.AddCondition:
			p.line(fmt.Sprintf("%sin %s policy %s, statement %d, add:", prefix, c.Layer, c.Policy, c.Statement))
		case evidence.SetDefaultVersion:
			p.line(fmt.Sprintf("%smake version %s of %s the default, which reads:", prefix, Escape(c.VersionID), Escape(c.PolicyARN)))
		default:
			p.line(prefix + "add to " + changedPolicy(c) + ":")
		}
		p.line(indent(prefix+"  ", string(c.Document)))
	}
}

func (p *printer) fix(f diagnose.Fix, cols int) {
	p.line(wrap("    fix: ", "         ", f.Description, cols))
	if f.Caveat != "" {
		p.line(wrap("         caveat: ", "         ", f.Caveat, cols))
	}
	p.changes("         ", f.Changes)
	p.commands("         ", f.CLI)
	if f.CloudFormation != "" {
		p.line(indent("         ", f.CloudFormation))
	}
}

// Meaning writes what an AccessDenied message means, when the account could
// not be read.
func (o Options) Meaning(w io.Writer, m *accessdenied.Meaning) error {
	p := &printer{w: w}
	cols := o.width()
	p.line(wrap("", "", Escape(m.Summary), cols))
	if m.Reason != "" {
		p.line("")
		p.line(wrap("No diagnosis: ", "  ", Escape(m.Reason)+".", cols))
	}
	p.line("")
	p.line(wrap("Look at: ", "  ", Escape(m.LookAt), cols))
	if len(m.NextSteps) > 0 {
		p.line("")
		p.line("Next:")
		for _, s := range m.NextSteps {
			p.line("  $ " + Escape(s))
		}
	}
	return p.err
}

// changedPolicy names the policy a change adds to, in words.
func changedPolicy(c evidence.Change) string {
	switch c.Layer {
	case policy.LayerSessionPolicy:
		return "the session policy"
	case policy.LayerResource:
		return "the function's resource-based policy"
	case policy.LayerPermissionsBoundary:
		return "the permissions boundary " + Escape(c.Policy)
	}
	return fmt.Sprintf("%s policy %s", c.Layer, Escape(c.Policy))
}
