package awstest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/why-denied/why-denied/policy"
)

// simRequest is a SimulatePrincipalPolicy request, as the query protocol
// sends it (IAM API Reference, SimulatePrincipalPolicy).
type simRequest struct {
	source    string   // PolicySourceArn
	actions   []string // ActionNames.member.N
	resources []string // ResourceArns.member.N; none means "*"
	// resourcePolicy is the ResourcePolicy document, "" when none.
	resourcePolicy string
	resourceOwner  string // ResourceOwner
	caller         string // CallerArn
	context        policy.Context
	// policyInputs are PolicyInputList.member.N: more identity policies.
	policyInputs []string
	// boundaryInputs are PermissionsBoundaryPolicyInputList.member.N: they
	// replace the principal's own boundary.
	boundaryInputs []string
}

// contextKeyTypes are the ContextKeyType values the API accepts.
var contextKeyTypes = map[string]bool{
	"string": true, "numeric": true, "boolean": true, "ip": true, "binary": true, "date": true,
}

// parseSimRequest reads the form of a SimulatePrincipalPolicy request.
func parseSimRequest(form url.Values) (*simRequest, error) {
	r := &simRequest{
		source:         form.Get("PolicySourceArn"),
		actions:        members(form, "ActionNames"),
		resources:      members(form, "ResourceArns"),
		resourcePolicy: form.Get("ResourcePolicy"),
		resourceOwner:  form.Get("ResourceOwner"),
		caller:         form.Get("CallerArn"),
		policyInputs:   members(form, "PolicyInputList"),
		boundaryInputs: members(form, "PermissionsBoundaryPolicyInputList"),
		context:        policy.Context{},
	}
	if r.source == "" {
		return nil, &simInputError{"PolicySourceArn is required"}
	}
	if len(r.actions) == 0 {
		return nil, &simInputError{"ActionNames is required"}
	}
	for i := 1; ; i++ {
		prefix := "ContextEntries.member." + strconv.Itoa(i) + "."
		name := form.Get(prefix + "ContextKeyName")
		if name == "" {
			break
		}
		typ := form.Get(prefix + "ContextKeyType")
		base, list := strings.CutSuffix(typ, "List")
		if !contextKeyTypes[base] {
			return nil, &simInputError{fmt.Sprintf("context key %s: ContextKeyType %q is not one of string, numeric, boolean, ip, binary, date or their List forms", name, typ)}
		}
		values := members(form, prefix+"ContextKeyValues")
		if !list && len(values) > 1 {
			return nil, &simInputError{fmt.Sprintf("context key %s: %d values for the single-valued type %s", name, len(values), typ)}
		}
		if _, dup := r.context.Lookup(name); dup {
			return nil, &simInputError{fmt.Sprintf("context key %s is given twice", name)}
		}
		r.context[name] = values
	}
	return r, nil
}

// members reads the query protocol's list NAME.member.1, NAME.member.2 ...
func members(form url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[name+".member."+strconv.Itoa(i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}
