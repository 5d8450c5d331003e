package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/why-denied/why-denied/awsclient"
)

// Values an account's owner (or whoever wrote a pasted message) controls,
// built to run a command if a printed command interpolated them unquoted.
var shellHostile = []string{
	"a;touch${IFS}x;#",
	"'$(touch x)'",
	"`touch x`",
	"`touch${IFS}x`",
	"a`touch${IFS}x`b",
	"a$(touch${IFS}x)b",
	"$(touch${IFS}x)",
	"a\ntouch x",
}

// Values built to act on a terminal: clear the screen, set the window
// title, write the clipboard (OSC 52), a C1 CSI, overwrite the line (CR),
// erase (BS), ring (BEL), NUL, and bidi overrides and isolates that show
// text in another order than it is.
var terminalHostile = []string{
	"a\x1b[2J\x1b[Hb",
	"a\x1b]0;title\x07b",
	"a\x1b]52;c;cHduZWQ=\x07b",
	"a\u009b31mb",
	"ok\rforged",
	"a\bb",
	"a\ab",
	"a\x00b",
	"a\u202eb",
	"a\u2066b\u2069",
}

// hostileCase is one run of the command with a hostile value in its input.
type hostileCase struct {
	name  string
	args  []string
	stdin string
	// value is the hostile value; when inCommand, some printed command
	// carries it, intact, in one argument.
	value     string
	inCommand bool
}

// TestHostileInput runs the command on evidence files and pasted messages
// whose names carry shell metacharacters and terminal controls. Every
// command it prints for the user to run (the table's "$ " lines, the JSON
// fixes' cli, explain's nextSteps) is valid shell that, run with a stub
// aws, creates no file and passes the hostile value as one argument; and
// in table mode nothing that acts on a terminal reaches stdout or stderr.
func TestHostileInput(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	bin := stubCommands(t)
	n := 0
	// evidenceWith writes a fixture with each old replaced by v, written
	// as JSON string content.
	evidenceWith := func(fixture, v string, olds ...string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", fixture))
		if err != nil {
			t.Fatal(err)
		}
		for _, old := range olds {
			from, to, _ := strings.Cut(old, "=>")
			if !bytes.Contains(data, []byte(from)) {
				t.Fatalf("%s has no %q", fixture, from)
			}
			data = bytes.ReplaceAll(data, []byte(from), []byte(strings.ReplaceAll(to, "V", jsonText(v))))
		}
		n++
		p := filepath.Join(dir, fmt.Sprintf("ev%d.json", n))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	message := func(caller, resource, tail string) string {
		return "An error occurred (AccessDeniedException) when calling the Invoke operation: User: " + caller +
			" is not authorized to perform: lambda:InvokeFunction on resource: " + resource + " " + tail
	}
	const (
		session   = "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction"
		function  = "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"
		noIdAllow = "because no identity-based policy allows the lambda:InvokeFunction action"
	)

	var cases []hostileCase
	for _, v := range append(append([]string{}, shellHostile...), terminalHostile...) {
		// The shell values must come out intact; the terminal ones are
		// shown escaped in the table. A message's caller or resource ends
		// at white space, and a closing parenthesis or quote is read as
		// the message's punctuation.
		shell := slices.Contains(shellHostile, v)
		inMessage := shell && !strings.ContainsAny(v, " \t\n") && !strings.ContainsAny(v[len(v)-1:], ")`'")
		cases = append(cases,
			hostileCase{name: "role name", value: v, inCommand: shell, args: []string{"--from-snapshot",
				evidenceWith("sam-qualified-invoke.json", v, "RequestRole=>V")}},
			hostileCase{name: "qualifier", value: v, args: []string{"--from-snapshot",
				evidenceWith("sam-qualified-invoke.json", v, "ProcessorFunction:live=>ProcessorFunction:V")}},
			hostileCase{name: "policy name and Sid", value: v, args: []string{"--from-snapshot",
				evidenceWith("sam-qualified-invoke.json", v, `"RequestFunctionRolePolicy0"=>"V"`, `"ProcessorFunctionPermission"=>"V"`)}},
			hostileCase{name: "function name", value: v, args: []string{"--from-snapshot",
				evidenceWith("s3-service-principal.json", v, "ThumbnailFunction=>V")}},
			hostileCase{name: "aws:SourceAccount", value: v, args: []string{"--from-snapshot",
				evidenceWith("s3-service-principal.json", v, `"aws:SourceAccount": "111111111111"
    }=>"aws:SourceAccount": "V"
    }`)}},
			hostileCase{name: "source ARN", value: v, args: []string{"--from-snapshot",
				evidenceWith("s3-service-principal.json", v, "arn:aws:s3:::uploads-prod=>arn:aws:s3:::V")}},
			hostileCase{name: "Sid of a service grant", value: v, args: []string{"--from-snapshot",
				evidenceWith("s3-service-principal.json", v, `"s3-invoke"=>"V"`)}},
			hostileCase{name: "boundary name", value: v, inCommand: shell, args: []string{"--from-snapshot",
				evidenceWith("boundary-blocks.json", v, "DeveloperBoundary=>V")}},
			hostileCase{name: "cross-account caller role", value: v, inCommand: shell, args: []string{"--from-snapshot",
				evidenceWith("cross-account-one-side.json", v, "OrderService=>V")}},
			hostileCase{name: "cross-account accounts", value: v, args: []string{"--from-snapshot",
				evidenceWith("cross-account-one-side.json", v, `"account": "111111111111"=>"account": "V"`)}},
			hostileCase{name: "message role", value: v, inCommand: inMessage, args: []string{"explain",
				message("arn:aws:sts::111111111111:assumed-role/"+v+"/RequestFunction", function+":live", noIdAllow)}},
			hostileCase{name: "message user", value: v, inCommand: inMessage, args: []string{"explain",
				message("arn:aws:iam::111111111111:user/"+v, function, noIdAllow)}},
			hostileCase{name: "message qualifier", value: v, inCommand: inMessage, args: []string{"explain",
				message(session, function+":"+v, "because no resource-based policy allows the lambda:InvokeFunction action")}},
			hostileCase{name: "message boundary", value: v, inCommand: inMessage, args: []string{"explain",
				message(session, function, "with an explicit deny in a permissions boundary: arn:aws:iam::111111111111:policy/"+v)}},
			hostileCase{name: "message SCP", value: v, inCommand: inMessage, args: []string{"explain",
				message(session, function, "with an explicit deny in a service control policy: arn:aws:organizations::111111111111:policy/o-a/service_control_policy/p-"+v)}},
			hostileCase{name: "message on stdin", value: v, inCommand: inMessage, args: []string{"explain", "-"},
				stdin: message("arn:aws:sts::111111111111:assumed-role/"+v+"/s", function, noIdAllow)},
			hostileCase{name: "message text", value: v, args: []string{"explain", v + " " + message(session, function, noIdAllow+" "+v)}},
			hostileCase{name: "message about another call", value: v, args: []string{"explain", "--from-snapshot",
				"../../fixtures/sam-qualified-invoke.json", message("arn:aws:sts::111111111111:assumed-role/"+v+"/s", function+":live", noIdAllow)}},
			hostileCase{name: "evidence path", value: v, args: []string{"--from-snapshot", filepath.Join(dir, "absent"+v+".json")}},
			hostileCase{name: "snapshot path", value: v, args: []string{"--snapshot", filepath.Join(dir, "no-folder"+v, "ev.json"), "RequestFunction", "ProcessorFunction"}},
			hostileCase{name: "unparsable message", value: v, args: []string{"explain", "not a message " + v}},
		)
	}

	for _, c := range cases {
		t.Run(c.name+"/"+fmt.Sprintf("%q", c.value), func(t *testing.T) {
			start := time.Now()
			table := runHostile(t, c, "table")
			js := runHostile(t, c, "json")
			if table.code != js.code {
				t.Errorf("exit %d in table mode, %d in JSON mode", table.code, js.code)
			}
			for what, s := range map[string]string{"stdout": table.stdout, "stderr": table.stderr, "JSON-mode stderr": js.stderr} {
				if bad := terminalControls(s); bad != "" {
					t.Errorf("%s shows %s raw:\n%s", what, bad, s)
				}
			}
			if strings.Count(table.stderr, "\n") > 1 {
				t.Errorf("stderr has more than one line: %q", table.stderr)
			}

			scripts := printedCommands(table.stdout)
			scripts = append(scripts, jsonCommands(t, js.stdout)...)
			var args []string
			for _, s := range scripts {
				args = append(args, runPrinted(t, bin, s)...)
			}
			// A value with a control character is no IAM or Lambda name: the
			// command that would hold it is not printed at all.
			if c.inCommand && strings.ContainsAny(c.value, "\n\r\t\x00") {
				if carries(args, c.value) {
					t.Errorf("a printed command carries %q, which no name can hold", c.value)
				}
			} else if c.inCommand && !carries(args, c.value) {
				t.Errorf("no printed command carries %q as (part of) one argument; commands:\n%s\n%s", c.value, strings.Join(scripts, "\n---\n"), table)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// runHostile runs c in output format, with no credentials: explain then
// says what the message means, and the main command reads only its file.
func runHostile(t *testing.T, c hostileCase, format string) result {
	t.Helper()
	noCredentials := deps{newSource: func(context.Context, awsclient.Options) (evidenceSource, error) {
		return nil, &awsclient.CredentialsError{Side: "caller", Err: errors.New("no credentials in the test")}
	}}
	var out, errOut bytes.Buffer
	io := streams{In: strings.NewReader(c.stdin), Out: &out, Err: &errOut}
	code := runTree(context.Background(), newRootCmd(io, noCredentials), append([]string{"-o", format}, c.args...), io)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// printedCommands are the commands of the table output: every line that
// starts, after its indent, with "$ ".
func printedCommands(out string) []string {
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "$ "); ok {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// jsonCommands are the commands of the JSON output: each fix's cli and
// each of explain's nextSteps that is a command.
func jsonCommands(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	var v struct {
		Findings []struct {
			Fixes []struct {
				CLI string `json:"cli"`
			} `json:"fixes"`
		} `json:"findings"`
		NextSteps []string `json:"nextSteps"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, out)
	}
	var cmds []string
	for _, f := range v.Findings {
		for _, fix := range f.Fixes {
			if fix.CLI != "" {
				cmds = append(cmds, fix.CLI)
			}
		}
	}
	for _, s := range v.NextSteps {
		if strings.HasPrefix(s, "aws ") || strings.HasPrefix(s, "why-denied ") {
			cmds = append(cmds, s)
		}
	}
	return cmds
}

// stubCommands makes a folder with stand-ins for aws and why-denied that
// print their arguments, each ended by NUL, and nothing else.
func stubCommands(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\000' \"$a\"; done\n"
	for _, name := range []string{"aws", "why-denied"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// runPrinted checks script with sh -n, runs it in an empty folder with the
// stubs first on PATH, and returns the arguments the stubs were given. The
// folder must stay empty: a file in it means the script ran more than aws.
func runPrinted(t *testing.T, bin, script string) []string {
	t.Helper()
	if strings.ContainsRune(script, 0) {
		// No shell can pass a NUL in an argument, nor read one in a
		// script: such a command cannot run as printed, and cannot run
		// anything else either.
		return nil
	}
	if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
		t.Errorf("printed command is not valid shell (%v: %s):\n%s", err, out, script)
		return nil
	}
	work := t.TempDir()
	// The real PATH follows the stubs: a script that escaped the quoting
	// and ran "touch" finds the real one, and the test sees the file.
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + work}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("printed command failed in sh (%v, stderr %q):\n%s", err, stderr.String(), script)
	}
	if entries, _ := os.ReadDir(work); len(entries) > 0 {
		t.Errorf("printed command created %s: it runs more than aws:\n%s", entries[0].Name(), script)
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
}

// carries reports whether one argument holds v intact: as itself, or
// written as JSON string content (inside a policy document).
func carries(args []string, v string) bool {
	for _, a := range args {
		if strings.Contains(a, v) || strings.Contains(a, jsonText(v)) {
			return true
		}
	}
	return false
}

// jsonText is s as the content of a JSON string, without the quotes.
func jsonText(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// terminalControls names the first character in s that would act on a
// terminal rather than show: a C0 control other than newline, DEL, a C1
// control, a bidi embedding, override or isolate, or a byte that is not
// UTF-8; "" when there is none.
func terminalControls(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return fmt.Sprintf("byte %#x (not UTF-8)", s[i])
		case r < 0x20 && r != '\n', r == 0x7f, r >= 0x80 && r < 0xa0,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return fmt.Sprintf("%U at byte %d", r, i)
		}
		i += n
	}
	return ""
}
