package policy

import (
	"encoding/json"
	"fmt"
	"os"
)

// Case is one evaluation scenario in the format of testdata/README.md. The
// corpus, the differential test and the generator share it.
type Case struct {
	ID          string       `json:"id,omitempty"`
	Description string       `json:"description"`
	Doc         string       `json:"doc,omitempty"`
	Request     CaseRequest  `json:"request"`
	Policies    CasePolicies `json:"policies"`
	Options     CaseOptions  `json:"options"`
	Expect      *CaseExpect  `json:"expect,omitempty"`
}

type CaseRequest struct {
	Principal       string      `json:"principal"`
	PrincipalARN    string      `json:"principalArn,omitempty"`
	Action          string      `json:"action"`
	Resource        string      `json:"resource"`
	ResourceAccount string      `json:"resourceAccount,omitempty"`
	Context         CaseContext `json:"context,omitempty"`
}

// CaseContext holds context values; JSON values are a string or a list.
type CaseContext map[string][]string

func (c *CaseContext) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := CaseContext{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = []string{s}
			continue
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			return fmt.Errorf("context %q: %w", k, err)
		}
		if list == nil {
			list = []string{}
		}
		out[k] = list
	}
	*c = out
	return nil
}

type CasePolicies struct {
	Identity            []json.RawMessage   `json:"identity,omitempty"`
	Resource            json.RawMessage     `json:"resource,omitempty"`
	PermissionsBoundary json.RawMessage     `json:"permissionsBoundary,omitempty"`
	Session             []json.RawMessage   `json:"session,omitempty"`
	SCPs                [][]json.RawMessage `json:"scps,omitempty"`
	RCPs                [][]json.RawMessage `json:"rcps,omitempty"`
}

type CaseOptions struct {
	ManagementAccount bool `json:"managementAccount,omitempty"`
	ServiceLinkedRole bool `json:"serviceLinkedRole,omitempty"`
}

type CaseExpect struct {
	Decision  Decision    `json:"decision"`
	BlockedBy []Layer     `json:"blockedBy"`
	Trace     []CaseTrace `json:"trace,omitempty"`
	// Undecidable lists every statement the engine cannot decide (layer,
	// policy, statement); absent means none. AssumingMatch is the outcome
	// with them treated as matching (Input.AssumeUndecidableMatch).
	Undecidable   []CaseTrace  `json:"undecidable,omitempty"`
	AssumingMatch *CaseOutcome `json:"assumingMatch,omitempty"`
}

type CaseOutcome struct {
	Decision  Decision `json:"decision"`
	BlockedBy []Layer  `json:"blockedBy"`
}

type CaseTrace struct {
	Layer     Layer   `json:"layer"`
	Policy    int     `json:"policy"`
	Statement int     `json:"statement"`
	Matched   bool    `json:"matched"`
	Element   Element `json:"element,omitempty"`
	Key       string  `json:"key,omitempty"`
}

func loadCase(path string) (Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Case{}, err
	}
	var c Case
	if err := json.Unmarshal(data, &c); err != nil {
		return Case{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func parseNamed(name string, raw json.RawMessage) (*Named, error) {
	if isNull(raw) {
		return nil, nil
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Named{Name: name, Policy: p}, nil
}

// Input builds the engine input of the case.
func (c Case) Input() (*Input, error) {
	in := &Input{
		Request: Request{
			Principal:       c.Request.Principal,
			PrincipalARN:    c.Request.PrincipalARN,
			Action:          c.Request.Action,
			Resource:        c.Request.Resource,
			ResourceAccount: c.Request.ResourceAccount,
			Context:         Context(c.Request.Context),
		},
		ManagementAccount: c.Options.ManagementAccount,
		ServiceLinkedRole: c.Options.ServiceLinkedRole,
	}
	var err error
	for i, raw := range c.Policies.Identity {
		n, err := parseNamed(fmt.Sprintf("identity-%d", i), raw)
		if err != nil {
			return nil, err
		}
		if n != nil {
			in.Identity = append(in.Identity, *n)
		}
	}
	if in.Resource, err = parseNamed("resource", c.Policies.Resource); err != nil {
		return nil, err
	}
	if in.PermissionsBoundary, err = parseNamed("boundary", c.Policies.PermissionsBoundary); err != nil {
		return nil, err
	}
	for i, raw := range c.Policies.Session {
		n, err := parseNamed(fmt.Sprintf("session-%d", i), raw)
		if err != nil {
			return nil, err
		}
		if n != nil {
			in.SessionPolicies = append(in.SessionPolicies, *n)
		}
	}
	levels := func(kind string, src [][]json.RawMessage) ([][]Named, error) {
		if src == nil {
			return nil, nil
		}
		out := make([][]Named, len(src))
		for l, docs := range src {
			out[l] = []Named{}
			for i, raw := range docs {
				n, err := parseNamed(fmt.Sprintf("%s-%d-%d", kind, l, i), raw)
				if err != nil {
					return nil, err
				}
				if n != nil {
					out[l] = append(out[l], *n)
				}
			}
		}
		return out, nil
	}
	if in.SCPs, err = levels("scp", c.Policies.SCPs); err != nil {
		return nil, err
	}
	if in.RCPs, err = levels("rcp", c.Policies.RCPs); err != nil {
		return nil, err
	}
	return in, nil
}

func (c Case) evaluate() (*Result, error) {
	in, err := c.Input()
	if err != nil {
		return nil, err
	}
	return Evaluate(in), nil
}
