package report

import (
	"fmt"
	"strings"

	"github.com/why-denied/why-denied/diagnose"
)

// The tags that say how a function was deployed: CloudFormation tags every
// resource it creates with its stack and logical ID ("Resource tag"
// in the CloudFormation User Guide: aws:cloudformation:stack-name,
// aws:cloudformation:logical-id, aws:cloudformation:stack-id); SAM adds
// lambda:createdBy=SAM to the functions it creates.
const (
	tagStack     = "aws:cloudformation:stack-name"
	tagLogicalID = "aws:cloudformation:logical-id"
	tagCreatedBy = "lambda:createdBy"
)

// deployment is how the target function was deployed, from its tags.
type deployment struct {
	sam, cloudFormation bool
	stack, logicalID    string
}

func deployedWith(tags map[string]string) deployment {
	d := deployment{stack: tags[tagStack], logicalID: tags[tagLogicalID]}
	d.sam = tags[tagCreatedBy] == "SAM"
	d.cloudFormation = d.sam || d.stack != "" || d.logicalID != ""
	return d
}

// form is one way of writing a fix down: its heading and its lines.
type form struct {
	name    string // "AWS SAM", "CloudFormation", "AWS CLI"
	where   string // where in the template it goes, from fixtext's heading
	text    string
	command bool // lines are shell commands
}

// templateSections splits a fix's CloudFormation text into the snippets
// fixtext writes, each opened by a "# ..." heading line ("# AWS SAM: in
// the calling function's Properties", "# or CloudFormation: in the
// AWS::IAM::Role's Properties", "# CloudFormation / SAM").
func templateSections(cfn string) []form {
	var out []form
	for _, line := range strings.Split(cfn, "\n") {
		if h, ok := strings.CutPrefix(line, "# "); ok {
			h = strings.TrimPrefix(h, "or ")
			name, where, _ := strings.Cut(h, ": ")
			out = append(out, form{name: name, where: where})
			continue
		}
		if len(out) == 0 {
			out = append(out, form{name: "CloudFormation"})
		}
		last := &out[len(out)-1]
		if last.text != "" {
			last.text += "\n"
		}
		last.text += line
	}
	return out
}

// fixForm picks the form of f for a function deployed as d: the SAM
// snippet for a SAM function, the CloudFormation one for a stack's, the
// AWS CLI commands otherwise (or when the fix has no snippet).
func fixForm(f diagnose.Fix, d deployment) form {
	if d.cloudFormation {
		for _, s := range templateSections(f.CloudFormation) {
			if d.sam && strings.Contains(s.name, "SAM") || !d.sam && strings.Contains(s.name, "CloudFormation") {
				return s
			}
		}
	}
	return form{name: "AWS CLI", text: f.CLI, command: true}
}

// templateHint says how the function's own template names the ARN, where
// the tags give its logical ID: the snippets carry literal ARNs, which hold
// in any template, and in the function's stack !GetAtt says the same.
func templateHint(d deployment, t diagnose.TargetInfo) string {
	if d.logicalID == "" || d.stack == "" {
		return ""
	}
	if t.Qualifier != "" {
		return fmt.Sprintf("(in stack %s's template the ARN is !Sub \"${%s.Arn}:%s\")", d.stack, d.logicalID, t.Qualifier)
	}
	return fmt.Sprintf("(in stack %s's template the ARN is !GetAtt %s.Arn)", d.stack, d.logicalID)
}
