package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func verdictFor(t *testing.T, fixture string) *diagnose.Verdict {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "fixtures", fixture))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev, err := evidence.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	v, err := diagnose.Diagnose(ev, diagnose.Options{Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// goldenWidths are the terminal widths the golden files are rendered at:
// a narrow terminal (the layers as a list), a common one, a wide one.
var goldenWidths = []int{80, 100, 160}

// TestTableGolden renders every bundled fixture at each golden width, as
// the first screen and as the whole report (--verbose), and compares them
// with testdata/<fixture>.<width>[.verbose].golden (go test ./report
// -update rewrites them).
func TestTableGolden(t *testing.T) {
	fixtures, err := filepath.Glob("../fixtures/*.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range fixtures {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		v := verdictFor(t, name+".json")
		for _, w := range goldenWidths {
			for _, verbose := range []bool{false, true} {
				golden := fmt.Sprintf("%s.%d.golden", name, w)
				if verbose {
					golden = fmt.Sprintf("%s.%d.verbose.golden", name, w)
				}
				t.Run(golden, func(t *testing.T) {
					var buf bytes.Buffer
					if err := (Options{Width: w, Verbose: verbose}).Table(&buf, v); err != nil {
						t.Fatal(err)
					}
					checkGolden(t, filepath.Join("testdata", golden), buf.Bytes())
					for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
						if width(line) > w && !isCode(line) {
							t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, width(line), w, line)
						}
					}
				})
			}
		}
	}
}

// isCode tells the lines printed verbatim, which are not folded because a
// folded command, JSON document or YAML snippet would not paste: commands,
// JSON strings, YAML list items and scalars.
func isCode(line string) bool {
	l := strings.TrimSpace(line)
	return strings.HasPrefix(l, "$ ") || strings.HasPrefix(l, `"`) || strings.HasPrefix(l, "- arn:") ||
		yamlScalar.MatchString(l)
}

var yamlScalar = regexp.MustCompile(`^[A-Za-z]+: \S+$`)

func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test ./report -update rewrites it)\n--- got:\n%s", golden, got)
	}
}

// TestJSONContract decodes the JSON output as a script would and checks the
// fields the README promises.
func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, FormatJSON, verdictFor(t, "sam-qualified-invoke.json"), Options{}.Table); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Decision  string   `json:"decision"`
		BlockedBy []string `json:"blockedBy"`
		Request   struct {
			Caller, Action, Resource string
		} `json:"request"`
		Layers []struct {
			Layer      string `json:"layer"`
			Result     string `json:"result"`
			Blocks     bool   `json:"blocks"`
			Source     string `json:"source"`
			Statements []struct {
				Policy  string   `json:"policy"`
				Status  string   `json:"status"`
				Reasons []string `json:"reasons"`
			} `json:"statements"`
		} `json:"layers"`
		Simulator struct {
			Used bool   `json:"used"`
			Note string `json:"note"`
		} `json:"simulator"`
		Findings []struct {
			Kind, Severity, Message string
		} `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if out.Decision != string(policy.ImplicitDeny) {
		t.Errorf("decision %q", out.Decision)
	}
	if len(out.BlockedBy) != 1 || out.BlockedBy[0] != "identity" {
		t.Errorf("blockedBy %v", out.BlockedBy)
	}
	if out.Request.Resource != "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live" {
		t.Errorf("request.resource %q", out.Request.Resource)
	}
	var identity, resource bool
	for _, l := range out.Layers {
		switch l.Layer {
		case "identity":
			identity = l.Blocks && l.Source == "simulator" && len(l.Statements) > 0 && l.Statements[0].Status == "closest" && len(l.Statements[0].Reasons) > 0
		case "resource":
			resource = !l.Blocks && l.Source == "local"
		}
	}
	if !identity || !resource {
		t.Errorf("layers do not report identity (blocking, simulator, closest statement with reasons) and resource (local): %+v", out.Layers)
	}
	if !out.Simulator.Used || len(out.Findings) == 0 {
		t.Errorf("simulator %+v findings %+v", out.Simulator, out.Findings)
	}
}

func TestParseFormat(t *testing.T) {
	for _, ok := range []string{"table", "json"} {
		if _, err := ParseFormat(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "yaml") {
		t.Errorf("yaml: %v", err)
	}
}
