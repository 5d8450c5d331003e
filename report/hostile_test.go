package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/policy"
)

// hostileVerdict carries, in every text a table shows, what someone who
// can name things in an account could put there: a newline that would
// forge a row, escape sequences, a bidi override, a 100 KB name.
func hostileVerdict(t *testing.T) *diagnose.Verdict {
	v := verdictFor(t, "sam-qualified-invoke.json")
	long := strings.Repeat("n", 100<<10)
	forged := "x\nidentity | allows | - | local | forged\x1b[2J\x1b]52;c;ZWNobw==\x07\u202eevil"
	// Commands and snippets keep their newlines (they are meant); fixtext
	// quotes the names in them, so they carry the rest of it on one line.
	oneLine := strings.ReplaceAll(forged, "\n", "")
	c := *v
	c.Summary = "DENIED (implicitDeny) by the identity-based policy " + forged
	c.Caller.Principal += forged
	c.Request.Resource += forged
	c.Layers = nil
	for _, l := range v.Layers {
		l.Note += forged
		var sts []diagnose.StatementReport
		for _, st := range l.Statements {
			st.Sid, st.Policy = forged, long
			st.Reasons = append([]string{forged + " " + long}, st.Reasons...)
			sts = append(sts, st)
		}
		l.Statements = sts
		c.Layers = append(c.Layers, l)
	}
	c.Findings = nil
	for _, f := range v.Findings {
		f.Message += forged
		var fixes []diagnose.Fix
		for _, fx := range f.Fixes {
			fx.Description += forged
			fx.CLI += " " + oneLine
			fx.CloudFormation += " " + oneLine
			fixes = append(fixes, fx)
		}
		f.Fixes = fixes
		c.Findings = append(c.Findings, f)
	}
	c.Problems = []string{forged}
	c.Target.Tags = map[string]string{"aws:cloudformation:logical-id": forged, "aws:cloudformation:stack-name": forged, "lambda:createdBy": "SAM"}
	return &c
}

// TestTableEscapesHostileText: every human-readable output shows control
// and bidi characters escaped, a newline in a Sid does not start a line of
// its own, and a 100 KB name does not make a table row 100 KB wide.
func TestTableEscapesHostileText(t *testing.T) {
	v := hostileVerdict(t)
	for _, o := range []Options{{Width: 80}, {Width: 100}, {Width: 160}, {Width: 80, Verbose: true}, {Width: 100, Verbose: true}, {Width: 160, Verbose: true}} {
		var buf bytes.Buffer
		if err := o.Table(&buf, v); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\r"} {
			if strings.Contains(out, bad) {
				t.Errorf("%+v: output holds %q raw", o, bad)
			}
		}
		if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, `\u202e`) || !strings.Contains(out, `x\x0aidentity | allows`) {
			t.Errorf("%+v: the escaped forms are missing", o)
		}
		for i, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, " │"), "identity | allows") {
				t.Errorf("%+v: line %d is a forged row: %q", o, i+1, line)
			}
			if strings.ContainsAny(line, "│┌└├") && width(line) > o.Width {
				t.Errorf("%+v: table line %d is %d columns wide", o, i+1, width(line))
			}
			if width(line) > 2*maxWord+o.Width && !strings.Contains(line, "$ ") {
				t.Errorf("%+v: line %d is %d columns wide: a long name is not clipped", o, i+1, width(line))
			}
		}
	}
}

// TestBlockingReasonFirst: the blocking layer's reason comes before
// anything said of a layer that does not block, in the first screen and
// in the whole report.
func TestBlockingReasonFirst(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var buf bytes.Buffer
		if err := (Options{Width: 100, Verbose: verbose}).Table(&buf, verdictFor(t, "sam-qualified-invoke.json")); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		blocking := strings.Index(out, "RequestFunctionRolePolicy0\" statement 0: Resource")
		if verbose {
			blocking = strings.Index(out, "identity: RequestFunctionRolePolicy0 #0 (blocks)")
		}
		for _, other := range []string{"lambda.amazonaws.com", "resource: ProcessorFunction #0", "[info]"} {
			if i := strings.Index(out, other); i >= 0 && blocking > i {
				t.Errorf("verbose %v: %q (line %d) comes before the blocking reason (line %d)", verbose, other,
					strings.Count(out[:i], "\n")+1, strings.Count(out[:blocking], "\n")+1)
			}
		}
		if blocking < 0 {
			t.Errorf("verbose %v: no blocking reason:\n%s", verbose, out)
		}
	}
}

// TestFixForm: the first screen shows the fix as the function was deployed.
func TestFixForm(t *testing.T) {
	v := verdictFor(t, "sam-qualified-invoke.json")
	for _, c := range []struct {
		tags      map[string]string
		want, not string
	}{
		{map[string]string{"lambda:createdBy": "SAM", "aws:cloudformation:stack-name": "sam-app", "aws:cloudformation:logical-id": "ProcessorFunction"},
			`in AWS SAM, in the calling function's Properties:`, "$ aws iam put-role-policy"},
		{map[string]string{"aws:cloudformation:stack-name": "plain", "aws:cloudformation:logical-id": "Proc"},
			`in CloudFormation, in the AWS::IAM::Role's Properties:`, "$ aws iam put-role-policy"},
		{nil, "$ aws iam put-role-policy --role-name RequestRole", "Policies:"},
	} {
		c2 := *v
		c2.Target.Tags = c.tags
		var buf bytes.Buffer
		if err := (Options{Width: 100}).Table(&buf, &c2); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, c.want) || strings.Contains(out, c.not) {
			t.Errorf("tags %v: want %q and not %q in:\n%s", c.tags, c.want, c.not, out)
		}
		if c.tags["aws:cloudformation:logical-id"] == "Proc" && !strings.Contains(out, `!Sub "${Proc.Arn}:live"`) {
			t.Errorf("tags %v: the logical ID is not named:\n%s", c.tags, out)
		}
	}
}

// TestColor: colors only when asked, on the verdict word and the blocking
// layer.
func TestColor(t *testing.T) {
	v := verdictFor(t, "sam-qualified-invoke.json")
	var plain, colored bytes.Buffer
	if err := (Options{Width: 100, Verbose: true}).Table(&plain, v); err != nil {
		t.Fatal(err)
	}
	if err := (Options{Width: 100, Verbose: true, Color: true}).Table(&colored, v); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("color without Color")
	}
	if !strings.HasPrefix(colored.String(), sgrRed+"DENIED"+sgrReset) || !strings.Contains(colored.String(), sgrRed+"identity") {
		t.Errorf("DENIED and the blocking row are not red:\n%q", colored.String()[:200])
	}
	allowed := verdictFor(t, "sam-unqualified-invoke.json")
	colored.Reset()
	if err := (Options{Color: true}).Table(&colored, allowed); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(colored.String(), sgrGreen+"ALLOWED:"+sgrReset) {
		t.Errorf("ALLOWED is not green: %q", colored.String()[:40])
	}
	if allowed.Decision == policy.Allowed && strings.Contains(colored.String(), sgrRed) {
		t.Error("red on an allowed verdict")
	}
}
