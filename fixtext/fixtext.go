// Package fixtext writes a fix the way a user applies it: as AWS CLI
// commands, shell-quoted, and as SAM/CloudFormation snippets. It decides
// nothing: the diagnosis chooses and verifies the change, this package only
// writes it down. Standard library only.
package fixtext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Quote quotes an argument for a POSIX shell. Values from an account (role
// names, qualifiers, Sids, source ARNs) are chosen by whoever could create
// them, so every value interpolated into a printed command goes through
// Quote: a value of safe characters only is left as it is, anything else is
// single-quoted, with each ' written as '\”.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":/._-=,@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// AccountNote is a comment line naming the account a command is to be run
// in, for calls that cross accounts ("" when account is ""). A comment ends
// at the first newline whatever the quoting, so an account that is not
// plain text (an evidence file can say anything) is written Go-quoted,
// its control characters escaped: it cannot end the comment and start a
// command.
func AccountNote(account, side string) string {
	if account == "" {
		return ""
	}
	if strings.ContainsFunc(account, func(r rune) bool { return r < 0x20 || r == 0x7f || !unicode.IsPrint(r) }) {
		account = strconv.Quote(account)
	}
	return fmt.Sprintf("# with credentials of account %s (the %s)\n", account, side)
}

// notPrinted stands in for a command one of whose values holds a control
// character (a newline, say): no IAM or Lambda name can, so the evidence is
// not what AWS would return, and a command that spans lines or hides text
// is not one to paste into a shell. It is a comment: nothing runs.
const notPrinted = "# command not printed: a value in it holds a control character, which no IAM or Lambda name can; check the evidence"

// printable reports whether every value may go into a printed command.
func printable(values ...string) bool {
	for _, v := range values {
		if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) >= 0 {
			return false
		}
	}
	return true
}

// PutPolicy is the command that writes an inline policy of a role or user:
// aws iam put-role-policy (or put-user-policy) with the whole document.
func PutPolicy(kind, entity, policyName, document string) string {
	if !printable(entity, policyName, document) {
		return notPrinted
	}
	return fmt.Sprintf("aws iam put-%s-policy --%s-name %s --policy-name %s --policy-document %s",
		kind, kind, Quote(entity), Quote(policyName), Quote(document))
}

// CreatePolicyVersion is the command that replaces a managed policy's
// document (a permissions boundary's, say) with the one in file.
func CreatePolicyVersion(policyARN, file string) string {
	if !printable(policyARN, file) {
		return notPrinted
	}
	return fmt.Sprintf("aws iam create-policy-version --policy-arn %s --set-as-default --policy-document %s",
		Quote(policyARN), Quote("file://"+file))
}

// SetDefaultPolicyVersion is the command that makes another version of a
// managed policy its default: for every role, user and group the policy
// is attached to.
func SetDefaultPolicyVersion(policyARN, versionID string) string {
	return fmt.Sprintf("aws iam set-default-policy-version --policy-arn %s --version-id %s", Quote(policyARN), Quote(versionID))
}

// Permission is one statement of a function's resource-based policy, as
// lambda add-permission writes it.
type Permission struct {
	Function    string // function name
	FunctionARN string // unqualified ARN, for templates
	Qualifier   string
	StatementID string
	Action      string
	Principal   string
	// SourceArn and SourceAccount scope a grant to an AWS service.
	SourceArn, SourceAccount string
	// FunctionURLAuthType and InvokedViaFunctionURL are the function URL
	// conditions (lambda:FunctionUrlAuthType, lambda:InvokedViaFunctionUrl).
	FunctionURLAuthType   string
	InvokedViaFunctionURL bool
}

// AddPermission is the aws lambda add-permission command for p.
func AddPermission(p Permission) string {
	if !printable(p.Function, p.Qualifier, p.StatementID, p.Action, p.Principal, p.SourceArn, p.SourceAccount, p.FunctionURLAuthType) {
		return notPrinted
	}
	c := "aws lambda add-permission --function-name " + Quote(p.Function)
	if p.Qualifier != "" {
		c += " --qualifier " + Quote(p.Qualifier)
	}
	c += fmt.Sprintf(" --statement-id %s --action %s --principal %s", Quote(p.StatementID), Quote(p.Action), Quote(p.Principal))
	if p.SourceArn != "" {
		c += " --source-arn " + Quote(p.SourceArn)
	}
	if p.SourceAccount != "" {
		c += " --source-account " + Quote(p.SourceAccount)
	}
	if p.FunctionURLAuthType != "" {
		c += " --function-url-auth-type " + Quote(p.FunctionURLAuthType)
	}
	if p.InvokedViaFunctionURL {
		c += " --invoked-via-function-url"
	}
	return c
}

// PermissionSnippet is p as an AWS::Lambda::Permission resource.
func PermissionSnippet(p Permission) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# CloudFormation / SAM\n%s:\n  Type: AWS::Lambda::Permission\n  Properties:\n", LogicalID(p.StatementID))
	resource := p.FunctionARN
	if p.Qualifier != "" {
		resource += ":" + p.Qualifier
	}
	fmt.Fprintf(&b, "    FunctionName: %s\n    Action: %s\n    Principal: %s", yamlScalar(resource), yamlScalar(p.Action), yamlScalar(p.Principal))
	if p.SourceArn != "" {
		b.WriteString("\n    SourceArn: " + yamlScalar(p.SourceArn))
	}
	if p.SourceAccount != "" {
		b.WriteString("\n    SourceAccount: " + yamlScalar(p.SourceAccount))
	}
	if p.FunctionURLAuthType != "" {
		b.WriteString("\n    FunctionUrlAuthType: " + yamlScalar(p.FunctionURLAuthType))
	}
	if p.InvokedViaFunctionURL {
		b.WriteString("\n    InvokedViaFunctionUrl: true")
	}
	return b.String()
}

// IdentitySnippet writes an Allow statement as a template would: in a SAM
// function's Policies (for the role a function runs as) and in an
// AWS::IAM::Role's or AWS::IAM::User's Policies. Resources are literal
// ARNs; in the function's own template, !GetAtt LOGICAL_ID.Arn (or
// !Sub "${LOGICAL_ID.Arn}:alias") says the same.
func IdentitySnippet(kind, policyName string, actions, resources []string) string {
	var b strings.Builder
	stmt := func(indent string) {
		fmt.Fprintf(&b, "%s- Effect: Allow\n%s  Action:\n", indent, indent)
		for _, a := range actions {
			fmt.Fprintf(&b, "%s    - %s\n", indent, yamlScalar(a))
		}
		fmt.Fprintf(&b, "%s  Resource:\n", indent)
		for _, r := range resources {
			fmt.Fprintf(&b, "%s    - %s\n", indent, yamlScalar(r))
		}
	}
	if kind == "role" {
		b.WriteString("# AWS SAM: in the calling function's Properties\nPolicies:\n  - Statement:\n")
		stmt("      ")
		b.WriteString("# or CloudFormation: in the AWS::IAM::Role's Properties\n")
	} else {
		b.WriteString("# CloudFormation: in the AWS::IAM::User's Properties\n")
	}
	fmt.Fprintf(&b, "Policies:\n  - PolicyName: %s\n    PolicyDocument:\n      Version: \"2012-10-17\"\n      Statement:\n", yamlScalar(policyName))
	stmt("        ")
	return strings.TrimRight(b.String(), "\n")
}

// yamlScalar writes s as a YAML scalar: plain when that reads back as the
// same string, double-quoted otherwise ("*", a value with ": "
// or a leading special character).
func yamlScalar(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":/._-=,@+$*", r))
	}) < 0 && !strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "*") && !strings.HasPrefix(s, ":") && !strings.HasSuffix(s, ":")
	if plain {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// LogicalID turns a name into a CloudFormation logical ID (alphanumeric,
// each word capitalized).
func LogicalID(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 {
		return "Permission"
	}
	return b.String()
}
