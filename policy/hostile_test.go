package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// hostileDeadline is generous: every case takes milliseconds; one that
// takes this long has gone back to super-linear matching.
const hostileDeadline = 2 * time.Second

// TestHostileInput runs each input built to be slow and requires it to end
// well within hostileDeadline with a definite result or a *LimitError.
func TestHostileInput(t *testing.T) {
	evaluate := func(build func() *Input, want Decision) func() func() error {
		return func() func() error {
			in := build() // building the input is not what is timed
			return func() error {
				res := Evaluate(in)
				if res.Decision != want {
					return errors.New("decision " + string(res.Decision) + ", want " + string(want))
				}
				return nil
			}
		}
	}
	now := func(run func() error) func() func() error { return func() func() error { return run } }
	limited := func(err error) error {
		var le *LimitError
		if !errors.As(err, &le) {
			return errors.New("want a *LimitError, got " + errString(err))
		}
		return nil
	}
	cases := []struct {
		name    string
		prepare func() func() error
	}{
		{"segment-ending stars k=20 against 40 colons", evaluate(func() *Input { return starsInput(20) }, ImplicitDeny)},
		{"segment-ending stars k=200 against 400 colons", evaluate(func() *Input { return starsInput(200) }, ImplicitDeny)},
		{"long literal between stars against 1 MB", evaluate(func() *Input { return longLiteralInput(8000, 1<<20) }, ImplicitDeny)},
		{"question marks between stars against 64 KB", evaluate(func() *Input { return questionMarksInput(5000, MaxContextValueLength) }, ImplicitDeny)},
		{"NumericLessThan 1e999999 x1000", evaluate(func() *Input { return hugeNumbersInput(1000) }, ImplicitDeny)},
		{"4,000 matching Deny statements", evaluate(func() *Input { return manyDeniesInput(4000) }, ExplicitDeny)},
		{"4,000 distinct aws:ResourceTag keys", evaluate(func() *Input { return manyTagKeysInput(4000) }, ImplicitDeny)},
		{"100,000 context keys", evaluate(func() *Input { return manyContextKeysInput(100000) }, ImplicitDeny)},
		{"100,000 values against 1,000 patterns", evaluate(func() *Input { return manyValuesInput(100000, 1000) }, ImplicitDeny)},
		{"40,000 statements", evaluate(func() *Input { return manyStatementsInput(40000) }, ImplicitDeny)},
		{"JSON nested 20,000 deep", now(func() error { return limited(CheckJSON(deepJSON(20000))) })},
		{"JSON nested 100,000 deep", now(func() error { return limited(CheckJSONFold(deepJSON(100000))) })},
		{"policy nested 100,000 deep", now(func() error { _, err := Parse(deepJSON(100000)); return limited(err) })},
		{"policy over 20 KB", now(func() error {
			_, err := Parse([]byte(statementsDoc([]string{`{"Sid":"` + strings.Repeat("s", 21000) + `","Effect":"Allow","Action":"*","Resource":"*"}`})))
			return limited(err)
		})},
		{"100,000 context keys over the limit", func() func() error {
			in := manyContextKeysInput(100000)
			return func() error { return limited(CheckLimits(in)) }
		}},
		{"100,000 values over the limit", func() func() error {
			in := manyValuesInput(100000, 10)
			return func() error { return limited(CheckLimits(in)) }
		}},
		// Unreadable statements: a definite decision, the statement marked,
		// and the other reading available.
		{"unknown operator in a Deny", now(func() error { return undecidableDeny(`"StringEqualsSomeday":{"aws:SourceIp":"x"}`) })},
		{"NotIpAddress /33 in a Deny", now(func() error { return undecidableDeny(`"NotIpAddress":{"aws:SourceIp":"10.0.0.0/33"}`) })},
		{"NumericNotEquals 0x10 in a Deny", now(func() error { return undecidableDeny(`"NumericNotEquals":{"s3:max-keys":"0x10"}`) })},
		{"DateNotEquals 2020-13-45 in a Deny", now(func() error { return undecidableDeny(`"DateNotEquals":{"aws:CurrentTime":"2020-13-45"}`) })},
		// Ambiguous keys: the same answer on every run.
		{"keys differing in case, 200 runs", now(func() error { return sameEveryRun(200) })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			start := time.Now()
			run := c.prepare()
			start = time.Now()
			go func() { done <- run() }()
			timer := time.NewTimer(hostileDeadline)
			defer timer.Stop()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%v", time.Since(start))
			case <-timer.C:
				t.Fatalf("still running after %v", hostileDeadline)
			}
		})
	}
}

// undecidableDeny evaluates an identity Allow and a Deny whose only
// condition the engine cannot read: allowed as read, explicitly denied when
// the statement is assumed to match, and marked either way.
func undecidableDeny(cond string) error {
	allow := `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`
	deny := `{"Sid":"Guard","Effect":"Deny","Action":"*","Resource":"*","Condition":{` + cond + `}}`
	in := &Input{
		Request:  hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", Context{"aws:SourceIp": {"10.1.2.3"}, "s3:max-keys": {"16"}, "aws:CurrentTime": {"2026-01-01T00:00:00Z"}}),
		Identity: []Named{{Name: "id", Policy: MustParse(statementsDoc([]string{allow, deny}))}},
	}
	res := Evaluate(in)
	if res.Decision != Allowed {
		return errors.New("as read: " + string(res.Decision) + ", want allowed")
	}
	if len(res.UndecidableStatements()) != 1 || len(res.Problems) != 1 {
		return errors.New("the Deny is not marked undecidable")
	}
	in.AssumeUndecidableMatch = true
	if d := Evaluate(in).Decision; d != ExplicitDeny {
		return errors.New("assumed matching: " + string(d) + ", want explicitDeny")
	}
	return nil
}

// sameEveryRun evaluates a request whose context spells one key in two
// cases with different values, many times: map order must not decide.
func sameEveryRun(runs int) error {
	deny := `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:PrincipalTag/Team":"red"}}}`
	allow := `{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}`
	var first Decision
	for i := range runs {
		in := &Input{
			Request: hostileRequest("arn:aws:lambda:us-east-1:"+hostileAccount+":function:F", Context{
				"aws:PrincipalTag/Team": {"blue"}, "aws:PrincipalTag/team": {"red"},
				"aws:sourceip": {"10.0.0.1"}, "AWS:SOURCEIP": {"192.0.2.1"},
			}),
			Identity: []Named{{Name: "id", Policy: MustParse(statementsDoc([]string{deny, allow}))}},
		}
		d := Evaluate(in).Decision
		if i == 0 {
			first = d
		} else if d != first {
			return errors.New("decision changed between runs: " + string(first) + " then " + string(d))
		}
	}
	if first != ExplicitDeny {
		return errors.New("merged tag values include red: want explicitDeny, got " + string(first))
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
