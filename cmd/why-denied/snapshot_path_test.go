package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/awsclient"
)

// A --snapshot path that cannot be written is bad input found before any
// AWS read, not after the whole diagnosis, whose verdict would be lost.
func TestSnapshotPathIsCheckedBeforeReadingAWS(t *testing.T) {
	dir := t.TempDir()
	for name, path := range map[string]string{
		"missing folder": filepath.Join(dir, "no-such-folder", "ev.json"),
		"a folder":       dir,
	} {
		t.Run(name, func(t *testing.T) {
			src := &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")}
			code, out, errOut := execute(t, src, "--snapshot", path, "RequestFunction", "ProcessorFunction:live")
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitBadInput, errOut)
			}
			if src.got.Caller != "" {
				t.Errorf("AWS was read before the --snapshot path was checked: %+v", src.got)
			}
			if out != "" || !strings.Contains(errOut, path) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stdout %q stderr %q, want one error line naming %s", out, errOut, path)
			}
		})
	}
}

// The check leaves no trace: a file it created is removed when the
// diagnosis then fails, and an existing file keeps its content.
func TestSnapshotPathCheckLeavesFilesAlone(t *testing.T) {
	fail := &fakeSource{fetchErr: &awsclient.CredentialsError{Side: "caller", Err: errors.New("no EC2 IMDS role found")}}
	dir := t.TempDir()

	fresh := filepath.Join(dir, "fresh.json")
	if code, _, errOut := execute(t, fail, "--snapshot", fresh, "RequestFunction", "ProcessorFunction"); code != exitIncomplete {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind after a failed diagnosis (stat: %v)", fresh, err)
	}

	existing := filepath.Join(dir, "existing.json")
	if err := os.WriteFile(existing, []byte("yesterday's evidence"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := execute(t, fail, "--snapshot", existing, "RequestFunction", "ProcessorFunction"); code != exitIncomplete {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if b, err := os.ReadFile(existing); err != nil || string(b) != "yesterday's evidence" {
		t.Errorf("%s = %q, %v; want it untouched by a failed diagnosis", existing, b, err)
	}
}
