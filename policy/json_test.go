package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckJSONFold(t *testing.T) {
	doc := []byte(`{"version":1,"caller":{"identityPolicies":[],"IdentityPolicies":[{}]}}`)
	if err := CheckJSON(doc); err != nil {
		t.Fatalf("CheckJSON: keys differing in case are different keys in a policy: %v", err)
	}
	err := CheckJSONFold(doc)
	if err == nil || !strings.Contains(err.Error(), `"identityPolicies" and "IdentityPolicies"`) || !strings.Contains(err.Error(), "caller") {
		t.Fatalf("CheckJSONFold: want an error naming both keys and where, got %v", err)
	}
	if err := CheckJSONFold([]byte(`{"a":{"x":1},"b":{"X":1}}`)); err != nil {
		t.Fatalf("keys at different levels or objects are fine: %v", err)
	}
	if err := CheckJSON([]byte(`{"Statement":[{"Effect":"Allow","Effect":"Deny"}]}`)); err == nil || !strings.Contains(err.Error(), "Statement[0]") {
		t.Fatalf("duplicate key: want its path, got %v", err)
	}
}

func TestJSONDepthLimit(t *testing.T) {
	ok := []byte(strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth))
	if err := CheckJSON(ok); err != nil {
		t.Fatalf("depth %d: %v", MaxJSONDepth, err)
	}
	deep := []byte(strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1))
	var le *LimitError
	if err := CheckJSON(deep); !errors.As(err, &le) || le.Max != MaxJSONDepth {
		t.Fatalf("depth %d: want a *LimitError, got %v", MaxJSONDepth+1, err)
	}
}

func TestParseLimits(t *testing.T) {
	// White space does not count, as in IAM.
	pretty := statementsDoc([]string{`{"Effect":"Allow","Action":"*","Resource":"*"}`}) + strings.Repeat(" ", 30000)
	if _, err := Parse([]byte(pretty)); err != nil {
		t.Fatalf("white space counted against the limit: %v", err)
	}
	big := statementsDoc([]string{`{"Sid":"` + strings.Repeat("s", MaxPolicyChars) + `","Effect":"Allow","Action":"*","Resource":"*"}`})
	_, err := Parse([]byte(big))
	var le *LimitError
	var pe *ParseError
	if !errors.As(err, &le) || !errors.As(err, &pe) || !strings.Contains(err.Error(), "policy size") {
		t.Fatalf("want a ParseError wrapping a *LimitError naming the limit, got %v", err)
	}
}

func TestCheckLimits(t *testing.T) {
	if err := CheckLimits(manyStatementsInput(1000)); err != nil {
		t.Fatalf("ordinary input: %v", err)
	}
	in := manyContextKeysInput(MaxContextKeys + 1)
	var le *LimitError
	if err := CheckLimits(in); !errors.As(err, &le) || le.Limit != "condition keys in the request" {
		t.Fatalf("want the context key limit, got %v", err)
	}
	in = hostileRequestInput(strings.Repeat("a", MaxARNLength+1))
	if err := CheckLimits(in); !errors.As(err, &le) || le.Where != "request resource" {
		t.Fatalf("want the ARN length limit, got %v", err)
	}
}

func hostileRequestInput(resource string) *Input {
	return &Input{Request: hostileRequest(resource, nil)}
}
