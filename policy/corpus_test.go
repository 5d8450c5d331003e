package policy

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCorpus runs every case under testdata/corpus: each file holds a
// request, the policies of every layer, the expected decision and blocking
// layers, and the AWS documentation passage the expectation rests on.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no corpus cases found under testdata/corpus")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			c, err := loadCase(f)
			if err != nil {
				t.Fatal(err)
			}
			if c.Expect == nil {
				t.Fatal("case has no expect")
			}
			if c.Doc == "" {
				t.Error("case has no doc passage")
			}
			res, err := c.evaluate()
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(res.BlockedBy)
			want := slices.Clone(c.Expect.BlockedBy)
			if want == nil {
				want = []Layer{}
			}
			slices.Sort(got)
			slices.Sort(want)
			if res.Decision != c.Expect.Decision || !slices.Equal(got, want) {
				trace, _ := json.MarshalIndent(res, "", "  ")
				t.Fatalf("%s\ngot  %s blockedBy %v\nwant %s blockedBy %v\ntrace: %s", c.Description, res.Decision, got, c.Expect.Decision, want, trace)
			}
			for _, tr := range c.Expect.Trace {
				checkTrace(t, res, tr)
			}
			checkUndecidable(t, res, c.Expect.Undecidable)
			if c.Expect.AssumingMatch != nil {
				in, err := c.Input()
				if err != nil {
					t.Fatal(err)
				}
				in.AssumeUndecidableMatch = true
				alt := Evaluate(in)
				got, want := slices.Clone(alt.BlockedBy), slices.Clone(c.Expect.AssumingMatch.BlockedBy)
				if want == nil {
					want = []Layer{}
				}
				slices.Sort(got)
				slices.Sort(want)
				if alt.Decision != c.Expect.AssumingMatch.Decision || !slices.Equal(got, want) {
					t.Fatalf("assuming undecidable statements match: got %s blockedBy %v, want %s blockedBy %v", alt.Decision, got, c.Expect.AssumingMatch.Decision, want)
				}
			}
		})
	}
}

// checkUndecidable compares the statements the engine could not decide with
// the expected ones.
func checkUndecidable(t *testing.T, res *Result, want []CaseTrace) {
	t.Helper()
	key := func(l Layer, policy, statement int) string { return fmt.Sprintf("%s/%d/%d", l, policy, statement) }
	var got, exp []string
	for _, st := range res.UndecidableStatements() {
		idx := st.PolicyIndex
		if st.Layer == LayerSCP || st.Layer == LayerRCP {
			idx = st.Level
		}
		got = append(got, key(st.Layer, idx, st.Statement))
	}
	for _, w := range want {
		exp = append(exp, key(w.Layer, w.Policy, w.Statement))
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Fatalf("undecidable statements %v, want %v (problems %q)", got, exp, res.Problems)
	}
}

func checkTrace(t *testing.T, res *Result, want CaseTrace) {
	t.Helper()
	lr := res.Layer(want.Layer)
	if lr == nil {
		t.Fatalf("no layer %s in result", want.Layer)
	}
	for _, st := range lr.Statements {
		idx := st.PolicyIndex
		if want.Layer == LayerSCP || want.Layer == LayerRCP {
			idx = st.Level
		}
		if idx != want.Policy || st.Statement != want.Statement {
			continue
		}
		if st.Matched != want.Matched {
			t.Fatalf("%s policy %d statement %d: matched=%v, want %v (failures %+v)", want.Layer, want.Policy, want.Statement, st.Matched, want.Matched, st.Failures)
		}
		if want.Element != "" {
			f := st.FirstFailure()
			if f == nil || f.Element != want.Element {
				t.Fatalf("%s policy %d statement %d: first failing element %+v, want %s", want.Layer, want.Policy, want.Statement, f, want.Element)
			}
			if want.Key != "" && (f.Condition == nil || !strings.EqualFold(f.Condition.Key, want.Key)) {
				t.Fatalf("%s policy %d statement %d: failing condition %+v, want key %s", want.Layer, want.Policy, want.Statement, f.Condition, want.Key)
			}
		}
		return
	}
	t.Fatalf("no statement %d of policy %d in layer %s", want.Statement, want.Policy, want.Layer)
}
