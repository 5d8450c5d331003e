package accessdenied

import (
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/fixtext"
)

// governor is the resource-side policy of the resource a message names:
// what it is called, how to read it, and the account that owns it.
type governor struct {
	// what names the resource ("KMS key K"); policy the policy that governs
	// it ("the key policy of KMS key K and its grants").
	what, policy string
	// read are the commands that show the policy, values quoted.
	read []string
	// account owns the resource; "" when the ARN does not say (S3).
	account string
	// function is true for a Lambda function, the one resource why-denied
	// diagnoses in full.
	function bool
}

// governorOf says which policy governs the resource of a message (IAM User
// Guide, "AWS services that work with IAM", the resource-based policies
// column; each service's guide for its read command). The action decides
// for a role: sts:AssumeRole* is governed by the role's trust policy.
func governorOf(d *Denial) governor {
	q := fixtext.Quote
	res := d.Resource
	if strings.HasPrefix(res, "role ") {
		// IAM prints "role NAME".
		res = "arn:aws:iam:::role/" + strings.TrimPrefix(res, "role ")
	}
	a, ok := arn.Parse(res)
	if !ok {
		return governor{what: orWord(d.Resource, "the resource"), policy: "the resource's resource-based policy, if its service has them"}
	}
	g := governor{account: a.Account}
	switch {
	case a.Service == "lambda" && strings.HasPrefix(a.Resource, "function:"):
		unq, qual, _ := arn.Function(res)
		g.function = true
		g.what = "function " + res
		g.policy = "the function's resource-based policy (for the qualifier called)"
		cmd := "aws lambda get-policy --function-name " + q(unq)
		if qual != "" {
			cmd += " --qualifier " + q(qual)
		}
		g.read = []string{cmd}
	case a.Service == "lambda" && strings.HasPrefix(a.Resource, "layer:"):
		// arn:aws:lambda:R:A:layer:NAME:VERSION; the policy is per version
		// (Lambda Developer Guide, "Layer access").
		f := strings.Split(a.Resource, ":")
		g.what = "Lambda layer " + res
		g.policy = "the layer version's permissions policy (its layer version policy)"
		layer := strings.TrimSuffix(res, ":"+f[len(f)-1])
		version := f[len(f)-1]
		if len(f) < 3 {
			layer, version = res, "VERSION"
		}
		g.read = []string{"aws lambda get-layer-version-policy --layer-name " + q(layer) + " --version-number " + q(version) + regionFlag(a.Region)}
	case a.Service == "kms":
		// A key's access is its key policy plus its grants; IAM policies
		// count only where the key policy lets the account delegate (KMS
		// Developer Guide, "Key policies in AWS KMS").
		g.what = "KMS key " + res
		g.policy = "the key policy of KMS key " + res + " and its grants (IAM policies count only where the key policy lets them)"
		key := res
		if strings.HasPrefix(a.Resource, "alias/") {
			g.read = append(g.read, "aws kms describe-key --key-id "+q(res)+" --query KeyMetadata.Arn --output text   # the key the alias points to")
			key = "KEY_ARN"
		}
		g.read = append(g.read,
			"aws kms get-key-policy --key-id "+q(key)+" --policy-name default --output text",
			"aws kms list-grants --key-id "+q(key))
	case a.Service == "s3" && strings.HasPrefix(a.Resource, "accesspoint/"):
		name := strings.TrimPrefix(a.Resource, "accesspoint/")
		name, _, _ = strings.Cut(name, "/")
		g.what = "S3 access point " + name
		g.policy = "the access point policy of " + name + " and the bucket policy, which must also allow the call or delegate it to access points"
		g.read = []string{"aws s3control get-access-point-policy --account-id " + q(orWord(a.Account, "ACCOUNT_ID")) + " --name " + q(name) + regionFlag(a.Region)}
	case a.Service == "s3":
		bucket, _, _ := strings.Cut(a.Resource, "/")
		g.what = "S3 bucket " + bucket
		g.policy = "the bucket policy of " + bucket + " (and, for objects, the object's owner and ACL; a KMS-encrypted object also needs the key's policy)"
		g.read = []string{"aws s3api get-bucket-policy --bucket " + q(bucket) + " --query Policy --output text"}
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/") && strings.HasPrefix(strings.ToLower(d.Action), "sts:"):
		name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
		g.what = "role " + name
		g.policy = "the trust policy (AssumeRolePolicyDocument) of role " + name
		g.read = []string{"aws iam get-role --role-name " + q(name) + " --query Role.AssumeRolePolicyDocument"}
	case a.Service == "execute-api":
		// arn:aws:execute-api:R:A:API_ID/STAGE/METHOD/PATH.
		api, _, _ := strings.Cut(a.Resource, "/")
		g.what = "API Gateway API " + api
		g.policy = "the API Gateway resource policy of REST API " + api
		g.read = []string{"aws apigateway get-rest-api --rest-api-id " + q(api) + regionFlag(a.Region) + " --query policy --output text"}
	default:
		g.what = res
		g.policy = "the resource-based policy of " + res + ", if " + orWord(a.Service, "its service") + " has them (each service has its own command to read it)"
	}
	return g
}

// regionFlag is " --region R" for the region of an ARN, "" when it has none.
func regionFlag(region string) string {
	if region == "" {
		return ""
	}
	return " --region " + fixtext.Quote(region)
}
