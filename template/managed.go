package template

import (
	"encoding/json"
	"strings"
)

// knownAWSManaged are the AWS managed policies whose documents decide
// Lambda calls, or that SAM attaches and grant no lambda: action
// (documents as published in the AWS Managed Policy reference).
func knownAWSManaged(arn string) (json.RawMessage, bool) {
	name := nameOfARN(arn)
	none := `{"Version":"2012-10-17","Statement":[]}`
	docs := map[string]string{
		"AWSLambdaBasicExecutionRole":                 `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`,
		"AWSLambdaRole":                               `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}`,
		"AWSLambda_FullAccess":                        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*"],"Resource":"*"}]}`,
		"AWSDenyAll":                                  `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":"*"}]}`,
		"AdministratorAccess":                         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"AWSXrayWriteOnlyAccess":                      none,
		"AWSLambdaVPCAccessExecutionRole":             none,
		"AWSLambdaSQSQueueExecutionRole":              none,
		"AWSLambdaKinesisExecutionRole":               none,
		"AWSLambdaDynamoDBExecutionRole":              none,
		"AmazonS3ReadOnlyAccess":                      none,
		"AmazonDynamoDBReadOnlyAccess":                none,
		"CloudWatchLambdaInsightsExecutionRolePolicy": none,
	}
	if !strings.Contains(arn, ":iam::aws:policy/") {
		return nil, false
	}
	d, ok := docs[name]
	return json.RawMessage(d), ok
}
