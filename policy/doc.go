// Package policy is a standalone engine for the IAM policy language and
// AWS's policy evaluation logic: it parses policy documents in every shape
// AWS accepts and returns, matches actions, resources and principals,
// evaluates every condition operator and policy variable, and decides a
// request across the layers AWS applies (SCPs, RCPs, resource policy,
// identity policies, permissions boundary, session policies).
//
// It returns data, not text: the decision in AWS's words, every layer that
// blocks (not only the one an AccessDenied message names), and a trace of
// every statement, saying for each one that did not match which element
// failed and why.
//
//	role := policy.MustParse(`{"Version": "2012-10-17", "Statement": {
//	    "Effect": "Allow", "Action": "lambda:InvokeFunction",
//	    "Resource": "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"}}`)
//	res := policy.Evaluate(&policy.Input{
//	    Request: policy.Request{
//	        Principal: "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
//	        Action:    "lambda:InvokeFunction",
//	        Resource:  "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live",
//	    },
//	    Identity: []policy.Named{{Name: "Inline0", Policy: role}},
//	})
//	fmt.Println(res.Decision, res.BlockedBy) // implicitDeny [identity]
//
// What the engine cannot read it says so, rather than guessing: a statement
// whose only obstacles are conditions it cannot evaluate (an operator newer
// than the engine, a value such as a /33 CIDR or the date 2020-13-45) is
// marked in StatementTrace.Undecidable and evaluated as not matching; with
// Input.AssumeUndecidableMatch it is evaluated as matching, so a caller can
// tell whether such statements decide the outcome. Condition keys that differ
// only in letter case are one key (see Context). Matching takes linear or
// near-linear time in the sizes involved, and Parse, CheckJSON and
// CheckLimits refuse input beyond AWS's own limits with a *LimitError.
//
// The package uses the standard library only.
package policy
