package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/why-denied/why-denied/report"
)

// colorMode is --color: auto (color on a terminal, unless NO_COLOR is
// set), always or never.
type colorMode string

const (
	colorAuto   colorMode = "auto"
	colorAlways colorMode = "always"
	colorNever  colorMode = "never"
)

func (c *colorMode) String() string { return string(*c) }
func (c *colorMode) Type() string   { return "WHEN" }

// Set accepts auto, always or never; anything else is bad usage (exit 2).
func (c *colorMode) Set(s string) error {
	switch m := colorMode(strings.ToLower(strings.TrimSpace(s))); m {
	case colorAuto, colorAlways, colorNever:
		*c = m
		return nil
	}
	return fmt.Errorf("expected auto, always or never, got %q", s)
}

// displayOptions are the flags that say how a verdict is shown to a person.
type displayOptions struct {
	Verbose bool
	Color   colorMode
}

// addDisplayFlags adds -v/--verbose and --color.
func addDisplayFlags(cmd *cobra.Command, d *displayOptions) {
	d.Color = colorAuto
	f := cmd.Flags()
	f.BoolVarP(&d.Verbose, "verbose", "v", false, "print the whole report: every layer, every closest statement, every finding and each fix in every form (the default is one screen)")
	f.Var(&d.Color, "color", "color the verdict and the blocking layer: auto (on a terminal, unless NO_COLOR is set), always or never")
	_ = cmd.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// view is how the table output is shown on out: as wide as the terminal
// (80 columns when out is not one), in color on a terminal when --color
// and NO_COLOR allow (https://no-color.org: a NO_COLOR that is set and not
// empty turns color off; an explicit --color always still turns it on).
func (d displayOptions) view(out io.Writer) report.Options {
	o := report.Options{Verbose: d.Verbose}
	fd, tty := terminal(out)
	if tty {
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			o.Width = w
		}
	}
	switch d.Color {
	case colorAlways:
		o.Color = true
	case colorAuto:
		o.Color = tty && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	}
	return o
}

// terminal reports whether out is a terminal, and its file descriptor.
func terminal(out io.Writer) (int, bool) {
	f, ok := out.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}
