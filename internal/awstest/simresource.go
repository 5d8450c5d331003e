package awstest

import (
	"encoding/json"
	"net/http"
	"regexp"
)

// getResourcePolicyPath is lambda:GetResourcePolicy's REST path, the ARN
// last (path-escaped by the client, unescaped in URL.Path).
var getResourcePolicyPath = regexp.MustCompile(`^/[0-9-]+/resource-policy/([^/]+)$`)

// ResourcePolicy makes the proxy answer lambda:GetResourcePolicy for the
// resource arn (a function ARN, qualified or not, exactly as the client
// asks for it) with document, as AWS's newer API returns a function's whole
// resource-based policy: Deny statements, NotPrincipal and any condition,
// which lambda:AddPermission cannot write. Moto does not implement the
// operation; requests for other ARNs are forwarded to it as before. An
// empty document removes the answer.
func (p *SimulatorProxy) ResourcePolicy(arn, document string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resource == nil {
		p.resource = map[string]string{}
	}
	if document == "" {
		delete(p.resource, arn)
		return
	}
	p.resource[arn] = document
}

// fullResourcePolicy answers a lambda:GetResourcePolicy request the test
// chose an answer for, and reports whether it did.
func (p *SimulatorProxy) fullResourcePolicy(w http.ResponseWriter, r *http.Request) bool {
	m := getResourcePolicyPath.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodGet || m == nil {
		return false
	}
	p.mu.Lock()
	doc, ok := p.resource[m[1]]
	p.mu.Unlock()
	if !ok {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "5e1a0000-0000-4000-8000-000000000001")
	_ = json.NewEncoder(w).Encode(map[string]string{"Policy": doc, "RevisionId": "1"})
	return true
}
