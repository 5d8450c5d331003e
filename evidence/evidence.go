package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/why-denied/why-denied/policy"
)

// Version is the evidence file format this build reads and writes.
const Version = 1

// MaxSize bounds the evidence files Read accepts.
const MaxSize = 16 << 20

// Evidence is everything a diagnosis rests on: the request and the policies
// of every layer, as read from the account or from an evidence file. It is the
// evidence file format (README, "Evidence file"); awsclient fills it.
type Evidence struct {
	Version      int           `json:"version"`
	Request      Request       `json:"request"`
	Caller       Caller        `json:"caller"`
	Target       Target        `json:"target"`
	Organization *Organization `json:"organization"`
	Simulation   *Simulation   `json:"simulation"`
	// SimulatorUnavailable says why simulation is null: the simulator was
	// refused, failed, or not asked (--no-simulate, a service principal
	// caller).
	SimulatorUnavailable string `json:"simulatorUnavailable,omitempty"`
	// Unreadable lists policies the tool could not read: their layers are
	// unknown, and the verdict decides only what the other layers settle.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
	// Notes record how pieces of evidence were read or why one is missing.
	Notes []string `json:"notes,omitempty"`
	// Redacted marks evidence whose account IDs and names were replaced
	// consistently (Redact): it diagnoses as the original did.
	Redacted bool `json:"redacted,omitempty"`
}

// Request is the call being diagnosed.
type Request struct {
	// Caller is the principal as AWS sees it at request time: session ARN,
	// user ARN, role ARN or a service principal.
	Caller   string `json:"caller"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	// Context holds condition keys; each value is one string or a list.
	Context ContextValues `json:"context,omitempty"`
	// At is the moment the call is diagnosed for (--at): aws:CurrentTime
	// and aws:EpochTime. Absent means the time of the diagnosis.
	At *time.Time `json:"at,omitempty"`
}

// Caller is the IAM entity whose policies apply. For a service principal
// caller ARN is empty and there are no policies.
type Caller struct {
	ARN                 string            `json:"arn,omitempty"`
	Account             string            `json:"account,omitempty"`
	IdentityPolicies    []NamedPolicy     `json:"identityPolicies"`
	PermissionsBoundary *NamedPolicy      `json:"permissionsBoundary"`
	SessionPolicies     []NamedPolicy     `json:"sessionPolicies"`
	Tags                map[string]string `json:"tags,omitempty"`
	// ServiceLinkedRole marks roles under /aws-service-role/, which SCPs and
	// RCPs do not restrict.
	ServiceLinkedRole bool `json:"serviceLinkedRole,omitempty"`
	// SessionPoliciesUnknown marks a session whose session policies, if it
	// was given any, cannot be read back from the account. Without it,
	// SessionPolicies is exactly what was passed: an empty list means the
	// session was created without a session policy (for a federated user
	// session, that leaves it no permissions).
	SessionPoliciesUnknown bool `json:"sessionPoliciesUnknown,omitempty"`
	// AsSessionOf is set when CALLER was given as a role: real calls come
	// from sessions of it, so request.caller is a session of that role.
	AsSessionOf string `json:"asSessionOf,omitempty"`
}

// Target is the function being called.
type Target struct {
	// ARN is the unqualified function ARN.
	ARN     string `json:"arn"`
	Account string `json:"account"`
	// ResourcePolicy is the function's resource-based policy for the
	// requested qualifier, or nil when it has none.
	ResourcePolicy *NamedPolicy `json:"resourcePolicy"`
	// FunctionURLAuthType is AWS_IAM or NONE when the function has a URL.
	FunctionURLAuthType string `json:"functionUrlAuthType,omitempty"`
	// NoFunctionURL is true when the function was read and has no URL
	// (GetFunctionUrlConfig answered ResourceNotFound for the qualifier).
	NoFunctionURL bool `json:"noFunctionUrl,omitempty"`
	// MissingExecutionRole is the ARN of the function's execution role when
	// that role no longer exists: the function cannot run.
	MissingExecutionRole string `json:"missingExecutionRole,omitempty"`
	// Tags are the function's tags (lambda:GetFunction / ListTags), when
	// read. They decide nothing in the verdict: they say how the function
	// was deployed, so that a fix is written in that form. CloudFormation
	// tags every resource of a stack with aws:cloudformation:stack-name and
	// aws:cloudformation:logical-id; SAM adds lambda:createdBy=SAM.
	Tags map[string]string `json:"tags,omitempty"`
	// OrgID and OrgPath are the organization of the function's account
	// (aws:ResourceOrgID, aws:ResourceOrgPaths), where known; NoOrganization
	// is true when that account belongs to none (the keys are then absent).
	OrgID          string `json:"orgId,omitempty"`
	OrgPath        string `json:"orgPath,omitempty"`
	NoOrganization bool   `json:"noOrganization,omitempty"`
}

// NamedPolicy is one policy document with where it came from.
type NamedPolicy struct {
	// Name is the inline policy name, the managed policy name, or a label
	// such as "group/developers/ReadOnly".
	Name string `json:"name"`
	// ARN is the managed policy ARN, empty for inline policies.
	ARN string `json:"arn"`
	// Document is the policy JSON as AWS stores it (URL-decoded).
	Document json.RawMessage `json:"document"`
	// OtherVersions are a managed policy's versions other than its default
	// one, when they were read (see PolicyVersion); absent otherwise.
	OtherVersions []PolicyVersion `json:"otherVersions,omitempty"`
}

// Organization holds SCPs and RCPs, one list of documents per level of the
// organization tree, root first, account last, and what the tool read of
// the organization that governs the caller's account.
type Organization struct {
	// SCPs is nil when they were not read (see Unreadable): then the
	// simulator's OrganizationsDecisionDetail is the only word on them.
	SCPs [][]json.RawMessage `json:"scps"`
	RCPs [][]json.RawMessage `json:"rcps"`
	// ManagementAccount is true when the caller's account is the
	// organization's management account (SCPs do not apply to it).
	ManagementAccount bool `json:"managementAccount,omitempty"`
	// None is true when organizations:DescribeOrganization answered that
	// the caller's account belongs to no organization
	// (AWSOrganizationsNotInUseException): no SCP governs it, and the
	// organization keys (aws:PrincipalOrgID, aws:PrincipalOrgPaths) are
	// absent from its requests.
	None bool `json:"none,omitempty"`
	// ID is the organization's ID (o-...): aws:PrincipalOrgID.
	ID string `json:"id,omitempty"`
	// ManagementAccountID is the account that owns the organization's
	// policies (or delegates reading them).
	ManagementAccountID string `json:"managementAccountId,omitempty"`
	// Levels names each level of SCPs: Levels[i] describes SCPs[i], and its
	// policies SCPs[i]'s documents, in order. Empty when the documents came
	// without names (a hand-written evidence file).
	Levels []OrgLevel `json:"levels,omitempty"`
	// MessageSCP is the SCP named by a pasted AccessDenied message
	// (".../service_control_policy/p-..."), read with
	// organizations:DescribePolicy when the chain could not be read: where
	// in the tree it is attached is not known, but a Deny in it is.
	MessageSCP *OrgPolicy `json:"messageScp,omitempty"`
}

// OrgLevel is one level of the organization tree that governs an account:
// the root, an organizational unit, or the account itself.
type OrgLevel struct {
	// ID is r-..., ou-... or the account ID.
	ID string `json:"id"`
	// Type is ROOT, ORGANIZATIONAL_UNIT or ACCOUNT, as Organizations names
	// targets.
	Type string `json:"type"`
	// Name is the OU's name, where known.
	Name string `json:"name,omitempty"`
	// SCPs are the policies attached at this level.
	SCPs []OrgPolicy `json:"scps"`
}

// OrgPolicy names one SCP (and holds its document when it stands apart
// from the levels, as MessageSCP does).
type OrgPolicy struct {
	Name     string          `json:"name"`
	ID       string          `json:"id"`
	ARN      string          `json:"arn"`
	Document json.RawMessage `json:"document,omitempty"`
}

// OrgPath is the account's path in the organization, as
// aws:PrincipalOrgPaths writes it ("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"):
// the organization, the root and each OU down to the account's parent.
// Empty when the levels are not known.
func (o *Organization) OrgPath() string {
	if o == nil || o.ID == "" || len(o.Levels) == 0 || o.Levels[0].Type != "ROOT" {
		return ""
	}
	var b strings.Builder
	b.WriteString(o.ID + "/")
	for _, l := range o.Levels {
		if l.Type == "ACCOUNT" {
			break
		}
		b.WriteString(l.ID + "/")
	}
	return b.String()
}

// Level describes SCP level l in words: "root r-ab12", "OU Workloads
// (ou-ab12-11111111)", "account 111111111111", or "level 2" when the levels
// are not named.
func (o *Organization) Level(l int) string {
	if o == nil || l < 0 || l >= len(o.Levels) {
		if l == 0 {
			return "level 0 (the root)"
		}
		return fmt.Sprintf("level %d", l)
	}
	lv := o.Levels[l]
	switch lv.Type {
	case "ROOT":
		return "the root " + lv.ID
	case "ACCOUNT":
		return "the account " + lv.ID
	}
	if lv.Name != "" {
		return fmt.Sprintf("OU %s (%s)", lv.Name, lv.ID)
	}
	return "OU " + lv.ID
}

// SCP names policy i of SCP level l, when the levels are named.
func (o *Organization) SCP(l, i int) (OrgPolicy, bool) {
	if o == nil || l < 0 || l >= len(o.Levels) || i < 0 || i >= len(o.Levels[l].SCPs) {
		return OrgPolicy{}, false
	}
	return o.Levels[l].SCPs[i], true
}

// Simulation is the recorded answer of iam:SimulatePrincipalPolicy for the
// request.
type Simulation struct {
	// Decision is AWS's EvalDecision: allowed, implicitDeny or explicitDeny.
	Decision                     string             `json:"decision"`
	MatchedStatements            []MatchedStatement `json:"matchedStatements"`
	AllowedByOrganizations       *bool              `json:"allowedByOrganizations"`
	AllowedByPermissionsBoundary *bool              `json:"allowedByPermissionsBoundary"`
	MissingContextValues         []string           `json:"missingContextValues"`
	// ResourceSpecific reports whether the resource policy was part of the
	// simulation (only possible for IAM user callers).
	IncludedResourcePolicy bool `json:"includedResourcePolicy,omitempty"`
}

// MatchedStatement is one statement the simulator reports as deciding.
type MatchedStatement struct {
	SourcePolicyID   string `json:"sourcePolicyId"`
	SourcePolicyType string `json:"sourcePolicyType"`
}

// ContextValues maps condition keys to one or more values. In JSON a value
// is a string or a list of strings.
type ContextValues map[string][]string

// UnmarshalJSON accepts a string or a list of strings for each key.
func (c *ContextValues) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(ContextValues, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = []string{s}
			continue
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			return fmt.Errorf("context key %q: expected a string or a list of strings", k)
		}
		out[k] = list
	}
	*c = out
	return nil
}

// MarshalJSON writes single values as strings and several as lists.
func (c ContextValues) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(c))
	for k, v := range c {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return json.Marshal(out)
}

// FileError is a problem with an evidence file's content.
type FileError struct{ Msg string }

func (e *FileError) Error() string { return "evidence file: " + e.Msg }

// Read decodes an evidence file, rejecting unknown fields and
// versions other than Version.
func Read(r io.Reader) (*Evidence, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, &FileError{Msg: fmt.Sprintf("larger than %d MiB; an evidence file holds a few policies and is far smaller", MaxSize>>20)}
	}
	if enc := utf16or32(data); enc != "" {
		return nil, &FileError{Msg: enc}
	}
	// A UTF-8 byte-order mark is read past: RFC 8259 (section 8.1) lets a
	// parser ignore it, it leaves no doubt about the encoding, and it is
	// what some Windows editors and PowerShell's Out-File add on saving.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 {
		return nil, &FileError{Msg: "empty file, expected a JSON object"}
	} else if trimmed[0] != '{' {
		return nil, &FileError{Msg: "expected a JSON object (an evidence file written by --snapshot)"}
	}
	// Keys are checked case-insensitively: encoding/json matches fields
	// without regard to case, so "identityPolicies" and "IdentityPolicies"
	// would both be read and the last would win.
	if err := policy.CheckJSONFold(data); err != nil {
		return nil, &FileError{Msg: describeJSONError(data, err)}
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, &FileError{Msg: describeJSONError(data, err)}
	}
	if probe.Version == nil {
		return nil, &FileError{Msg: `missing "version" (expected 1)`}
	}
	if *probe.Version != Version {
		return nil, &FileError{Msg: fmt.Sprintf("version %d is not supported (this build reads version %d)", *probe.Version, Version)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ev Evidence
	if err := dec.Decode(&ev); err != nil {
		return nil, &FileError{Msg: describeJSONError(data, err)}
	}
	if dec.More() {
		return nil, &FileError{Msg: "unexpected data after the JSON object"}
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return &ev, nil
}

// utf16or32 names the encoding of a file in UTF-16 or UTF-32, which JSON
// files must not be (RFC 8259, section 8.1: UTF-8), or returns "". Such a
// file is what a Windows shell's "> file" or an editor's "Unicode" writes;
// read as UTF-8 it is only "expected a JSON object". Without a byte-order
// mark, the NUL bytes beside the first character tell it.
func utf16or32(data []byte) string {
	const fix = ": save it as UTF-8"
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe, 0, 0}), bytes.HasPrefix(data, []byte{0, 0, 0xfe, 0xff}):
		return "the file is UTF-32 (it starts with a byte-order mark)" + fix
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return "the file is UTF-16 (it starts with a byte-order mark)" + fix
	case len(data) >= 2 && (data[0] == 0) != (data[1] == 0):
		return "the file looks UTF-16 or UTF-32 (it has NUL bytes between its characters)" + fix
	}
	return ""
}

// Write encodes ev as an indented evidence file.
func Write(w io.Writer, ev *Evidence) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(ev)
}

// Validate checks the fields a diagnosis cannot do without.
func (ev *Evidence) Validate() error {
	switch {
	case ev.Request.Caller == "":
		return &FileError{Msg: `"request.caller" is empty`}
	case ev.Request.Action == "":
		return &FileError{Msg: `"request.action" is empty`}
	case ev.Request.Resource == "":
		return &FileError{Msg: `"request.resource" is empty`}
	case ev.Target.ARN == "":
		return &FileError{Msg: `"target.arn" is empty`}
	case ev.Organization != nil && len(ev.Organization.Levels) > 0 && !ev.Organization.levelsMatch():
		return &FileError{Msg: `"organization.levels" must name every level of "organization.scps", each with one entry per policy`}
	case len(ev.Request.Context) > policy.MaxContextKeys:
		// Checked before anything is built from them.
		return &FileError{Msg: (&policy.LimitError{Limit: "condition keys in the request", Max: policy.MaxContextKeys, Got: len(ev.Request.Context), Where: `"request.context"`}).Error()}
	}
	return nil
}

func (o *Organization) levelsMatch() bool {
	if len(o.Levels) != len(o.SCPs) {
		return false
	}
	for i, l := range o.Levels {
		if len(l.SCPs) != len(o.SCPs[i]) {
			return false
		}
	}
	return true
}

func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line := 1 + strings.Count(string(data[:min(int(syn.Offset), len(data))]), "\n")
		return fmt.Sprintf("invalid JSON at line %d: %v", line, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("field %q: expected %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	return err.Error()
}

// Unreadable is a policy the tool could not read (AccessDenied, say): its
// layer is unknown, and the verdict decides only what the other layers
// settle.
type Unreadable struct {
	Layer policy.Layer `json:"layer"`
	// What names the policy, e.g. "inline policy Inline0 of role RequestRole".
	What string `json:"what"`
	// Action is the IAM action the tool needs to read it; empty when no
	// permission would let it (the IAM user behind a federated user
	// session is recorded only in CloudTrail).
	Action string `json:"action"`
	// Error is AWS's answer, for the record.
	Error string `json:"error,omitempty"`
}
