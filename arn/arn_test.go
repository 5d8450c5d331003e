package arn

import "testing"

func TestFunction(t *testing.T) {
	for in, want := range map[string][2]string{
		"arn:aws:lambda:us-east-1:111111111111:function:f":         {"arn:aws:lambda:us-east-1:111111111111:function:f", ""},
		"arn:aws:lambda:us-east-1:111111111111:function:f:live":    {"arn:aws:lambda:us-east-1:111111111111:function:f", "live"},
		"arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST": {"arn:aws:lambda:us-east-1:111111111111:function:f", "$LATEST"},
	} {
		unq, q, ok := Function(in)
		if !ok || unq != want[0] || q != want[1] {
			t.Errorf("Function(%q) = %q, %q, %v", in, unq, q, ok)
		}
	}
	for _, bad := range []string{"arn:aws:s3:::b", "function:f", "arn:aws:lambda:us-east-1:111111111111:layer:l:1"} {
		if _, _, ok := Function(bad); ok {
			t.Errorf("Function(%q) reads a function", bad)
		}
	}
}

func TestEntityAndSessions(t *testing.T) {
	if k, n, ok := Entity("arn:aws:iam::111111111111:role/service-role/R"); !ok || k != "role" || n != "R" {
		t.Errorf("role with a path: %q %q %v", k, n, ok)
	}
	if _, _, ok := Entity("arn:aws:iam::111111111111:root"); ok {
		t.Error("the root user is no role or user")
	}
	if r, ok := SessionRole("arn:aws:sts::111111111111:assumed-role/R/s"); !ok || r != "R" {
		t.Errorf("SessionRole = %q %v", r, ok)
	}
	for in, want := range map[string]bool{
		"arn:aws:iam::111111111111:role/aws-service-role/lambda.amazonaws.com/AWSServiceRoleForLambda": true,
		"arn:aws:iam::111111111111:role/AWSServiceRoleForSupport":                                      true,
		"arn:aws:iam::111111111111:role/RequestRole":                                                   false,
		"arn:aws:iam::111111111111:user/aws-service-role":                                              false,
	} {
		if got := ServiceLinkedRole(in); got != want {
			t.Errorf("ServiceLinkedRole(%q) = %v", in, got)
		}
	}
}

func TestDamage(t *testing.T) {
	for in, want := range map[string]bool{
		"arn:aws:sts::***:assumed-role/R/s":                  true,
		"arn:aws:lambda:us-east-1:xxxx:function:f":           true,
		"arn:aws:lambda:us-east-1:111111111111:function:f":   false,
		"arn:aws:s3:::bucket":                                false,
		"arn:aws:iam::aws:policy/service-role/AWSLambdaRole": false,
	} {
		if got := Masked(in); got != want {
			t.Errorf("Masked(%q) = %v", in, got)
		}
	}
	for in, want := range map[string]bool{
		"arn:aws:lambda:us-east-":                          true,
		"arn:aws:lambda:us-east-1:111111111111:function":   true,
		"arn:aws:lambda:us-east-1:111111111111:function:f": false,
	} {
		if got := CutOff(in); got != want {
			t.Errorf("CutOff(%q) = %v", in, got)
		}
	}
	for region, want := range map[string]string{"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "us-isob-east-1": "aws-iso-b", "us-iso-east-1": "aws-iso"} {
		if got := PartitionOfRegion(region); got != want {
			t.Errorf("PartitionOfRegion(%q) = %q, want %q", region, got, want)
		}
	}
}
