package awsclient

import (
	"errors"
	"testing"
)

func TestParseCaller(t *testing.T) {
	tests := []struct {
		in      string
		kind    CallerKind
		name    string
		account string
		fn      string // function name, for function callers
		qual    string
	}{
		{in: "RequestFunction", kind: FunctionCaller, fn: "RequestFunction"},
		{in: "RequestFunction:live", kind: FunctionCaller, fn: "RequestFunction", qual: "live"},
		{in: "arn:aws:lambda:eu-west-1:111111111111:function:RequestFunction", kind: FunctionCaller, fn: "RequestFunction", account: "111111111111"},
		{in: "111111111111:function:RequestFunction", kind: FunctionCaller, fn: "RequestFunction", account: "111111111111"},
		{in: "role/RequestRole", kind: RoleCaller, name: "RequestRole"},
		{in: "role/service-role/RequestRole", kind: RoleCaller, name: "RequestRole"},
		{in: "arn:aws:iam::111111111111:role/service-role/RequestRole", kind: RoleCaller, name: "RequestRole", account: "111111111111"},
		{in: "arn:aws-cn:iam::111111111111:role/R", kind: RoleCaller, name: "R", account: "111111111111"},
		{in: "user/alice", kind: UserCaller, name: "alice"},
		{in: "arn:aws:iam::111111111111:user/dev/alice", kind: UserCaller, name: "alice", account: "111111111111"},
		{in: "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction", kind: SessionCaller, name: "RequestRole", account: "111111111111"},
		{in: " s3.amazonaws.com ", kind: ServiceCaller, name: "s3.amazonaws.com"},
		{in: "states.us-east-1.amazonaws.com", kind: ServiceCaller, name: "states.us-east-1.amazonaws.com"},
		{in: "arn:aws:sts::111111111111:federated-user/bob", kind: FederatedCaller, name: "bob", account: "111111111111"},
		{in: "anonymous", kind: AnonymousCaller, name: "anonymous"},
		{in: " * ", kind: AnonymousCaller, name: "anonymous"},
		{in: "function:anonymous", kind: FunctionCaller, fn: "anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCaller(tt.in)
			if err != nil {
				t.Fatalf("parseCaller: %v", err)
			}
			if got.kind != tt.kind || got.name != tt.name || got.account != tt.account || got.fn.name != tt.fn || got.fn.qualifier != tt.qual {
				t.Errorf("got kind=%s name=%q account=%q fn=%q qualifier=%q; want %s %q %q %q %q",
					got.kind, got.name, got.account, got.fn.name, got.fn.qualifier, tt.kind, tt.name, tt.account, tt.fn, tt.qual)
			}
		})
	}
}

func TestParseCallerRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"arn:aws:s3:::bucket",
		"arn:aws:iam::111111111111:root",
		"arn:aws:iam::123:role/R", // short account
		"arn:aws:iam:us-east-1:111111111111:role/R",     // IAM is global
		"arn:aws:sts::111111111111:assumed-role/R",      // no session
		"arn:aws:sts::111111111111:federated-user/",     // no name
		"arn:aws:sts::111111111111:federated-user/a/b",  // not a federated user
		"arn:aws:lambda:us-east-1:111111111111:layer:x", // not a function
		"arn:aws",
		"role/",
		"group/devs",
		"S3.AMAZONAWS.COM",
		"my function",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := parseCaller(in)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Arg != "caller" {
				t.Fatalf("parseCaller(%q) = %v, want an *InputError for the caller", in, err)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, name, qual, account, region, apiName string
	}{
		{in: "ProcessorFunction", name: "ProcessorFunction", apiName: "ProcessorFunction"},
		{in: "ProcessorFunction:live", name: "ProcessorFunction", qual: "live", apiName: "ProcessorFunction"},
		{in: "ProcessorFunction:$LATEST", name: "ProcessorFunction", qual: "$LATEST", apiName: "ProcessorFunction"},
		{in: "function:ProcessorFunction:3", name: "ProcessorFunction", qual: "3", apiName: "ProcessorFunction"},
		{in: "111111111111:function:ProcessorFunction", name: "ProcessorFunction", account: "111111111111",
			apiName: "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"},
		{in: "arn:aws:lambda:eu-west-1:111111111111:function:ProcessorFunction:live", name: "ProcessorFunction", qual: "live",
			account: "111111111111", region: "eu-west-1", apiName: "arn:aws:lambda:eu-west-1:111111111111:function:ProcessorFunction"},
		// An alias may be called "function".
		{in: "ProcessorFunction:function", name: "ProcessorFunction", qual: "function", apiName: "ProcessorFunction"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTarget(tt.in)
			if err != nil {
				t.Fatalf("parseTarget: %v", err)
			}
			if got.name != tt.name || got.qualifier != tt.qual || got.account != tt.account || got.region != tt.region {
				t.Errorf("got %+v", got)
			}
			if api := got.apiName("us-east-1"); api != tt.apiName {
				t.Errorf("apiName = %q, want %q", api, tt.apiName)
			}
		})
	}
}

func TestParseTargetRejects(t *testing.T) {
	for _, in := range []string{
		"", "Processor Function", "ProcessorFunction:", "ProcessorFunction:a/b", "function:",
		"111111111111:function:", "arn:aws:lambda:us-east-1:111111111111:layer:L",
		"arn:aws:lambda::111111111111:function:F", "arn:aws:s3:::bucket",
		"a-name-that-is-far-too-long-for-lambda-which-allows-sixty-four-chars",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := parseTarget(in)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Arg != "target" {
				t.Fatalf("parseTarget(%q) = %v, want an *InputError for the target", in, err)
			}
		})
	}
}

func TestDecodeDocument(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b%20c"}]}`
	tests := []struct{ name, in, want string }{
		{"plain JSON is kept byte for byte", doc, doc},
		{"URL-encoded as IAM returns it",
			`%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa%2Bb%2520c%22%7D%5D%7D`,
			doc},
		{"spaces encoded as %20", `%7B%22Version%22%3A%20%222012-10-17%22%7D`, `{"Version": "2012-10-17"}`},
		{"spaces encoded as +", `%7B%22Version%22%3A+%222012-10-17%22%7D`, `{"Version": "2012-10-17"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeDocument(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "not json", "%7Bbroken", "{"} {
		if _, err := decodeDocument(bad); err == nil {
			t.Errorf("decodeDocument(%q) succeeded, want an error", bad)
		}
	}
}

func TestIsReadOperation(t *testing.T) {
	for op, want := range map[string]bool{
		"GetRole": true, "ListAttachedRolePolicies": true, "SimulatePrincipalPolicy": true, "GetCallerIdentity": true,
		"GetPolicy": true, "CreateRole": false, "PutRolePolicy": false, "AddPermission": false, "Invoke": false,
		"DeleteFunction": false, "UpdateFunctionCode": false, "PublishVersion": false, "TagRole": false,
		"AssumeRole": false, "Get": false, "Listen": false, "": false,
		"DescribeOrganization": true, "DescribePolicy": true, "ListParents": true, "ListPoliciesForTarget": true,
		"Describe": false, "Describes": false, "DetachPolicy": false, "AttachPolicy": false, "UpdatePolicy": false,
		"MoveAccount": false, "DisablePolicyType": false,
	} {
		if got := IsReadOperation(op); got != want {
			t.Errorf("IsReadOperation(%q) = %v, want %v", op, got, want)
		}
	}
}
