package accessdenied

import (
	"regexp"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// placeholderRE matches what people and CI logs put in place of an account
// ID, a name or a whole ARN: ***, xxxx, ####, <id>, <aws-account>,
// {account-id}, [redacted], <> and words such as REDACTED or ACCOUNT_ID.
// "[$LATEST]" in a log stream name is a real name, not a placeholder.
var placeholderRE = regexp.MustCompile(`^(?:\*{3,}|[xX]{3,}|#{3,}|\.{3}|…|<[^<>$]*>|\{[^{}$]*\}|\[[^\[\]$]*\]|` +
	`(?i:redacted|masked|hidden|account-?ids?|accountids?|account_ids?|account-?number|acct-?id|aws-?account(?:-?id)?|my-?account(?:-?id)?|your-?account(?:-?id)?))$`)

// accountServices are the services whose ARNs always carry an account: an
// empty account field in one of them was removed by whoever pasted it. S3
// bucket ARNs and a few global ones legitimately have none.
var accountServices = map[string]bool{"sts": true, "iam": true, "lambda": true, "kms": true, "sns": true, "sqs": true,
	"logs": true, "dynamodb": true, "secretsmanager": true, "ssm": true, "states": true, "events": true,
	"execute-api": true, "cloudwatch": true, "ecr": true, "ec2": true, "organizations": true, "apigateway": false}

// isPlaceholder reports whether a word (a field of an ARN, or a whole ARN)
// stands for something hidden.
func isPlaceholder(s string) bool {
	return placeholderRE.MatchString(unmark(s)) || strings.Contains(s, "***")
}

// redacted reports whether a caller or resource as printed hides part of
// itself: a placeholder for the whole of it or for any field, "..." where
// part was left out, or an account that is masked, not 12 digits, or
// missing where the service always has one. Such a value cannot be looked
// up as printed.
func redacted(s string) bool {
	if s == "" {
		return false
	}
	if isPlaceholder(s) || strings.Contains(s, "...") || strings.Contains(s, "…") {
		return true
	}
	a, ok := arn.Parse(s)
	if !ok {
		return false
	}
	if arn.Masked(s) || a.Account == "" && accountServices[a.Service] {
		return true
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '/' }) {
		if isPlaceholder(f) {
			return true
		}
	}
	return false
}
