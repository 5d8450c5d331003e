package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// MaxDocumentSize bounds the bytes of the documents Parse accepts, white
// space included; MaxPolicyChars bounds what is not white space, as AWS
// counts. A megabyte leaves room for any pretty-printing.
const MaxDocumentSize = 1 << 20

// ParseError says where in a document parsing failed.
type ParseError struct {
	// Statement is the statement index, or -1 for the document level.
	Statement int
	// Element is the element being read, e.g. "Action" or
	// "Condition.StringEquals.aws:SourceArn".
	Element string
	Msg     string
	// Err is the underlying error when there is one, such as a
	// *LimitError for a document beyond AWS's limits.
	Err error
}

func (e *ParseError) Unwrap() error { return e.Err }

func (e *ParseError) Error() string {
	switch {
	case e.Statement < 0 && e.Element == "":
		return "policy: " + e.Msg
	case e.Statement < 0:
		return fmt.Sprintf("policy: %s: %s", e.Element, e.Msg)
	case e.Element == "":
		return fmt.Sprintf("policy: statement %d: %s", e.Statement, e.Msg)
	}
	return fmt.Sprintf("policy: statement %d: %s: %s", e.Statement, e.Element, e.Msg)
}

// Parse reads a policy document in any shape AWS accepts or returns:
// Statement as an object or a list, string-or-list elements, every Principal
// shape and Condition values as strings, numbers, booleans or lists of them.
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxDocumentSize {
		return nil, &ParseError{Statement: -1, Msg: fmt.Sprintf("document is %d bytes, more than the %d any AWS policy may have", len(data), MaxDocumentSize)}
	}
	if n := policyChars(data); n > MaxPolicyChars {
		err := &LimitError{Limit: "policy size (non-whitespace characters)", Max: MaxPolicyChars, Got: n}
		return nil, &ParseError{Statement: -1, Msg: err.Error() + ", the largest any AWS policy may have", Err: err}
	}
	if err := CheckJSON(data); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, &ParseError{Statement: -1, Msg: err.Error(), Err: err}
		}
		return nil, &ParseError{Statement: -1, Msg: "invalid JSON: " + err.Error(), Err: err}
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '"' {
		return nil, &ParseError{Statement: -1, Msg: "the document is a JSON string, not an object (is it still URL-encoded, as GetRolePolicy returns it?)"}
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(data, &top); err != nil {
		return nil, &ParseError{Statement: -1, Msg: "invalid JSON: " + err.Error()}
	}
	if top == nil {
		return nil, &ParseError{Statement: -1, Msg: "document is null, expected an object"}
	}
	p := &Policy{}
	for k, raw := range top {
		switch k {
		case "Version":
			if err := json.Unmarshal(raw, &p.Version); err != nil {
				return nil, &ParseError{Statement: -1, Element: k, Msg: "expected a string"}
			}
			if p.Version != "2012-10-17" && p.Version != "2008-10-17" {
				return nil, &ParseError{Statement: -1, Element: k, Msg: fmt.Sprintf("unknown version %q (expected 2012-10-17 or 2008-10-17)", p.Version)}
			}
		case "Id":
			if err := json.Unmarshal(raw, &p.ID); err != nil {
				return nil, &ParseError{Statement: -1, Element: k, Msg: "expected a string"}
			}
		case "Statement":
		default:
			return nil, &ParseError{Statement: -1, Element: k, Msg: "unknown element"}
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, &ParseError{Statement: -1, Msg: "missing Statement"}
	}
	var stmts []json.RawMessage
	if isObject(raw) {
		stmts = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &stmts); err != nil || stmts == nil {
		return nil, &ParseError{Statement: -1, Element: "Statement", Msg: "expected an object or a list of objects"}
	}
	p.Statements = make([]Statement, 0, len(stmts))
	for i, s := range stmts {
		st, err := parseStatement(i, s)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// MustParse is Parse for documents known to be valid, such as literals in
// tests and examples. It panics on error.
func MustParse(doc string) *Policy {
	p, err := Parse([]byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}

func parseStatement(i int, raw json.RawMessage) (Statement, error) {
	st := Statement{Index: i}
	fail := func(elem, format string, args ...any) (Statement, error) {
		return Statement{}, &ParseError{Statement: i, Element: elem, Msg: fmt.Sprintf(format, args...)}
	}
	var m map[string]json.RawMessage
	if !isObject(raw) {
		return fail("", "expected an object")
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return fail("", "invalid JSON: %v", err)
	}
	for k := range m {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition":
		default:
			return fail(k, "unknown element")
		}
	}
	if v, ok := m["Sid"]; ok {
		if err := json.Unmarshal(v, &st.Sid); err != nil {
			return fail("Sid", "expected a string")
		}
	}
	var effect string
	if err := json.Unmarshal(m["Effect"], &effect); err != nil || m["Effect"] == nil {
		return fail("Effect", "missing or not a string")
	}
	switch effect {
	case "Allow":
		st.Effect = Allow
	case "Deny":
		st.Effect = Deny
	default:
		return fail("Effect", "must be Allow or Deny, got %q", effect)
	}

	var err error
	switch a, na := m["Action"], m["NotAction"]; {
	case a != nil && na != nil:
		return fail("Action", "both Action and NotAction are present")
	case a != nil:
		if st.Actions, err = stringOrList(a); err != nil {
			return fail("Action", "%v", err)
		}
	case na != nil:
		st.NotAction = true
		if st.Actions, err = stringOrList(na); err != nil {
			return fail("NotAction", "%v", err)
		}
	default:
		return fail("", "missing Action or NotAction")
	}

	switch r, nr := m["Resource"], m["NotResource"]; {
	case r != nil && nr != nil:
		return fail("Resource", "both Resource and NotResource are present")
	case r != nil:
		st.HasResource = true
		if st.Resources, err = stringOrList(r); err != nil {
			return fail("Resource", "%v", err)
		}
	case nr != nil:
		st.HasResource, st.NotResource = true, true
		if st.Resources, err = stringOrList(nr); err != nil {
			return fail("NotResource", "%v", err)
		}
	}

	switch p, np := m["Principal"], m["NotPrincipal"]; {
	case p != nil && np != nil:
		return fail("Principal", "both Principal and NotPrincipal are present")
	case p != nil:
		if st.Principal, err = parsePrincipal(p); err != nil {
			return fail("Principal", "%v", err)
		}
	case np != nil:
		st.NotPrincipal = true
		if st.Principal, err = parsePrincipal(np); err != nil {
			return fail("NotPrincipal", "%v", err)
		}
	}

	if c, ok := m["Condition"]; ok {
		if st.Conditions, err = parseConditions(c); err != nil {
			var pe *ParseError
			if asParseError(err, &pe) {
				pe.Statement = i
				return Statement{}, pe
			}
			return fail("Condition", "%v", err)
		}
	}
	return st, nil
}

func parsePrincipal(raw json.RawMessage) (*Principal, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if arn.IsAccountID(s) {
			// Some Lambda API implementations return a grant to an account
			// as a bare string; it means {"AWS": "ID"}.
			return &Principal{AWS: []string{s}}, nil
		}
		if s != "*" {
			return nil, fmt.Errorf(`a string principal must be "*", got %q`, s)
		}
		return &Principal{Wildcard: true}, nil
	}
	var m map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &m) != nil {
		return nil, fmt.Errorf(`expected "*" or an object such as {"AWS": ...}`)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("empty principal object")
	}
	p := &Principal{}
	for k, v := range m {
		vals, err := stringOrList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		switch k {
		case "AWS":
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		default:
			return nil, fmt.Errorf("unknown principal type %q (expected AWS, Service, Federated or CanonicalUser)", k)
		}
	}
	return p, nil
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var block map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &block) != nil {
		return nil, fmt.Errorf("expected an object of operators")
	}
	ops := slices.Sorted(maps.Keys(block))
	var out []Condition
	for _, op := range ops {
		var keys map[string]json.RawMessage
		if !isObject(block[op]) || json.Unmarshal(block[op], &keys) != nil {
			return nil, &ParseError{Element: "Condition." + op, Msg: "expected an object of condition keys"}
		}
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			vals, err := conditionValues(keys[key])
			if err != nil {
				return nil, &ParseError{Element: "Condition." + op + "." + key, Msg: err.Error()}
			}
			parsed := parseOperator(op)
			out = append(out, Condition{Operator: op, Key: key, Values: vals, op: &parsed, key: foldKey(key)})
		}
	}
	return out, nil
}

// conditionValues accepts a string, number or boolean, or a list of them,
// keeping numbers as written.
func conditionValues(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	scalar := func(x any) (string, bool) {
		switch t := x.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		case bool:
			if t {
				return "true", true
			}
			return "false", true
		}
		return "", false
	}
	if s, ok := scalar(v); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a string, number, boolean or a list of them")
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := scalar(x)
		if !ok {
			return nil, fmt.Errorf("list items must be strings, numbers or booleans")
		}
		out = append(out, s)
	}
	return out, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, fmt.Errorf("expected a string or a list of strings")
	}
	return list, nil
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

func asParseError(err error, target **ParseError) bool {
	pe, ok := err.(*ParseError)
	if ok {
		*target = pe
	}
	return ok
}

// strictUnmarshal decodes JSON and rejects trailing data after the value.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the document")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil || !strings.Contains(err.Error(), "EOF") {
		return fmt.Errorf("unexpected data after the document")
	}
	return nil
}
