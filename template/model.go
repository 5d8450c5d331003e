package template

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// Stack is the template resolved for one deployment (account, region,
// stack name, parameters): its functions, the roles they run as with
// every policy that applies, and the Lambda permissions.
type Stack struct {
	T         *Template
	Settings  Settings
	r         *resolver
	Functions map[string]*Function
	Roles     map[string]*Role
	Grants    []*Grant
	// outside are the managed policy ARNs the template names without
	// defining them and the tool does not know (see OutsideARNs).
	outside map[string]bool
}

// Function is one AWS::Lambda::Function of the stack.
type Function struct {
	ID string
	// Name and ARN are the physical name and unqualified ARN; a generated
	// name holds an opaque token. Unresolved is set when the name is not
	// known before deploy.
	Name, ARN  string
	Unresolved *Unresolved
	// RoleARN is the execution role; RoleID its logical ID when the role
	// is in the template.
	RoleARN, RoleID string
	// RoleUnresolved is set when the Role property is not known before
	// deploy.
	RoleUnresolved *Unresolved
	Aliases        []string
	// URLAuth is the function URL's auth type per qualifier ("" for the
	// unqualified function).
	URLAuth map[string]string
	Env     map[string]any
	// AutoPublishAlias is the alias SAM publishes, if any.
	AutoPublishAlias string
}

// Role is an IAM role of the stack with every policy that applies to it.
type Role struct {
	ID, Name, ARN string
	Identity      []evidence.NamedPolicy
	Boundary      *evidence.NamedPolicy
	Unreadable    []evidence.Unreadable
}

// Resolve resolves the template for one deployment.
func (t *Template) Resolve(s Settings) (*Stack, error) {
	st := &Stack{T: t, Settings: s, r: t.resolver(s), Functions: map[string]*Function{}, Roles: map[string]*Role{}, outside: map[string]bool{}}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		res := t.Resources[id]
		if res.Type == "AWS::Lambda::Function" && st.r.exists(res) != condFalse {
			st.addFunction(res)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		res := t.Resources[id]
		if res.Type == "AWS::IAM::Role" && st.r.exists(res) != condFalse {
			st.addRole(res)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		res := t.Resources[id]
		if st.r.exists(res) == condFalse {
			continue
		}
		switch res.Type {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			st.attachPolicy(res)
		case "AWS::Lambda::Alias":
			if fn, q := st.functionOf(st.r.resolve(res.Props["FunctionName"])); fn != nil && q == "" {
				if name, ok := st.r.resolve(res.Props["Name"]).(string); ok {
					fn.Aliases = append(fn.Aliases, name)
				}
			}
		case "AWS::Lambda::Url":
			if fn, q := st.functionOf(st.r.resolve(res.Props["TargetFunctionArn"])); fn != nil {
				if q == "" {
					q, _ = st.r.resolve(res.Props["Qualifier"]).(string)
				}
				auth, _ := st.r.resolve(res.Props["AuthType"]).(string)
				fn.URLAuth[q] = auth
			}
		case "AWS::Lambda::Permission":
			st.addGrant(res)
		}
	}
	for _, fn := range st.Functions {
		if r := st.Roles[fn.RoleID]; r == nil && fn.RoleARN != "" {
			fn.RoleID = ""
		}
	}
	return st, nil
}

func (st *Stack) addFunction(res *Resource) {
	fn := &Function{ID: res.ID, URLAuth: map[string]string{}}
	switch n := st.r.physicalName(res.ID).(type) {
	case string:
		fn.Name = n
		fn.ARN = st.r.functionARN(n)
	case Unresolved:
		fn.Unresolved = &n
		fn.Name = "<" + res.ID + " name>"
		fn.ARN = st.r.functionARN(fn.Name)
	}
	switch role := st.r.resolve(res.Props["Role"]).(type) {
	case string:
		fn.RoleARN = role
	case Unresolved:
		// The role is not known before deploy: its policies are unknown.
		fn.RoleARN = fmt.Sprintf("arn:%s:iam::%s:role/<%s role>", st.r.partition(), st.Settings.Account, res.ID)
		fn.RoleUnresolved = &role
	}
	roleProp, _ := res.Props["Role"].(map[string]any)
	if g, ok := roleProp["Fn::GetAtt"].([]any); ok && len(g) == 2 {
		fn.RoleID = fmt.Sprint(g[0])
	}
	if sam := st.T.SAM[res.ID]; sam != nil {
		fn.AutoPublishAlias, _ = sam.Props["AutoPublishAlias"].(string)
		if fn.AutoPublishAlias == "" {
			fn.AutoPublishAlias, _ = st.T.globals("Function")["AutoPublishAlias"].(string)
		}
	}
	env, _ := res.Props["Environment"].(map[string]any)
	fn.Env, _ = env["Variables"].(map[string]any)
	st.Functions[res.ID] = fn
}

// functionOf finds the function a FunctionName or ARN names, with its
// qualifier: Lambda accepts a name, a name:qualifier, a full ARN or a
// partial ARN (ACCOUNT:function:NAME).
func (st *Stack) functionOf(v any) (*Function, string) {
	s, ok := v.(string)
	if !ok {
		return nil, ""
	}
	name, qual := s, ""
	if i := strings.Index(s, ":function:"); i >= 0 {
		name = s[i+len(":function:"):]
	}
	if n, q, ok := strings.Cut(name, ":"); ok {
		name, qual = n, q
	}
	for _, id := range slices.Sorted(maps.Keys(st.Functions)) {
		if fn := st.Functions[id]; fn.Name == name {
			return fn, qual
		}
	}
	return nil, ""
}

func (st *Stack) addRole(res *Resource) {
	role := &Role{ID: res.ID}
	role.Name, _ = st.r.physicalName(res.ID).(string)
	role.ARN, _ = st.r.getAtt(res.ID, "Arn").(string)
	if list, ok := st.r.resolve(res.Props["Policies"]).([]any); ok {
		for i, item := range list {
			m, _ := item.(map[string]any)
			name, _ := m["PolicyName"].(string)
			if name == "" {
				name = fmt.Sprintf("%s policy %d", res.ID, i)
			}
			role.Identity = append(role.Identity, st.policy(name, "", m["PolicyDocument"], res.ID))
		}
	}
	if list, ok := st.r.resolve(res.Props["ManagedPolicyArns"]).([]any); ok {
		for _, a := range list {
			st.attachManaged(role, a, policy.LayerIdentity)
		}
	}
	if b, ok := res.Props["PermissionsBoundary"]; ok {
		st.attachManaged(role, st.r.resolve(b), policy.LayerPermissionsBoundary)
	}
	st.Roles[res.ID] = role
}

// attachManaged adds a managed policy by ARN: one of the template's, an
// AWS managed policy this tool knows, or one whose document is outside
// the template (then its layer cannot be read).
func (st *Stack) attachManaged(role *Role, v any, layer policy.Layer) {
	put := func(np evidence.NamedPolicy) {
		if layer == policy.LayerPermissionsBoundary {
			role.Boundary = &np
		} else {
			role.Identity = append(role.Identity, np)
		}
	}
	arn, ok := v.(string)
	if !ok {
		u, _ := v.(Unresolved)
		role.Unreadable = append(role.Unreadable, evidence.Unreadable{Layer: layer,
			What: fmt.Sprintf("a managed policy of role %s given as %s", role.ID, u), Action: "the value, to resolve it"})
		return
	}
	for _, id := range slices.Sorted(maps.Keys(st.T.Resources)) {
		res := st.T.Resources[id]
		if res.Type == "AWS::IAM::ManagedPolicy" && st.r.getAtt(id, "Arn") == arn {
			put(st.policy(nameOfARN(arn), arn, st.r.resolve(res.Props["PolicyDocument"]), id))
			return
		}
	}
	if doc, known := knownAWSManaged(arn); known {
		put(evidence.NamedPolicy{Name: nameOfARN(arn), ARN: arn, Document: doc})
		return
	}
	if np, ok := st.Settings.Outside.Policies[arn]; ok {
		// Read from the account (--profile): it is evaluated as IAM has
		// it, at its default version.
		put(np)
		return
	}
	st.outside[arn] = true
	why := "not in the template; --profile reads it from the account"
	if failed, ok := st.Settings.Outside.Failed[arn]; ok {
		why = "not in the template, and reading it failed: " + failed
	}
	if strings.Contains(arn, ":iam::aws:policy/") && layer == policy.LayerIdentity {
		// AWS managed policies allow and never deny (AWSDenyAll is known
		// above): this one may grant lambda: actions, which decides only
		// when nothing else allows.
		put(evidence.NamedPolicy{Name: nameOfARN(arn), ARN: arn, Document: markedDoc([]any{map[string]any{
			"Effect": "Allow", "Action": "lambda:*", "Resource": "*",
		}}, []Unresolved{{What: "the AWS managed policy " + nameOfARN(arn), Hint: "its document is " + why}})})
		return
	}
	role.Unreadable = append(role.Unreadable, evidence.Unreadable{Layer: layer,
		What:   fmt.Sprintf("managed policy %s of role %s (%s)", arn, role.ID, why),
		Action: "iam:GetPolicy, iam:GetPolicyVersion"})
}

func nameOfARN(a string) string { return a[strings.LastIndexByte(a, '/')+1:] }

// attachPolicy adds an AWS::IAM::Policy or ManagedPolicy to the roles it
// names.
func (st *Stack) attachPolicy(res *Resource) {
	roles, _ := st.r.resolve(res.Props["Roles"]).([]any)
	for _, rv := range roles {
		name, _ := rv.(string)
		for _, id := range slices.Sorted(maps.Keys(st.Roles)) {
			role := st.Roles[id]
			if role.Name != name {
				continue
			}
			pname, _ := st.r.resolve(res.Props["PolicyName"]).(string)
			arn := ""
			if res.Type == "AWS::IAM::ManagedPolicy" {
				arn, _ = st.r.getAtt(res.ID, "Arn").(string)
				pname = nameOfARN(arn)
			}
			np := st.policy(cmpOr(pname, res.ID), arn, st.r.resolve(res.Props["PolicyDocument"]), res.ID)
			role.Identity = append(role.Identity, np)
		}
	}
}

// policy turns a resolved policy document into evidence, each statement
// holding an unresolved value made undecidable (see markStatement).
func (st *Stack) policy(name, arn string, doc any, resID string) evidence.NamedPolicy {
	var extra []Unresolved
	if res := st.T.Resources[resID]; res != nil && st.r.exists(res) == condUnknown {
		extra = append(extra, Unresolved{What: resID + " exists only if condition " + res.Condition + " holds", Hint: "it depends on a value not known before deploy"})
	}
	m, _ := doc.(map[string]any)
	if m == nil {
		return evidence.NamedPolicy{Name: name, ARN: arn, Document: json.RawMessage(`{"Version":"2012-10-17","Statement":[]}`)}
	}
	var stmts []any
	switch s := m["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	out := make([]any, 0, len(stmts))
	for _, s := range stmts {
		sm, _ := s.(map[string]any)
		out = append(out, markStatement(sm, extra)...)
	}
	return evidence.NamedPolicy{Name: name, ARN: arn, Document: mustJSON(map[string]any{"Version": "2012-10-17", "Statement": out})}
}

func sortedFunctions(st *Stack) []*Function {
	ids := slices.Sorted(maps.Keys(st.Functions))
	out := make([]*Function, 0, len(ids))
	for _, id := range ids {
		out = append(out, st.Functions[id])
	}
	return out
}
