package awstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultKind is a way for AWS, or the network in between, to fail a request.
type FaultKind string

// The faults a FaultProxy can inject. Error answers use the protocol of the
// operation's service: the query protocol's XML ErrorResponse for IAM and
// STS, JSON with an X-Amzn-Errortype header for Lambda.
const (
	// Throttle is the service's own throttling error: IAM and STS answer
	// HTTP 400 with code Throttling; Lambda HTTP 429 with
	// TooManyRequestsException.
	Throttle FaultKind = "throttle"
	// TooManyRequests is a bare HTTP 429 with a plain-text body and no AWS
	// error code, as a proxy or load balancer in front of AWS sends it.
	TooManyRequests FaultKind = "http429"
	// InternalError is HTTP 500 with the service's internal error code
	// (IAM and STS ServiceFailure, Lambda ServiceException).
	InternalError FaultKind = "http500"
	// Unavailable is HTTP 503 with code ServiceUnavailable.
	Unavailable FaultKind = "http503"
	// ConnectionReset reads the request, then resets the TCP connection
	// without answering.
	ConnectionReset FaultKind = "reset"
	// TruncatedBody forwards the request, then sends the backend's status
	// and headers, with the full body's Content-Length, and only the first
	// half of the body before closing the connection.
	TruncatedBody FaultKind = "truncated"
	// Slow holds the request for Fault.Delay (until the client gives up,
	// when that comes first) before forwarding it.
	Slow FaultKind = "slow"
	// AccessDenied refuses the request for lack of permission: HTTP 403,
	// code AccessDenied for IAM and STS (type Sender),
	// AccessDeniedException for Lambda (type User).
	AccessDenied FaultKind = "accessDenied"
)

// defaultSlowDelay is how long a Slow fault with no Delay holds a request:
// longer than any client under test waits.
const defaultSlowDelay = time.Minute

// Fault is what to do to the requests of one operation.
type Fault struct {
	Kind FaultKind
	// Times is how many requests get the fault, counted from the first one
	// after Inject; the following requests are forwarded unharmed. Zero
	// means every request.
	Times int
	// Delay is how long a Slow fault holds each request (default: a
	// minute, which no client under test waits for).
	Delay time.Duration
}

// FaultProxy is a reverse proxy that injects faults into chosen AWS
// operations and forwards every other request, unchanged, to a backend: a
// SimulatorProxy in front of moto, or moto itself. Operations are named as
// IAM actions: "iam:GetRolePolicy" and "sts:GetCallerIdentity" (the query
// protocol's Action, the service taken from the request's SigV4 credential
// scope), "lambda:GetPolicy" (from the REST method and path, see
// lambdaRoutes).
type FaultProxy struct {
	// URL is the endpoint to give the client under test.
	URL string

	forward *httputil.ReverseProxy
	closing chan struct{}

	mu       sync.Mutex
	faults   map[string]*faultState
	requests map[string]int
}

type faultState struct {
	Fault
	injected int
}

// StartFaultProxy starts a fault proxy in front of backend and stops it
// when the test ends. It injects nothing until Inject is called.
func StartFaultProxy(t testing.TB, backend string) *FaultProxy {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatalf("fault proxy: backend URL %q: %v", backend, err)
	}
	p := &FaultProxy{
		closing:  make(chan struct{}),
		faults:   map[string]*faultState{},
		requests: map[string]int{},
		forward: &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // keep the Host the request was signed for
		}},
	}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	// Release held requests first: Close waits for every handler.
	t.Cleanup(func() {
		close(p.closing)
		srv.Close()
	})
	p.URL = srv.URL
	return p
}

// Inject makes op's requests fail with f from now on, replacing any fault
// injected for op before.
func (p *FaultProxy) Inject(op string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = &faultState{Fault: f}
}

// Clear removes every fault.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.faults)
}

// Requests returns how many requests of op the proxy received, faulted or
// not: with a fault on the first N, a count above N shows the client tried
// again.
func (p *FaultProxy) Requests(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[op]
}

// Injected returns how many of op's requests got its fault.
func (p *FaultProxy) Injected(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.faults[op]; f != nil {
		return f.injected
	}
	return 0
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	req := identify(r, body)
	fault, ok := p.take(req.op)
	if !ok {
		p.forward.ServeHTTP(w, r)
		return
	}
	switch fault.Kind {
	case Throttle:
		if req.protocol == awsJSON {
			awsJSONError(w, http.StatusBadRequest, "TooManyRequestsException", "Rate exceeded")
			return
		}
		if req.protocol == restJSON {
			jsonError(w, http.StatusTooManyRequests, "TooManyRequestsException", "User", "Rate exceeded")
		} else {
			queryError(w, req, http.StatusBadRequest, "Throttling", "Sender", "Rate exceeded")
		}
	case TooManyRequests:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintln(w, "Too Many Requests")
	case InternalError:
		if req.protocol == restJSON {
			jsonError(w, http.StatusInternalServerError, "ServiceException", "Service", "internal error injected by the test")
		} else {
			queryError(w, req, http.StatusInternalServerError, "ServiceFailure", "Receiver", "internal error injected by the test")
		}
	case Unavailable:
		if req.protocol == restJSON {
			jsonError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service", "service unavailable")
		} else {
			queryError(w, req, http.StatusServiceUnavailable, "ServiceUnavailable", "Receiver", "service unavailable")
		}
	case AccessDenied:
		msg := "User: arn:aws:iam::" + Account + ":user/why-denied-reader is not authorized to perform: " + req.op +
			" because no identity-based policy allows the " + req.op + " action"
		if req.protocol == awsJSON {
			// What Organizations answers a member account that is not a
			// delegated administrator.
			awsJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
			return
		}
		if req.protocol == restJSON {
			jsonError(w, http.StatusForbidden, "AccessDeniedException", "User", msg)
		} else {
			queryError(w, req, http.StatusForbidden, "AccessDenied", "Sender", msg)
		}
	case ConnectionReset:
		reset(w)
	case TruncatedBody:
		p.truncate(w, r)
	case Slow:
		delay := fault.Delay
		if delay <= 0 {
			delay = defaultSlowDelay
		}
		select {
		case <-time.After(delay):
			p.forward.ServeHTTP(w, r)
		case <-r.Context().Done(): // the client gave up
		case <-p.closing:
		}
	default:
		http.Error(w, "fault proxy: unknown fault kind "+string(fault.Kind), http.StatusInternalServerError)
	}
}

// take counts a request of op and reports the fault it gets, if any.
func (p *FaultProxy) take(op string) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[op]++
	f := p.faults[op]
	if f == nil || (f.Times > 0 && f.injected >= f.Times) {
		return Fault{}, false
	}
	f.injected++
	return f.Fault, true
}

// reset closes the connection with a TCP RST (SO_LINGER 0), so the client
// reads "connection reset by peer" rather than a clean end of stream.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "fault proxy: cannot hijack: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}

// truncate forwards the request and sends the answer with its real
// Content-Length but only half its body, then closes the connection.
func (p *FaultProxy) truncate(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	p.forward.ServeHTTP(rec, r)
	resp := rec.Result()
	full, _ := io.ReadAll(resp.Body)

	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "fault proxy: cannot hijack: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	resp.Header.Del("Transfer-Encoding")
	resp.Header.Set("Content-Length", strconv.Itoa(len(full)))
	resp.Header.Set("Connection", "close")
	writeHead(buf, resp.StatusCode, resp.Header)
	buf.Write(full[:len(full)/2])
	_ = buf.Flush()
}

func writeHead(buf *bufio.ReadWriter, status int, h http.Header) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = h.Write(buf)
	fmt.Fprint(buf, "\r\n")
}

// protocol is how a service encodes its requests and errors.
type protocol int

const (
	query    protocol = iota // IAM, STS: form POST, XML answers
	restJSON                 // Lambda: REST paths, JSON answers
	awsJSON                  // Organizations: X-Amz-Target, JSON answers
)

// request is what the proxy knows of one request.
type request struct {
	op       string // "iam:GetRole", "lambda:GetPolicy", or "?" + method + path
	service  string // "iam", "sts", "lambda", from the credential scope
	protocol protocol
}

// lambdaRoutes name Lambda's REST operations by method and path: the read
// operations why-denied sends, and a few others a test may want to fail.
var lambdaRoutes = []struct {
	method string
	path   *regexp.Regexp
	op     string
}{
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/configuration$`), "GetFunctionConfiguration"},
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/policy$`), "GetPolicy"},
	{http.MethodGet, regexp.MustCompile(`^/[0-9-]+/resource-policy/[^/]+$`), "GetResourcePolicy"},
	{http.MethodGet, regexp.MustCompile(`^/2021-10-31/functions/[^/]+/url$`), "GetFunctionUrlConfig"},
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/aliases/[^/]+$`), "GetAlias"},
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/aliases$`), "ListAliases"},
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+/versions$`), "ListVersionsByFunction"},
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/[^/]+$`), "GetFunction"},
	{http.MethodGet, regexp.MustCompile(`^/2015-03-31/functions/?$`), "ListFunctions"},
}

// credentialScope finds the service in a SigV4 Authorization header:
// Credential=AKID/DATE/REGION/SERVICE/aws4_request.
var credentialScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// identify names the operation of a request.
func identify(r *http.Request, body []byte) request {
	var req request
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		req.service = m[1]
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		// AWSOrganizationsV20161128.ListParents
		if i := strings.LastIndexByte(target, '.'); i >= 0 {
			req.protocol = awsJSON
			req.op = req.service + ":" + target[i+1:]
			return req
		}
	}
	if form, ok := iamQuery(r, body); ok && form.Get("Action") != "" {
		if req.service == "" {
			req.service = "iam"
		}
		req.op = req.service + ":" + form.Get("Action")
		return req
	}
	req.protocol = restJSON
	if req.service == "" {
		req.service = "lambda"
	}
	for _, route := range lambdaRoutes {
		if r.Method == route.method && route.path.MatchString(r.URL.Path) {
			req.op = req.service + ":" + route.op
			return req
		}
	}
	req.op = "?" + r.Method + " " + r.URL.Path
	return req
}

// queryError answers in the query protocol's XML, as IAM and STS do.
func queryError(w http.ResponseWriter, req request, status int, code, typ, msg string) {
	ns := "https://iam.amazonaws.com/doc/2010-05-08/"
	if req.service == "sts" {
		ns = "https://sts.amazonaws.com/doc/2011-06-15/"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>`+
		`<RequestId>fa017000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`,
		ns, typ, code, html.EscapeString(msg))
}

// awsJSONError answers as the JSON 1.1 protocol does (Organizations): the
// code in the body's __type.
func awsJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "fa017000-0000-4000-8000-000000000000")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// jsonError answers as Lambda does: the code in X-Amzn-Errortype, the
// message in a JSON body.
func jsonError(w http.ResponseWriter, status int, code, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("X-Amzn-Requestid", "fa017000-0000-4000-8000-000000000000")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": typ, "Message": msg})
}
