package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// freeportCmd prints a port that was free a moment ago. Another process may
// take it before moto binds it; the script retries on a new port then.
func freeportCmd(_ context.Context, args []string, out io.Writer) error {
	if err := parseFlags(flag.NewFlagSet("freeport", flag.ContinueOnError), args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	_, err = fmt.Fprintln(out, l.Addr().(*net.TCPAddr).Port)
	return err
}

// waitCmd polls a URL until it answers HTTP 200, the process pid exits, or
// the timeout passes.
func waitCmd(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	url := fs.String("url", "", "URL to poll")
	pid := fs.Int("pid", 0, "give up when this process is gone")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("wait: -url is required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
		if err != nil {
			return fmt.Errorf("wait: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if *pid > 0 && syscall.Kill(*pid, 0) != nil {
			return fmt.Errorf("process %d exited before %s answered", *pid, *url)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer within %s", *url, *timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
