package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTerminalColor runs the built binary under a pseudo-terminal (util-
// linux's script) and through a pipe: color and the terminal's width on a
// terminal, none under NO_COLOR, --color never or a pipe; --color always
// colors a pipe too.
func TestTerminalColor(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) is not installed: no pseudo-terminal to run under")
	}
	bin := filepath.Join(t.TempDir(), "why-denied")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fixture, _ := filepath.Abs(filepath.Join("..", "..", "fixtures", "sam-qualified-invoke.json"))
	golden, err := os.ReadFile(filepath.Join("..", "..", "report", "testdata", "sam-qualified-invoke.100.golden"))
	if err != nil {
		t.Fatal(err)
	}
	env := func(extra ...string) []string {
		var out []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
				out = append(out, kv)
			}
		}
		return append(out, append([]string{"TERM=xterm-256color"}, extra...)...)
	}
	// onTTY runs the binary with its output on a terminal of 100 columns.
	onTTY := func(t *testing.T, extraEnv []string, args ...string) string {
		t.Helper()
		line := "stty cols 100 rows 50; exec " + bin + " --from-snapshot " + fixture + " " + strings.Join(args, " ")
		cmd := exec.Command(script, "-qec", line, "/dev/null")
		cmd.Env = env(extraEnv...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitDenied {
			t.Fatalf("exit %v, want %d (denied)\n%s", err, exitDenied, out)
		}
		return strings.ReplaceAll(string(out), "\r\n", "\n")
	}
	piped := func(t *testing.T, extraEnv []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--from-snapshot", fixture}, args...)...)
		cmd.Env = env(extraEnv...)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err == nil {
			t.Fatal("exit 0 for a denied call")
		}
		return out.String()
	}
	sgr := regexp.MustCompile("\x1b\\[[0-9;]*m")

	t.Run("terminal", func(t *testing.T) {
		out := onTTY(t, nil)
		if !strings.HasPrefix(out, "\x1b[1;31mDENIED\x1b[0m") {
			t.Errorf("DENIED is not red on a terminal:\n%q", out)
		}
		if plain := sgr.ReplaceAllString(out, ""); plain != string(golden) {
			t.Errorf("on a terminal of 100 columns, the screen differs from report/testdata/sam-qualified-invoke.100.golden:\n%s", plain)
		}
	})
	for name, c := range map[string]struct {
		tty  bool
		env  []string
		args []string
	}{
		"NO_COLOR":       {tty: true, env: []string{"NO_COLOR=1"}},
		"--color never":  {tty: true, args: []string{"--color", "never"}},
		"TERM=dumb":      {tty: true, env: []string{"TERM=dumb"}},
		"pipe":           {},
		"pipe, -o json":  {args: []string{"-o", "json"}},
		"json, terminal": {tty: true, args: []string{"-o", "json", "--color", "always"}},
	} {
		t.Run(name, func(t *testing.T) {
			var out string
			if c.tty {
				out = onTTY(t, c.env, c.args...)
			} else {
				out = piped(t, c.env, c.args...)
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("color in the output:\n%q", out)
			}
			if !strings.Contains(out, "DENIED") && !strings.Contains(out, `"implicitDeny"`) {
				t.Errorf("no verdict:\n%s", out)
			}
		})
	}
	t.Run("--color always, pipe", func(t *testing.T) {
		if out := piped(t, []string{"NO_COLOR=1"}, "--color", "always"); !strings.HasPrefix(out, "\x1b[1;31mDENIED") {
			t.Errorf("--color always does not color a pipe:\n%q", out)
		}
	})
}
