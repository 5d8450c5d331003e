package awstest

import (
	"encoding/xml"

	"github.com/why-denied/why-denied/policy"
)

// The shapes of a SimulatePrincipalPolicy answer in AWS's XML, as in the
// recordings under testdata/simulate and the IAM API Reference
// (EvaluationResult, ResourceSpecificResult, Statement,
// OrganizationsDecisionDetail, PermissionsBoundaryDecisionDetail).
type (
	xmlSimResponse struct {
		XMLName   xml.Name        `xml:"SimulatePrincipalPolicyResponse"`
		Namespace string          `xml:"xmlns,attr"`
		Result    xmlSimResult    `xml:"SimulatePrincipalPolicyResult"`
		Metadata  xmlResponseMeta `xml:"ResponseMetadata"`
	}
	xmlSimResult struct {
		IsTruncated       bool            `xml:"IsTruncated"`
		EvaluationResults []xmlEvalResult `xml:"EvaluationResults>member"`
	}
	xmlResponseMeta struct {
		RequestID string `xml:"RequestId"`
	}
	xmlEvalResult struct {
		// EvalDecisionDetails is present and empty for a same-account
		// simulation that names resources, absent for "*".
		EvalDecisionDetails               *struct{}           `xml:"EvalDecisionDetails"`
		EvalResourceName                  string              `xml:"EvalResourceName"`
		EvalDecision                      string              `xml:"EvalDecision"`
		MatchedStatements                 xmlStatements       `xml:"MatchedStatements"`
		MissingContextValues              xmlStrings          `xml:"MissingContextValues"`
		OrganizationsDecisionDetail       *xmlOrgDetail       `xml:"OrganizationsDecisionDetail"`
		PermissionsBoundaryDecisionDetail *xmlBoundaryDetail  `xml:"PermissionsBoundaryDecisionDetail"`
		EvalActionName                    string              `xml:"EvalActionName"`
		ResourceSpecificResults           *xmlResourceResults `xml:"ResourceSpecificResults"`
	}
	xmlResourceResults struct {
		Members []xmlResourceResult `xml:"member"`
	}
	xmlResourceResult struct {
		EvalResourceName                  string             `xml:"EvalResourceName"`
		EvalResourceDecision              string             `xml:"EvalResourceDecision"`
		MatchedStatements                 xmlStatements      `xml:"MatchedStatements"`
		MissingContextValues              xmlStrings         `xml:"MissingContextValues"`
		EvalDecisionDetails               *struct{}          `xml:"EvalDecisionDetails"`
		PermissionsBoundaryDecisionDetail *xmlBoundaryDetail `xml:"PermissionsBoundaryDecisionDetail"`
	}
	xmlStatements struct {
		Members []xmlStatement `xml:"member"`
	}
	xmlStatement struct {
		SourcePolicyID   string `xml:"SourcePolicyId"`
		SourcePolicyType string `xml:"SourcePolicyType"`
	}
	xmlStrings struct {
		Members []string `xml:"member"`
	}
	xmlOrgDetail struct {
		AllowedByOrganizations bool `xml:"AllowedByOrganizations"`
	}
	xmlBoundaryDetail struct {
		AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
	}
)

// answerAction builds the one EvaluationResult of an action. "The
// simulator now returns a single EvaluationResult per action, regardless of
// how many resource ARNs are provided. ... The top-level fields ... now
// represent the aggregate decision across all requested resources. The
// top-level EvalDecision reflects the most restrictive decision across all
// resources" (IAM API Reference, EvaluationResult); each resource has its
// own ResourceSpecificResult. Without resource ARNs ("*"), the top level is
// the only answer.
func answerAction(action string, named bool, results []resourceResult) xmlEvalResult {
	agg := results[0]
	for _, r := range results[1:] {
		if restrictiveness(r.decision) > restrictiveness(agg.decision) {
			agg.decision, agg.matched = r.decision, r.matched
		}
		agg.missing = union(agg.missing, r.missing)
		agg.boundary = and(agg.boundary, r.boundary)
		agg.orgs = and(agg.orgs, r.orgs)
	}
	out := xmlEvalResult{
		EvalActionName:       action,
		EvalResourceName:     agg.resource,
		EvalDecision:         string(agg.decision),
		MatchedStatements:    statements(agg.matched),
		MissingContextValues: xmlStrings{agg.missing},
	}
	if agg.orgs != nil {
		out.OrganizationsDecisionDetail = &xmlOrgDetail{*agg.orgs}
	}
	if agg.boundary != nil {
		out.PermissionsBoundaryDecisionDetail = &xmlBoundaryDetail{*agg.boundary}
	}
	if !named {
		return out
	}
	out.EvalDecisionDetails = &struct{}{}
	out.ResourceSpecificResults = &xmlResourceResults{}
	for _, r := range results {
		rr := xmlResourceResult{
			EvalResourceName:     r.resource,
			EvalResourceDecision: string(r.decision),
			MatchedStatements:    statements(r.matched),
			MissingContextValues: xmlStrings{r.missing},
			EvalDecisionDetails:  &struct{}{},
		}
		if r.boundary != nil {
			rr.PermissionsBoundaryDecisionDetail = &xmlBoundaryDetail{*r.boundary}
		}
		out.ResourceSpecificResults.Members = append(out.ResourceSpecificResults.Members, rr)
	}
	return out
}

func restrictiveness(d policy.Decision) int {
	switch d {
	case policy.ExplicitDeny:
		return 2
	case policy.ImplicitDeny:
		return 1
	}
	return 0
}

func statements(ms []matchedStatement) xmlStatements {
	var out xmlStatements
	for _, m := range ms {
		out.Members = append(out.Members, xmlStatement{SourcePolicyID: m.id, SourcePolicyType: m.kind})
	}
	return out
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, k := range b {
		if !containsFold(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func and(a, b *bool) *bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	v := *a && *b
	return &v
}
