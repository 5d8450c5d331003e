package diagnose

import (
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// Source says where a layer's answer came from.
type Source string

const (
	// SourceSimulator: iam:SimulatePrincipalPolicy answered for the layer.
	SourceSimulator Source = "simulator"
	// SourceLocal: the local policy engine answered.
	SourceLocal Source = "local"
)

// Verdict is the answer to "why is this call denied?": the decision, every
// layer that blocks, what each layer said and why, and what to change. It is
// the JSON output contract (README, "JSON output").
type Verdict struct {
	// Decision is allowed, implicitDeny, explicitDeny, or unknown when the
	// policies the tool could read do not settle the request.
	Decision  policy.Decision `json:"decision"`
	BlockedBy []policy.Layer  `json:"blockedBy"`
	// Summary is one sentence a person can act on.
	Summary      string           `json:"summary"`
	Request      evidence.Request `json:"request"`
	Caller       CallerInfo       `json:"caller"`
	Target       TargetInfo       `json:"target"`
	CrossAccount bool             `json:"crossAccount"`
	Layers       []LayerReport    `json:"layers"`
	Simulator    SimulatorInfo    `json:"simulator"`
	Findings     []Finding        `json:"findings"`
	// Problems lists what could not be evaluated (unknown operators ...).
	Problems []string `json:"problems,omitempty"`
	// UnknownLayers are the layers the tool could not read and that decide
	// the outcome: the decision is then "unknown".
	UnknownLayers []policy.Layer `json:"unknownLayers,omitempty"`
	// DependsOn are the request-time condition keys (aws:SourceIp,
	// aws:SourceArn of a service call ...) the tool does not know and the
	// outcome turns on: the decision is then "unknown".
	DependsOn []string `json:"dependsOn,omitempty"`
	// Message is the pasted AccessDenied message this verdict explains
	// (why-denied explain).
	Message *Denial `json:"message,omitempty"`

	// simulation is the simulator's answer the verdict rests on.
	simulation *evidence.Simulation
}

// CallerInfo describes the caller.
type CallerInfo struct {
	// Principal is the caller as AWS sees it at request time.
	Principal string               `json:"principal"`
	Kind      policy.PrincipalKind `json:"kind"`
	// Entity is the role or user whose policies apply.
	Entity  string `json:"entity,omitempty"`
	Account string `json:"account,omitempty"`
}

// TargetInfo describes the function called.
type TargetInfo struct {
	Function  string `json:"function"`
	Qualifier string `json:"qualifier,omitempty"`
	Account   string `json:"account"`
}

// LayerReport is what one layer said.
type LayerReport struct {
	Layer policy.Layer `json:"layer"`
	// Result is "allows", "denies" (explicit Deny), "noAllow" (no statement
	// allows) or "notApplicable".
	Result string `json:"result"`
	Blocks bool   `json:"blocks"`
	Source Source `json:"source"`
	// Note says why the layer does not apply or how the answer was reached.
	Note string `json:"note,omitempty"`
	// Statements are those that matched, or for a layer that does not allow,
	// the Allow statements that came closest.
	Statements []StatementReport `json:"statements"`
}

// StatementReport is one statement with why it matched or did not.
type StatementReport struct {
	Policy    string        `json:"policy"`
	Statement int           `json:"statement"`
	Sid       string        `json:"sid,omitempty"`
	Effect    policy.Effect `json:"effect"`
	// Status is "matched" or "closest".
	Status string `json:"status"`
	// Failures are the elements that did not match, with the engine's
	// detail; Reasons says the same in words.
	Failures []policy.Mismatch `json:"failures,omitempty"`
	Reasons  []string          `json:"reasons,omitempty"`
	// Level is the organization level for SCPs and RCPs (0 = root).
	Level int `json:"level,omitempty"`
}

// SimulatorInfo says whether iam:SimulatePrincipalPolicy took part.
type SimulatorInfo struct {
	Used bool `json:"used"`
	// Note says why it was not used, or what it covered.
	Note     string `json:"note"`
	Decision string `json:"decision,omitempty"`
	// AgreesWithLocal is false when the simulator and the local engine
	// reached different answers for the layers both evaluated.
	AgreesWithLocal *bool `json:"agreesWithLocal,omitempty"`
}

// Severity of a finding.
type Severity string

const (
	SeverityBlocking Severity = "blocking"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Finding is one thing the user should know, with fixes where there are any.
type Finding struct {
	Kind     string       `json:"kind"`
	Severity Severity     `json:"severity"`
	Layer    policy.Layer `json:"layer,omitempty"`
	Message  string       `json:"message"`
	Fixes    []Fix        `json:"fixes,omitempty"`
}

// Fix is one change that makes the request allowed.
type Fix struct {
	Description string `json:"description"`
	// Statement is the policy statement to add (JSON).
	Statement string `json:"statement,omitempty"`
	// CLI is the AWS CLI command that applies it.
	CLI string `json:"cli,omitempty"`
	// CloudFormation is the SAM/CloudFormation snippet.
	CloudFormation string `json:"cloudFormation,omitempty"`
	// Caveat says what else the change opens, when it cannot be narrower
	// (exempting a caller from a Deny exempts it from all of the Deny).
	Caveat string `json:"caveat,omitempty"`
	// Changes are the edits of the evidence the fix consists of, for
	// scripts (and for checking the fix: see evidence.Apply).
	Changes []evidence.Change `json:"changes"`
	// Verified is true when the fix was applied to the evidence and the
	// request re-evaluated as allowed.
	Verified bool `json:"verified"`
}
