package awstest

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Fixture names a recorded iam:SimulatePrincipalPolicy response under
// testdata/simulate, in AWS's XML format. {{ACTION}}, {{RESOURCE}} and
// {{SOURCE}} are replaced by the request's first action, first resource and
// PolicySourceArn, so one recording serves every scenario.
type Fixture string

// The recorded responses.
const (
	// SimAllowed: the role's inline policy RequestFunctionRolePolicy0 allows.
	SimAllowed Fixture = "allowed"
	// SimImplicitDeny: nothing matched; aws:SourceIp was missing.
	SimImplicitDeny Fixture = "implicitDeny"
	// SimExplicitDeny: the managed policy DenyProductionInvoke denies, and
	// the permissions boundary does not allow.
	SimExplicitDeny Fixture = "explicitDeny"
	// SimAccessDenied: HTTP 403 AccessDenied, as when the credentials lack
	// iam:SimulatePrincipalPolicy.
	SimAccessDenied Fixture = "accessDenied"
)

//go:embed testdata/simulate/*.xml
var fixtures embed.FS

// SimulatorProxy is a reverse proxy in front of moto that answers
// iam:SimulatePrincipalPolicy (not implemented by moto) from a recorded
// response, and forwards every other request unchanged.
type SimulatorProxy struct {
	// URL is the endpoint to give the client under test.
	URL string

	backend string

	mu        sync.Mutex
	answer    Fixture
	scps      [][]string
	resource  map[string]string // lambda:GetResourcePolicy answers, by ARN
	simulated []url.Values
	forwarded []string
}

// StartSimulatorProxy starts the proxy in front of backend (moto's URL) and
// stops it when the test ends. Until Answer is called, simulator requests
// get an HTTP 501 NotImplemented error, so a test cannot pass on an answer
// it did not choose.
func StartSimulatorProxy(t testing.TB, backend string) *SimulatorProxy {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatalf("simulator proxy: backend URL %q: %v", backend, err)
	}
	p := &SimulatorProxy{backend: backend}
	forward := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // keep the Host the request was signed for
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, ok := iamQuery(r, body); ok && form.Get("Action") == "SimulatePrincipalPolicy" {
			p.simulate(w, r, form)
			return
		}
		if p.fullResourcePolicy(w, r) {
			return
		}
		p.mu.Lock()
		p.forwarded = append(p.forwarded, r.Method+" "+r.URL.RequestURI())
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Answer chooses the recorded response to every following simulator
// request; SimAccessDenied refuses them. It ends Evaluate's mode.
func (p *SimulatorProxy) Answer(f Fixture) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = f
}

// Simulations returns the form values of every simulator request received.
func (p *SimulatorProxy) Simulations() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]url.Values, len(p.simulated))
	copy(out, p.simulated)
	return out
}

// Forwarded returns "METHOD /path?query" for every request passed to moto,
// in arrival order. Lambda's REST calls show their qualifier here.
func (p *SimulatorProxy) Forwarded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.forwarded...)
}

func (p *SimulatorProxy) simulate(w http.ResponseWriter, r *http.Request, form url.Values) {
	p.mu.Lock()
	p.simulated = append(p.simulated, form)
	answer := p.answer
	scps := p.scps
	p.mu.Unlock()

	if answer == simEvaluate {
		p.evaluate(w, r, form, scps)
		return
	}

	w.Header().Set("Content-Type", "text/xml")
	if answer == "" {
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type>`+
			`<Code>NotImplemented</Code><Message>the test chose no simulator answer</Message></Error><RequestId>0</RequestId></ErrorResponse>`)
		return
	}
	raw, err := fixtures.ReadFile("testdata/simulate/" + string(answer) + ".xml")
	if err != nil {
		http.Error(w, "unknown fixture "+string(answer), http.StatusInternalServerError)
		return
	}
	text := strings.NewReplacer(
		"{{ACTION}}", html.EscapeString(form.Get("ActionNames.member.1")),
		"{{RESOURCE}}", html.EscapeString(form.Get("ResourceArns.member.1")),
		"{{SOURCE}}", html.EscapeString(form.Get("PolicySourceArn")),
	).Replace(string(raw))
	if answer == SimAccessDenied {
		w.WriteHeader(http.StatusForbidden)
	}
	fmt.Fprint(w, text)
}

// iamQuery parses an AWS query-protocol request (IAM, STS): a form POST.
func iamQuery(r *http.Request, body []byte) (url.Values, bool) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	return form, err == nil
}
