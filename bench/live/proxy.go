package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// callsPath is the proxy's own endpoint: GET returns the calls recorded
// since the previous GET, as JSON, once none is in flight.
const callsPath = "/_bench/calls"

// call is one request the proxy served, timed from its arrival at the proxy
// (before the added delay) to the end of its response, in nanoseconds since
// the proxy started (monotonic clock).
type call struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Key identifies the request's parameters (the form without Action and
	// Version, or the method and URI of a REST call): two calls with the
	// same operation and key asked the same question twice.
	Key    string `json:"key"`
	Start  int64  `json:"start"`
	End    int64  `json:"end"`
	Status int    `json:"status"`
}

func (c call) name() string { return c.Service + "." + c.Operation }

// simulateResponse answers iam:SimulatePrincipalPolicy, which moto does
// not implement, in AWS's XML format. The decision is fixed (implicitDeny:
// nothing allows the qualified ARN, the boundary would allow it), which is
// AWS's answer for the scenario the script builds.
//
//go:embed simulate.xml
var simulateResponse string

// proxy forwards to moto after a fixed delay and records every call.
type proxy struct {
	delay   time.Duration
	base    time.Time
	forward *httputil.ReverseProxy

	inFlight atomic.Int64
	requests atomic.Int64
	mu       sync.Mutex
	calls    []call
}

func proxyCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	backend := fs.String("backend", "", "moto_server URL")
	delay := fs.Duration("delay", 50*time.Millisecond, "latency added to every request")
	urlFile := fs.String("url-file", "", "write the proxy's URL to this file once it listens")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	target, err := url.Parse(*backend)
	if err != nil || target.Host == "" {
		return fmt.Errorf("proxy: -backend %q is not a URL", *backend)
	}
	p := newProxy(target, *delay)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	self := "http://" + l.Addr().String()
	if *urlFile != "" {
		// Written under another name and renamed, so that the script never
		// reads a half-written URL.
		if err := os.WriteFile(*urlFile+".tmp", []byte(self+"\n"), 0o600); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		if err := os.Rename(*urlFile+".tmp", *urlFile); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	fmt.Fprintf(out, "proxy: %s -> %s, +%s per request\n", self, target, *delay)

	select {
	case err := <-served:
		return fmt.Errorf("proxy: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("proxy: stopping: %w", err)
	}
	return nil
}

func newProxy(target *url.URL, delay time.Duration) *proxy {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 128 // more than the client sends at once
	return &proxy{
		delay: delay,
		base:  time.Now(),
		forward: &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				r.Out.Host = r.In.Host // keep the Host the request was signed for
			},
			Transport: transport,
		},
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Since(p.base)
	if r.URL.Path == callsPath {
		p.serveCalls(w, r)
		return
	}
	p.inFlight.Add(1)
	defer p.inFlight.Add(-1)

	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := classify(r, body)

	select {
	case <-time.After(p.delay):
	case <-r.Context().Done():
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if c.Service == "iam" && c.Operation == "SimulatePrincipalPolicy" {
		p.simulate(sw, body)
	} else {
		p.forward.ServeHTTP(sw, r)
	}
	c.Start, c.End, c.Status = start.Nanoseconds(), time.Since(p.base).Nanoseconds(), sw.status

	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
}

// serveCalls hands over the calls recorded so far and forgets them. It
// waits (briefly) for calls in flight, so that a client that just exited
// has all of its calls in the answer.
func (p *proxy) serveCalls(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.inFlight.Load() > 0 {
		if time.Now().After(deadline) {
			http.Error(w, "calls still in flight after 5s", http.StatusServiceUnavailable)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	calls := p.calls
	p.calls = nil
	p.mu.Unlock()
	if calls == nil {
		calls = []call{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(calls)
}

func (p *proxy) simulate(w http.ResponseWriter, body []byte) {
	form, _ := url.ParseQuery(string(body))
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", p.requests.Add(1))
	text := strings.NewReplacer(
		"{{ACTION}}", html.EscapeString(form.Get("ActionNames.member.1")),
		"{{RESOURCE}}", html.EscapeString(form.Get("ResourceArns.member.1")),
		"{{REQUEST_ID}}", id,
	).Replace(simulateResponse)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	_, _ = io.WriteString(w, text)
}

// statusWriter remembers the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets the reverse proxy flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

var (
	// credentialScope is the service in a SigV4 Authorization header:
	// Credential=KEY/DATE/REGION/SERVICE/aws4_request.
	credentialScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)
	// lambdaOperations names Lambda's REST operations by method and path.
	lambdaOperations = []struct {
		method string
		path   *regexp.Regexp
		name   string
	}{
		{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/configuration/?$`), "GetFunctionConfiguration"},
		{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/policy/?$`), "GetPolicy"},
		{http.MethodGet, regexp.MustCompile(`^/2021-10-31/functions/[^/]+/url/?$`), "GetFunctionUrlConfig"},
		{http.MethodGet, regexp.MustCompile(`^/[0-9-]+/resource-policy/[^/]+/?$`), "GetResourcePolicy"},
		{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/?$`), "GetFunction"},
	}
)

// classify names a request's service (from its signature) and operation
// (the Action of a query-protocol request, IAM and STS; the target of a
// JSON-protocol request, Organizations; the method and path of a Lambda
// REST request).
func classify(r *http.Request, body []byte) call {
	c := call{Service: "unknown"}
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.Service = m[1]
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		// The JSON protocol (Organizations): the operation in the target
		// header, the parameters in the body.
		c.Operation = target[strings.LastIndexByte(target, '.')+1:]
		c.Key = string(body)
		return c
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			c.Operation = form.Get("Action")
			form.Del("Action")
			form.Del("Version")
			c.Key = form.Encode() // sorted by key
			return c
		}
	}
	path := r.URL.EscapedPath()
	c.Key = r.Method + " " + r.URL.RequestURI()
	for _, op := range lambdaOperations {
		if r.Method == op.method && op.path.MatchString(path) {
			c.Operation = op.name
			return c
		}
	}
	c.Operation = r.Method + " " + path
	return c
}

// fetchCalls asks the proxy at base for the calls recorded since the last
// fetch.
func fetchCalls(ctx context.Context, base string) ([]call, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+callsPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the proxy's calls: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("reading the proxy's calls: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	var calls []call
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		return nil, fmt.Errorf("reading the proxy's calls: %w", err)
	}
	return calls, nil
}
