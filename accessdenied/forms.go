package accessdenied

import (
	"regexp"
	"strings"

	"github.com/why-denied/why-denied/arn"
	"github.com/why-denied/why-denied/fixtext"
)

// Form is a kind of denial text other than AWS's "... is not authorized to
// perform: ..." sentence. Each is a real denial, explained on its own terms.
type Form string

const (
	// FormKMSEnvironment: Lambda could not decrypt the function's
	// environment variables because KMS denied it ("Lambda was unable to
	// decrypt the environment variables because KMS access was denied"),
	// also relayed by the console as "Calling the invoke API action failed
	// with this message: ...". The function's execution role needs
	// kms:Decrypt on the key, through the key policy or a grant (Lambda
	// Developer Guide, "Securing environment variables").
	FormKMSEnvironment Form = "kmsEnvironment"
	// FormFunctionURL: a function URL's 403 body ({"Message":"Forbidden..."}).
	// Function URLs need both lambda:InvokeFunctionUrl and
	// lambda:InvokeFunction (Lambda Developer Guide, "Control access to
	// function URLs").
	FormFunctionURL Form = "functionUrlForbidden"
	// FormS3Notification: S3 refused a bucket notification configuration
	// ("Unable to validate the following destination configurations", "Not
	// authorized to invoke function [ARN]"): S3 checks that the function's
	// resource-based policy lets s3.amazonaws.com invoke it for this bucket
	// (S3 User Guide, "Granting permissions to invoke an AWS Lambda function").
	FormS3Notification Form = "s3Notification"
	// FormAPIGatewayInvoke: API Gateway could not invoke its Lambda
	// integration ("Lambda invocation failed with status: 403", "Invalid
	// permissions on Lambda function").
	FormAPIGatewayInvoke Form = "apiGatewayInvoke"
	// FormAPIGatewayAuthorizer: API Gateway's authorizer refused the request
	// ("User is not authorized to access this resource", "Unauthorized").
	FormAPIGatewayAuthorizer Form = "apiGatewayAuthorizer"
	// FormAPIGatewayForbidden: API Gateway's bare {"message":"Forbidden"}.
	FormAPIGatewayForbidden Form = "apiGatewayForbidden"
	// FormEncoded: only an encoded authorization failure message (EC2 and
	// others); sts:DecodeAuthorizationMessage reads it.
	FormEncoded Form = "encoded"
	// FormBare: a denial that names nothing ("Access Denied",
	// "AccessDeniedException:" and no text, "You are not authorized to
	// perform this operation.").
	FormBare Form = "bare"
)

var (
	kmsEnvRE = regexp.MustCompile(`(?i)unable to decrypt the environment variables because KMS access was denied`)
	urlRE    = regexp.MustCompile(`(?i:Forbidden\. For troubleshooting Function URL authorization)|"Message":\s*"Forbidden"`)
	s3NotRE  = regexp.MustCompile(`(?i)Unable to validate the following destination configurations|Not authorized to invoke function`)
	// The function S3 names: "Not authorized to invoke function [ARN]" or,
	// in the XML body, "<ArgumentName1>ARN, null</ArgumentName1>".
	s3FunctionRE   = regexp.MustCompile(`(?i)invoke function \[(arn:[^\]\s]+)\]|(arn:[\w-]+:lambda:[^\s,<\]]+)`)
	apiInvokeRE    = regexp.MustCompile(`(?i)Lambda invocation failed with status: 403|Invalid permissions on Lambda function`)
	authorizerRE   = regexp.MustCompile(`(?i)User is not authorized to access this resource|"message":\s*"Unauthorized"`)
	apiForbiddenRE = regexp.MustCompile(`"message":\s*"Forbidden"`)
	// A bare denial: S3's "Access Denied", EC2's sentence, an error code
	// with nothing after it, or the CLI's wrapper around an AccessDenied
	// code. A text that merely mentions the word AccessDenied is not one.
	bareRE = regexp.MustCompile(`(?i)\baccess denied\b|not authorized to perform this operation|` +
		`^\s*[\w.]*(?:AccessDenied|UnauthorizedOperation)\w*:?\s*$|` +
		`An error occurred \([\w.]*(?:AccessDenied|Unauthorized)\w*\) when calling the \w+ operation`)
)

// otherForm recognizes the denial texts that are not AWS's sentence; nil
// when s is none of them.
func otherForm(s string) *Denial {
	switch {
	case kmsEnvRE.MatchString(s):
		return &Denial{Form: FormKMSEnvironment}
	case urlRE.MatchString(s):
		return &Denial{Form: FormFunctionURL}
	case s3NotRE.MatchString(s):
		d := &Denial{Form: FormS3Notification}
		if m := s3FunctionRE.FindStringSubmatch(s); m != nil {
			d.Resource = trimToken(m[1] + m[2])
		}
		return d
	case apiInvokeRE.MatchString(s):
		return &Denial{Form: FormAPIGatewayInvoke}
	case authorizerRE.MatchString(s):
		return &Denial{Form: FormAPIGatewayAuthorizer, Explicit: strings.Contains(strings.ToLower(s), "explicit deny")}
	case apiForbiddenRE.MatchString(s):
		return &Denial{Form: FormAPIGatewayForbidden}
	case encodedRE.MatchString(s):
		return &Denial{Form: FormEncoded}
	case bareRE.MatchString(s):
		return &Denial{Form: FormBare}
	}
	return nil
}

// formReasons say why a denial of each form cannot be diagnosed from the
// text alone.
var formReasons = map[Form]string{
	FormKMSEnvironment:       "the denial is KMS's, relayed by Lambda: why-denied diagnoses calls to Lambda functions, not KMS keys",
	FormFunctionURL:          "a function URL's 403 body names no caller or function",
	FormS3Notification:       "S3's check names no bucket, and its caller is S3 itself",
	FormAPIGatewayInvoke:     "API Gateway's error names no function or API",
	FormAPIGatewayAuthorizer: "the API's authorizer refused the request before any policy of the function was asked",
	FormAPIGatewayForbidden:  "API Gateway's 403 body names no caller or resource",
	FormEncoded:              "the message's details are encoded",
	FormBare:                 "the message names no caller, action or resource",
}

// explainForm explains the denial texts that are not AWS's sentence.
func explainForm(d *Denial) *Meaning {
	q := fixtext.Quote
	m := &Meaning{Message: d}
	fn := "FUNCTION_NAME"
	if unq, qual, ok := arn.Function(d.Resource); ok && !d.Redacted {
		fn = unq
		if qual != "" {
			fn += ":" + qual
		}
	}
	switch d.Form {
	case FormFunctionURL:
		m.Summary = "A function URL refused the request (403 Forbidden). A call through a function URL needs both lambda:InvokeFunctionUrl and lambda:InvokeFunction to be allowed to the caller; with auth type NONE the caller is anonymous and only the function's resource-based policy decides."
		m.LookAt = "the function's resource-based policy: it must allow lambda:InvokeFunctionUrl (with the URL's lambda:FunctionUrlAuthType) and lambda:InvokeFunction (with lambda:InvokedViaFunctionUrl) to the caller, Principal \"*\" for auth type NONE; with auth type AWS_IAM the caller's identity policies must allow both too, and the request must be signed"
		m.NextSteps = []string{
			"aws lambda get-function-url-config --function-name " + q(fn) + "   # AuthType, and the qualifier the URL is for",
			"aws lambda get-policy --function-name " + q(fn),
			"why-denied --action lambda:InvokeFunctionUrl anonymous " + q(fn) + "   # for auth type NONE; for AWS_IAM give the signing role or user as the caller",
		}
	case FormS3Notification:
		m.Summary = "S3 refused the bucket's event notification configuration: before it saves a Lambda destination, S3 checks that the function's resource-based policy lets s3.amazonaws.com invoke it for this bucket, and it does not" + inParens(d.Resource) + "."
		m.LookAt = "the resource-based policy of " + orWord(d.Resource, "the destination function") + ": it needs a statement allowing Principal s3.amazonaws.com lambda:InvokeFunction with aws:SourceArn the bucket's ARN (and aws:SourceAccount the bucket's account). In CloudFormation, SAM or CDK the AWS::Lambda::Permission must be created before the bucket's NotificationConfiguration (DependsOn)"
		m.NextSteps = []string{
			"aws lambda get-policy --function-name " + q(fn),
			"why-denied s3.amazonaws.com " + q(fn) + " --source-arn arn:aws:s3:::BUCKET --source-account ACCOUNT_ID",
			"aws lambda add-permission --function-name " + q(fn) + " --statement-id s3-invoke --action lambda:InvokeFunction --principal s3.amazonaws.com --source-arn arn:aws:s3:::BUCKET --source-account ACCOUNT_ID",
		}
	case FormAPIGatewayInvoke:
		m.Summary = "API Gateway could not invoke its Lambda integration (403 from Lambda): the function's resource-based policy does not allow apigateway.amazonaws.com for this API, or the integration's credentials role may not call lambda:InvokeFunction."
		m.LookAt = "the function's resource-based policy: a statement allowing Principal apigateway.amazonaws.com lambda:InvokeFunction with aws:SourceArn arn:aws:execute-api:REGION:ACCOUNT_ID:API_ID/STAGE/METHOD/PATH (wildcards allowed); or, when the integration has a credentials role, that role's identity policies"
		m.NextSteps = []string{
			"aws apigateway get-integration --rest-api-id API_ID --resource-id RESOURCE_ID --http-method METHOD   # the function's ARN and the credentials role, if any",
			"aws lambda get-policy --function-name " + q(fn),
			"why-denied apigateway.amazonaws.com " + q(fn) + " --source-arn 'arn:aws:execute-api:REGION:ACCOUNT_ID:API_ID/*/METHOD/PATH'",
		}
	case FormAPIGatewayAuthorizer:
		kind := "did not allow"
		if d.Explicit {
			kind = "denied"
		}
		m.Summary = "API Gateway's authorizer " + kind + " the request before it reached the integration: a Lambda authorizer's returned policy (or an IAM, Cognito or JWT authorizer) does not allow this method's execute-api ARN for this caller."
		m.LookAt = "the API's authorizer: the policy a Lambda authorizer returns for this token (its Resource must match arn:aws:execute-api:REGION:ACCOUNT_ID:API_ID/STAGE/METHOD/PATH, and a cached policy is reused for other methods), or the API Gateway resource policy"
		m.NextSteps = []string{
			"aws apigateway get-authorizers --rest-api-id API_ID",
			"aws apigateway test-invoke-authorizer --rest-api-id API_ID --authorizer-id AUTHORIZER_ID --headers Authorization=TOKEN",
			"aws apigateway get-rest-api --rest-api-id API_ID --query policy --output text",
		}
	case FormAPIGatewayForbidden:
		m.Summary = "API Gateway refused the request (403 Forbidden) before any Lambda function was called: a missing or wrong API key, a resource policy that does not allow the caller, a private API called other than through its VPC endpoint, or a WAF rule."
		m.LookAt = "the API Gateway resource policy of the API, its usage plan and API key settings, and for a private API the VPC endpoint used"
		m.NextSteps = []string{
			"aws apigateway get-rest-api --rest-api-id API_ID --query '[policy,endpointConfiguration]'",
			"aws apigateway get-usage-plans --key-id API_KEY_ID",
		}
	case FormEncoded:
		m.Summary = "The denial's details are encoded: only AWS can decode them, and the decoded message names the caller, action, resource and the policy that denied."
		m.LookAt = "the decoded message (needs the sts:DecodeAuthorizationMessage permission)"
		m.NextSteps = []string{
			"aws sts decode-authorization-message --encoded-message " + q(orWord(d.EncodedMessage, "ENCODED")) + " --query DecodedMessage --output text",
			"why-denied explain -   # with the decoded message, if it is about a Lambda function",
		}
	case FormBare:
		m.Summary = "The message says only that access was denied" + inParens(d.ErrorCode) + ": it names no caller, action or resource."
		m.LookAt = "the request in CloudTrail: its record names the caller, the action and the resource (Lambda Invoke is a data event, logged only where the trail logs data events)"
		op := orWord(d.Operation, "OPERATION")
		m.NextSteps = []string{
			"aws sts get-caller-identity   # with the credentials that were denied: the caller",
			"aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=" + q(op) + " --max-results 20   # management events; data events such as Lambda Invoke are only in trails that log them",
			"why-denied explain -   # with the denied CloudTrail record",
		}
	}
	return m
}
