package policy_test

import (
	"fmt"

	"github.com/why-denied/why-denied/policy"
)

// A role allowed to invoke a function's unqualified ARN is denied when it
// invokes an alias: the ARN with a qualifier is a different resource.
func ExampleEvaluate() {
	role := policy.MustParse(`{"Version": "2012-10-17", "Statement": {
		"Effect": "Allow", "Action": "lambda:InvokeFunction",
		"Resource": "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"}}`)
	res := policy.Evaluate(&policy.Input{
		Request: policy.Request{
			Principal: "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
			Action:    "lambda:InvokeFunction",
			Resource:  "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live",
		},
		Identity: []policy.Named{{Name: "Inline0", Policy: role}},
	})
	fmt.Println(res.Decision, res.BlockedBy)
	f := res.Layer(policy.LayerIdentity).Statements[0].FirstFailure()
	fmt.Println(f.Element, f.Values, "does not cover", f.Got)
	// Output:
	// implicitDeny [identity]
	// Resource [arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction] does not cover arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live
}

// A resource policy that grants a service principal does not apply to a role
// session, and in one account the identity policy alone suffices.
func ExampleEvaluate_servicePrincipalPermission() {
	resource := policy.MustParse(`{"Version": "2012-10-17", "Statement": [{
		"Sid": "AllowLambda", "Effect": "Allow",
		"Principal": {"Service": "lambda.amazonaws.com"},
		"Action": "lambda:InvokeFunction",
		"Resource": "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction",
		"Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:lambda:us-east-1:111111111111:function:RequestFunction"}}}]}`)
	res := policy.Evaluate(&policy.Input{
		Request: policy.Request{
			Principal: "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
			Action:    "lambda:InvokeFunction",
			Resource:  "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction",
		},
		Resource: &policy.Named{Name: "function policy", Policy: resource},
	})
	st := res.Layer(policy.LayerResource).Statements[0]
	fmt.Println(res.Decision, res.BlockedBy)
	p, c := st.Failures[0], st.Failures[1].Condition
	fmt.Println(p.Element, p.Values)
	fmt.Println(c.Operator, c.Key, "present in request:", c.KeyPresent)
	// Output:
	// implicitDeny [identity]
	// Principal [Service:lambda.amazonaws.com]
	// ArnLike AWS:SourceArn present in request: false
}
