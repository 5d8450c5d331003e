package main

import (
	"strings"
	"testing"
)

// TestRedactHelpSaysBlurred: a user deciding whether a redacted file may
// leave the company reads --help; it must not promise more than the
// substitution gives.
func TestRedactHelpSaysBlurred(t *testing.T) {
	r := runOffline(t, "--help")
	wantExit(t, r, exitAllowed)
	help := strings.Join(strings.Fields(r.stdout), " ")
	i := strings.Index(help, "--redact")
	if i < 0 {
		t.Fatalf("--help does not list --redact:\n%s", r.stdout)
	}
	line := help[i:min(len(help), i+300)]
	for _, want := range []string{"blurred, not encrypted", "unique IDs"} {
		if !strings.Contains(line, want) {
			t.Errorf("--redact's help %q does not say %q", line, want)
		}
	}
}
