package policy

import (
	"strings"
	"testing"
)

func TestParseDecimalAndCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"10", "9.99", 1}, {"-1", "1", -1}, {"0", "-0.0", 0},
		{"1e3", "1000", 0}, {"1E-2", "0.01", 0}, {"1e999999", "2e999999", -1},
		{"-1e999999", "1", -1}, {"007", "7", 0}, {"+5", "5", 0}, {"0.5", "0.05", 1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
	} {
		a, ok1 := parseDecimal(c.a)
		b, ok2 := parseDecimal(c.b)
		if !ok1 || !ok2 {
			t.Fatalf("%q or %q not read", c.a, c.b)
		}
		if got := a.cmp(b); got != c.want {
			t.Errorf("cmp(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, s := range []string{"", "0x10", "1/2", "1_000", ".5", "5.", "1e", "Inf", "NaN", "1e99999999999", "--1", "1 2"} {
		if _, ok := parseDecimal(s); ok {
			t.Errorf("parseDecimal(%q) read it; IAM does not", s)
		}
	}
}

// TestUnreadableValuesAreUndecidable: values the engine cannot read make a
// condition undecidable in both the positive and the negated operator, never
// a silent miss that negation turns into a match.
func TestUnreadableValuesAreUndecidable(t *testing.T) {
	ctx := Context{"aws:SourceIp": {"10.1.2.3"}, "n": {"16"}, "d": {"2026-01-01"}, "b": {"true"}}.index()
	for _, c := range []struct{ op, key, value string }{
		{"IpAddress", "aws:SourceIp", "10.0.0.0/33"},
		{"NotIpAddress", "aws:SourceIp", "10.0.0.0/33"},
		{"NotIpAddress", "aws:SourceIp", "010.0.0.0/8"},
		{"NumericEquals", "n", "0x10"},
		{"NumericNotEquals", "n", "1/2"},
		{"NumericNotEquals", "n", "1_000"},
		{"DateEquals", "d", "2020-13-45"},
		{"DateNotEquals", "d", "2020-13-45"},
		{"Bool", "b", "yes"},
		{"StringEqualsSomeday", "n", "16"},
		{"ForAllValues:NotIpAddress", "aws:SourceIp", "10.0.0.0/33"},
		{"ForAnyValue:NumericNotEquals", "n", "0x10"},
	} {
		tr := evalCondition(Condition{Operator: c.op, Key: c.key, Values: []string{c.value}}, ctx, true)
		if tr.Matched || tr.Undecidable == "" {
			t.Errorf("%s %s %q: matched=%v undecidable=%q, want undecidable", c.op, c.key, c.value, tr.Matched, tr.Undecidable)
		}
	}
	// The request side too: an address the engine cannot read.
	bad := Context{"aws:SourceIp": {"10.0.0.256"}}.index()
	if tr := evalCondition(Condition{Operator: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"10.0.0.0/8"}}, bad, true); tr.Undecidable == "" {
		t.Errorf("request value 10.0.0.256: want undecidable, got %+v", tr)
	}
	// An absent key decides without reading the values.
	if tr := evalCondition(Condition{Operator: "NotIpAddress", Key: "aws:VpcSourceIp", Values: []string{"10.0.0.0/33"}}, ctx, true); !tr.Matched || tr.Undecidable != "" {
		t.Errorf("absent key: want a match without undecidable, got %+v", tr)
	}
}

// TestUndecidableOnlyWhenItCouldMatter: a statement that fails on an
// element the engine can read is decided, unknown operator or not; the
// operator is still reported.
func TestUndecidableOnlyWhenItCouldMatter(t *testing.T) {
	doc := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsSomeday":{"aws:SourceIp":"x"}}},
		{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualsSomeday":{"aws:SourceIp":"x"},"StringEquals":{"aws:username":"bob"}}},
		{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	in := &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:111111111111:function:F", Context{"aws:username": {"alice"}}), Identity: []Named{{Name: "id", Policy: doc}}}
	res := Evaluate(in)
	if res.Decision != Allowed || len(res.UndecidableStatements()) != 0 {
		t.Fatalf("decision %s, undecidable %v: the Denies fail on Action and on a readable condition", res.Decision, res.UndecidableStatements())
	}
	if len(res.Problems) != 2 || !strings.Contains(res.Problems[0], `unknown condition operator "StringEqualsSomeday"`) {
		t.Fatalf("problems %q: want the unknown operator named for both statements", res.Problems)
	}
	in.AssumeUndecidableMatch = true
	if d := Evaluate(in).Decision; d != Allowed {
		t.Fatalf("assuming undecidable statements match: %s, want allowed (none is undecidable)", d)
	}
}
