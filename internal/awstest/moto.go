package awstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Moto's defaults, which every scenario relies on.
const (
	// Account is the account moto answers for with the fake credentials.
	Account = "123456789012"
	// Region is the region the tests use.
	Region = "us-east-1"
)

// Moto is a running moto_server.
type Moto struct {
	// URL is the server's endpoint, such as http://127.0.0.1:41234.
	URL string
}

// StartMoto starts moto_server on a free loopback port, waits until it
// answers, and stops it when the test ends. A missing moto_server fails the
// test with a message saying what to install: the end-to-end tests are part
// of the suite, and a skip would hide that they did not run.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server not found in PATH (%v): the AWS end-to-end tests need moto 5 with its server: pip install 'moto[server]'", err)
	}
	var lastErr error
	// The free port is found by binding and releasing it, so another process
	// can take it in between; a second try on a new port settles that.
	for range 3 {
		m, err := startMoto(t, bin)
		if err == nil {
			return m
		}
		lastErr = err
	}
	t.Fatalf("starting moto_server: %v", lastErr)
	return nil
}

func startMoto(t testing.TB, bin string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = serverEnv()
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		terminate(cmd)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			kill(cmd)
			<-exited
		}
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if err := waitReady(m.URL, exited, 30*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("%w; moto_server output:\n%s", err, logs.String())
	}
	t.Cleanup(stop)
	return m, nil
}

// Reset forgets every resource moto holds, in every account.
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(m.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("resetting moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resetting moto: HTTP %d", resp.StatusCode)
	}
}

// serverEnv is the test's environment without AWS settings: those belong
// to the client under test, and moto itself uses botocore, which they
// would confuse.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls moto's own API until it answers, the process exits or
// the deadline passes.
func waitReady(url string, exited <-chan struct{}, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("moto_server exited before answering on %s", url)
		case <-ctx.Done():
			return fmt.Errorf("moto_server did not answer on %s within %s", url, limit)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// syncBuffer collects the server's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
