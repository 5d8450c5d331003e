package awstest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/smithy-go"
)

// simEvaluate is the proxy's mode in which it evaluates each request
// instead of answering from a recording.
const simEvaluate Fixture = "evaluate"

// Evaluate makes the proxy answer every following simulator request by
// evaluating it, as AWS's simulator does: it reads the PolicySourceArn
// principal's policies from moto through the IAM API (inline and attached
// managed policies at their default version, a user's groups' policies,
// the permissions boundary), takes the request's ContextEntries and
// nothing else as the request context, adds the ResourcePolicy only for an
// IAM user caller, applies the SCPs set with SCPs, and answers in AWS's
// XML with EvalDecision, MatchedStatements, MissingContextValues and the
// boundary and organization details. Answer(SimAccessDenied) refuses
// requests again; Answer with another recording ends this mode.
func (p *SimulatorProxy) Evaluate() {
	p.Answer(simEvaluate)
}

// SCPs sets the service control policies of the simulated principal's
// organization: one list of policy documents per level of the organization
// tree, root first, account last. Every level must allow; the answer then
// carries OrganizationsDecisionDetail. nil (the default) means the account
// is in no organization, and the answer carries no such detail.
func (p *SimulatorProxy) SCPs(levels [][]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scps = levels
}

// evaluate answers one simulator request by evaluating it.
func (p *SimulatorProxy) evaluate(w http.ResponseWriter, r *http.Request, form url.Values, scps [][]string) {
	iamReq := request{service: "iam", protocol: query}
	req, err := parseSimRequest(form)
	if err != nil {
		queryError(w, iamReq, http.StatusBadRequest, "InvalidInput", "Sender", err.Error())
		return
	}
	reader := principalReader(p.backend, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token"))
	principal, err := readPrincipal(r.Context(), reader, req.source)
	if err != nil {
		simFailure(w, iamReq, err)
		return
	}
	sim, err := newSimulation(req, principal, scps)
	if err != nil {
		simFailure(w, iamReq, err)
		return
	}

	resources, named := req.resources, len(req.resources) > 0
	if !named {
		resources = []string{"*"}
	}
	answer := xmlSimResponse{
		Namespace: "https://iam.amazonaws.com/doc/2010-05-08/",
		Metadata:  xmlResponseMeta{RequestID: "5e1a0000-0000-4000-8000-000000000000"},
	}
	for _, action := range req.actions {
		var results []resourceResult
		for _, resource := range resources {
			results = append(results, sim.evaluate(action, resource))
		}
		answer.Result.EvaluationResults = append(answer.Result.EvaluationResults, answerAction(action, named, results))
	}
	body, err := xml.MarshalIndent(answer, "", "  ")
	if err != nil {
		queryError(w, iamReq, http.StatusInternalServerError, "ServiceFailure", "Receiver", "awstest: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(body)
}

// simFailure answers an error as IAM would: NoSuchEntity for a principal
// moto does not know, InvalidInput for a request the API rejects, and
// ServiceFailure, with the reason, for anything the stand-in could not do.
func simFailure(w http.ResponseWriter, req request, err error) {
	var input *simInputError
	var api smithy.APIError
	switch {
	case errors.As(err, &input):
		queryError(w, req, http.StatusBadRequest, "InvalidInput", "Sender", err.Error())
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity":
		queryError(w, req, http.StatusNotFound, "NoSuchEntity", "Sender", err.Error())
	default:
		queryError(w, req, http.StatusInternalServerError, "ServiceFailure", "Receiver", fmt.Sprintf("awstest simulator stand-in: %v", err))
	}
}
