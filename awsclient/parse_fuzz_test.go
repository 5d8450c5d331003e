package awsclient

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseArguments feeds arbitrary CALLER and TARGET text to the argument
// parsers: every input either parses or fails with a one-line InputError;
// nothing panics.
func FuzzParseArguments(f *testing.F) {
	for _, s := range []string{
		"RequestFunction", "ProcessorFunction:live", "role/RequestRole", "role/service-role/RequestRole",
		"user/alice", "s3.amazonaws.com", "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
		"arn:aws:iam::111111111111:role/service-role/RequestRole", "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:$LATEST",
		"111111111111:function:ProcessorFunction", "function:ProcessorFunction:3", "arn:aws:s3:::bucket", "arn:aws:lambda",
		"", " ", "::", "arn:aws:lambda:us-east-1:111111111111:function:", "fn:a:b", "ünïcode", "a\nb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(err error) {
			if err == nil {
				return
			}
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%q: error of type %T: %v", s, err, err)
			}
			if msg := err.Error(); msg == "" || strings.Contains(strings.TrimSpace(msg), "\n") {
				t.Fatalf("%q: error is not one line: %q", s, msg)
			}
		}
		_, err := parseCaller(s)
		check(err)
		_, err = parseTarget(s)
		check(err)
	})
}
