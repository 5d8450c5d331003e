package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// The README's explain section names every flag explain takes, and names a
// flag of the main command that explain does not take only to say that it
// does not apply.
func TestReadmeExplainSectionNamesItsFlags(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "### Explaining a pasted AccessDenied message")
	if start < 0 {
		t.Fatal("README has no explain section")
	}
	section := readme[start:]
	if end := strings.Index(section[3:], "\n#"); end >= 0 {
		section = section[:end+3]
	}
	// The paragraphs only: the examples show a flag or two, not the list.
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(section, "")

	explain := newExplainCmd(streams{}, deps{}, nil)
	explain.Flags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(prose, "`--"+f.Name+"`") && !(f.Shorthand != "" && strings.Contains(prose, "`-"+f.Shorthand+"`")) {
			t.Errorf("the README's explain section does not name --%s", f.Name)
		}
	})
	diagnoseCmd := newDiagnoseCmd(streams{}, deps{}, nil)
	sentences := regexp.MustCompile(`[^.]*\.`).FindAllString(strings.ReplaceAll(prose, "\n", " "), -1)
	diagnoseCmd.Flags().VisitAll(func(f *pflag.Flag) {
		if explain.Flags().Lookup(f.Name) != nil {
			return
		}
		for _, s := range sentences {
			if strings.Contains(s, "`--"+f.Name+"`") && !strings.Contains(s, "not apply") {
				t.Errorf("the README's explain section names --%s, which explain does not take, in %q", f.Name, strings.TrimSpace(s))
			}
		}
	})
	if strings.Contains(prose, "the same flags as the main command") {
		t.Error(`the README says explain takes "the same flags as the main command"; it does not`)
	}
}
