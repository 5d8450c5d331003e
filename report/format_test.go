package report

import "testing"

// -o JSON and -o Table are what people type after reading "JSON" in the
// help: the format name is not case-sensitive.
func TestParseFormatIgnoresCase(t *testing.T) {
	for in, want := range map[string]Format{
		"json": FormatJSON, "JSON": FormatJSON, "Json": FormatJSON, " json ": FormatJSON,
		"table": FormatTable, "TABLE": FormatTable, "Table": FormatTable,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yaml", "jsonl"} {
		if _, err := ParseFormat(in); err == nil {
			t.Errorf("ParseFormat(%q) accepted an unknown format", in)
		}
	}
}
