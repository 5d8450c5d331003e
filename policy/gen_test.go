package policy

// A deterministic generator of random but realistic evaluation cases around
// Lambda invoke, for the differential test (differential_test.go). Each case
// has the JSON shape of the corpus case format (testdata/README.md) without
// "expect": the expectation comes from comparing two evaluators.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

type genDoc struct {
	Version   string    `json:"Version"`
	Statement []genStmt `json:"Statement"`
}

// genStmt is a statement; element values are a string, a list of strings or
// (Principal) an object, as AWS stores them.
type genStmt struct {
	Sid          string                    `json:"Sid,omitempty"`
	Effect       string                    `json:"Effect"`
	Principal    any                       `json:"Principal,omitempty"`
	NotPrincipal any                       `json:"NotPrincipal,omitempty"`
	Action       any                       `json:"Action,omitempty"`
	NotAction    any                       `json:"NotAction,omitempty"`
	Resource     any                       `json:"Resource,omitempty"`
	NotResource  any                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string]any `json:"Condition,omitempty"`
}

// caseFingerprint identifies a case by its content (request, policies,
// options), independent of its id, description or position in a batch.
func caseFingerprint(c Case) string {
	b, err := json.Marshal([]any{c.Request, c.Policies, c.Options})
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// The world the cases live in.
const (
	genAcct      = "111111111111" // owns the function
	genOtherAcct = "222222222222" // a second account (callers and policies)
	genThirdAcct = "333333333333" // named in policies only
	genRegion    = "us-east-1"
	genFn        = "ProcessorFunction"
)

func fnARN(region, acct, name string) string {
	return "arn:aws:lambda:" + region + ":" + acct + ":function:" + name
}

var genBaseFn = fnARN(genRegion, genAcct, genFn)

// caller is the principal making the request.
type caller struct {
	kind      string // "session", "user", "federated", "service", "anonymous"
	principal string // as AWS sees it
	entity    string // role or user ARN with path ("" for a service or anonymous)
	account   string
	// serviceLinked: a session of a service-linked role (path
	// /aws-service-role/).
	serviceLinked bool
}

// resourceOnly reports a caller judged by the resource policy alone: a
// service principal, or an anonymous caller of a function URL.
func (c caller) resourceOnly() bool { return c.kind == "service" || c.kind == "anonymous" }

// gen draws one scenario: the caller, the requested action and resource,
// then the policies of every layer around them.
type gen struct {
	r        *rand.Rand
	c        caller
	resource string // requested ARN, with any qualifier
	action   string // requested action
}

// generateCases returns n cases drawn from seed; the same seed gives the
// same cases.
func generateCases(seed uint64, n int) []Case {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Case, 0, n)
	for i := 0; i < n; i++ {
		g := &gen{r: r}
		c := g.scenario()
		c.ID = fmt.Sprintf("gen-%04d", i)
		out = append(out, c)
	}
	return out
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// weighted picks xs[i] with probability w[i]/sum(w).
func weighted[T any](g *gen, xs []T, w []int) T {
	if len(xs) != len(w) {
		panic(fmt.Sprintf("weighted: %d values, %d weights", len(xs), len(w)))
	}
	total := 0
	for _, x := range w {
		total += x
	}
	n := g.r.IntN(total)
	for i, x := range w {
		if n < x {
			return xs[i]
		}
		n -= x
	}
	return xs[len(xs)-1]
}

// list returns a single value as a string, or several as a list, as AWS
// accepts both.
func (g *gen) list(vals ...string) any {
	if len(vals) == 1 && g.chance(0.7) {
		return vals[0]
	}
	return vals
}

// some draws 1 or 2 distinct values from f.
func (g *gen) some(f func() string) any {
	a := f()
	if g.chance(0.75) {
		return g.list(a)
	}
	b := f()
	if b == a {
		return g.list(a)
	}
	return []string{a, b}
}

func rawDoc(d *genDoc) json.RawMessage {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

func rawDocs(ds []*genDoc) []json.RawMessage {
	out := make([]json.RawMessage, len(ds))
	for i, d := range ds {
		out[i] = rawDoc(d)
	}
	return out
}

func rawLevels(levels [][]*genDoc) [][]json.RawMessage {
	if levels == nil {
		return nil
	}
	out := make([][]json.RawMessage, len(levels))
	for i, l := range levels {
		out[i] = rawDocs(l)
	}
	return out
}

func (g *gen) scenario() Case {
	g.c = g.caller()
	g.action = weighted(g, []string{"lambda:InvokeFunction", "lambda:InvokeAsync", "lambda:InvokeFunctionUrl", "lambda:GetFunction"}, []int{14, 2, 2, 2})
	if g.c.kind == "anonymous" {
		// A function URL with auth type NONE: the caller needs
		// lambda:InvokeFunctionUrl and lambda:InvokeFunction from the
		// resource policy (Lambda Developer Guide, "Control access to
		// Lambda function URLs").
		g.action = weighted(g, []string{"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}, []int{3, 1})
	}
	qual := weighted(g, []string{"", ":live", ":3", ":$LATEST"}, []int{5, 3, 2, 1})
	g.resource = genBaseFn + qual

	c := Case{Request: CaseRequest{
		Principal: g.c.principal,
		Action:    g.action,
		Resource:  g.resource,
		Context:   g.context(),
	}}
	if g.c.kind == "session" && (strings.Contains(strings.TrimPrefix(g.c.entity, "arn:aws:iam::"+g.c.account+":role/"), "/") || g.chance(0.5)) {
		c.Request.PrincipalARN = g.c.entity
	}
	if g.c.kind == "federated" {
		// The IAM user who called GetFederationToken; the session ARN does
		// not carry it. The generator names the federated user after the
		// IAM user (no path), which is how the oracle derives it.
		c.Request.PrincipalARN = g.c.entity
	}
	if g.chance(0.1) {
		c.Request.ResourceAccount = genAcct
	}

	var (
		identity, session  []*genDoc
		resource, boundary *genDoc
		scps, rcps         [][]*genDoc
	)
	if !g.c.resourceOnly() {
		for i, n := 0, weighted(g, []int{0, 1, 2}, []int{2, 6, 2}); i < n; i++ {
			identity = append(identity, g.doc(g.identityStmt, 1, 3))
		}
		if g.chance(0.3) {
			boundary = g.doc(g.boundaryStmt, 1, 2)
		}
		// A federated user session always had a session policy passed or
		// none ("Permissions for GetFederationToken"); role sessions mostly
		// have none.
		if (g.c.kind == "session" && g.chance(0.25)) || (g.c.kind == "federated" && g.chance(0.6)) {
			session = append(session, g.doc(g.identityStmt, 1, 2))
			if g.chance(0.15) {
				// Inline and managed session policies, in one Version.
				d := g.doc(g.identityStmt, 1, 1)
				d.Version = session[0].Version
				session = append(session, d)
			}
		}
	}
	if g.chance(0.6) || (g.c.resourceOnly() && g.chance(0.8)) || (g.c.account != genAcct && g.chance(0.8)) {
		resource = g.doc(g.resourceStmt, 1, 3)
	}
	if g.chance(0.3) || (g.c.serviceLinked && g.chance(0.6)) {
		scps = g.scps()
	}
	if g.chance(0.12) {
		rcps = g.rcps()
	}
	if (scps != nil || rcps != nil) && g.c.kind != "anonymous" {
		c.Options.ManagementAccount = g.chance(0.05)
		c.Options.ServiceLinkedRole = g.c.kind == "session" && g.chance(0.05)
	}
	c.Policies = CasePolicies{Identity: rawDocs(identity), Session: rawDocs(session), SCPs: rawLevels(scps), RCPs: rawLevels(rcps)}
	if resource != nil {
		c.Policies.Resource = rawDoc(resource)
	}
	if boundary != nil {
		c.Policies.PermissionsBoundary = rawDoc(boundary)
	}

	who := g.c.kind + ", same account"
	switch {
	case g.c.kind == "service":
		who = "service principal " + g.c.principal
	case g.c.kind == "anonymous":
		who = "anonymous"
	case g.c.serviceLinked:
		who = "service-linked role session, same account"
	case g.c.account != genAcct:
		who = g.c.kind + ", cross account"
	}
	var layers []string
	for _, l := range []struct {
		name string
		on   bool
	}{{"identity", identity != nil}, {"resource", resource != nil}, {"boundary", boundary != nil}, {"session", session != nil}, {"scps", scps != nil}, {"rcps", rcps != nil}} {
		if l.on {
			layers = append(layers, l.name)
		}
	}
	c.Description = fmt.Sprintf("generated: %s; %s on %s; layers: %s", who, g.action, strings.TrimPrefix(g.resource, "arn:aws:lambda:"), strings.Join(layers, ", "))
	return c
}

func (g *gen) caller() caller {
	switch kind := weighted(g, []string{"sessionSame", "sessionCross", "user", "service", "federated", "serviceLinked", "anonymous"}, []int{10, 4, 3, 3, 3, 1, 2}); kind {
	case "sessionSame", "sessionCross":
		acct := genAcct
		if kind == "sessionCross" {
			acct = genOtherAcct
		}
		path := weighted(g, []string{"", "service-role/", "app/team/"}, []int{5, 4, 1})
		role := "RequestRole"
		return caller{
			kind:      "session",
			principal: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/RequestFunction",
			entity:    "arn:aws:iam::" + acct + ":role/" + path + role,
			account:   acct,
		}
	case "user":
		acct := genAcct
		if g.chance(0.3) {
			acct = genOtherAcct
		}
		path := weighted(g, []string{"", "division/"}, []int{3, 1})
		u := "arn:aws:iam::" + acct + ":user/" + path + "alice"
		return caller{kind: "user", principal: u, entity: u, account: acct}
	case "federated":
		// A federated user session (GetFederationToken) of the IAM user
		// alice: arn:aws:sts::ACCT:federated-user/NAME.
		acct := genAcct
		if g.chance(0.3) {
			acct = genOtherAcct
		}
		return caller{
			kind:      "federated",
			principal: "arn:aws:sts::" + acct + ":federated-user/alice",
			entity:    "arn:aws:iam::" + acct + ":user/alice",
			account:   acct,
		}
	case "serviceLinked":
		// IAM creates service-linked roles under /aws-service-role/SERVICE/
		// with names starting AWSServiceRoleFor.
		role := "AWSServiceRoleForLambdaReplicator"
		return caller{
			kind:          "session",
			principal:     "arn:aws:sts::" + genAcct + ":assumed-role/" + role + "/replicator",
			entity:        "arn:aws:iam::" + genAcct + ":role/aws-service-role/replicator.lambda.amazonaws.com/" + role,
			account:       genAcct,
			serviceLinked: true,
		}
	case "anonymous":
		return caller{kind: "anonymous", principal: Anonymous}
	}
	return caller{kind: "service", principal: "s3.amazonaws.com"}
}

// context fills the request context as AWS would for this caller, with
// each key present or absent.
func (g *gen) context() CaseContext {
	ctx := CaseContext{}
	set := func(p float64, k string, v string) {
		if g.chance(p) {
			ctx[k] = []string{v}
		}
	}
	secure := "true"
	if g.chance(0.15) {
		secure = "false"
	}
	if g.c.kind == "service" {
		set(0.8, "aws:SourceArn", weighted(g, []string{"arn:aws:s3:::source-bucket", "arn:aws:s3:::other-bucket"}, []int{3, 1}))
		set(0.7, "aws:SourceAccount", weighted(g, []string{genAcct, genOtherAcct}, []int{4, 1}))
		set(0.5, "aws:SecureTransport", secure)
		return ctx
	}
	if g.c.kind == "anonymous" {
		// An unsigned request has no principal keys.
		set(0.7, "aws:SecureTransport", secure)
		return ctx
	}
	// aws:PrincipalArn is the role ARN for a role session, the user ARN for
	// a user, and the federated user session ARN itself for a federated
	// user ("AWS global condition context keys", aws:PrincipalArn).
	principalArn := g.c.entity
	if g.c.kind == "federated" {
		principalArn = g.c.principal
	}
	set(0.85, "aws:PrincipalArn", principalArn)
	set(0.85, "aws:PrincipalAccount", g.c.account)
	set(0.7, "aws:SecureTransport", secure)
	set(0.5, "aws:PrincipalTag/team", pick(g, "blue", "red"))
	if g.c.kind == "user" {
		set(0.4, "aws:MultiFactorAuthAge", pick(g, "120", "7200"))
	} else {
		set(0.1, "aws:MultiFactorAuthAge", pick(g, "120", "7200"))
	}
	return ctx
}

func (g *gen) doc(stmt func() genStmt, min, max int) *genDoc {
	d := &genDoc{Version: "2012-10-17"}
	if g.chance(0.05) {
		d.Version = "2008-10-17"
	}
	for i, n := 0, min+g.r.IntN(max-min+1); i < n; i++ {
		d.Statement = append(d.Statement, stmt())
	}
	return d
}

// orgDoc is an SCP or RCP document, in Version 2012-10-17 (the only one the
// RCP syntax allows; SCPs are written the same way).
func (g *gen) orgDoc(stmt func() genStmt, max int) *genDoc {
	d := &genDoc{Version: "2012-10-17"}
	for i, n := 0, 1+g.r.IntN(max); i < n; i++ {
		d.Statement = append(d.Statement, stmt())
	}
	return d
}

var genActions = []string{
	"lambda:InvokeFunction", "lambda:invokefunction", "lambda:Invoke*", "lambda:*",
	"lambda:InvokeAsync", "lambda:InvokeFunctionUrl", "lambda:GetFunction", "s3:GetObject", "*",
	"Lambda:Invoke?unction", "lambda:Get*",
}

func (g *gen) actionName() string {
	return weighted(g, genActions, []int{8, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1})
}

func (g *gen) resourceName() string {
	xs := []string{
		genBaseFn,
		genBaseFn + ":live",
		genBaseFn + ":3",
		genBaseFn + ":$LATEST",
		genBaseFn + ":*",
		fnARN(genRegion, genAcct, "Processor*"),
		fnARN(genRegion, genAcct, genFn+"*"),
		fnARN(genRegion, genAcct, "OtherFunction"),
		fnARN("us-west-2", genAcct, genFn),
		fnARN(genRegion, genOtherAcct, genFn),
		fnARN("*", genAcct, "*"),
		"*",
		"arn:aws:s3:::source-bucket/*",
		fnARN(genRegion, genAcct, "ProcessorFunctio?"),
		fnARN(genRegion, genAcct, genFn+":?"),
		// Policy variables (IAM User Guide, "Policy variables"); literal
		// text in a 2008-10-17 document.
		fnARN(genRegion, "${aws:PrincipalAccount}", genFn),
		fnARN(genRegion, genAcct, "${aws:PrincipalTag/team}*"),
		"arn:aws:lambda:us-east-1:111111111111:function:processorfunction",
	}
	return weighted(g, xs, []int{6, 3, 2, 1, 3, 1, 2, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1})
}

// actionsAndResources fills Action/NotAction and Resource/NotResource.
func (g *gen) actionsAndResources(s *genStmt, notAction, notResource float64) {
	if g.chance(notAction) {
		s.NotAction = g.some(func() string {
			return weighted(g, []string{"s3:*", "s3:GetObject", "lambda:GetFunction", "lambda:InvokeFunctionUrl", "lambda:Invoke*", "lambda:InvokeFunction"}, []int{3, 1, 1, 1, 1, 1})
		})
	} else {
		s.Action = g.some(g.actionName)
	}
	if g.chance(notResource) {
		s.NotResource = g.some(g.resourceName)
	} else {
		s.Resource = g.some(g.resourceName)
	}
}

func (g *gen) identityStmt() genStmt {
	s := genStmt{Effect: "Allow"}
	if g.chance(0.15) {
		s.Effect = "Deny"
	}
	g.actionsAndResources(&s, 0.1, 0.08)
	g.conditions(&s, 0.35)
	return s
}

func (g *gen) boundaryStmt() genStmt {
	s := genStmt{Effect: "Allow"}
	if g.chance(0.1) {
		s.Effect = "Deny"
	}
	switch g.r.IntN(3) {
	case 0:
		s.Action, s.Resource = pick[any](g, "lambda:*", "*", []string{"lambda:InvokeFunction", "lambda:GetFunction"}), "*"
	case 1:
		s.Action, s.Resource = pick[any](g, "s3:*", "lambda:GetFunction", "logs:*"), "*"
	default:
		g.actionsAndResources(&s, 0.1, 0.05)
	}
	g.conditions(&s, 0.2)
	return s
}

// principal returns a Principal value for a resource policy statement.
func (g *gen) principal() any {
	aws := []string{
		"arn:aws:iam::" + genAcct + ":root",
		genAcct,
		"arn:aws:iam::" + genOtherAcct + ":root",
		genOtherAcct,
		"arn:aws:iam::" + genThirdAcct + ":root",
		"arn:aws:iam::" + genAcct + ":role/OtherRole",
		"arn:aws:iam::" + genAcct + ":user/alice",
		"arn:aws:sts::" + genAcct + ":assumed-role/RequestRole/OtherSession",
	}
	if !g.c.resourceOnly() {
		// The caller's own session, role and user ARNs, by which policies
		// name it.
		aws = append(aws, g.c.principal, g.c.principal, g.c.entity, g.c.entity)
	}
	if g.c.kind == "federated" {
		// Another federated user of the same account.
		aws = append(aws, "arn:aws:sts::"+g.c.account+":federated-user/bob")
	}
	one := func() string { return pick(g, aws...) }
	w := []int{14, 2, 1, 4}
	if g.c.kind == "anonymous" {
		// Public function URLs are granted to "*".
		w = []int{8, 5, 3, 2}
	}
	switch weighted(g, []string{"aws", "wild", "awswild", "service"}, w) {
	case "wild":
		return "*"
	case "awswild":
		return map[string]any{"AWS": "*"}
	case "service":
		return map[string]any{"Service": g.some(func() string {
			return weighted(g, []string{"lambda.amazonaws.com", "s3.amazonaws.com", "sns.amazonaws.com"}, []int{2, 3, 1})
		})}
	}
	return map[string]any{"AWS": g.some(one)}
}

// notPrincipal returns a NotPrincipal value: some of the identities AWS
// checks for the caller (account, role or user, session), as the
// documentation's examples list them, or other principals.
func (g *gen) notPrincipal() any {
	var ids []string
	if g.c.kind == "anonymous" {
		// Nothing names an anonymous caller; the Deny applies to it.
		ids = nil
	} else if g.c.kind == "service" {
		ids = []string{"arn:aws:iam::" + genAcct + ":root", "s3.amazonaws.com"}
		if g.chance(0.5) {
			return map[string]any{"Service": "s3.amazonaws.com"}
		}
	} else {
		ids = []string{"arn:aws:iam::" + g.c.account + ":root", g.c.entity}
		if g.c.kind == "session" || g.c.kind == "federated" {
			ids = append(ids, g.c.principal)
		}
	}
	var out []string
	for _, id := range ids {
		if g.chance(0.7) && !strings.HasSuffix(id, ".amazonaws.com") {
			out = append(out, id)
		}
	}
	if g.chance(0.2) || len(out) == 0 {
		out = append(out, pick(g, "arn:aws:iam::"+genAcct+":user/bob", "arn:aws:iam::"+genOtherAcct+":root", genAcct))
	}
	return map[string]any{"AWS": g.list(out...)}
}

func (g *gen) resourceStmt() genStmt {
	s := genStmt{Effect: "Allow"}
	if g.chance(0.15) {
		s.Effect = "Deny"
	}
	// NotPrincipal is supported with Deny only ("AWS JSON policy elements:
	// NotPrincipal").
	if s.Effect == "Deny" && g.chance(0.35) {
		s.NotPrincipal = g.notPrincipal()
	} else {
		s.Principal = g.principal()
	}
	if g.chance(0.05) {
		s.NotAction = g.list("lambda:GetFunction")
	} else {
		s.Action = g.some(func() string {
			return weighted(g, []string{"lambda:InvokeFunction", "lambda:invokefunction", "lambda:Invoke*", "lambda:*", "lambda:InvokeFunctionUrl", "lambda:GetFunction"}, []int{10, 1, 1, 2, 1, 1})
		})
	}
	// Lambda writes the ARN the permission was added for; other forms are
	// possible with a policy written elsewhere.
	if g.chance(0.75) {
		s.Resource = g.resource
	} else {
		s.Resource = g.some(g.resourceName)
	}
	p, _ := s.Principal.(map[string]any)
	if p != nil && p["Service"] != nil && g.chance(0.8) {
		s.Condition = map[string]map[string]any{}
		if g.chance(0.8) {
			s.Condition["ArnLike"] = map[string]any{"aws:SourceArn": pick(g, "arn:aws:s3:::source-bucket", "arn:aws:s3:::source-*", "arn:aws:s3:::other-bucket")}
		}
		if g.chance(0.6) {
			s.Condition["StringEquals"] = map[string]any{"aws:SourceAccount": pick(g, genAcct, genOtherAcct)}
		}
		if len(s.Condition) == 0 {
			s.Condition = nil
		}
		return s
	}
	g.conditions(&s, 0.3)
	return s
}

// controlStmt is a statement for an SCP (no Principal).
func (g *gen) scpStmt() genStmt {
	switch g.r.IntN(4) {
	case 0:
		return genStmt{Effect: "Allow", Action: pick[any](g, "lambda:*", []string{"lambda:*", "s3:*"}, "s3:*"), Resource: "*"}
	case 1:
		s := genStmt{Effect: "Deny", Action: g.some(g.actionName), Resource: "*"}
		g.conditions(&s, 0.6)
		return s
	case 2:
		s := genStmt{Effect: "Deny", Resource: "*"}
		s.NotAction = g.some(func() string { return pick(g, "s3:*", "lambda:GetFunction", "lambda:Invoke*", "iam:*") })
		g.conditions(&s, 0.3)
		return s
	}
	s := genStmt{Effect: "Deny"}
	g.actionsAndResources(&s, 0, 0.1)
	g.conditions(&s, 0.4)
	return s
}

var fullAccess = &genDoc{Version: "2012-10-17", Statement: []genStmt{{Effect: "Allow", Action: "*", Resource: "*"}}}

func (g *gen) scps() [][]*genDoc {
	// One to three levels (root, OU, account), each of which must allow.
	levels := make([][]*genDoc, 1+g.r.IntN(3))
	for i := range levels {
		var docs []*genDoc
		if g.chance(0.75) {
			docs = append(docs, fullAccess)
		}
		if len(docs) == 0 || g.chance(0.4) {
			docs = append(docs, g.orgDoc(g.scpStmt, 2))
		}
		levels[i] = docs
	}
	return levels
}

// rcpFullAccess is RCPFullAWSAccess, attached to every level and not
// detachable; RCPs otherwise hold Deny statements only.
var rcpFullAccess = &genDoc{Version: "2012-10-17", Statement: []genStmt{{Effect: "Allow", Principal: "*", Action: "*", Resource: "*"}}}

func (g *gen) rcpStmt() genStmt {
	s := genStmt{Effect: "Deny", Principal: "*", Action: pick[any](g, "lambda:*", "lambda:Invoke*", "lambda:InvokeFunction"), Resource: "*"}
	s.Condition = map[string]map[string]any{}
	switch g.r.IntN(4) {
	case 0:
		s.Condition["BoolIfExists"] = map[string]any{"aws:SecureTransport": "false"}
	case 1:
		s.Condition["StringNotEqualsIfExists"] = map[string]any{"aws:PrincipalAccount": g.list(genAcct)}
	case 2:
		s.Condition["StringNotEqualsIfExists"] = map[string]any{"aws:SourceAccount": genAcct}
		s.Condition["Null"] = map[string]any{"aws:SourceAccount": "false"}
	default:
		s.Condition = nil
		g.conditions(&s, 1)
	}
	return s
}

func (g *gen) rcps() [][]*genDoc {
	levels := make([][]*genDoc, 1+g.r.IntN(2))
	for i := range levels {
		levels[i] = []*genDoc{rcpFullAccess}
		if g.chance(0.5) {
			levels[i] = append(levels[i], g.orgDoc(g.rcpStmt, 1))
		}
	}
	return levels
}

// Condition keys, the operators that fit each and candidate values (some
// matching what the context holds, some not).
type condKey struct {
	key    string
	ops    []string
	values func(g *gen) string
}

var genCondKeys = []condKey{
	{"aws:SourceArn", []string{"ArnLike", "ArnEquals", "StringLike", "StringEquals", "ArnLikeIfExists", "ArnNotLike", "ForAnyValue:ArnLike", "Null", "ArnNotEqualsIfExists"}, func(g *gen) string {
		return pick(g, "arn:aws:s3:::source-bucket", "arn:aws:s3:::source-*", "arn:aws:s3:::other-bucket", "arn:aws:s3:::*", "arn:aws:lambda:us-east-1:"+genAcct+":function:RequestFunction", "arn:aws:s3:::${aws:SourceAccount}*", "arn:*:s3:::source-bucket")
	}},
	{"aws:SourceAccount", []string{"StringEquals", "StringNotEquals", "StringEqualsIfExists", "StringNotEqualsIfExists", "ForAnyValue:StringEquals", "Null"}, func(g *gen) string {
		return pick(g, genAcct, genOtherAcct)
	}},
	{"aws:PrincipalTag/team", []string{"StringEquals", "StringLike", "StringNotEquals", "StringEqualsIfExists", "ForAnyValue:StringEquals", "ForAllValues:StringLike", "Null", "StringEqualsIgnoreCase", "StringNotLike"}, func(g *gen) string {
		return pick(g, "blue", "red", "bl*", "Blue", "b?ue")
	}},
	{"aws:PrincipalAccount", []string{"StringEquals", "StringNotEquals", "StringNotEqualsIfExists", "ForAllValues:StringEquals", "Null"}, func(g *gen) string {
		return pick(g, genAcct, genOtherAcct)
	}},
	{"aws:PrincipalArn", []string{"ArnLike", "ArnEquals", "ArnNotLike", "StringLike", "ArnLikeIfExists", "ForAnyValue:ArnLike", "Null"}, func(g *gen) string {
		xs := []string{"arn:aws:iam::" + genAcct + ":role/*", "arn:aws:iam::*:role/service-role/*", "arn:aws:iam::" + genOtherAcct + ":role/RequestRole", "arn:aws:iam::" + genAcct + ":user/*", "arn:aws:iam::*:role/aws-service-role/*", "arn:aws:sts::*:federated-user/*"}
		switch {
		case g.c.kind == "federated":
			xs = append(xs, g.c.principal, g.c.principal)
		case g.c.entity != "":
			xs = append(xs, g.c.entity, g.c.entity)
		}
		return pick(g, xs...)
	}},
	{"lambda:FunctionArn", []string{"ArnLike", "ArnEquals", "ArnLikeIfExists", "StringLike", "Null"}, func(g *gen) string {
		return pick(g, genBaseFn, genBaseFn+":*", fnARN(genRegion, genAcct, "*"))
	}},
	{"aws:SecureTransport", []string{"Bool", "BoolIfExists", "Null"}, func(g *gen) string {
		return pick(g, "true", "false")
	}},
	{"aws:MultiFactorAuthAge", []string{"NumericLessThan", "NumericLessThanIfExists", "NumericGreaterThan", "Null"}, func(g *gen) string {
		return pick(g, "3600", "300", "86400")
	}},
}

// conditions adds, with probability p, one or two condition keys.
func (g *gen) conditions(s *genStmt, p float64) {
	if !g.chance(p) {
		return
	}
	if s.Condition == nil {
		s.Condition = map[string]map[string]any{}
	}
	for i, n := 0, weighted(g, []int{1, 2}, []int{3, 1}); i < n; i++ {
		k := genCondKeys[g.r.IntN(len(genCondKeys))]
		op := k.ops[g.r.IntN(len(k.ops))]
		key := k.key
		if g.chance(0.05) {
			// Condition keys are case-insensitive.
			key = strings.ToUpper(key[:1]) + strings.ToLower(key[1:])
		}
		var v any
		if op == "Null" {
			v = pick(g, "true", "false")
		} else {
			v = g.some(func() string { return k.values(g) })
		}
		if s.Condition[op] == nil {
			s.Condition[op] = map[string]any{}
		}
		s.Condition[op][key] = v
	}
}
