package template

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/internal/awstest"
)

// deployCorpus are the corpus templates deployed end to end: every call
// they make is diagnosed before deploy and live, and the verdicts must
// agree.
var deployCorpus = []string{
	"01-seed.yaml", "02-inline-policy.yaml", "04-policy-templates.yaml", "05-role-given.yaml",
	"06-boundary.yaml", "07-auto-publish-alias.yaml", "08-s3-event.yaml", "09-sns-event.yaml",
	"10-api-implicit.yaml", "11-api-explicit.yaml", "12-httpapi.yaml", "15-eventbridge.yaml", "38-two-events-alias.yaml",
	"40-connector-bucket-events.yaml",
	"13-schedule.yaml", "14-schedulev2.yaml", "16-url-none.yaml", "18-url-none-alias.yaml",
	"19-connector-attr.yaml", "20-connector-resource.yaml", "22-globals-merge.yaml", "25-sub-forms.yaml",
	"29-plain-cfn.yaml", "30-literal-name.yaml", "31-invokepolicy-arn.yaml", "32-named-function.yaml",
	"36-deny-and-allow.yaml", "37-json.json", "41-event-invoke-destinations.yaml", "42-if-policies.yaml",
}

// TestDeployedVerdictsEqualPreDeploy deploys aws-sam-translator's
// translation of each template into moto_server through the AWS API (the
// resources a CloudFormation deployment creates, with concrete names
// where CloudFormation would generate them), runs the live diagnosis on
// every call the template makes, and compares it with the pre-deploy
// verdict of the template itself. The resources are created through the
// API rather than moto's CloudFormation, which stores inline role
// policies as Python repr, ignores ManagedPolicyArns and has no
// AWS::Lambda::Alias: a comparison on those would test moto.
func TestDeployedVerdictsEqualPreDeploy(t *testing.T) {
	files := make([]string, len(deployCorpus))
	for i, f := range deployCorpus {
		files[i] = filepath.Join("testdata/sam", f)
	}
	out, err := exec.Command("python3", append([]string{"testdata/samtranslate.py"}, files...)...).Output()
	if err != nil {
		t.Fatalf("aws-sam-translator is needed for this test (python3 -m pip install aws-sam-translator): %v", err)
	}
	var sam struct {
		Templates map[string]json.RawMessage `json:"templates"`
	}
	if err := json.Unmarshal(out, &sam); err != nil {
		t.Fatal(err)
	}
	awstest.FakeCredentials(t)
	// moto knows AWS managed policies only when asked to load them.
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	moto := awstest.StartMoto(t)
	proxy := awstest.StartSimulatorProxy(t, moto.URL)
	pairs, agree := 0, 0
	for i, f := range deployCorpus {
		t.Run(f, func(t *testing.T) {
			moto.Reset(t)
			src, _ := os.ReadFile(files[i])
			tpl, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			pre, err := tpl.Resolve(Settings{Account: awstest.Account, Region: awstest.Region, StackName: "e2e"})
			if err != nil {
				t.Fatal(err)
			}
			translated, err := Parse(sam.Templates[f])
			if err != nil {
				t.Fatal(err)
			}
			live, err := translated.Resolve(Settings{Account: awstest.Account, Region: awstest.Region, StackName: "e2e", suffix: fmt.Sprintf("X%dK2Q", i)})
			if err != nil {
				t.Fatal(err)
			}
			b := awstest.NewBuilder(t, moto.URL)
			deploy(t, b, live)
			asAWSWritesThem(t, b, proxy, live)
			for _, p := range everyCall(pre) {
				pairs++
				action := p.Action
				if action == "" {
					action = awsclient.DefaultAction
				}
				ev, err := pre.Evidence(p, action, nil)
				if err != nil {
					t.Fatal(err)
				}
				before, err := diagnose.Diagnose(ev, diagnose.Options{})
				if err != nil {
					t.Fatal(err)
				}
				after := liveVerdict(t, proxy.URL, live, p, action)
				name := fmt.Sprintf("%s -> %s:%s", p.Caller, p.Target, p.Qualifier)
				if before.Decision != after.Decision || fmt.Sprint(before.BlockedBy) != fmt.Sprint(after.BlockedBy) {
					t.Errorf("%s: before deploy %s %v (%s); deployed %s %v (%s)", name, before.Decision, before.BlockedBy, before.Summary, after.Decision, after.BlockedBy, after.Summary)
					continue
				}
				agree++
			}
		})
	}
	t.Logf("%d of %d calls in %d deployed templates: the pre-deploy verdict equals the live one", agree, pairs, len(deployCorpus))
}

// versioned is a policy document as IAM accepts it: SAM writes inline
// policies without Version, which IAM takes (as 2008-10-17) and moto
// refuses ("Policy document must be version 2012-10-17 or greater"; see
// TestMotoQuirkPolicyWithoutVersion). The documents here use no policy
// variables, the one thing the two versions read differently.
func versioned(doc any) string {
	m, _ := doc.(map[string]any)
	if m != nil && m["Version"] == nil {
		m = cloneMap(m)
		m["Version"] = "2012-10-17"
		doc = m
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// deploy creates the resolved translated template's roles, policies,
// functions, versions, aliases, permissions and URLs.
func deploy(t *testing.T, b *awstest.Builder, st *Stack) {
	t.Helper()
	ctx := context.Background()
	created := map[string]string{} // template managed policy ARN -> created ARN
	managed := func(arn string) string {
		if strings.Contains(arn, ":iam::aws:policy/") {
			return arn
		}
		if a, ok := created[arn]; ok {
			return a
		}
		for _, id := range slices.Sorted(maps.Keys(st.T.Resources)) {
			res := st.T.Resources[id]
			if res.Type == "AWS::IAM::ManagedPolicy" && st.r.getAtt(id, "Arn") == arn {
				created[arn] = b.ManagedPolicy(nameOfARN(arn), versioned(st.r.resolve(res.Props["PolicyDocument"])))
				return created[arn]
			}
		}
		return ""
	}
	for _, id := range slices.Sorted(maps.Keys(st.Roles)) {
		role := st.Roles[id]
		res := st.T.Resources[id]
		path, _ := st.r.resolve(res.Props["Path"]).(string)
		b.Role(role.Name, cmpOr(path, "/"))
		if list, ok := st.r.resolve(res.Props["Policies"]).([]any); ok {
			for _, item := range list {
				m := item.(map[string]any)
				b.RolePolicy(role.Name, fmt.Sprint(m["PolicyName"]), versioned(m["PolicyDocument"]))
			}
		}
		if list, ok := st.r.resolve(res.Props["ManagedPolicyArns"]).([]any); ok {
			for _, a := range list {
				if arn := managed(fmt.Sprint(a)); arn != "" {
					b.AttachRolePolicy(role.Name, arn)
				}
			}
		}
		if bnd, ok := st.r.resolve(res.Props["PermissionsBoundary"]).(string); ok {
			if arn := managed(bnd); arn != "" {
				b.RoleBoundary(role.Name, arn)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(st.T.Resources)) {
		res := st.T.Resources[id]
		if res.Type != "AWS::IAM::Policy" && res.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		roles, _ := st.r.resolve(res.Props["Roles"]).([]any)
		for _, r := range roles {
			if res.Type == "AWS::IAM::Policy" {
				b.RolePolicy(fmt.Sprint(r), fmt.Sprint(st.r.resolve(res.Props["PolicyName"])), versioned(st.r.resolve(res.Props["PolicyDocument"])))
			} else if arn, ok := st.r.getAtt(id, "Arn").(string); ok {
				b.AttachRolePolicy(fmt.Sprint(r), managed(arn))
			}
		}
	}
	for _, fn := range sortedFunctions(st) {
		b.Function(fn.Name, fn.RoleARN)
		for _, a := range fn.Aliases {
			b.Alias(fn.Name, a, b.PublishVersion(fn.Name))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(st.T.Resources)) {
		res := st.T.Resources[id]
		p, _ := st.r.resolve(res.Props).(map[string]any)
		switch res.Type {
		case "AWS::Lambda::Permission":
			fn, q := st.functionOf(p["FunctionName"])
			if fn == nil {
				t.Fatalf("%s: function %v not in the stack", id, p["FunctionName"])
			}
			in := &lambda.AddPermissionInput{FunctionName: aws.String(fn.Name), StatementId: aws.String(id),
				Action: aws.String(fmt.Sprint(p["Action"])), Principal: aws.String(fmt.Sprint(p["Principal"]))}
			if q != "" {
				in.Qualifier = aws.String(q)
			}
			if v, ok := p["SourceArn"].(string); ok {
				in.SourceArn = aws.String(v)
			}
			if v, ok := p["SourceAccount"].(string); ok {
				in.SourceAccount = aws.String(v)
			}
			if v, ok := p["FunctionUrlAuthType"].(string); ok {
				in.FunctionUrlAuthType = lambdatypes.FunctionUrlAuthType(v)
			}
			if v, ok := p["InvokedViaFunctionUrl"].(bool); ok {
				in.InvokedViaFunctionUrl = aws.Bool(v)
			}
			b.AddPermission(in)
		case "AWS::Lambda::Url":
			fn, q := st.functionOf(p["TargetFunctionArn"])
			in := &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(fn.Name), AuthType: lambdatypes.FunctionUrlAuthType(fmt.Sprint(p["AuthType"]))}
			if q != "" {
				in.Qualifier = aws.String(q)
			}
			if _, err := b.Lambda.CreateFunctionUrlConfig(ctx, in); err != nil {
				t.Fatalf("creating the URL of %s: %v", fn.Name, err)
			}
		}
	}
}

// liveVerdict diagnoses a call against the deployed resources.
func liveVerdict(t *testing.T, endpoint string, st *Stack, p Pair, action string) *diagnose.Verdict {
	t.Helper()
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Options{EndpointURL: endpoint, Region: awstest.Region, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	caller := p.Caller
	if fn := st.Functions[p.Caller]; fn != nil {
		caller = fn.Name
	} else if role := st.Roles[p.Caller]; role != nil {
		caller = role.ARN
	}
	// By ARN: the client then reads lambda:GetResourcePolicy first, which
	// the proxy answers as AWS writes the policy (asAWSWritesThem).
	target := st.Functions[p.Target].ARN
	if p.Qualifier != "" {
		target += ":" + p.Qualifier
	}
	// The source's ARN as deployed: the generated name with its suffix.
	sources := evidence.ContextValues{}
	for k, vs := range p.Context {
		for _, v := range vs {
			suffix := st.Settings.suffix
			if strings.HasPrefix(v, "arn:aws:s3:::") {
				suffix = strings.ToLower(suffix) // bucket names are lower case
			}
			sources[k] = append(sources[k], strings.ReplaceAll(v, generated, suffix))
		}
	}
	ev, err := c.FetchEvidence(ctx, awsclient.Request{Caller: caller, Target: target, Action: action, Context: sources})
	if err != nil {
		t.Fatalf("live %s -> %s: %v", caller, target, err)
	}
	v, err := diagnose.Diagnose(ev, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// moto refuses an inline policy without Version, which IAM accepts: the
// harness adds it (versioned). When moto changes, this test says so.
func TestMotoQuirkPolicyWithoutVersion(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	b.Role("r", "/")
	doc := `{"Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	_, err := b.IAM.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
	if err == nil || !strings.Contains(err.Error(), "must be version 2012-10-17") {
		t.Fatalf("moto accepted a policy without Version (%v): drop the workaround in versioned", err)
	}
}

// everyCall is every call between the stack's functions (each qualifier),
// with the calls the stack makes from services and roles.
func everyCall(st *Stack) []Pair {
	out := st.Pairs()
	seen := map[string]bool{}
	for _, p := range out {
		seen[p.Caller+">"+p.Target+":"+p.Qualifier] = true
	}
	for _, c := range sortedFunctions(st) {
		for _, fn := range sortedFunctions(st) {
			for _, q := range append([]string{""}, fn.Aliases...) {
				if k := c.ID + ">" + fn.ID + ":" + q; !seen[k] {
					seen[k] = true
					out = append(out, Pair{Caller: c.ID, Target: fn.ID, Qualifier: q})
				}
			}
		}
	}
	return out
}

// asAWSWritesThem serves each deployed function's resource policy, per
// qualifier, in the form AWS returns it, where moto stores it otherwise
// (internal/awstest's doc lists the gaps): a role ARN Principal as a bare
// string instead of {"AWS": ARN} (TestMotoQuirkStringPrincipal),
// FunctionUrlAuthType and InvokedViaFunctionUrl as elements of the
// statement instead of conditions, and one policy for every qualifier
// instead of one per qualifier. Only the form changes: each statement's
// effect, principal, action, resource and conditions are moto's.
func asAWSWritesThem(t *testing.T, b *awstest.Builder, proxy *awstest.SimulatorProxy, st *Stack) {
	t.Helper()
	for _, fn := range sortedFunctions(st) {
		out, err := b.Lambda.GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name)})
		if err != nil {
			continue // no permissions: GetPolicy answers 404, as AWS does
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
			t.Fatal(err)
		}
		arn := b.FunctionARN(fn.Name)
		for _, q := range append([]string{""}, fn.Aliases...) {
			res := arn
			if q != "" {
				res += ":" + q
			}
			var stmts []any
			for _, x := range doc["Statement"].([]any) {
				s := cloneMap(x.(map[string]any))
				if s["Resource"] != res {
					continue
				}
				if p, ok := s["Principal"].(string); ok && p != "*" {
					s["Principal"] = map[string]any{"AWS": p}
				}
				cond, _ := s["Condition"].(map[string]any)
				cond = cloneMap(cond)
				if v, ok := s["FunctionUrlAuthType"]; ok {
					delete(s, "FunctionUrlAuthType")
					eq, _ := cond["StringEquals"].(map[string]any)
					eq = cloneMap(eq)
					eq["lambda:FunctionUrlAuthType"] = v
					cond["StringEquals"] = eq
				}
				if _, ok := s["InvokedViaFunctionUrl"]; ok {
					delete(s, "InvokedViaFunctionUrl")
					cond["Bool"] = map[string]any{"lambda:InvokedViaFunctionUrl": "true"}
				}
				if len(cond) > 0 {
					s["Condition"] = cond
				}
				stmts = append(stmts, s)
			}
			// Every qualifier is answered, so that moto's one policy for all
			// of them is never read; one without statements of its own
			// holds none, as AWS's 404 for it says.
			if stmts == nil {
				stmts = []any{}
			}
			proxy.ResourcePolicy(res, string(mustJSON(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": stmts})))
		}
	}
}

// moto stores a role ARN given as AddPermission's Principal as a bare
// string; AWS writes {"AWS": ARN}. asAWSWritesThem restores AWS's form.
func TestMotoQuirkStringPrincipal(t *testing.T) {
	awstest.FakeCredentials(t)
	moto := awstest.StartMoto(t)
	b := awstest.NewBuilder(t, moto.URL)
	role := b.Role("r", "/")
	b.Function("f", role)
	b.AddPermission(&lambda.AddPermissionInput{FunctionName: aws.String("f"), StatementId: aws.String("s"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(role)})
	out, err := b.Lambda.GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: aws.String("f")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(out.Policy), `"Principal": "`+role+`"`) && !strings.Contains(aws.ToString(out.Policy), `"Principal":"`+role+`"`) {
		t.Fatalf("moto now stores the principal otherwise (%s): revisit asAWSWritesThem", aws.ToString(out.Policy))
	}
}
