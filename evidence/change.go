package evidence

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/why-denied/why-denied/policy"
)

// Change is one edit of the evidence that a fix consists of, in a form a
// script can apply: add a statement to a layer's policy, or add a condition
// to a statement.
type Change struct {
	Layer policy.Layer `json:"layer"`
	// Kind is "AddStatement" or "AddCondition".
	Kind string `json:"kind"`
	// Policy names the policy to change: the new inline or session policy
	// for AddStatement to identity/sessionPolicy, the existing policy
	// otherwise.
	Policy string `json:"policy"`
	// Statement is the index of the statement an AddCondition changes.
	Statement int `json:"statement,omitempty"`
	// Document is the statement to add, or the Condition block to merge.
	Document json.RawMessage `json:"document"`
}

const (
	AddStatement = "AddStatement"
	AddCondition = "AddCondition"
)

// Apply returns a copy of ev with the changes made, so that a fix can
// be checked by diagnosing the result.
func Apply(ev *Evidence, changes []Change) (*Evidence, error) {
	out := *ev
	out.Caller.IdentityPolicies = slices.Clone(ev.Caller.IdentityPolicies)
	out.Caller.SessionPolicies = slices.Clone(ev.Caller.SessionPolicies)
	out.Simulation = nil
	out.SimulatorUnavailable = "the evidence was changed by a proposed fix"
	for _, c := range changes {
		var err error
		switch {
		case c.Kind == AddStatement && c.Layer == policy.LayerIdentity:
			// Into the inline policy of that name if there is one (what
			// put-role-policy with the merged document does), else a new one.
			if i := slices.IndexFunc(out.Caller.IdentityPolicies, func(p NamedPolicy) bool { return p.Name == c.Policy && p.ARN == "" }); i >= 0 {
				np := out.Caller.IdentityPolicies[i]
				np.Document, err = AppendStatement(np.Document, c.Document)
				out.Caller.IdentityPolicies[i] = np
			} else {
				out.Caller.IdentityPolicies = append(out.Caller.IdentityPolicies, NamedPolicy{Name: c.Policy, Document: singleStatement(c.Document)})
			}
		case c.Kind == AddStatement && c.Layer == policy.LayerSessionPolicy:
			out.Caller.SessionPolicies = append(out.Caller.SessionPolicies, NamedPolicy{Name: c.Policy, Document: singleStatement(c.Document)})
		case c.Kind == AddStatement && c.Layer == policy.LayerResource:
			np := NamedPolicy{Name: c.Policy}
			if ev.Target.ResourcePolicy != nil {
				np = *ev.Target.ResourcePolicy
			}
			np.Document, err = AppendStatement(np.Document, c.Document)
			out.Target.ResourcePolicy = &np
		case c.Kind == AddStatement && c.Layer == policy.LayerPermissionsBoundary:
			if ev.Caller.PermissionsBoundary == nil {
				return nil, fmt.Errorf("change to a permissions boundary the caller does not have")
			}
			np := *ev.Caller.PermissionsBoundary
			np.Document, err = AppendStatement(np.Document, c.Document)
			out.Caller.PermissionsBoundary = &np
		case c.Kind == AddCondition:
			err = out.editPolicy(c.Layer, c.Policy, func(doc json.RawMessage) (json.RawMessage, error) {
				return addConditionTo(doc, c.Statement, c.Document)
			})
		default:
			err = fmt.Errorf("unsupported change %s on %s", c.Kind, c.Layer)
		}
		if err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// editPolicy replaces the document of the named policy of a layer.
func (ev *Evidence) editPolicy(l policy.Layer, name string, edit func(json.RawMessage) (json.RawMessage, error)) error {
	var list []NamedPolicy
	var one **NamedPolicy
	switch l {
	case policy.LayerIdentity:
		list = ev.Caller.IdentityPolicies
	case policy.LayerSessionPolicy:
		list = ev.Caller.SessionPolicies
	case policy.LayerResource:
		one = &ev.Target.ResourcePolicy
	case policy.LayerPermissionsBoundary:
		one = &ev.Caller.PermissionsBoundary
	default:
		return fmt.Errorf("the %s layer cannot be changed from here", l)
	}
	if one != nil {
		if *one == nil {
			return fmt.Errorf("no %s policy to change", l)
		}
		np := **one
		doc, err := edit(np.Document)
		if err != nil {
			return err
		}
		np.Document = doc
		*one = &np
		return nil
	}
	for i := range list {
		if list[i].Name == name {
			doc, err := edit(list[i].Document)
			if err != nil {
				return err
			}
			list[i].Document = doc
			return nil
		}
	}
	return fmt.Errorf("no %s policy named %q", l, name)
}

func singleStatement(st json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []json.RawMessage{st}})
	return b
}

// AppendStatement adds st to a policy document, whatever shape its
// Statement element has.
func AppendStatement(doc, st json.RawMessage) (json.RawMessage, error) {
	if len(doc) == 0 || string(doc) == "null" {
		return singleStatement(st), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	stmts, err := statementList(m["Statement"])
	if err != nil {
		return nil, err
	}
	m["Statement"], _ = json.Marshal(append(stmts, st))
	return json.Marshal(m)
}

func statementList(raw json.RawMessage) ([]json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	return []json.RawMessage{raw}, nil
}

// addConditionTo merges a Condition block into statement i of doc.
func addConditionTo(doc json.RawMessage, i int, cond json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	stmts, err := statementList(m["Statement"])
	if err != nil || i >= len(stmts) {
		return nil, fmt.Errorf("no statement %d to change", i)
	}
	var st map[string]json.RawMessage
	if err := json.Unmarshal(stmts[i], &st); err != nil {
		return nil, err
	}
	existing := map[string]map[string]json.RawMessage{}
	if raw, ok := st["Condition"]; ok {
		if err := json.Unmarshal(raw, &existing); err != nil {
			return nil, err
		}
	}
	var add map[string]map[string]json.RawMessage
	if err := json.Unmarshal(cond, &add); err != nil {
		return nil, err
	}
	for op, keys := range add {
		if existing[op] == nil {
			existing[op] = map[string]json.RawMessage{}
		}
		for k, v := range keys {
			existing[op][k] = v
		}
	}
	st["Condition"], _ = json.Marshal(existing)
	stmts[i], _ = json.Marshal(st)
	m["Statement"], _ = json.Marshal(stmts)
	return json.Marshal(m)
}
