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
	Name    string  `json:"name"`
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

func TestParseDenialMessages(t *testing.T) {
	for _, c := range loadMessageCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if (c.Want == nil) == (c.Error == "") {
				t.Fatal("a case needs exactly one of want and error")
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

func TestParseDenialEncodedMessage(t *testing.T) {
	_, err := ParseDenial("An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuU\n")
	var enc *EncodedMessageError
	if !errors.As(err, &enc) {
		t.Fatalf("error %v (%T), want *EncodedMessageError", err, err)
	}
	if enc.Encoded != "4GIOHlTkIaWHQD0Q0m6XSnuU" {
		t.Errorf("Encoded = %q", enc.Encoded)
	}
	checkDenialError(t, err, "aws sts decode-authorization-message")
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
