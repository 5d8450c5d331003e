package accessdenied

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/why-denied/why-denied/policy"
)

// messageCase is one pasted message from testdata/messages.json: the fields
// it must parse to, or the error it must give.
type messageCase struct {
	Name string `json:"name"`
	// Group is the form of the text (see sampleGroups).
	Group   string  `json:"group"`
	Source  string  `json:"source"`
	Message string  `json:"message"`
	Want    *Denial `json:"want"`
	Error   string  `json:"error"`
}

func loadMessageCases(tb testing.TB) []messageCase {
	tb.Helper()
	f, err := os.Open("testdata/messages.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var cases []messageCase
	if err := dec.Decode(&cases); err != nil {
		tb.Fatalf("testdata/messages.json: %v", err)
	}
	return cases
}

// sampleGroups are the forms of denial text the samples are grouped by,
// with the fewest samples each must have.
var sampleGroups = map[string]int{
	"documented":   15, // the IAM User Guide's own examples
	"wrapper":      15, // SDK, CLI, IaC and log wrappers
	"redacted":     10, // placeholders of every kind
	"wrapped":      5,  // terminal wraps inside an ARN
	"punctuation":  4,  // punctuation that is or is not the ARN's
	"caller":       6,  // callers that are not ARNs
	"damaged":      4,  // cut-off pastes
	"newest":       4,  // policy ARNs and authorization IDs
	"other-form":   10, // Lambda's, S3's and API Gateway's other denial texts
	"cloudtrail":   4,  // CloudTrail records
	"not-a-denial": 2,  // text that is bad input
}

func TestParseDenialMessages(t *testing.T) {
	for _, c := range loadMessageCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if (c.Want == nil) == (c.Error == "") {
				t.Fatal("a case needs exactly one of want and error")
			}
			if _, ok := sampleGroups[c.Group]; !ok {
				t.Fatalf("group %q is not one of the sample groups", c.Group)
			}
			// A real denial text is never bad input (exit 2): only the
			// not-a-denial group may fail, and a CloudTrail input with no
			// denied record.
			if c.Error != "" && c.Group != "not-a-denial" && c.Group != "cloudtrail" {
				t.Fatalf("a sample of group %s must parse", c.Group)
			}
			got, err := ParseDenial(c.Message)
			if c.Error != "" {
				if err == nil {
					t.Fatalf("parsed %+v, want an error containing %q", got, c.Error)
				}
				checkDenialError(t, err, c.Error)
				return
			}
			if err != nil {
				t.Fatalf("error %v (source: %s)", err, c.Source)
			}
			if !reflect.DeepEqual(got, c.Want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(c.Want)
				t.Errorf("source: %s\n got %s\nwant %s", c.Source, g, w)
			}
		})
	}
}

// checkDenialError checks what a user sees: one line saying what was
// expected, and bad input to the command layer (exit code 2).
func checkDenialError(t *testing.T, err error, want string) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("error %q, want it to contain %q", msg, want)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q is not one line", msg)
	}
	var in *InputError
	if !errors.As(err, &in) || in.Msg != msg {
		t.Errorf("error %T is not an *InputError with the same message", err)
	}
}

// TestParseDenialSamplesCoverEveryForm keeps the sample table honest: every
// layer AWS names has a sample for its explicit deny and, where the IAM User
// Guide shows one, its implicit deny; and the other documented shapes are
// there too.
func TestParseDenialSamplesCoverEveryForm(t *testing.T) {
	type form struct {
		layer    policy.Layer
		explicit bool
	}
	seen := map[form]bool{}
	var withARN, noResource, noContext, redacted, failed bool
	ok := 0
	for _, c := range loadMessageCases(t) {
		if c.Want == nil {
			failed = true
			continue
		}
		ok++
		w := c.Want
		seen[form{w.Layer, w.Explicit}] = true
		withARN = withARN || w.PolicyARN != ""
		noResource = noResource || w.Resource == ""
		noContext = noContext || w.Layer == "" && !w.Explicit
		redacted = redacted || w.Redacted
	}
	layers := []policy.Layer{policy.LayerIdentity, policy.LayerResource, policy.LayerPermissionsBoundary,
		policy.LayerSessionPolicy, policy.LayerSCP, policy.LayerRCP, policy.LayerVPCEndpoint}
	for _, l := range layers {
		if !seen[form{l, true}] {
			t.Errorf("no sample of an explicit deny in the %s layer", l)
		}
		// The IAM User Guide shows no implicit deny by an RCP.
		if l != policy.LayerRCP && !seen[form{l, false}] {
			t.Errorf("no sample of an implicit deny in the %s layer", l)
		}
	}
	if !seen[form{"", true}] {
		t.Error(`no sample of "explicit deny" without a policy type`)
	}
	for what, ok := range map[string]bool{"a policy ARN": withARN, "no resource": noResource, "no because clause": noContext, "a redacted ARN": redacted, "an error": failed} {
		if !ok {
			t.Errorf("no sample with %s", what)
		}
	}
	if ok < 30 {
		t.Errorf("%d parsed samples, want at least 30", ok)
	}
	count := map[string]int{}
	for _, c := range loadMessageCases(t) {
		count[c.Group]++
	}
	for g, least := range sampleGroups {
		if count[g] < least {
			t.Errorf("group %s has %d samples, want at least %d", g, count[g], least)
		}
	}
}

// Every sample that parses is explained: a summary, a policy to look at,
// and either a call to diagnose or the reason there is none.
func TestExplainEverySample(t *testing.T) {
	for _, c := range loadMessageCases(t) {
		if c.Want == nil {
			continue
		}
		d, err := ParseDenial(c.Message)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		m := Explain(d)
		if m.Summary == "" || m.LookAt == "" {
			t.Errorf("%s: summary %q, look at %q", c.Name, m.Summary, m.LookAt)
		}
		if d.Form != "" && d.CannotDiagnose() == "" {
			t.Errorf("%s: a %s text names no call to diagnose, yet CannotDiagnose is empty", c.Name, d.Form)
		}
	}
}

func ExampleParseDenial() {
	d, err := ParseDenial(`An error occurred (AccessDeniedException) when calling the Invoke operation: User: arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live because no identity-based policy allows the lambda:InvokeFunction action`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Caller)
	fmt.Println(d.Action, d.Resource)
	fmt.Println(d.Layer, d.Explicit)
	// Output:
	// arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction
	// lambda:InvokeFunction arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live
	// identity false
}
