package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/internal/awstest"
)

// imdsAnswering points the SDK at an instance metadata service that
// answers every request with handler, as on a machine whose IMDS refuses
// or is slow (NoCredentials disables IMDS; these tests want it asked).
func imdsAnswering(t *testing.T, handler http.HandlerFunc) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
}

// withProcessStderr runs f with os.Stderr redirected, and returns what
// was written to it: the SDK's logger writes there, not to the command's
// streams.
func withProcessStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	defer func() { os.Stderr = old }()
	f()
	w.Close()
	return string(<-done)
}

// Without credentials the IMDS client warns "falling back to IMDSv1" when
// IMDS refuses a token; the SDK's logger printed it to standard error
// before the command's own line. One line, the command's.
func TestNoCredentialsIsOneStderrLine(t *testing.T) {
	awstest.NoCredentials(t)
	imdsAnswering(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "forbidden", http.StatusForbidden) })
	var r result
	sdk := withProcessStderr(t, func() { r = runLive(t, "RequestFunction", "ProcessorFunction") })
	wantExit(t, r, exitIncomplete)
	if all := sdk + r.stderr; strings.Count(all, "\n") != 1 || !strings.Contains(r.stderr, "no usable AWS credentials") {
		t.Errorf("stderr %q, want the one line saying there are no usable AWS credentials", all)
	}
}

// A deadline that passes while the SDK is still asking for credentials is
// the deadline, not a missing login.
func TestTimeoutWhileLoadingCredentials(t *testing.T) {
	awstest.NoCredentials(t)
	imdsAnswering(t, func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-time.After(5 * time.Second):
		}
		http.Error(w, "slow", http.StatusServiceUnavailable)
	})
	start := time.Now()
	r := runLive(t, "--timeout", "1ms", "RequestFunction", "ProcessorFunction")
	wantExit(t, r, exitIncomplete)
	wantOneErrorLine(t, r, "the deadline of --timeout 1ms passed before")
	if strings.Contains(r.stderr, "no usable AWS credentials") {
		t.Errorf("stderr %q blames the credentials", r.stderr)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
}

// runStdin runs the command tree offline with stdin.
func runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	d := deps{newSource: func(context.Context, awsclient.Options) (evidenceSource, error) {
		return nil, &awsclient.CredentialsError{Side: "caller", Err: errors.New("no credentials in the test")}
	}}
	io := streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut}
	code := runTree(context.Background(), newRootCmd(io, d), args, io)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// explain - reads at most 1 MiB; a longer input was cut there silently and
// then called "not an AccessDenied message". It says it is too long.
func TestExplainStdinLargerThanTheLimit(t *testing.T) {
	long := runStdin(t, strings.Repeat("x", 1<<20)+samMessage, "explain", "-")
	wantExit(t, long, exitBadInput)
	wantOneErrorLine(t, long, "the message is larger than 1 MiB; paste the AccessDenied line itself")

	// Exactly 1 MiB is read whole: the message at its end is explained.
	fits := runStdin(t, strings.Repeat("\n", 1<<20-len(samMessage))+samMessage, "explain", "-")
	wantExit(t, fits, exitIncomplete)
	if !strings.Contains(fits.stdout, "RequestRole") {
		t.Errorf("a message of exactly 1 MiB was not explained:\n%s", fits)
	}
}

// --snapshot refuses a symbolic link (writing through it would replace the
// file it points to, anywhere), and replaces an existing file with a new
// one of mode 0600, saying so, rather than keep its old mode.
func TestSnapshotWritesANewPrivateFile(t *testing.T) {
	dir := t.TempDir()
	src := func() *fakeSource { return &fakeSource{ev: fixture(t, "sam-qualified-invoke.json")} }

	target := filepath.Join(dir, "elsewhere.txt")
	if err := os.WriteFile(target, []byte("not evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := execute(t, src(), "--snapshot", link, "RequestFunction", "ProcessorFunction:live")
	if code != exitBadInput || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "symbolic link") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line refusing the symbolic link", code, out, errOut)
	}
	if b, _ := os.ReadFile(target); string(b) != "not evidence" {
		t.Errorf("the link's target was overwritten: %q", b)
	}

	existing := filepath.Join(dir, "ev.json")
	if err := os.WriteFile(existing, []byte("yesterday's evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = execute(t, src(), "--snapshot", existing, "RequestFunction", "ProcessorFunction:live")
	if code != exitDenied {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if errOut != "why-denied: replaced "+existing+"\n" {
		t.Errorf("stderr %q, want it to say the file was replaced", errOut)
	}
	fi, err := os.Stat(existing)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (evidence names the account's roles and policies)", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(existing); !bytes.Contains(b, []byte(`"version": 1`)) {
		t.Errorf("%s holds %q, want the evidence", existing, b)
	}

	fresh := filepath.Join(dir, "fresh.json")
	if code, _, errOut = execute(t, src(), "--snapshot", fresh, "RequestFunction", "ProcessorFunction:live"); code != exitDenied || errOut != "" {
		t.Errorf("new file: exit %d, stderr %q; want exit 1 and nothing on stderr", code, errOut)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want the two snapshots, the link and its target: a temporary file was left", names)
	}
}
