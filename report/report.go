// Package report renders a verdict for people (a table) and for scripts
// (JSON). It decides nothing: everything it shows comes from the verdict.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
)

// Formats lists the formats, for flag help and completion.
var Formats = []string{string(FormatTable), string(FormatJSON)}

// ParseFormat validates a format name, in any letter case ("JSON" is json).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatTable, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q (expected table or json)", s)
}

// Render writes v to w in format f.
func Render[V any](w io.Writer, f Format, v V, table func(io.Writer, V) error) error {
	if f == FormatJSON {
		return JSON(w, v)
	}
	return table(w, v)
}

// JSON writes v as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
