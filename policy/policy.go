package policy

// Effect is the Effect element of a statement.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed IAM policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one parsed statement. Exactly one of Action/NotAction and at
// most one of Resource/NotResource and of Principal/NotPrincipal is set; the
// Not* flags say which.
type Statement struct {
	// Index is the statement's position in the document (0-based).
	Index  int
	Sid    string
	Effect Effect

	Actions   []string
	NotAction bool

	// Resources is nil when the statement has neither Resource nor
	// NotResource (valid in resource-based policies, where the resource is
	// implied).
	Resources   []string
	NotResource bool
	HasResource bool

	// Principal is nil when the statement has neither Principal nor
	// NotPrincipal (identity policies, SCPs).
	Principal    *Principal
	NotPrincipal bool

	Conditions []Condition
}

// Principal is the Principal or NotPrincipal element.
type Principal struct {
	// Wildcard is "Principal": "*".
	Wildcard      bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one key under one operator of a Condition block, e.g.
// {"StringEquals": {"aws:SourceAccount": "111111111111"}} is
// Condition{Operator: "StringEquals", Key: "aws:SourceAccount", Values: ["111111111111"]}.
type Condition struct {
	// Operator as written, including any ForAnyValue:/ForAllValues: prefix
	// and IfExists suffix.
	Operator string
	Key      string
	Values   []string

	// op caches the parsed Operator and key the folded Key (set by Parse);
	// a Condition built by hand is parsed when evaluated.
	op  *operator
	key string
}
