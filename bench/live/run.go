package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// mode is one way of running why-denied that the benchmark compares.
type mode struct {
	name     string
	flags    []string
	simulate bool
}

var (
	withSimulator = mode{name: "simulator", simulate: true}
	noSimulate    = mode{name: "--no-simulate", flags: []string{"--no-simulate"}}
)

// benchCase is one diagnosis measured: a caller, a target, and the floor of
// sequential rounds its evidence needs (see bench/README.md).
type benchCase struct {
	name           string
	caller, target string
	modes          []mode
	// floor is the fewest sequential rounds the diagnosis can take with
	// the simulator; floorNoSim without it.
	floor, floorNoSim int
}

var cases = []benchCase{
	{name: "seed case, function caller", caller: requestFunction, target: processorFunction + ":" + alias,
		modes: []mode{withSimulator, noSimulate}, floor: 3, floorNoSim: 3},
	{name: "role caller", caller: "role/" + requestRole, target: processorFunction + ":" + alias,
		modes: []mode{withSimulator}, floor: 2},
	{name: fmt.Sprintf("function whose role has %d managed policies (%d versions each) + %d inline", bigPolicies, bigVersions, bigPolicies),
		caller: bigFunction, target: processorFunction + ":" + alias, modes: []mode{withSimulator}, floor: 3},
	{name: fmt.Sprintf("user in %d groups, each with %d managed (one shared) + %d inline", bigGroups, groupManaged, groupInline),
		caller: "user/" + bigUser, target: processorFunction + ":" + alias, modes: []mode{withSimulator}, floor: 3},
}

func (c benchCase) floorOf(m mode) int {
	if m.simulate {
		return c.floor
	}
	return c.floorNoSim
}

// runner runs why-denied against the proxy.
type runner struct {
	bin      string
	endpoint string
	region   string
	caller   string
	target   string
	timeout  time.Duration
}

// measurement is one measured run.
type measurement struct {
	wall  time.Duration
	calls []call
	chain []call
}

// row is one line of the summary table.
type row struct {
	c    benchCase
	m    mode
	ms   []measurement
	runs int
}

func runCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	r := runner{}
	fs.StringVar(&r.bin, "bin", "", "the why-denied binary")
	fs.StringVar(&r.endpoint, "endpoint", "", "the proxy's URL")
	fs.StringVar(&r.region, "region", region, "--region for why-denied")
	fs.DurationVar(&r.timeout, "run-timeout", 60*time.Second, "kill a why-denied run after this long")
	runs := fs.Int("runs", 5, "measured runs per case and mode")
	delay := fs.Duration("delay", 50*time.Millisecond, "the proxy's added latency (for the report)")
	verbose := fs.Bool("v", false, "also print timelines: of each case's median run, and of runs with a longer chain")
	only := fs.String("case", "", "run only the cases whose name contains this")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if r.bin == "" || r.endpoint == "" {
		return errors.New("run: -bin and -endpoint are required")
	}
	if *runs < 1 {
		return errors.New("run: -runs must be at least 1")
	}

	fmt.Fprintf(out, "%d measured runs per case after 1 checked run (-o json, not counted); the proxy adds %s to every request\n", *runs, *delay)
	var rows []row
	for _, c := range cases {
		if !strings.Contains(c.name, *only) {
			continue
		}
		r.caller, r.target = c.caller, c.target
		for _, m := range c.modes {
			if _, err := fetchCalls(ctx, r.endpoint); err != nil { // forget earlier calls
				return err
			}
			if err := r.check(ctx, m); err != nil {
				return fmt.Errorf("%s, %s: checked run: %w", c.name, m.name, err)
			}
			var ms []measurement
			for i := range *runs {
				meas, err := r.measure(ctx, m)
				if err != nil {
					return fmt.Errorf("%s, %s: run %d: %w", c.name, m.name, i+1, err)
				}
				ms = append(ms, meas)
			}
			command := append([]string{"why-denied", "--endpoint-url", "PROXY", "--region", r.region}, m.flags...)
			fmt.Fprintf(out, "\n%s, %s: %s\n", c.name, m.name, strings.Join(append(command, c.caller, c.target), " "))
			report(out, ms, *delay, *verbose)
			rows = append(rows, row{c: c, m: m, ms: ms})
		}
	}
	summary(out, rows, *delay)
	return nil
}

// summary prints one line per case and mode: what the median run (by wall
// time) did, against the floor.
func summary(out io.Writer, rows []row, delay time.Duration) {
	fmt.Fprintf(out, "\nsummary at +%s per request (median run by wall time; depth is its longest chain of sequential calls)\n\n", delay)
	fmt.Fprintln(out, "| case | mode | calls | repeated | depth | floor | most in flight | wall (min / median) |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		walls := make([]time.Duration, len(r.ms))
		for i, m := range r.ms {
			walls[i] = m.wall
		}
		sorted := slices.Sorted(slices.Values(walls))
		mid := r.ms[slices.Index(walls, sorted[(len(sorted)-1)/2])]
		floor := r.c.floorOf(r.m)
		depth := fmt.Sprint(len(mid.chain))
		if d := len(mid.chain) - floor; d > 0 {
			depth += fmt.Sprintf(" (+%d)", d)
		}
		fmt.Fprintf(out, "| %s | %s | %d | %d | %s | %d | %d | %s / %s |\n", r.c.name, r.m.name, len(mid.calls), len(repeated(mid.calls)),
			depth, floor, peakInFlight(mid.calls), secs(sorted[0]), secs(median(sorted)))
	}
}

// peakInFlight is the most calls that were at the proxy at one moment.
func peakInFlight(calls []call) int {
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, c := range calls {
		edges = append(edges, edge{c.Start, 1}, edge{c.End, -1})
	}
	// An end before a start at the same instant: touching calls do not
	// overlap.
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta)) })
	peak, now := 0, 0
	for _, e := range edges {
		now += e.delta
		peak = max(peak, now)
	}
	return peak
}

// repeated returns the calls that asked what an earlier call of the run
// had asked (same operation, same parameters).
func repeated(calls []call) []call {
	seen := map[string]bool{}
	var again []call
	for _, c := range calls {
		k := c.name() + " " + c.Key
		if seen[k] {
			again = append(again, c)
		}
		seen[k] = true
	}
	return again
}

func secs(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// check runs why-denied once with -o json and makes sure the benchmark
// measures what it claims: the call is denied by the identity policy, and
// the simulator answered (or was skipped) as the mode says.
func (r runner) check(ctx context.Context, m mode) error {
	stdout, _, err := r.whyDenied(ctx, append(slices.Clone(m.flags), "-o", "json"))
	if err != nil {
		return err
	}
	var v struct {
		Decision  string   `json:"decision"`
		BlockedBy []string `json:"blockedBy"`
		Simulator struct {
			Used bool   `json:"used"`
			Note string `json:"note"`
		} `json:"simulator"`
	}
	if err := json.Unmarshal(stdout, &v); err != nil {
		return fmt.Errorf("output is not JSON: %w", err)
	}
	if v.Decision != "implicitDeny" || !slices.Contains(v.BlockedBy, "identity") {
		return fmt.Errorf("verdict %s blocked by %v, want implicitDeny blocked by identity: the scenario is not the one measured", v.Decision, v.BlockedBy)
	}
	if v.Simulator.Used != m.simulate {
		return fmt.Errorf("simulator used = %t, want %t (%s)", v.Simulator.Used, m.simulate, v.Simulator.Note)
	}
	calls, err := fetchCalls(ctx, r.endpoint)
	if err != nil {
		return err
	}
	return checkCalls(calls, m)
}

// measure runs why-denied once as a person would (table output) and reads
// its calls from the proxy.
func (r runner) measure(ctx context.Context, m mode) (measurement, error) {
	stdout, wall, err := r.whyDenied(ctx, m.flags)
	if err != nil {
		return measurement{}, err
	}
	if !bytes.HasPrefix(stdout, []byte("DENIED")) {
		return measurement{}, fmt.Errorf("output does not start with DENIED:\n%s", stdout)
	}
	calls, err := fetchCalls(ctx, r.endpoint)
	if err != nil {
		return measurement{}, err
	}
	if err := checkCalls(calls, m); err != nil {
		return measurement{}, err
	}
	return measurement{wall: wall, calls: calls, chain: longestChain(calls)}, nil
}

// whyDenied runs the binary with the benchmark's arguments after extra
// flags, and returns its standard output and wall time. Exit code 1 (denied)
// is success here; anything else is an error carrying standard error.
func (r runner) whyDenied(ctx context.Context, extra []string) ([]byte, time.Duration, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	args := append(slices.Clone(extra), "--endpoint-url", r.endpoint, "--region", r.region, r.caller, r.target)
	cmd := exec.CommandContext(ctx, r.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	switch {
	case parent.Err() != nil:
		return nil, wall, fmt.Errorf("interrupted: %w", parent.Err())
	case ctx.Err() != nil:
		return nil, wall, fmt.Errorf("why-denied %s did not finish within %s", strings.Join(args, " "), r.timeout)
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return stdout.Bytes(), wall, nil
	case err == nil:
		return nil, wall, fmt.Errorf("why-denied %s exited 0 (allowed), want 1 (denied)", strings.Join(args, " "))
	default:
		return nil, wall, fmt.Errorf("why-denied %s: %w\n%s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
}

// checkCalls fails on a call that did not succeed, and on a simulator call
// count that does not match the mode.
func checkCalls(calls []call, m mode) error {
	simulations := 0
	for _, c := range calls {
		// GetResourcePolicy answers 404 where there is no such policy
		// (moto does not offer the API): the tool reads on with GetPolicy's.
		// The scenario's account is in no organization: Organizations
		// answers 400 AWSOrganizationsNotInUseException, which the tool
		// records as such.
		notInOrg := c.Service == "organizations" && c.Status == 400
		if c.Status >= 300 && !(c.Operation == "GetResourcePolicy" && c.Status == 404) && !notInOrg {
			return fmt.Errorf("%s answered HTTP %d", c.name(), c.Status)
		}
		if c.Operation == "SimulatePrincipalPolicy" {
			simulations++
		}
	}
	want := 0
	if m.simulate {
		want = 1
	}
	if simulations != want {
		return fmt.Errorf("%d SimulatePrincipalPolicy calls, want %d", simulations, want)
	}
	return nil
}

// report prints wall times, calls per operation and the longest chains.
func report(out io.Writer, ms []measurement, delay time.Duration, verbose bool) {
	walls := make([]time.Duration, len(ms))
	for i, m := range ms {
		walls[i] = m.wall
	}
	sorted := slices.Sorted(slices.Values(walls))
	runs := make([]string, len(walls))
	for i, w := range walls {
		runs[i] = millis(w)
	}
	fmt.Fprintf(out, "  wall time      min %s  median %s  (runs in order: %s)\n",
		millis(sorted[0]), millis(median(sorted)), strings.Join(runs, " "))

	// Calls per operation, as a range over the runs when they differ.
	perOp := map[string][]int{}
	totals := make([]int, len(ms))
	for i, m := range ms {
		totals[i] = len(m.calls)
		for _, c := range m.calls {
			if perOp[c.name()] == nil {
				perOp[c.name()] = make([]int, len(ms))
			}
			perOp[c.name()][i]++
		}
	}
	peaks := make([]int, len(ms))
	again := 0
	for i, m := range ms {
		peaks[i] = peakInFlight(m.calls)
		again += len(repeated(m.calls))
	}
	fmt.Fprintf(out, "  AWS calls      %s per run; at most %s in flight; %d repeated over all runs\n", spread(totals), spread(peaks), again)
	for _, op := range slices.Sorted(maps.Keys(perOp)) {
		fmt.Fprintf(out, "    %-5s %s\n", spread(perOp[op]), op)
	}

	var perCall []time.Duration
	for _, m := range ms {
		for _, c := range m.calls {
			perCall = append(perCall, time.Duration(c.End-c.Start))
		}
	}
	if len(perCall) > 0 {
		slices.Sort(perCall)
		fmt.Fprintf(out, "  per call       median %s, max %s at the proxy (%s added + moto)\n",
			millis(median(perCall)), millis(perCall[len(perCall)-1]), delay)
	}

	// What the calls do not explain: process start-up, loading the
	// configuration, the evaluation and the output.
	outside := make([]time.Duration, 0, len(ms))
	for _, m := range ms {
		if len(m.calls) == 0 {
			continue
		}
		first, last := m.calls[0].Start, m.calls[0].End
		for _, c := range m.calls {
			first, last = min(first, c.Start), max(last, c.End)
		}
		outside = append(outside, m.wall-time.Duration(last-first))
	}
	if len(outside) > 0 {
		slices.Sort(outside)
		fmt.Fprintf(out, "  outside calls  median %s of a run before its first call and after its last one\n", millis(median(outside)))
	}

	mid := ms[slices.Index(walls, sorted[(len(sorted)-1)/2])]
	lengths := make([]string, len(ms))
	shortest := len(mid.chain)
	for i, m := range ms {
		lengths[i] = fmt.Sprint(len(m.chain))
		shortest = min(shortest, len(m.chain))
	}
	fmt.Fprintf(out, "  longest chain  %d calls in the median run (runs in order: %s); at least %s of a run waits on them\n",
		len(mid.chain), strings.Join(lengths, " "), millis(time.Duration(shortest)*delay))
	fmt.Fprintf(out, "    %s\n", chainString(mid.chain))

	if verbose {
		fmt.Fprintf(out, "  timeline of the median run (ms from its first call to the proxy; * marks the chain)\n")
		timeline(out, mid)
		for i, m := range ms {
			if len(m.chain) > len(mid.chain) {
				fmt.Fprintf(out, "  timeline of run %d, whose chain is longer\n", i+1)
				timeline(out, m)
			}
		}
	}
}

func timeline(out io.Writer, m measurement) {
	calls := slices.Clone(m.calls)
	slices.SortStableFunc(calls, func(a, b call) int { return cmp.Compare(a.Start, b.Start) })
	first := calls[0].Start
	for _, c := range calls {
		mark := " "
		if slices.Contains(m.chain, c) {
			mark = "*"
		}
		fmt.Fprintf(out, "    %s %7.1f %7.1f  %s\n", mark, float64(c.Start-first)/1e6, float64(c.End-first)/1e6, c.name())
	}
}

func chainString(chain []call) string {
	names := make([]string, len(chain))
	for i, c := range chain {
		names[i] = c.name()
	}
	return strings.Join(names, " -> ")
}

// spread prints "n" when every value is n, else "min-max".
func spread(values []int) string {
	lo, hi := slices.Min(values), slices.Max(values)
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
}
