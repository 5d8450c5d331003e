package policy

import (
	"slices"
	"testing"
)

func TestContextKeysDifferingInCaseMerge(t *testing.T) {
	c := Context{
		"aws:sourceip": {"10.0.0.1"}, "AWS:SOURCEIP": {"192.0.2.1", "10.0.0.1"},
		"aws:PrincipalTag/Team": {"a"}, "aws:PrincipalTag/team": {"b"},
		"aws:username": {"alice"},
	}
	for range 50 { // map order must not matter
		v, ok := c.Lookup("Aws:SourceIp")
		if !ok || !slices.Equal(v, []string{"192.0.2.1", "10.0.0.1"}) {
			t.Fatalf("Lookup = %v %v, want the union in sorted key order", v, ok)
		}
	}
	n := c.Normalize()
	if len(n) != 3 {
		t.Fatalf("Normalize kept %d keys: %v", len(n), n)
	}
	if v := n["AWS:SOURCEIP"]; !slices.Equal(v, []string{"192.0.2.1", "10.0.0.1"}) {
		t.Errorf("Normalize: AWS:SOURCEIP = %v", v)
	}
	if v := n["aws:PrincipalTag/Team"]; !slices.Equal(v, []string{"a", "b"}) {
		t.Errorf("Normalize: aws:PrincipalTag/Team = %v", v)
	}
	want := [][]string{{"AWS:SOURCEIP", "aws:sourceip"}, {"aws:PrincipalTag/Team", "aws:PrincipalTag/team"}}
	if got := c.CaseCollisions(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("CaseCollisions = %v, want %v", got, want)
	}
	plainCtx := Context{"a": {"1"}}
	if got := plainCtx.Normalize(); len(got) != 1 || got.CaseCollisions() != nil {
		t.Errorf("a context without collisions changed: %v", got)
	}
}

// TestPolicyVariableFromMergedKey: a variable takes a value only from a
// single-valued key; the same value under two spellings is still one value.
func TestPolicyVariableFromMergedKey(t *testing.T) {
	doc := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:lambda:us-east-1:111111111111:function:${aws:PrincipalTag/app}"}]}`)
	for _, c := range []struct {
		ctx  Context
		want Decision
	}{
		{Context{"aws:PrincipalTag/app": {"F"}, "aws:principaltag/APP": {"F"}}, Allowed},
		{Context{"aws:PrincipalTag/app": {"F"}, "aws:principaltag/APP": {"G"}}, ImplicitDeny},
	} {
		in := &Input{Request: hostileRequest("arn:aws:lambda:us-east-1:111111111111:function:F", c.ctx), Identity: []Named{{Name: "id", Policy: doc}}}
		if got := Evaluate(in).Decision; got != c.want {
			t.Errorf("%v: %s, want %s", c.ctx, got, c.want)
		}
	}
}
