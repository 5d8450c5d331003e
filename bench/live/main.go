// Command live is the helper behind bench/live.sh: it builds the SAM
// scenario in moto_server through the AWS API, runs the latency-adding
// proxy in front of moto, and runs why-denied against the proxy, reporting
// wall time, AWS calls and the longest chain of sequential calls.
//
// Each step is a subcommand so that the script owns the processes (moto
// and the proxy) and can stop them on exit:
//
//	live freeport
//	live wait -url URL -pid PID -timeout 30s
//	live scenario -endpoint MOTO_URL
//	live proxy -backend MOTO_URL -delay 50ms -url-file FILE
//	live run -bin WHY_DENIED -endpoint PROXY_URL -runs 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(1)
	}
}

type command struct {
	usage string
	run   func(ctx context.Context, args []string, out io.Writer) error
}

var commands = map[string]command{
	"freeport": {"print a free TCP port on 127.0.0.1", freeportCmd},
	"wait":     {"wait until a URL answers HTTP 200", waitCmd},
	"scenario": {"build the SAM scenario in moto", scenarioCmd},
	"proxy":    {"serve the latency-adding proxy in front of moto", proxyCmd},
	"run":      {"run why-denied against the proxy and report", runCmd},
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError()
	}
	c, ok := commands[args[0]]
	if !ok {
		return usageError()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return c.run(ctx, args[1:], out)
}

func usageError() error {
	msg := "usage: live COMMAND [flags]; commands:"
	for _, name := range []string{"freeport", "wait", "scenario", "proxy", "run"} {
		msg += fmt.Sprintf("\n  %-9s %s", name, commands[name].usage)
	}
	return errors.New(msg)
}

// parseFlags parses a subcommand's flags, refusing positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}
