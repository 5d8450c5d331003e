package diagnose

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/evidence"
)

// FuzzReadEvidence feeds arbitrary bytes to the evidence reader and
// diagnoses whatever it accepts: errors are one line, nothing panics.
// Seeds: every bundled fixture and testdata/fuzz/FuzzReadEvidence.
func FuzzReadEvidence(f *testing.F) {
	files, _ := filepath.Glob("../fixtures/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"version": 1}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`{"version": 1, "request": {"caller": "s3.amazonaws.com", "action": "lambda:InvokeFunction", "resource": "arn:aws:lambda:us-east-1:111111111111:function:f"}, "caller": {"identityPolicies": [], "permissionsBoundary": null, "sessionPolicies": []}, "target": {"arn": "arn:aws:lambda:us-east-1:111111111111:function:f", "account": "111111111111", "resourcePolicy": null}, "organization": null, "simulation": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := evidence.Read(bytes.NewReader(data))
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		v, err := Diagnose(ev, testOptions)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		if v.Decision == "" {
			t.Fatal("empty decision")
		}
	})
}
