package policy

import (
	"encoding/json"
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
		})
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
