package main

// Tests for the wrong verdicts listed in issue 8 (one evaluation, one
// verdict) and issue 9 (items 3, 4, 5, 8, 9), run black box through the
// command on evidence files under testdata/defects: what a user reads in
// the exit code, the table's first line and rows, and the -o json fields
// scripts rely on (README, "JSON output").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
)

// defectVerdict is the -o json output, decoded independently of the Go
// types that produce it, with the fields these tests assert.
type defectVerdict struct {
	Decision      string   `json:"decision"`
	BlockedBy     []string `json:"blockedBy"`
	UnknownLayers []string `json:"unknownLayers"`
	DependsOn     []string `json:"dependsOn"`
	Summary       string   `json:"summary"`
	Layers        []struct {
		Layer  string `json:"layer"`
		Result string `json:"result"`
		Blocks bool   `json:"blocks"`
		Note   string `json:"note"`
	} `json:"layers"`
	Findings []defectFinding `json:"findings"`
}

type defectFinding struct {
	Kind     string      `json:"kind"`
	Severity string      `json:"severity"`
	Layer    string      `json:"layer"`
	Message  string      `json:"message"`
	Fixes    []defectFix `json:"fixes"`
}

type defectFix struct {
	Description string         `json:"description"`
	Statement   string         `json:"statement"`
	CLI         string         `json:"cli"`
	Changes     []defectChange `json:"changes"`
	Verified    bool           `json:"verified"`
}

type defectChange struct {
	Layer     string          `json:"layer"`
	Kind      string          `json:"kind"`
	Policy    string          `json:"policy"`
	Statement int             `json:"statement"`
	Document  json.RawMessage `json:"document"`
}

// layerWant is what one row of the verdict must say; an empty result is
// not checked.
type layerWant struct {
	result string
	blocks bool
}

// findingWant is a finding that must be present: its kind, severity and
// phrases of its message.
type findingWant struct {
	kind, severity string
	phrases        []string
}

type defectCase struct {
	name string
	// description says what the evidence holds and why the expectation
	// follows (the evidence format has no room for comments).
	description string
	file        string
	// explain, when set, runs `explain --from-snapshot FILE MESSAGE`.
	explain string

	decision      string
	blockedBy     []string
	unknownLayers []string
	dependsOn     []string
	layers        map[string]layerWant
	findings      []findingWant
	// noPhrases must not appear in any finding message (case-insensitive).
	noPhrases []string
	noKinds   []string
	// check asserts the fixes that must be there, and anything else.
	check func(t *testing.T, v defectVerdict, stdout string)
}

const (
	defectFunction = "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"
	defectSession  = "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction"
	scpDenyMessage = "An error occurred (AccessDeniedException) when calling the Invoke operation: User: " + defectSession +
		" is not authorized to perform: lambda:InvokeFunction on resource: " + defectFunction +
		" with an explicit deny in a service control policy"
)

var defectCases = []defectCase{
	// Issue 8 item 1.
	{
		name:        "i8-01/explain-scp-deny-without-simulation",
		description: "identity Allow, no organization and no simulation: the pasted message says an SCP explicitly denies; the message is the authority on the layer the tool cannot read",
		file:        "i8-01-scp-deny-message-no-simulation.json",
		explain:     scpDenyMessage,
		decision:    "explicitDeny", blockedBy: []string{"scp"},
		layers: map[string]layerWant{"scp": {blocks: true}, "identity": {result: "allows"}},
	},
	{
		name:        "i8-01/explain-scp-deny-simulation-silent-on-scps",
		description: "identity Allow; the simulator answered allowed with no OrganizationsDecisionDetail (organization unknown); the message says an SCP explicitly denies",
		file:        "i8-01-scp-deny-message-simulation-silent-on-scps.json",
		explain:     scpDenyMessage,
		decision:    "explicitDeny", blockedBy: []string{"scp"},
		layers: map[string]layerWant{"scp": {blocks: true}},
	},
	// Issue 8 item 2.
	{
		name:        "i8-02/url-call-invokefunction-missing-unrelated-sourceip",
		description: "function URL (AWS_IAM) call; the identity policy allows only lambda:InvokeFunctionUrl, and an s3:GetObject statement has an aws:SourceIp condition that cannot matter to this call",
		file:        "i8-02-url-only-invokefunctionurl-unrelated-sourceip.json",
		decision:    "implicitDeny", blockedBy: []string{"identity"},
		layers: map[string]layerWant{"identity": {blocks: true}},
		check: func(t *testing.T, v defectVerdict, _ string) {
			invokeFunction := regexp.MustCompile(`lambda:InvokeFunction([^U]|$)`)
			if !slices.ContainsFunc(v.Findings, func(f defectFinding) bool {
				return f.Severity == "blocking" && invokeFunction.MatchString(f.Message)
			}) {
				t.Errorf("no blocking finding names lambda:InvokeFunction (the leg that is not allowed); findings:\n%s", describeFindings(v))
			}
			wantFix(t, v, "an identity grant of lambda:InvokeFunction", func(f defectFix) bool {
				return hasChange(f, func(c defectChange) bool {
					return c.Layer == "identity" && c.Kind == "addStatement" && slices.Contains(statementActions(c.Document), "lambda:invokefunction")
				})
			})
		},
	},
	// Issue 8 item 3.
	{
		name:        "i8-03/url-call-invokefunction-identity-deny",
		description: "function URL (AWS_IAM) call; identity allows both actions, and another identity policy denies lambda:InvokeFunction",
		file:        "i8-03-url-invokefunction-identity-deny.json",
		decision:    "explicitDeny", blockedBy: []string{"identity"},
		layers:    map[string]layerWant{"identity": {result: "denies", blocks: true}},
		noPhrases: []string{"no identity-based policy allows", "implicitDeny"},
	},
	{
		name:        "i8-03/url-call-invokefunction-scp-deny",
		description: "function URL (AWS_IAM) call; identity allows both actions; the account's SCP denies lambda:InvokeFunction",
		file:        "i8-03-url-invokefunction-scp-deny.json",
		decision:    "explicitDeny", blockedBy: []string{"scp"},
		layers:    map[string]layerWant{"scp": {result: "denies", blocks: true}},
		noPhrases: []string{"no identity-based policy allows", "implicitDeny"},
	},
	// Issue 8 item 4.
	{
		name:        "i8-04a/cross-account-url-two-resource-statements",
		description: "cross-account function URL (AWS_IAM) call, identity allows both actions, the function has no resource policy: it must gain the InvokeFunctionUrl and the InvokeFunction statement, in one fix",
		file:        "i8-04a-cross-account-url-no-resource-policy.json",
		decision:    "implicitDeny", blockedBy: []string{"resource"},
		layers: map[string]layerWant{"resource": {blocks: true}, "identity": {result: "allows"}},
		check:  wantBothURLResourceStatements,
	},
	{
		name:        "i8-04b/cross-account-resource-deny-exemption-and-grant",
		description: "cross-account call; the resource policy denies every principal but the owner's deploy roles and grants nothing: a fix needs the exemption in the Deny and a grant",
		file:        "i8-04b-cross-account-resource-deny-and-no-grant.json",
		decision:    "explicitDeny", blockedBy: []string{"resource"},
		layers: map[string]layerWant{"resource": {result: "denies", blocks: true}},
		check: func(t *testing.T, v defectVerdict, _ string) {
			wantFix(t, v, "the resource Deny's exemption and a resource grant, together", func(f defectFix) bool {
				exempt := hasChange(f, func(c defectChange) bool {
					return c.Layer == "resource" && c.Kind == "addCondition" && c.Statement == 0
				})
				grant := hasChange(f, func(c defectChange) bool {
					return c.Layer == "resource" && c.Kind == "addStatement" && slices.Contains(statementActions(c.Document), "lambda:invokefunction") &&
						strings.Contains(string(c.Document), "222222222222")
				})
				return exempt && grant
			})
		},
	},
	{
		name:        "i8-04c/cross-account-url-gets-a-resource-fix",
		description: "cross-account function URL call; the resource policy grants the caller's role only lambda:InvokeFunctionUrl: the fix adds the InvokeFunction statement with lambda:InvokedViaFunctionUrl",
		file:        "i8-04c-cross-account-url-only-url-grant.json",
		decision:    "implicitDeny", blockedBy: []string{"resource"},
		layers: map[string]layerWant{"resource": {blocks: true}},
		check: func(t *testing.T, v defectVerdict, _ string) {
			wantFix(t, v, "a resource statement for lambda:InvokeFunction via the function URL", func(f defectFix) bool {
				return hasChange(f, func(c defectChange) bool {
					return c.Layer == "resource" && c.Kind == "addStatement" && slices.Contains(statementActions(c.Document), "lambda:invokefunction") &&
						strings.Contains(strings.ToLower(string(c.Document)), "lambda:invokedviafunctionurl")
				})
			})
		},
	},
	// Issue 8 item 5 (the awsclient-independent part: a layer listed as
	// unreadable while its policy is in the evidence).
	{
		name:        "i8-05/resource-policy-read-getpolicy-refused",
		description: "the resource policy was read (GetResourcePolicy) and grants the role; lambda:GetPolicy for the same policy was refused and is listed as unreadable",
		file:        "i8-05-resource-policy-read-getpolicy-refused.json",
		decision:    "allowed",
		layers:      map[string]layerWant{"resource": {result: "allows"}},
	},
	// Issue 8 item 6.
	{
		name:        "i8-06/simulator-scp-implicit-deny-root-grant",
		description: "identity Allow; the resource policy grants only the account root; the simulator answered implicitDeny with allowedByOrganizations false",
		file:        "i8-06-simulator-scp-implicit-deny-root-grant.json",
		decision:    "implicitDeny", blockedBy: []string{"scp"},
		layers:  map[string]layerWant{"scp": {blocks: true}},
		noKinds: []string{"simulatorDisagrees"},
	},
	// Issue 8 item 8.
	{
		name:        "i8-08/three-blocking-layers-one-fix",
		description: "identity, permissions boundary and session policy each allow only s3:GetObject: one fix covers the three, and its statement is the documents after the change, not nested lists",
		file:        "i8-08-three-blocking-layers.json",
		decision:    "implicitDeny", blockedBy: []string{"identity", "permissionsBoundary", "sessionPolicy"},
		check: func(t *testing.T, v defectVerdict, _ string) {
			f := wantFix(t, v, "one fix changing identity, boundary and session policy", func(f defectFix) bool {
				return hasChange(f, func(c defectChange) bool { return c.Layer == "identity" }) &&
					hasChange(f, func(c defectChange) bool { return c.Layer == "permissionsBoundary" }) &&
					hasChange(f, func(c defectChange) bool { return c.Layer == "sessionPolicy" })
			})
			if f != nil {
				wantWholeDocuments(t, *f)
			}
		},
	},
	{
		name:        "i8-08/boundary-fix-statement-is-the-document",
		description: "identity Allow; the boundary allows logs:* and dynamodb:*: the fix's statement is the boundary document after the change",
		file:        "i8-08-boundary-fix-document.json",
		decision:    "implicitDeny", blockedBy: []string{"permissionsBoundary"},
		check: func(t *testing.T, v defectVerdict, _ string) {
			f := wantFix(t, v, "a boundary fix", func(f defectFix) bool {
				return hasChange(f, func(c defectChange) bool { return c.Layer == "permissionsBoundary" })
			})
			if f != nil {
				wantWholeDocuments(t, *f, "dynamodb:*")
			}
		},
	},
	{
		name:        "i8-08/resource-fix-statement-is-the-document",
		description: "cross-account call; the resource policy has an S3 grant: the fix's statement is the resource policy after the change, with the S3 grant kept",
		file:        "i8-08-resource-fix-document.json",
		decision:    "implicitDeny", blockedBy: []string{"resource"},
		check: func(t *testing.T, v defectVerdict, _ string) {
			f := wantFix(t, v, "a resource fix", func(f defectFix) bool {
				return hasChange(f, func(c defectChange) bool { return c.Layer == "resource" })
			})
			if f != nil {
				wantWholeDocuments(t, *f, "S3Invoke")
			}
		},
	},
	{
		name:        "i8-08/deny-exemption-statement-is-the-document",
		description: "identity Allow and, in the same policy, a Deny unless tagged team=deploy; the caller is tagged web: the exemption fix's statement is the whole policy after the change",
		file:        "i8-08-deny-exemption-document.json",
		decision:    "explicitDeny", blockedBy: []string{"identity"},
		check: func(t *testing.T, v defectVerdict, _ string) {
			f := wantFix(t, v, "a Deny exemption", func(f defectFix) bool {
				return hasChange(f, func(c defectChange) bool { return c.Kind == "addCondition" })
			})
			if f != nil {
				wantWholeDocuments(t, *f, "NoInvokeOutsideDeploy", "StringNotEquals")
			}
		},
	},
	// Issue 8 item 10.
	{
		name:        "i8-10/alias-warning-unqualified-resource",
		description: "unqualified call allowed by an identity Resource naming only the unqualified ARN: qualified calls would be denied, whatever the alias is called",
		file:        "i8-10-unqualified-allowed-unqualified-resource.json",
		decision:    "allowed",
		findings:    []findingWant{{kind: "qualifiedCallsDenied", severity: "warning"}},
		check:       wantNoLiveAlias,
	},
	{
		name:        "i8-10/alias-warning-not-only-live",
		description: "unqualified call allowed by an identity Resource naming the unqualified ARN and :live only: a call to a version (or any other alias) is still denied, so the warning stands",
		file:        "i8-10-unqualified-allowed-unqualified-and-live.json",
		decision:    "allowed",
		findings:    []findingWant{{kind: "qualifiedCallsDenied", severity: "warning"}},
	},
	{
		name:        "i8-10/aws-cn-s3-grant-names-bucket-only",
		description: "aws-cn partition: S3 calls a function whose grant names the bucket (arn:aws-cn:s3:::) but not its account: the unscoped-grant warning applies there too",
		file:        "i8-10-aws-cn-s3-grant-names-bucket-only.json",
		decision:    "allowed",
		findings:    []findingWant{{kind: "unscopedServiceGrant", severity: "warning", phrases: []string{"aws:SourceAccount"}}},
		check:       wantNoAWSPartitionS3,
	},
	{
		name:        "i8-10/aws-cn-s3-other-bucket-fix",
		description: "aws-cn partition: S3 (bucket uploads-prod) calls a function whose grant names uploads-staging: the fix names arn:aws-cn:s3:::uploads-prod",
		file:        "i8-10-aws-cn-s3-other-bucket.json",
		decision:    "implicitDeny", blockedBy: []string{"resource"},
		check: func(t *testing.T, v defectVerdict, stdout string) {
			wantNoAWSPartitionS3(t, v, stdout)
			wantFix(t, v, "a resource grant for arn:aws-cn:s3:::uploads-prod", func(f defectFix) bool {
				return strings.Contains(f.CLI, "arn:aws-cn:s3:::uploads-prod") && hasChange(f, func(c defectChange) bool {
					return c.Layer == "resource" && strings.Contains(string(c.Document), "arn:aws-cn:s3:::uploads-prod")
				})
			})
		},
	},
	{
		name:        "i8-10/put-role-policy-document-shell-quoted",
		description: "the role's inline policy why-denied-ProcessorFunction (the name the fix writes to) has a resource containing ' (arn:aws:s3:::reports/it's-q3/*); the fix merges into it and prints put-role-policy with the whole document",
		file:        "i8-10-put-role-policy-quote-in-document.json",
		decision:    "implicitDeny", blockedBy: []string{"identity"},
		check: wantPutRolePolicyQuoted,
	},
	// Issue 9 item 3.
	{
		name:        "i9-03/notprincipal-deny-role-and-root-session-denied",
		description: "resource policy Deny with NotPrincipal [role ARN, account root]: the session ARN is not listed, so the session is denied (IAM User Guide, NotPrincipal)",
		file:        "i9-03-notprincipal-deny-role-and-root.json",
		decision:    "explicitDeny", blockedBy: []string{"resource"},
		layers:   map[string]layerWant{"resource": {result: "denies", blocks: true}},
		findings: []findingWant{{severity: "blocking", phrases: []string{"OnlyRequestRole"}}},
	},
	// Issue 9 item 4.
	{
		name:        "i9-04/federated-user-without-session-policy",
		description: "federated user session (GetFederationToken without a policy: sessionPolicies []), the IAM user's identity policy allows: such credentials have no permissions",
		file:        "i9-04-federated-no-session-policy.json",
		decision:    "implicitDeny", blockedBy: []string{"sessionPolicy"},
		layers:   map[string]layerWant{"sessionPolicy": {blocks: true}, "identity": {result: "allows"}},
		findings: []findingWant{{severity: "blocking", phrases: []string{"session policy"}}},
	},
	{
		name:        "i9-04/federated-user-session-policy-allows",
		description: "federated user session with a session policy that allows, identity Allow",
		file:        "i9-04-federated-session-policy-allows.json",
		decision:    "allowed",
		layers:      map[string]layerWant{"sessionPolicy": {result: "allows"}},
	},
	{
		name:        "i9-04/federated-user-session-policies-unknown",
		description: "federated user session whose session policies cannot be read back (sessionPoliciesUnknown): the session policy decides and is unknown",
		file:        "i9-04-federated-session-policies-unknown.json",
		decision:    "unknown", unknownLayers: []string{"sessionPolicy"},
	},
	{
		name:        "i9-04/federated-user-resource-policy-names-session",
		description: "same account, no identity policy, no session policy: the resource policy names the federated-user ARN, which grants the session directly",
		file:        "i9-04-federated-resource-policy-names-session.json",
		decision:    "allowed",
		layers:      map[string]layerWant{"resource": {result: "allows"}},
	},
	// Issue 9 item 5.
	{
		name:        "i9-05/service-linked-role-by-path-and-name",
		description: "role under /aws-service-role/ named AWSServiceRoleForOps, no serviceLinkedRole flag; the account's SCP denies lambda:*: SCPs do not restrict service-linked roles",
		file:        "i9-05-service-linked-role-path-and-name.json",
		decision:    "allowed",
		layers:      map[string]layerWant{"scp": {blocks: false}},
	},
	{
		name:        "i9-05/service-linked-role-by-path",
		description: "role under /aws-service-role/ with another name, no serviceLinkedRole flag; the account's SCP denies lambda:*",
		file:        "i9-05-service-linked-role-path-only.json",
		decision:    "allowed",
		layers:      map[string]layerWant{"scp": {blocks: false}},
	},
	// Issue 9 item 8.
	{
		name:        "i9-08/unknown-unreadable-identity",
		description: "the only identity policy could not be read, no simulation, no resource policy: unknown on identity",
		file:        "i9-08-unknown-unreadable-identity.json",
		decision:    "unknown", unknownLayers: []string{"identity"},
	},
	{
		name:        "i9-08/unknown-depends-on-sourceip",
		description: "the identity Allow holds only from 10.0.0.0/8 and the caller's address is not known",
		file:        "i9-08-unknown-depends-on-sourceip.json",
		decision:    "unknown", dependsOn: []string{"aws:SourceIp"},
	},
	// Issue 9 item 9.
	{
		name:        "i9-09/deny-after-2020",
		description: "Allow plus Deny DateGreaterThan aws:CurrentTime 2020-01-01, request.at 2026",
		file:        "i9-09-deny-after-2020.json",
		decision:    "explicitDeny", blockedBy: []string{"identity"},
		layers: map[string]layerWant{"identity": {result: "denies", blocks: true}},
	},
	{
		name:        "i9-09/allow-until-2030-at-2026",
		description: "Allow DateLessThan aws:CurrentTime 2030-01-01, request.at 2026",
		file:        "i9-09-allow-until-2030-at-2026.json",
		decision:    "allowed",
	},
	{
		name:        "i9-09/allow-until-2030-at-2031",
		description: "Allow DateLessThan aws:CurrentTime 2030-01-01, request.at 2031",
		file:        "i9-09-allow-until-2030-at-2031.json",
		decision:    "implicitDeny", blockedBy: []string{"identity"},
	},
	{
		name:        "i9-09/epoch-allow-until-2030-at-2026",
		description: "Allow NumericLessThan aws:EpochTime 1893456000 (2030-01-01), request.at 2026",
		file:        "i9-09-epoch-allow-until-2030-at-2026.json",
		decision:    "allowed",
	},
	{
		name:        "i9-09/deny-unless-office-ip",
		description: "Allow plus Deny NotIpAddress aws:SourceIp 203.0.113.7/32; the caller's address is not known",
		file:        "i9-09-deny-unless-office-ip.json",
		decision:    "unknown", dependsOn: []string{"aws:SourceIp"},
	},
}

func TestDefectVerdicts(t *testing.T) {
	for _, c := range defectCases {
		t.Run(c.name, func(t *testing.T) {
			t.Log(c.description)
			path := filepath.Join("testdata", "defects", c.file)
			args := []string{"--from-snapshot", path}
			if c.explain != "" {
				args = []string{"explain", "--from-snapshot", path, c.explain}
			}
			js := runOffline(t, append(slices.Clone(args), "-o", "json")...)
			var v defectVerdict
			if err := json.Unmarshal([]byte(js.stdout), &v); err != nil {
				t.Fatalf("-o json output is not a verdict: %v\n%s", err, js)
			}
			table := runOffline(t, args...)

			if v.Decision != c.decision {
				t.Errorf("decision %s, want %s (summary %q)", v.Decision, c.decision, v.Summary)
			}
			wantLayerSet(t, "blockedBy", v.BlockedBy, c.blockedBy)
			wantLayerSet(t, "unknownLayers", v.UnknownLayers, c.unknownLayers)
			wantLayerSet(t, "dependsOn", v.DependsOn, c.dependsOn)
			for name, want := range c.layers {
				got, ok := verdictLayer(v, name)
				switch {
				case !ok:
					t.Errorf("no %s row in the verdict", name)
				case want.result != "" && got.Result != want.result:
					t.Errorf("%s row: result %s, want %s (note %q)", name, got.Result, want.result, got.Note)
				case got.Blocks != want.blocks:
					t.Errorf("%s row: blocks %v, want %v", name, got.Blocks, want.blocks)
				}
			}
			for _, w := range c.findings {
				if !slices.ContainsFunc(v.Findings, func(f defectFinding) bool { return matchesFinding(f, w) }) {
					t.Errorf("no finding %+v; findings:\n%s", w, describeFindings(v))
				}
			}
			for _, f := range v.Findings {
				for _, p := range c.noPhrases {
					if strings.Contains(strings.ToLower(f.Message), strings.ToLower(p)) {
						t.Errorf("finding %s says %q, which contradicts the verdict: %s", f.Kind, p, f.Message)
					}
				}
				if slices.Contains(c.noKinds, f.Kind) {
					t.Errorf("unexpected finding %s: %s", f.Kind, f.Message)
				}
			}
			oneStory(t, v, js, table)
			if c.check != nil {
				c.check(t, v, js.stdout+table.stdout)
			}
			if t.Failed() {
				t.Logf("json run:\n%s", js)
			}
		})
	}
}

// oneStory checks that the exit code, the summary, the table's first line
// and rows, blockedBy and the findings agree with the decision.
func oneStory(t *testing.T, v defectVerdict, js, table result) {
	t.Helper()
	code, header := map[string]int{"allowed": exitAllowed, "implicitDeny": exitDenied, "explicitDeny": exitDenied, "unknown": exitIncomplete}, map[string]string{
		"allowed": "ALLOWED", "implicitDeny": "DENIED", "explicitDeny": "DENIED", "unknown": "UNKNOWN"}
	want, ok := code[v.Decision]
	if !ok {
		t.Fatalf("decision %q is not one of the contract's", v.Decision)
	}
	if js.code != want || table.code != want {
		t.Errorf("exit %d (json) and %d (table) for decision %s, want %d", js.code, table.code, v.Decision, want)
	}
	if !strings.HasPrefix(v.Summary, header[v.Decision]) {
		t.Errorf("summary %q does not start with %s for decision %s", v.Summary, header[v.Decision], v.Decision)
	}
	first, _, _ := strings.Cut(table.stdout, "\n")
	if !strings.HasPrefix(first, header[v.Decision]) {
		t.Errorf("table's first line %q, want it to start with %s", first, header[v.Decision])
	}
	for _, l := range v.BlockedBy {
		if words := layerWords[l]; words != "" && !strings.Contains(strings.ToLower(first), words) {
			t.Errorf("table's first line %q does not name the blocking layer %s (%q)", first, l, words)
		}
	}
	rows := tableBlocks(table.stdout)
	for _, l := range v.Layers {
		if l.Blocks && !slices.Contains(v.BlockedBy, l.Layer) {
			t.Errorf("the %s row blocks but blockedBy is %v", l.Layer, v.BlockedBy)
		}
		if !l.Blocks && slices.Contains(v.BlockedBy, l.Layer) {
			t.Errorf("blockedBy %v names %s but its row does not block", v.BlockedBy, l.Layer)
		}
		if got, ok := rows[l.Layer]; ok && got != l.Blocks {
			t.Errorf("table row %s BLOCKS=%v, json blocks=%v", l.Layer, got, l.Blocks)
		}
	}
	blocking := slices.ContainsFunc(v.Findings, func(f defectFinding) bool { return f.Severity == "blocking" })
	switch v.Decision {
	case "unknown":
		if len(v.BlockedBy) != 0 {
			t.Errorf("decision unknown with blockedBy %v: want [] (the deciding layers go in unknownLayers)", v.BlockedBy)
		}
		if blocking {
			t.Errorf("decision unknown with a blocking finding:\n%s", describeFindings(v))
		}
		if len(v.UnknownLayers)+len(v.DependsOn) == 0 {
			t.Errorf("decision unknown says neither unknownLayers nor dependsOn")
		}
	case "allowed":
		if len(v.BlockedBy) != 0 || blocking {
			t.Errorf("allowed with blockedBy %v and findings:\n%s", v.BlockedBy, describeFindings(v))
		}
	default:
		if len(v.BlockedBy) == 0 || !blocking {
			t.Errorf("%s with blockedBy %v and no blocking finding:\n%s", v.Decision, v.BlockedBy, describeFindings(v))
		}
	}
	if v.Decision != "unknown" && len(v.UnknownLayers)+len(v.DependsOn) > 0 {
		t.Errorf("decision %s with unknownLayers %v and dependsOn %v", v.Decision, v.UnknownLayers, v.DependsOn)
	}
	for _, f := range v.Findings {
		msg := strings.ToLower(f.Message)
		if v.Decision != "allowed" && (strings.Contains(msg, "no resource-based policy") && strings.Contains(msg, "is needed") ||
			strings.Contains(msg, "identity-based policy allows the call")) {
			t.Errorf("finding %s on a %s verdict: %s", f.Kind, v.Decision, f.Message)
		}
		for _, x := range f.Fixes {
			if !x.Verified {
				t.Errorf("fix %q is shown unverified", x.Description)
			}
		}
	}
	if m := alwaysSentAbsent.FindString(js.stdout + table.stdout); m != "" {
		t.Errorf("the output says a key AWS sends in every request is absent: %q", m)
	}
}

// alwaysSentAbsent finds a sentence calling a key AWS puts in every request
// absent (DESIGN, "Request keys AWS always sends ... are never absent").
var alwaysSentAbsent = regexp.MustCompile(`(?i)(aws:CurrentTime|aws:EpochTime|aws:SourceIp|aws:SecureTransport)[^.;\n]*absent`)

// layerWords are the words the table's first line uses for each layer.
var layerWords = map[string]string{
	"identity":            "identity",
	"resource":            "resource",
	"permissionsBoundary": "permissions boundary",
	"sessionPolicy":       "session policy",
}

// tableBlocks reads the BLOCKS column of the table's layer rows.
func tableBlocks(out string) map[string]bool {
	rows := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "│")
		if len(cells) < 5 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if name == "" || name == "LAYER" {
			continue
		}
		rows[name] = strings.TrimSpace(cells[3]) == "YES"
	}
	return rows
}

func verdictLayer(v defectVerdict, name string) (l struct {
	Layer  string `json:"layer"`
	Result string `json:"result"`
	Blocks bool   `json:"blocks"`
	Note   string `json:"note"`
}, ok bool) {
	for _, x := range v.Layers {
		if x.Layer == name {
			return x, true
		}
	}
	return l, false
}

func wantLayerSet(t *testing.T, field string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s %v, want %v", field, got, want)
	}
}

func matchesFinding(f defectFinding, w findingWant) bool {
	if w.kind != "" && f.Kind != w.kind || w.severity != "" && f.Severity != w.severity {
		return false
	}
	for _, p := range w.phrases {
		if !strings.Contains(strings.ToLower(f.Message), strings.ToLower(p)) {
			return false
		}
	}
	return true
}

func describeFindings(v defectVerdict) string {
	var b strings.Builder
	for _, f := range v.Findings {
		fmt.Fprintf(&b, "  [%s] %s (%s): %s\n", f.Severity, f.Kind, f.Layer, f.Message)
		for _, x := range f.Fixes {
			changes, _ := json.Marshal(x.Changes)
			fmt.Fprintf(&b, "    fix (verified %v): %s\n      changes %s\n", x.Verified, x.Description, changes)
		}
	}
	return b.String()
}

// wantFix fails unless some finding offers a verified fix that satisfies
// pred, and returns it.
func wantFix(t *testing.T, v defectVerdict, what string, pred func(defectFix) bool) *defectFix {
	t.Helper()
	for _, f := range v.Findings {
		for i := range f.Fixes {
			if pred(f.Fixes[i]) {
				if !f.Fixes[i].Verified {
					t.Errorf("the fix with %s is not verified", what)
				}
				return &f.Fixes[i]
			}
		}
	}
	t.Errorf("no fix with %s; findings:\n%s", what, describeFindings(v))
	return nil
}

func hasChange(f defectFix, pred func(defectChange) bool) bool {
	return slices.ContainsFunc(f.Changes, pred)
}

// statementActions lists a statement's actions, lower-cased.
func statementActions(doc json.RawMessage) []string {
	var st struct {
		Action any `json:"Action"`
	}
	if json.Unmarshal(doc, &st) != nil {
		return nil
	}
	var out []string
	switch a := st.Action.(type) {
	case string:
		out = append(out, strings.ToLower(a))
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, strings.ToLower(s))
			}
		}
	}
	return out
}

// wantWholeDocuments checks that a fix's statement is the policy
// document (or, for a fix changing several policies, a list of documents)
// after the change: valid JSON, no list nested in a list, each document with
// a Statement list, the statements each change adds present, and the given
// parts of the original documents kept.
func wantWholeDocuments(t *testing.T, f defectFix, kept ...string) {
	t.Helper()
	var raw any
	if err := json.Unmarshal([]byte(f.Statement), &raw); err != nil {
		t.Errorf("fix statement is not JSON: %v\n%s", err, f.Statement)
		return
	}
	var docs []map[string]any
	switch x := raw.(type) {
	case map[string]any:
		docs = append(docs, x)
	case []any:
		for _, e := range x {
			d, ok := e.(map[string]any)
			if !ok {
				t.Errorf("fix statement is a list holding %T, want policy documents: %s", e, f.Statement)
				return
			}
			docs = append(docs, d)
		}
	}
	for _, d := range docs {
		if _, ok := d["Statement"].([]any); !ok {
			t.Errorf("fix statement holds %v, not a policy document with a Statement list", d)
		}
	}
	text, _ := json.Marshal(docs)
	for _, c := range f.Changes {
		var want any
		if err := json.Unmarshal(c.Document, &want); err != nil {
			t.Errorf("change document is not JSON: %s", c.Document)
			continue
		}
		if !slices.ContainsFunc(docs, func(d map[string]any) bool { return documentHolds(d, c.Kind, want) }) {
			t.Errorf("no document in the fix statement holds the %s change %s on %s:\n%s", c.Kind, c.Document, c.Layer, f.Statement)
		}
	}
	for _, k := range kept {
		if !strings.Contains(string(text), k) {
			t.Errorf("the fix statement drops %q of the original document:\n%s", k, f.Statement)
		}
	}
}

// documentHolds reports whether doc has the statement an AddStatement adds,
// or a statement carrying the condition an AddCondition merges.
func documentHolds(doc map[string]any, kind string, change any) bool {
	list, _ := doc["Statement"].([]any)
	for _, s := range list {
		st, _ := s.(map[string]any)
		switch kind {
		case "addStatement":
			if jsonEqual(st, change) {
				return true
			}
		case "addCondition":
			cond, _ := st["Condition"].(map[string]any)
			add, _ := change.(map[string]any)
			all := len(add) > 0
			for op := range add {
				if _, ok := cond[op]; !ok {
					all = false
				}
			}
			if all {
				return true
			}
		}
	}
	return false
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// wantBothURLResourceStatements: a cross-account function URL call needs
// the resource policy to allow lambda:InvokeFunctionUrl (with the URL's
// auth type) and lambda:InvokeFunction (with lambda:InvokedViaFunctionUrl):
// one fix adds both, and prints both add-permission commands.
func wantBothURLResourceStatements(t *testing.T, v defectVerdict, _ string) {
	t.Helper()
	isAction := func(c defectChange, action, cond string) bool {
		return c.Layer == "resource" && c.Kind == "addStatement" && slices.Contains(statementActions(c.Document), action) &&
			strings.Contains(strings.ToLower(string(c.Document)), cond)
	}
	f := wantFix(t, v, "both resource statements of a function URL call", func(f defectFix) bool {
		return hasChange(f, func(c defectChange) bool {
			return isAction(c, "lambda:invokefunctionurl", "lambda:functionurlauthtype")
		}) &&
			hasChange(f, func(c defectChange) bool { return isAction(c, "lambda:invokefunction", "lambda:invokedviafunctionurl") })
	})
	if f == nil {
		return
	}
	if n := strings.Count(f.CLI, "aws lambda add-permission"); n != 2 {
		t.Errorf("the fix prints %d add-permission commands, want 2:\n%s", n, f.CLI)
	}
	if !strings.Contains(f.CLI, "--action lambda:InvokeFunctionUrl") || !regexp.MustCompile(`--action lambda:InvokeFunction(\s|$)`).MatchString(f.CLI) {
		t.Errorf("the fix's commands do not add both actions:\n%s", f.CLI)
	}
}

// wantNoLiveAlias: the evidence knows no alias called live, so the alias
// warning must not single it out.
func wantNoLiveAlias(t *testing.T, v defectVerdict, _ string) {
	t.Helper()
	for _, f := range v.Findings {
		if f.Kind == "qualifiedCallsDenied" && regexp.MustCompile(`(?i)\blive\b`).MatchString(f.Message) {
			t.Errorf("the alias warning names an alias \"live\" the evidence does not know: %s", f.Message)
		}
	}
}

// wantNoAWSPartitionS3: in aws-cn, a bucket ARN is arn:aws-cn:s3:::.
func wantNoAWSPartitionS3(t *testing.T, _ defectVerdict, stdout string) {
	t.Helper()
	if strings.Contains(stdout, "arn:aws:s3:::") {
		t.Errorf("the output names an aws-partition bucket ARN in an aws-cn diagnosis:\n%s", stdout)
	}
}

// wantPutRolePolicyQuoted runs every printed put-role-policy command in sh
// with a stub aws that prints its arguments: the --policy-document argument
// must come out whole (valid JSON holding the original resource).
func wantPutRolePolicyQuoted(t *testing.T, v defectVerdict, stdout string) {
	t.Helper()
	var commands []string
	for _, f := range v.Findings {
		for _, x := range f.Fixes {
			for _, line := range strings.Split(x.CLI, "\n") {
				if strings.Contains(line, "put-role-policy") {
					commands = append(commands, strings.TrimSpace(line))
				}
			}
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "$ aws iam put-role-policy") {
			commands = append(commands, strings.TrimPrefix(s, "$ "))
		}
	}
	if len(commands) == 0 {
		t.Fatalf("no put-role-policy command printed; findings:\n%s", describeFindings(v))
	}
	for _, cmd := range commands {
		if out, err := exec.Command("sh", "-n", "-c", cmd).CombinedOutput(); err != nil {
			t.Errorf("sh -n rejects the printed command (%v: %s):\n%s", err, out, cmd)
			continue
		}
		script := "aws() { for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }\n" + cmd + "\n"
		out, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Errorf("running the printed command with a stub aws: %v\n%s", err, cmd)
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		i := slices.Index(args, "--policy-document")
		if i < 0 || i+1 >= len(args) {
			t.Errorf("the command's arguments have no --policy-document value: %q", args)
			continue
		}
		doc := args[i+1]
		if strings.HasPrefix(doc, "file://") {
			continue
		}
		var d struct {
			Statement []json.RawMessage `json:"Statement"`
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil || !strings.Contains(doc, "arn:aws:s3:::reports/it's-q3/*") {
			t.Errorf("the --policy-document argument did not come through the shell whole (%v): %q\ncommand: %s", err, doc, cmd)
		}
		if i+2 < len(args) && !strings.HasPrefix(args[i+2], "--") {
			t.Errorf("the shell split the document into more arguments: %q", args[i+1:])
		}
	}
}

// Issue 8 item 9: an error is bad usage because of where it arises, not
// because of its words. AWS and network errors are exit 3 whatever they say.
func TestDefectUsageErrorsByWhereTheyArise(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"EINVAL from connect", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(169, 254, 169, 254), Port: 443}, Err: os.NewSyscallError("connect", syscall.EINVAL)}},
		{"AWS error saying accepts", errors.New("operation error Lambda: GetFunctionConfiguration, https response error StatusCode: 400, api error ValidationException: the service accepts only 64 characters")},
		{"AWS error saying required flag", errors.New("operation error IAM: GetRole, api error InternalFailure: required flag missing in the backend")},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := &fakeSource{ev: fixture(t, "sam-unqualified-invoke.json"), fetchErr: c.err}
			d := deps{newSource: func(context.Context, awsclient.Options) (evidenceSource, error) { return src, nil }}
			r := runWith(t, d, []string{"role/RequestRole", "ProcessorFunction", "--region", "us-east-1", "--no-simulate"})
			wantExit(t, r, exitIncomplete)
		})
	}

	t.Run("endpoint that refuses connections", func(t *testing.T) {
		awstest.FakeCredentials(t)
		r := runLive(t, "role/RequestRole", "ProcessorFunction", "--region", "us-east-1", "--no-simulate",
			"--endpoint-url", "http://127.0.0.1:1", "--timeout", "3s")
		wantExit(t, r, exitIncomplete)
		if strings.Contains(r.stderr, "invalid argument") || strings.Contains(strings.ToLower(r.stderr), "usage") {
			t.Errorf("a connection failure is reported as bad usage: %q", r.stderr)
		}
	})

	// A directory is not an evidence file: that is the user's input, exit 2,
	// one line naming the path.
	t.Run("from-snapshot directory", func(t *testing.T) {
		dir := t.TempDir()
		r := runOffline(t, "--from-snapshot", dir)
		wantExit(t, r, exitBadInput)
		wantOneErrorLine(t, r, dir)
	})
}

// contextSource serves a fixture with the request's context copied into
// the evidence, as awsclient does.
type contextSource struct {
	ev  *evidence.Evidence
	got awsclient.Request
}

func (s *contextSource) FetchEvidence(_ context.Context, req awsclient.Request) (*evidence.Evidence, error) {
	s.got = req
	ev := *s.ev
	ev.Simulation = nil
	ev.Request.Context = req.Context
	return &ev, nil
}

// runOutcome is what a run decided: its exit code, and the decision and
// blocking layers of its -o json output (the output also holds the time).
func runOutcome(r result) string {
	var v defectVerdict
	if json.Unmarshal([]byte(r.stdout), &v) != nil {
		return fmt.Sprintf("exit %d, %s", r.code, strings.TrimSpace(r.stderr))
	}
	return fmt.Sprintf("exit %d, %s %v", r.code, v.Decision, v.BlockedBy)
}

// Issue 8 item 10: --context AWS:SourceArn and --source-arn are one key.
// Conflicting values are bad usage naming the key; agreeing values give one
// key, and every run the same result.
func TestDefectContextKeySpellings(t *testing.T) {
	run := func(t *testing.T, sourceArn string) (result, *contextSource) {
		src := &contextSource{ev: fixture(t, "s3-service-principal.json")}
		d := deps{newSource: func(context.Context, awsclient.Options) (evidenceSource, error) { return src, nil }}
		r := runWith(t, d, []string{"s3.amazonaws.com", "ThumbnailFunction", "--region", "us-east-1", "-o", "json",
			"--context", "AWS:SourceArn=" + sourceArn, "--source-arn", "arn:aws:s3:::uploads-staging", "--source-account", "111111111111"})
		return r, src
	}
	t.Run("conflicting values", func(t *testing.T) {
		var first result
		for i := range 20 {
			r, _ := run(t, "arn:aws:s3:::uploads-prod")
			if i == 0 {
				first = r
			}
			if r.code != first.code || runOutcome(r) != runOutcome(first) {
				t.Fatalf("run %d differs from run 1 (%s, was %s):\n%s\nrun 1:\n%s", i+1, runOutcome(r), runOutcome(first), r, first)
			}
		}
		wantExit(t, first, exitBadInput)
		if !strings.Contains(strings.ToLower(first.stderr), "aws:sourcearn") {
			t.Errorf("stderr %q does not name the key aws:SourceArn", first.stderr)
		}
	})
	t.Run("agreeing values", func(t *testing.T) {
		var first result
		for i := range 20 {
			r, src := run(t, "arn:aws:s3:::uploads-staging")
			if i == 0 {
				first = r
				var spellings []string
				for k := range src.got.Context {
					if strings.EqualFold(k, "aws:SourceArn") {
						spellings = append(spellings, k)
					}
				}
				if len(spellings) != 1 {
					t.Errorf("the request holds the key as %q, want one key", spellings)
				}
			}
			if r.code != first.code || runOutcome(r) != runOutcome(first) {
				t.Fatalf("run %d differs from run 1 (%s, was %s):\n%s\nrun 1:\n%s", i+1, runOutcome(r), runOutcome(first), r, first)
			}
		}
		wantExit(t, first, exitAllowed)
	})
}
