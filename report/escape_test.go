package report

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain role/name":             "plain role/name",
		"clear\x1b[2Jscreen":          `clear\x1b[2Jscreen`,
		"title\x1b]0;pwned\x07":       `title\x1b]0;pwned\x07`,
		"osc52\x1b]52;c;ZWNobw==\x07": `osc52\x1b]52;c;ZWNobw==\x07`,
		"c1\u009bcsi":                 `c1\u009bcsi`,
		"cr\rbs\bnul\x00":             `cr\x0dbs\x08nul\x00`,
		"sid\nidentity | allows":      `sid\x0aidentity | allows`,
		"bidi\u202eevil":              `bidi\u202eevil`,
		"bad\xffbyte":                 `bad\xffbyte`,
		"tab\tsep":                    "tab sep",
		"accents été, 名前, emoji 🙂":    "accents été, 名前, emoji 🙂",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
