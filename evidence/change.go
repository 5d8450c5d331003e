package evidence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/why-denied/why-denied/policy"
)

// Change is one edit of the evidence that a fix consists of, in a form a
// script can apply: add a statement to a layer's policy, add a condition
// to a statement, or make another version of a managed policy its default.
type Change struct {
	Layer policy.Layer `json:"layer"`
	// Kind is "addStatement", "addCondition" or "setDefaultPolicyVersion".
	Kind string `json:"kind"`
	// Policy names the policy to change: the new inline or session policy
	// for addStatement to identity/sessionPolicy, the existing policy
	// otherwise (for an SCP, its name, for the reader: Level and Index
	// place it).
	Policy string `json:"policy"`
	// Statement is the index of the statement an addCondition changes.
	Statement int `json:"statement,omitempty"`
	// Level and Index place an SCP in organization.scps (level 0 is the
	// root; index is the policy's place in its level): SCP names need not
	// be unique across levels, their place is.
	Level int `json:"level,omitempty"`
	Index int `json:"index,omitempty"`
	// Guardrail marks a change to the organization's guardrails (an SCP),
	// made in the management account or a delegated administrator, not in
	// the caller's or the function's account.
	Guardrail bool `json:"guardrail,omitempty"`
	// Document is the statement to add, or the Condition block to merge;
	// for setDefaultPolicyVersion, the document of the version made the
	// default.
	Document json.RawMessage `json:"document"`
	// PolicyARN and VersionID name the managed policy and the version a
	// setDefaultPolicyVersion makes its default.
	PolicyARN string `json:"policyArn,omitempty"`
	VersionID string `json:"versionId,omitempty"`
}

const (
	AddStatement      = "addStatement"
	AddCondition      = "addCondition"
	SetDefaultVersion = "setDefaultPolicyVersion"
)

// Apply returns a copy of ev with the changes made, so that a fix can
// be checked by diagnosing the result.
func Apply(ev *Evidence, changes []Change) (*Evidence, error) {
	out := *ev
	out.Caller.IdentityPolicies = slices.Clone(ev.Caller.IdentityPolicies)
	out.Caller.SessionPolicies = slices.Clone(ev.Caller.SessionPolicies)
	if ev.Organization != nil {
		org := *ev.Organization
		if org.SCPs != nil {
			org.SCPs = make([][]json.RawMessage, len(ev.Organization.SCPs))
			for i, l := range ev.Organization.SCPs {
				org.SCPs[i] = slices.Clone(l)
			}
		}
		out.Organization = &org
	}
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
			// The copy being built: an earlier change of this fix may have
			// added to the policy already.
			np := NamedPolicy{Name: c.Policy}
			if out.Target.ResourcePolicy != nil {
				np = *out.Target.ResourcePolicy
			}
			np.Document, err = AppendStatement(np.Document, c.Document)
			out.Target.ResourcePolicy = &np
		case c.Kind == AddStatement && c.Layer == policy.LayerPermissionsBoundary:
			if out.Caller.PermissionsBoundary == nil {
				return nil, fmt.Errorf("change to a permissions boundary the caller does not have")
			}
			np := *out.Caller.PermissionsBoundary
			np.Document, err = AppendStatement(np.Document, c.Document)
			out.Caller.PermissionsBoundary = &np
		case c.Kind == SetDefaultVersion:
			err = out.setDefaultVersion(c.PolicyARN, c.VersionID)
		case c.Layer == policy.LayerSCP && (c.Kind == AddStatement || c.Kind == AddCondition):
			err = out.editSCP(c, func(doc json.RawMessage) (json.RawMessage, error) {
				if c.Kind == AddStatement {
					return AppendStatement(doc, c.Document)
				}
				return addConditionTo(doc, c.Statement, c.Document)
			})
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

// policiesOf is where layer l's policies are: a list (identity and session
// policies, by name) or a single one (the resource policy, the boundary).
func (ev *Evidence) policiesOf(l policy.Layer) (list []NamedPolicy, one **NamedPolicy, ok bool) {
	switch l {
	case policy.LayerIdentity:
		return ev.Caller.IdentityPolicies, nil, true
	case policy.LayerSessionPolicy:
		return ev.Caller.SessionPolicies, nil, true
	case policy.LayerResource:
		return nil, &ev.Target.ResourcePolicy, true
	case policy.LayerPermissionsBoundary:
		return nil, &ev.Caller.PermissionsBoundary, true
	}
	return nil, nil, false
}

// editPolicy replaces the document of the named policy of a layer.
func (ev *Evidence) editPolicy(l policy.Layer, name string, edit func(json.RawMessage) (json.RawMessage, error)) error {
	list, one, ok := ev.policiesOf(l)
	if !ok {
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

// editSCP replaces the document of the SCP a change places.
func (ev *Evidence) editSCP(c Change, edit func(json.RawMessage) (json.RawMessage, error)) error {
	org := ev.Organization
	if org == nil || c.Level < 0 || c.Level >= len(org.SCPs) || c.Index < 0 || c.Index >= len(org.SCPs[c.Level]) {
		return fmt.Errorf("no SCP %d at organization level %d to change", c.Index, c.Level)
	}
	doc, err := edit(org.SCPs[c.Level][c.Index])
	if err != nil {
		return err
	}
	org.SCPs[c.Level][c.Index] = doc
	return nil
}

func singleStatement(st json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(struct {
		Version   string
		Statement []json.RawMessage
	}{"2012-10-17", []json.RawMessage{st}})
	return b
}

// AppendStatement adds st to a policy document, whatever shape its
// Statement element has, keeping the document's elements in their order.
func AppendStatement(doc, st json.RawMessage) (json.RawMessage, error) {
	if len(doc) == 0 || string(doc) == "null" {
		return singleStatement(st), nil
	}
	m, err := readObject(doc)
	if err != nil {
		return nil, err
	}
	stmts, err := statementList(m.get("Statement"))
	if err != nil {
		return nil, err
	}
	list, _ := json.Marshal(append(stmts, st))
	m.set("Statement", list)
	return m.marshal(), nil
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
	m, err := readObject(doc)
	if err != nil {
		return nil, err
	}
	stmts, err := statementList(m.get("Statement"))
	if err != nil || i >= len(stmts) {
		return nil, fmt.Errorf("no statement %d to change", i)
	}
	st, err := readObject(stmts[i])
	if err != nil {
		return nil, err
	}
	existing := map[string]map[string]json.RawMessage{}
	if raw := st.get("Condition"); raw != nil {
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
			// The key may already list values (an exemption list): the
			// new ones join them, since replacing them would end the
			// exemptions already granted.
			existing[op][k] = mergeValues(existing[op][k], v)
		}
	}
	merged, _ := json.Marshal(existing)
	st.set("Condition", merged)
	stmts[i] = st.marshal()
	list, _ := json.Marshal(stmts)
	m.set("Statement", list)
	return m.marshal(), nil
}

// mergeValues joins two condition values (a string or a list of strings
// each) into one, each value once; anything else, the new value replaces.
func mergeValues(old, add json.RawMessage) json.RawMessage {
	if old == nil {
		return add
	}
	list := func(raw json.RawMessage) ([]string, bool) {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return []string{one}, true
		}
		var many []string
		return many, json.Unmarshal(raw, &many) == nil
	}
	a, okA := list(old)
	b, okB := list(add)
	if !okA || !okB {
		return add
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			a = append(a, v)
		}
	}
	if len(a) == 1 {
		out, _ := json.Marshal(a[0])
		return out
	}
	out, _ := json.Marshal(a)
	return out
}

// object is a JSON object with its members in document order, so that a
// changed policy reads as the original did, plus the change.
type object struct {
	keys []string
	vals []json.RawMessage
}

func readObject(raw json.RawMessage) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	o := &object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o.keys, o.vals = append(o.keys, key), append(o.vals, v)
	}
	return o, nil
}

func (o *object) get(key string) json.RawMessage {
	if i := slices.Index(o.keys, key); i >= 0 {
		return o.vals[i]
	}
	return nil
}

func (o *object) set(key string, v json.RawMessage) {
	if i := slices.Index(o.keys, key); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys, o.vals = append(o.keys, key), append(o.vals, v)
}

func (o *object) marshal() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		var c bytes.Buffer
		if json.Compact(&c, o.vals[i]) == nil {
			b.Write(c.Bytes())
		} else {
			b.Write(o.vals[i])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Changed returns the documents the changes touch, as they read once
// applied: one per policy changed, in the order of the changes.
func Changed(ev *Evidence, changes []Change) ([]json.RawMessage, error) {
	after, err := Apply(ev, changes)
	if err != nil {
		return nil, err
	}
	type key struct {
		layer        policy.Layer
		name         string
		level, index int
	}
	var seen []key
	var out []json.RawMessage
	for _, c := range changes {
		k := key{c.Layer, c.Policy, 0, 0}
		if c.Layer == policy.LayerSCP {
			k.level, k.index = c.Level, c.Index
		}
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		if c.Layer == policy.LayerSCP {
			out = append(out, after.Organization.SCPs[c.Level][c.Index])
			continue
		}
		if doc := after.document(c.Layer, c.Policy); doc != nil {
			out = append(out, doc)
		}
	}
	return out, nil
}

// document is the document of the named policy of a layer (the one
// policy of the resource and boundary layers, whatever the name).
func (ev *Evidence) document(l policy.Layer, name string) json.RawMessage {
	list, one, _ := ev.policiesOf(l)
	if one != nil {
		if *one == nil {
			return nil
		}
		return (*one).Document
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Name == name {
			return list[i].Document
		}
	}
	return nil
}
