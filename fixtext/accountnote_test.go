package fixtext

import (
	"strings"
	"testing"
)

// The account note is a comment: a newline in the account (an evidence
// file can say anything) would end it and make the rest a command.
func TestAccountNoteStaysOneComment(t *testing.T) {
	for _, account := range []string{"111111111111", "a\ntouch x", "a\rb", "a\u2028b", "a\x1b[2Jb"} {
		note := AccountNote(account, "function's")
		if strings.Count(note, "\n") != 1 || !strings.HasSuffix(note, "\n") || !strings.HasPrefix(note, "# ") {
			t.Errorf("AccountNote(%q) = %q, want one comment line", account, note)
		}
		if strings.ContainsAny(strings.TrimSuffix(note, "\n"), "\r\x1b\u2028") {
			t.Errorf("AccountNote(%q) = %q keeps a control character", account, note)
		}
	}
	if got := AccountNote("111111111111", "caller's"); got != "# with credentials of account 111111111111 (the caller's)\n" {
		t.Errorf("plain account: %q", got)
	}
}
