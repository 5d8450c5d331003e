package policy

import (
	"fmt"
	"strings"
)

// Inputs built to be slow: the shapes of "Hostile and unlucky input" that
// hostile_test.go times and bench_test.go measures. Each is small enough to
// be a real policy (Parse accepts it) unless it is meant to hit a limit.

const hostileAccount = "111111111111"

func hostileRequest(resource string, ctx Context) Request {
	return Request{
		Principal:    "arn:aws:sts::" + hostileAccount + ":assumed-role/RequestRole/RequestFunction",
		PrincipalARN: "arn:aws:iam::" + hostileAccount + ":role/RequestRole",
		Action:       "lambda:InvokeFunction",
		Resource:     resource,
		Context:      ctx,
	}
}

// statementsDoc is a policy document of the given statements (JSON objects).
func statementsDoc(stmts []string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// starsInput: a Resource of k segment-ending stars against an ARN of 2k
// colons that does not match at its end. Exponential for a matcher that
// tries every way to share the colons among the stars.
func starsInput(k int) *Input {
	res := "arn:" + strings.Repeat("*:", k) + "x"
	arn := "arn:" + strings.Repeat("a:", 2*k) + "y"
	doc := statementsDoc([]string{fmt.Sprintf(`{"Effect":"Allow","Action":"*","Resource":%q}`, res)})
	return &Input{Request: hostileRequest(arn, nil), Identity: []Named{{Name: "stars", Policy: MustParse(doc)}}}
}

// longLiteralInput: StringLike "*aaa...ab*" (n a's) against a value of m
// a's: quadratic for a matcher that restarts the literal at every offset.
func longLiteralInput(n, m int) *Input {
	pat := "*" + strings.Repeat("a", n) + "b*"
	doc := statementsDoc([]string{fmt.Sprintf(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":%q},"ArnLike":{"aws:SourceArn":%q}}}`, pat, "arn:aws:s3:::"+pat)})
	ctx := Context{"aws:UserAgent": {strings.Repeat("a", m)}, "aws:SourceArn": {"arn:aws:s3:::" + strings.Repeat("a", m)}}
	return &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", ctx), Identity: []Named{{Name: "literal", Policy: MustParse(doc)}}}
}

// questionMarksInput: StringLike "*a?a?...a?b*" (n pairs) against a value
// of m a's: quadratic for a matcher that tries every offset.
func questionMarksInput(n, m int) *Input {
	pat := "*" + strings.Repeat("a?", n) + "b*"
	doc := statementsDoc([]string{fmt.Sprintf(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":%q}}}`, pat)})
	ctx := Context{"aws:UserAgent": {strings.Repeat("a", m)}}
	return &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", ctx), Identity: []Named{{Name: "marks", Policy: MustParse(doc)}}}
}

// hugeNumbersInput: NumericLessThan with n values 1e999999.
func hugeNumbersInput(n int) *Input {
	vals := make([]string, n)
	for i := range vals {
		vals[i] = "1e999999"
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":[` + strings.Join(vals, ",") + `]}}}]}`
	ctx := Context{"s3:max-keys": {"2e999999"}}
	return &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", ctx), Identity: []Named{{Name: "numbers", Policy: MustParse(doc)}}}
}

// manyPolicies splits n statements made by stmt into policies of per
// statements each.
func manyPolicies(n, per int, stmt func(i int) string) []Named {
	var out []Named
	for start := 0; start < n; start += per {
		var stmts []string
		for i := start; i < start+per && i < n; i++ {
			stmts = append(stmts, stmt(i))
		}
		out = append(out, Named{Name: fmt.Sprintf("p%d", start/per), Policy: MustParse(statementsDoc(stmts))})
	}
	return out
}

// manyDeniesInput: n Deny statements that all match.
func manyDeniesInput(n int) *Input {
	return &Input{
		Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", nil),
		Identity: manyPolicies(n, 100, func(i int) string {
			return fmt.Sprintf(`{"Sid":"D%d","Effect":"Deny","Action":"lambda:*","Resource":"arn:aws:lambda:*:*:function:*"}`, i)
		}),
	}
}

// manyTagKeysInput: n statements each on its own aws:ResourceTag/ key, and
// a request carrying all n keys in another case.
func manyTagKeysInput(n int) *Input {
	ctx := Context{}
	for i := range n {
		ctx[fmt.Sprintf("AWS:RESOURCETAG/K%d", i)] = []string{"v"}
	}
	return &Input{
		Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", ctx),
		Identity: manyPolicies(n, 100, func(i int) string {
			return fmt.Sprintf(`{"Effect":"Allow","Action":"lambda:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/k%d":"w"}}}`, i)
		}),
	}
}

// manyContextKeysInput: a request with n condition keys against a policy
// that asks for keys it does not have.
func manyContextKeysInput(n int) *Input {
	ctx := make(Context, n)
	for i := range n {
		ctx[fmt.Sprintf("aws:PrincipalTag/k%d", i)] = []string{"v"}
	}
	stmts := make([]string, 50)
	for i := range stmts {
		stmts[i] = fmt.Sprintf(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:principaltag/MISSING%d":"v"}}}`, i)
	}
	return &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", ctx), Identity: []Named{{Name: "keys", Policy: MustParse(statementsDoc(stmts))}}}
}

// manyValuesInput: n request values of one key against p StringLike
// patterns, none matching.
func manyValuesInput(n, p int) *Input {
	pats := make([]string, p)
	for i := range pats {
		pats[i] = fmt.Sprintf("%q", fmt.Sprintf("*x%d*", i))
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":[` + strings.Join(pats, ",") + `]}}}]}`
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("value-%d", i)
	}
	ctx := Context{"aws:TagKeys": vals}
	return &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", ctx), Identity: []Named{{Name: "values", Policy: MustParse(doc)}}}
}

// manyStatementsInput: n statements, each a near miss on the resource.
func manyStatementsInput(n int) *Input {
	return &Input{
		Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F:live", Context{"aws:PrincipalTag/team": {"a"}}),
		Identity: manyPolicies(n, 100, func(i int) string {
			return fmt.Sprintf(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:%s:function:F%d*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, hostileAccount, i, i)
		}),
	}
}

// deepJSON is a policy whose Sid is an object nested depth deep.
func deepJSON(depth int) []byte {
	return []byte(`{"Version":"2012-10-17","Statement":[{"Sid":` + strings.Repeat(`{"a":`, depth) + `1` + strings.Repeat(`}`, depth) + `,"Effect":"Allow","Action":"*","Resource":"*"}]}`)
}
