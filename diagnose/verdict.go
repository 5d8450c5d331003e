package diagnose

import (
	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
)

// DecisionUnknown is the verdict when what the tool could read does not
// settle the request: an unreadable policy, or a request-time key the tool
// cannot know, could still decide it either way.
const DecisionUnknown policy.Decision = "unknown"

// Source says where a layer's answer came from.
type Source string

const (
	// SourceSimulator: iam:SimulatePrincipalPolicy answered for the layer.
	SourceSimulator Source = "simulator"
	// SourceLocal: the local policy engine answered.
	SourceLocal Source = "local"
	// SourceMessage: the pasted AccessDenied message named the layer, which
	// the tool could not read: AWS's word is the answer.
	SourceMessage Source = "message"
)

// LayerResult is what one layer says of the call.
type LayerResult string

const (
	ResultAllows        LayerResult = "allows"
	ResultDenies        LayerResult = "denies" // an explicit Deny matches
	ResultNoAllow       LayerResult = "noAllow"
	ResultNotApplicable LayerResult = "notApplicable"
	// ResultUnknown: the layer's policies could not be read, and it decides.
	ResultUnknown LayerResult = "unknown"
	// ResultNotRead: the tool cannot read the layer at all (SCPs without
	// the organization or the simulator, a pasted session's session
	// policies); the verdict assumes it does not block.
	ResultNotRead LayerResult = "notRead"
)

// StatementStatus says why a statement is shown.
type StatementStatus string

const (
	StatusMatched StatementStatus = "matched"
	StatusClosest StatementStatus = "closest"
)

// FindingKind names what a finding is about, for scripts.
type FindingKind string

const (
	KindBlocked                 FindingKind = "blocked"
	KindExplicitDeny            FindingKind = "explicitDeny"
	KindCrossAccount            FindingKind = "crossAccount"
	KindServicePrincipalGrant   FindingKind = "servicePrincipalGrant"
	KindRoleGrantLimited        FindingKind = "roleGrantLimited"
	KindAccountGrant            FindingKind = "accountGrant"
	KindUnscopedServiceGrant    FindingKind = "unscopedServiceGrant"
	KindQualifiedCallsDenied    FindingKind = "qualifiedCallsDenied"
	KindResourcePolicyNotNeeded FindingKind = "resourcePolicyNotNeeded"
	KindSimulatorDisagrees      FindingKind = "simulatorDisagrees"
	KindMissingContext          FindingKind = "missingContext"
	KindInvokeAsyncDeprecated   FindingKind = "invokeAsyncDeprecated"
	KindRCPNotApplicable        FindingKind = "rcpNotApplicable"
	KindUnreadable              FindingKind = "unreadable"
	KindDependsOnContext        FindingKind = "dependsOnContext"
	KindUndecidable             FindingKind = "undecidableStatement"
	KindDiagnosedAsSession      FindingKind = "diagnosedAsSession"
	KindNoFunctionURL           FindingKind = "noFunctionUrl"
	KindExecutionRoleMissing    FindingKind = "executionRoleMissing"
	KindNonDefaultVersion       FindingKind = "nonDefaultPolicyVersion"
	// The message kinds compare a pasted AccessDenied message with the
	// diagnosis (why-denied explain).
	KindMessageLayerNotRead      FindingKind = "messageLayerNotRead"
	KindMessageLayerNotEvaluated FindingKind = "messageLayerNotEvaluated"
	KindMessageNotReproduced     FindingKind = "messageNotReproduced"
	KindMessageLayerDiffers      FindingKind = "messageLayerDiffers"
	KindMoreThanMessage          FindingKind = "moreThanMessage"
	KindMessageDenyKindDiffers   FindingKind = "messageDenyKindDiffers"
	KindMessageMismatch          FindingKind = "messageMismatch"
	// KindSCPSimulatorDisagrees: the SCPs read from the organization and
	// the simulator's AllowedByOrganizations reach different answers.
	KindSCPSimulatorDisagrees FindingKind = "scpSimulatorDisagrees"
)

// Verdict is the answer to "why is this call denied?": the decision, every
// layer that blocks, what each layer said and why, and what to change. It is
// the JSON output contract (README, "JSON output"). Diagnose builds it in
// one pass; nothing changes it afterwards.
type Verdict struct {
	// Decision is allowed, implicitDeny, explicitDeny, or unknown when what
	// the tool could read does not settle the request.
	Decision policy.Decision `json:"decision"`
	// BlockedBy lists every layer known to block; empty when the decision
	// is allowed or unknown.
	BlockedBy []policy.Layer `json:"blockedBy"`
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
	// DependsOnDetail says, for each key of DependsOn, what the decision
	// is when the request does not carry the key, for scripts.
	DependsOnDetail []KeyDependence `json:"dependsOnDetail,omitempty"`
	// Message is the pasted AccessDenied message this verdict explains
	// (why-denied explain).
	Message *accessdenied.Denial `json:"message,omitempty"`
}

// KeyDependence is one request-time key the verdict turns on.
type KeyDependence struct {
	Key string `json:"key"`
	// WhenAbsent is the decision when the request does not carry the key;
	// empty when AWS sends it in every request (AlwaysSent), where only
	// its value is unknown.
	WhenAbsent policy.Decision `json:"whenAbsent,omitempty"`
	AlwaysSent bool            `json:"alwaysSent,omitempty"`
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
	// Tags are the function's tags, as in the evidence: they say how it was
	// deployed (SAM, CloudFormation), so fixes can be shown in that form.
	Tags map[string]string `json:"tags,omitempty"`
}

// LayerReport is what one layer said.
type LayerReport struct {
	Layer  policy.Layer `json:"layer"`
	Result LayerResult  `json:"result"`
	Blocks bool         `json:"blocks"`
	Source Source       `json:"source"`
	// Action is the action the row is about, when a call needs more than
	// one (a function URL call needs lambda:InvokeFunctionUrl and
	// lambda:InvokeFunction): the one this layer blocks, if any.
	Action string `json:"action,omitempty"`
	// Note says why the layer does not apply or how the answer was reached.
	Note string `json:"note,omitempty"`
	// Statements are those that matched, or for a layer that does not allow,
	// the Allow statements that came closest.
	Statements []StatementReport `json:"statements"`
	// MoreStatements counts the statements that matched beyond those
	// listed (at most maxListed are).
	MoreStatements int `json:"moreStatements,omitempty"`
}

// StatementReport is one statement with why it matched or did not.
type StatementReport struct {
	Policy    string          `json:"policy"`
	Statement int             `json:"statement"`
	Sid       string          `json:"sid,omitempty"`
	Effect    policy.Effect   `json:"effect"`
	Status    StatementStatus `json:"status"`
	// Failures are the elements that did not match, with the engine's
	// detail; Reasons says the same in words.
	Failures []policy.Mismatch `json:"failures,omitempty"`
	Reasons  []string          `json:"reasons,omitempty"`
	// Level is the organization level for SCPs and RCPs (0 = root).
	Level int `json:"level,omitempty"`
	// For an SCP read from the organization: the level in words ("OU Prod
	// (ou-ab12-22222222)"), and the policy's ID and ARN as Organizations
	// names them.
	LevelName string `json:"levelName,omitempty"`
	PolicyID  string `json:"policyId,omitempty"`
	PolicyARN string `json:"policyArn,omitempty"`
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
	// SeverityBlocking: why the call is denied. Only under a definite deny.
	SeverityBlocking Severity = "blocking"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Finding is one thing the user should know, with fixes where there are any.
type Finding struct {
	Kind     FindingKind  `json:"kind"`
	Severity Severity     `json:"severity"`
	Layer    policy.Layer `json:"layer,omitempty"`
	Message  string       `json:"message"`
	Fixes    []Fix        `json:"fixes,omitempty"`
}

// Fix is one change that makes the request allowed.
type Fix struct {
	Description string `json:"description"`
	// Statement is the JSON array of the statements the fix adds or
	// changes, each as it will read in its policy once the fix is applied
	// (an added Allow; a Deny with its new condition), whatever the layers.
	Statement string `json:"statement"`
	// CLI is the AWS CLI commands that apply it, shell-quoted.
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
