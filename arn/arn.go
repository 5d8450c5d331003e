// Package arn is the one home of Amazon Resource Name handling: splitting an
// ARN into its fields, the Lambda function and IAM entity forms the tool
// reasons about, account IDs, partitions, and the damage a pasted ARN can
// carry (redaction, a terminal wrap). Standard library only.
package arn

import "strings"

// ARN is an Amazon Resource Name split into its six fields. Resource is
// everything after the fifth colon (it may itself contain colons, as in
// function:NAME:QUALIFIER).
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// Parse splits s into its fields. It reports false when s does not start
// with "arn:" or has fewer than six fields.
func Parse(s string) (ARN, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, false
	}
	f, ok := Split(s)
	if !ok {
		return ARN{}, false
	}
	return ARN{Partition: f[1], Service: f[2], Region: f[3], Account: f[4], Resource: f[5]}, true
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Split splits s into six colon-separated fields without allocating; the
// sixth holds the rest. It does not check the "arn" prefix, so that policy
// patterns (ArnLike) split the same way.
func Split(s string) ([6]string, bool) {
	var out [6]string
	n, start := 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		if s[i] == ':' {
			out[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	if n < 5 {
		return out, false
	}
	out[5] = s[start:]
	return out, true
}

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Partition is the partition of an ARN ("aws" when s is not one).
func Partition(s string) string {
	if a, ok := Parse(s); ok && a.Partition != "" {
		return a.Partition
	}
	return "aws"
}

// PartitionOfRegion derives the partition from a region name, for ARNs the
// tool has to build.
func PartitionOfRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	default:
		return "aws"
	}
}

// Function splits a Lambda function ARN into the unqualified ARN and the
// qualifier ("" when unqualified).
func Function(s string) (unqualified, qualifier string, ok bool) {
	a, isARN := Parse(s)
	if !isARN || a.Service != "lambda" || !strings.HasPrefix(a.Resource, "function:") {
		return "", "", false
	}
	name := strings.TrimPrefix(a.Resource, "function:")
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name, qualifier = name[:i], name[i+1:]
	}
	a.Resource = "function:" + name
	return a.String(), qualifier, true
}

// FunctionName is the name of the function an ARN names ("" when it names
// none).
func FunctionName(s string) string {
	unq, _, ok := Function(s)
	if !ok {
		return ""
	}
	return unq[strings.LastIndexByte(unq, ':')+1:]
}

// Entity splits an IAM role or user ARN (arn:aws:iam::A:role/PATH/NAME)
// into "role" or "user" and its name, without the path.
func Entity(s string) (kind, name string, ok bool) {
	a, isARN := Parse(s)
	if !isARN || a.Service != "iam" {
		return "", "", false
	}
	kind, rest, found := strings.Cut(a.Resource, "/")
	if !found || (kind != "role" && kind != "user") || rest == "" {
		return "", "", false
	}
	return kind, rest[strings.LastIndexByte(rest, '/')+1:], true
}

// SessionRole is the role name of an assumed-role session ARN
// (arn:aws:sts::A:assumed-role/ROLE/SESSION).
func SessionRole(s string) (role string, ok bool) {
	a, isARN := Parse(s)
	if !isARN || a.Service != "sts" {
		return "", false
	}
	rest, found := strings.CutPrefix(a.Resource, "assumed-role/")
	if !found {
		return "", false
	}
	role, _, _ = strings.Cut(rest, "/")
	return role, role != ""
}

// ServiceLinkedRole reports whether a role ARN names a service-linked role:
// AWS creates them under the path /aws-service-role/, named
// AWSServiceRoleFor... (IAM User Guide, "Using service-linked roles").
func ServiceLinkedRole(s string) bool {
	kind, name, ok := Entity(s)
	if !ok || kind != "role" {
		return false
	}
	a, _ := Parse(s)
	return strings.HasPrefix(a.Resource, "role/aws-service-role/") || strings.HasPrefix(name, "AWSServiceRoleFor")
}

// Masked reports whether an ARN as printed hides or mangles its account:
// "***" anywhere (CI log masking), or an account that is neither 12 digits,
// nor empty (S3), nor "aws" (AWS managed), nor a wildcard. Such an ARN
// cannot be looked up or compared as printed.
func Masked(s string) bool {
	if strings.Contains(s, "***") {
		return true
	}
	a, ok := Parse(s)
	if !ok {
		return false
	}
	switch acct := a.Account; {
	case acct == "", acct == "aws", acct == "*", IsAccountID(acct):
		return false
	}
	return true
}

// CutOff reports whether an ARN ends before its last field, as when a
// terminal wrapped a message and the paste kept the break: any ARN has at
// least six fields, a Lambda function's or layer's seven
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME), and one that ends in ':',
// '-' or '/' was cut inside a field, except a log stream's ARN, which ends
// in ":log-stream:".
func CutOff(s string) bool {
	if !strings.HasPrefix(s, "arn:") {
		return false
	}
	f := strings.Split(s, ":")
	switch {
	case len(f) < 6:
		return true
	case f[2] == "lambda" && (f[5] == "function" || f[5] == "layer") && len(f) < 7:
		return true
	case strings.HasSuffix(s, ":log-stream:"):
		return false
	}
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, "-") || strings.HasSuffix(s, "/")
}
