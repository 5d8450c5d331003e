package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/policy"
)

// defaultAction is the action a call is about unless --action says
// otherwise; the first screen names the action only when it is another.
const defaultAction = "lambda:InvokeFunction"

// Options say how a verdict is shown to a person.
type Options struct {
	// Width is the terminal's width in columns; 0 means DefaultWidth, the
	// width assumed when the output is not a terminal.
	Width int
	// Color marks the verdict and the blocking layer with ANSI colors. The
	// command turns it on for a terminal only (--color, NO_COLOR).
	Color bool
	// Verbose prints the whole report: every layer, every closest
	// statement, every finding, each fix in every form. Without it the
	// output is one screen: the verdict, why, what is not the cause, and
	// the narrowest fix in the form the function was deployed with.
	Verbose bool
}

func (o Options) width() int {
	switch {
	case o.Width <= 0:
		return DefaultWidth
	case o.Width < minWidth:
		return minWidth
	}
	return o.Width
}

// Table writes the verdict for a person: one screen, or with Verbose the
// whole report.
func (o Options) Table(w io.Writer, v *diagnose.Verdict) error {
	v = escaped(v)
	if o.Verbose {
		return o.full(w, v)
	}
	return o.screen(w, v)
}

// notTheCause are the findings about what a user is likely to suspect and
// is not the cause: a grant to a service principal (the classic
// AWS::Lambda::Permission for lambda.amazonaws.com), a resource policy
// that is not needed in one account, a grant to the account.
var notTheCause = map[diagnose.FindingKind]bool{
	diagnose.KindServicePrincipalGrant:   true,
	diagnose.KindResourcePolicyNotNeeded: true,
	diagnose.KindAccountGrant:            true,
}

// screen is the first screen: what a user in an incident needs, in the
// order they need it. The blocking reason comes before anything else.
func (o Options) screen(w io.Writer, v *diagnose.Verdict) error {
	p := &printer{w: w}
	cols := o.width()
	p.line(o.verdictLine(v.Summary))
	p.line(wrap("  caller    ", "            ", fmt.Sprintf("%s (%s)", v.Caller.Principal, diagnose.KindWords(v.Caller.Kind)), cols))
	p.line(wrap("  function  ", "            ", v.Request.Resource, cols))
	if v.Request.Action != defaultAction {
		p.line(wrap("  action    ", "            ", v.Request.Action, cols))
	}

	denied := len(v.BlockedBy) > 0
	var notes []string
	suspects := map[policy.Layer]bool{} // layers a "not the cause" was said of
	for _, f := range blockingFirst(v.Findings) {
		switch {
		case f.Severity == diagnose.SeverityBlocking:
			p.line("")
			p.line(o.paint(sgrBold, "Why:") + strings.TrimPrefix(wrap("Why: ", "     ", f.Message, cols), "Why:"))
			for _, r := range moreReasons(v, f) {
				p.line(wrap("  and: ", "       ", r, cols))
			}
		case f.Severity == diagnose.SeverityWarning:
			notes = append(notes, wrap("Note: ", "      ", f.Message, cols))
		case !notTheCause[f.Kind] || suspects[f.Layer] || f.Kind == diagnose.KindResourcePolicyNotNeeded && suspects[policy.LayerResource]:
			// One word on each suspect is enough for a first screen.
		case denied:
			notes = append(notes, wrap("Not the cause: ", "  ", f.Message, cols))
			suspects[f.Layer] = true
		default:
			notes = append(notes, wrap("Note: ", "      ", f.Message, cols))
			suspects[f.Layer] = true
		}
	}
	for _, pr := range v.Problems {
		notes = append(notes, wrap("Problem: ", "  ", pr, cols))
	}
	if len(notes) > 0 {
		p.line("")
		for _, n := range notes {
			p.line(n)
		}
	}

	fix, total := narrowestFix(v.Findings)
	var shown form
	if fix != nil {
		d := deployedWith(v.Target.Tags)
		shown = fixForm(*fix, d)
		p.line("")
		p.line(o.paint(sgrBold, "Fix:") + strings.TrimPrefix(wrap("Fix: ", "  ", fix.Description, cols), "Fix:"))
		if fix.Caveat != "" {
			p.line(wrap("  caveat: ", "  ", fix.Caveat, cols))
		}
		switch {
		case shown.command && shown.text == "":
			// No command writes this change (a managed policy's document
			// is edited by its owner): the statement itself is the fix.
			shown = form{name: "policy JSON"}
			p.changes("  ", fix.Changes)
		case shown.command:
			p.line("  with the AWS CLI:")
			p.commands("    ", shown.text)
		default:
			where := shown.name
			if shown.where != "" {
				where += ", " + shown.where
			}
			p.line(wrap("  in ", "  ", where+":", cols))
			p.line(indent("    ", shown.text))
			if h := templateHint(d, v.Target); h != "" {
				p.line(wrap("  ", "  ", h, cols))
			}
		}
	}
	p.line("")
	p.line(wrap("", "  ", moreLine(fix, shown, total), cols))
	return p.err
}

// moreReasons are the closest statement's reasons the blocking finding
// does not already give (it gives the first).
func moreReasons(v *diagnose.Verdict, f diagnose.Finding) []string {
	for _, l := range v.Layers {
		if l.Layer != f.Layer || !l.Blocks || len(l.Statements) == 0 {
			continue
		}
		st := l.Statements[0]
		if st.Status == diagnose.StatusClosest && len(st.Reasons) > 1 {
			return st.Reasons[1:]
		}
	}
	return nil
}

// narrowestFix is the first verified fix of the findings (diagnose lists
// them narrowest first), and how many fixes there are in all.
func narrowestFix(fs []diagnose.Finding) (*diagnose.Fix, int) {
	var first *diagnose.Fix
	total := 0
	for i := range fs {
		for j := range fs[i].Fixes {
			total++
			if first == nil && fs[i].Fixes[j].Verified {
				first = &fs[i].Fixes[j]
			}
		}
	}
	return first, total
}

// moreLine says what --verbose adds: the other fixes, the other forms of
// the one shown, and the layers.
func moreLine(fix *diagnose.Fix, shown form, total int) string {
	var parts []string
	if total > 1 {
		parts = append(parts, plural(total-1, "more fix", "more fixes"))
	}
	if fix != nil {
		var forms []string
		if shown.name != "policy JSON" {
			forms = append(forms, "policy JSON")
		}
		if !shown.command && fix.CLI != "" {
			forms = append(forms, "AWS CLI")
		}
		if fix.CloudFormation != "" {
			forms = append(forms, otherTemplateForms(fix.CloudFormation, shown)...)
		}
		if len(forms) > 0 {
			parts = append(parts, "this one as "+joinWith(forms, "or"))
		}
	}
	parts = append(parts, "every layer")
	return "why-denied -v shows " + joinWith(parts, "and") + "."
}

func otherTemplateForms(cfn string, shown form) []string {
	var out []string
	for _, s := range templateSections(cfn) {
		if (s.name != shown.name || s.where != shown.where) && !slices.Contains(out, s.name) {
			out = append(out, s.name)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// joinWith lists ss as a sentence does: "a, b and c" (with a comma
// before the conjunction when the items themselves hold one).
func joinWith(ss []string, conj string) string {
	switch len(ss) {
	case 0:
		return ""
	case 1:
		return ss[0]
	}
	sep := " " + conj + " "
	for _, s := range ss {
		if strings.Contains(s, ",") || strings.Contains(s, " or ") {
			sep = ", " + conj + " "
		}
	}
	return strings.Join(ss[:len(ss)-1], ", ") + sep + ss[len(ss)-1]
}

// blockingFirst orders findings blocking, then warnings, then the rest,
// each in the diagnosis's order: the reason a call is denied comes before
// anything said about it.
func blockingFirst(fs []diagnose.Finding) []diagnose.Finding {
	out := make([]diagnose.Finding, 0, len(fs))
	for _, sev := range []diagnose.Severity{diagnose.SeverityBlocking, diagnose.SeverityWarning} {
		for _, f := range fs {
			if f.Severity == sev {
				out = append(out, f)
			}
		}
	}
	for _, f := range fs {
		if f.Severity != diagnose.SeverityBlocking && f.Severity != diagnose.SeverityWarning {
			out = append(out, f)
		}
	}
	return out
}
