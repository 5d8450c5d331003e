package template

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/why-denied/why-denied/evidence"
)

// Grant is one AWS::Lambda::Permission as the statement Lambda adds to
// the function's resource policy for the qualifier it names.
type Grant struct {
	ID, Function, Qualifier string
	Principal               string
	Statement               map[string]any
}

// addGrant records an AWS::Lambda::Permission as the statement Lambda
// writes for it (Lambda's AddPermission: Principal, SourceArn as ArnLike
// AWS:SourceArn, SourceAccount as StringEquals AWS:SourceAccount,
// FunctionUrlAuthType and InvokedViaFunctionUrl as their condition keys).
func (st *Stack) addGrant(res *Resource) {
	p, ok := st.r.resolve(res.Props).(map[string]any)
	if !ok {
		return
	}
	principal, _ := p["Principal"].(string)
	fnv := p["FunctionName"]
	stmt := map[string]any{"Sid": res.ID, "Effect": "Allow", "Action": p["Action"]}
	switch {
	case principal == "*":
		stmt["Principal"] = "*"
	case strings.HasSuffix(principal, ".amazonaws.com") || strings.HasSuffix(principal, ".amazonaws.com.cn"):
		stmt["Principal"] = map[string]any{"Service": principal}
	case len(principal) == 12 && strings.Trim(principal, "0123456789") == "":
		stmt["Principal"] = map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", st.r.partition(), principal)}
	case principal != "":
		stmt["Principal"] = map[string]any{"AWS": principal}
	default:
		stmt["Principal"] = p["Principal"]
	}
	cond := map[string]any{}
	strEq := map[string]any{}
	if v, ok := p["SourceArn"]; ok {
		cond["ArnLike"] = map[string]any{"AWS:SourceArn": v}
	}
	if v, ok := p["SourceAccount"]; ok {
		strEq["AWS:SourceAccount"] = v
	}
	if v, ok := p["PrincipalOrgID"]; ok {
		strEq["aws:PrincipalOrgID"] = v
	}
	if v, ok := p["FunctionUrlAuthType"]; ok {
		strEq["lambda:FunctionUrlAuthType"] = v
	}
	if v, ok := p["InvokedViaFunctionUrl"]; ok && fmt.Sprint(v) == "true" {
		cond["Bool"] = map[string]any{"lambda:InvokedViaFunctionUrl": "true"}
	}
	if len(strEq) > 0 {
		cond["StringEquals"] = strEq
	}
	if len(cond) > 0 {
		stmt["Condition"] = cond
	}
	var extra []Unresolved
	if st.r.exists(res) == condUnknown {
		extra = append(extra, Unresolved{What: res.ID + " exists only if condition " + res.Condition + " holds", Hint: "it depends on a value not known before deploy"})
	}
	fn, qual := st.functionOf(fnv)
	targets := []*Function{fn}
	if fn == nil {
		if u := hasUnresolved(fnv); len(u) > 0 {
			// The function it is for is not known: it may be any of them.
			extra = append(extra, u...)
			targets = nil
			for _, id := range slices.Sorted(maps.Keys(st.Functions)) {
				targets = append(targets, st.Functions[id])
			}
		} else {
			return // a function outside the stack
		}
	}
	for _, f := range targets {
		s := cloneMap(stmt)
		s["Resource"] = f.ARN
		if qual != "" {
			s["Resource"] = f.ARN + ":" + qual
		}
		for _, m := range markStatement(s, extra) {
			st.Grants = append(st.Grants, &Grant{ID: res.ID, Function: f.ID, Qualifier: qual, Principal: principal, Statement: m.(map[string]any)})
		}
	}
}

// ResourcePolicy is the function's resource policy for a qualifier, as
// Lambda keeps it: the statements added for that qualifier only.
func (st *Stack) ResourcePolicy(fn *Function, qual string) *evidence.NamedPolicy {
	var stmts []any
	for _, g := range st.Grants {
		if g.Function == fn.ID && g.Qualifier == qual {
			stmts = append(stmts, g.Statement)
		}
	}
	if len(stmts) == 0 {
		return nil
	}
	return &evidence.NamedPolicy{Name: fn.ID, Document: mustJSON(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": stmts})}
}
