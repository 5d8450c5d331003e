package template

import (
	_ "embed"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The SAM transform, for what decides permissions, as aws-sam-translator
// 1.110 writes it (samtranslator/model/sam_resources.py,
// model/eventsources/push.py, model/connector): the generated execution
// role, its policies, aliases and versions, and the Lambda permissions of
// event sources, function URLs and connectors. Resources that decide no
// permission (APIs, topics, buckets) are left as they are.

//go:embed awsmanaged.txt
var awsManagedText string

// awsManaged maps the AWS managed policy names SAM accepts in Policies to
// their path (SAM's bundled aws_managed_policies.json).
var awsManaged = func() map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(awsManagedText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, path, _ := strings.Cut(line, " ")
		out[name] = path
	}
	return out
}()

func awsManagedARN(name string) string {
	return "arn:aws:iam::aws:policy/" + awsManaged[name] + name
}

var lambdaTrust = map[string]any{
	"Version": "2012-10-17",
	"Statement": []any{map[string]any{
		"Action": []any{"sts:AssumeRole"}, "Effect": "Allow",
		"Principal": map[string]any{"Service": []any{"lambda.amazonaws.com"}},
	}},
}

func ref(id string) map[string]any         { return map[string]any{"Ref": id} }
func getAtt(id, att string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, att}} }

// isIntrinsic reports whether v is one intrinsic function call.
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// mergeGlobals merges Globals into a resource's properties the way SAM
// does ("Globals section": maps are merged with the resource's keys
// winning, lists are concatenated globals first, anything else the
// resource's value replaces; an intrinsic function is a single value).
func mergeGlobals(global, local any) any {
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok && !isIntrinsic(gm) && !isIntrinsic(lm) {
		out := maps.Clone(gm)
		for k, v := range lm {
			if g, ok := out[k]; ok {
				out[k] = mergeGlobals(g, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gl, gok := global.([]any)
	ll, lok := local.([]any)
	if gok && lok {
		return append(append([]any{}, gl...), ll...)
	}
	return local
}

func (t *Template) globals(kind string) map[string]any {
	g, _ := t.doc.root["Globals"].(map[string]any)
	m, _ := g[kind].(map[string]any)
	return m
}

// globalsRefused are Function properties SAM does not take from Globals
// (aws-sam-translator: "'Policies' is not a supported property of
// 'Function'"; the "Globals section of the AWS SAM template" lists the
// supported ones): a template with them does not deploy.
var globalsRefused = []string{"Policies", "Role"}

func (t *Template) expand() error {
	fg := t.globals("Function")
	for _, k := range globalsRefused {
		if _, ok := fg[k]; ok {
			return &InputError{Msg: fmt.Sprintf("Globals.Function.%s: SAM does not take %s from Globals (the transform refuses the template); set it on each function", k, k)}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.SAM)) {
		r := t.SAM[id]
		switch r.Type {
		case "AWS::Serverless::Function":
			props := r.Props
			if fg != nil {
				props = mergeGlobals(fg, r.Props).(map[string]any)
			}
			if err := t.expandFunction(r, props); err != nil {
				return err
			}
		case "AWS::Serverless::Connector":
			t.expandConnector(r.ID, r.Props, r, "")
		case "AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::SimpleTable",
			"AWS::Serverless::LayerVersion":
			// Decide no permission to invoke a function.
			t.add(&Resource{ID: r.ID, Type: r.Type, Props: r.Props, Condition: r.Condition, Pos: r.Pos, From: r.ID})
		default:
			t.note(NoteUnmodelled, id, "Resources/"+id, "%s %s is not modelled: the permissions it creates are not part of the diagnosis", r.Type, id)
		}
	}
	return nil
}

func (t *Template) expandFunction(r *Resource, p map[string]any) error {
	id := r.ID
	gen := func(nr *Resource) {
		nr.Condition, nr.Pos, nr.From = r.Condition, r.Pos, id
		t.add(nr)
	}
	fn := map[string]any{}
	for _, k := range []string{"FunctionName", "Environment", "Tags"} {
		if v, ok := p[k]; ok {
			fn[k] = v
		}
	}
	role, given := p["Role"]
	if given {
		fn["Role"] = role
		for _, k := range []string{"Policies", "PermissionsBoundary"} {
			if _, ok := p[k]; ok {
				t.note(NotePoliciesDropped, id, "Resources/"+id+"/Properties/"+k,
					"%s has Role given, so SAM ignores its %s: the role %s is what the function runs as", id, k, describe(role))
			}
		}
	} else {
		fn["Role"] = getAtt(id+"Role", "Arn")
		gen(&Resource{ID: id + "Role", Type: "AWS::IAM::Role", Props: t.executionRole(id, p)})
	}
	gen(&Resource{ID: id, Type: "AWS::Lambda::Function", Props: fn})

	// invoked is what events, URLs and connectors grant on: the alias when
	// AutoPublishAlias is set (SAM's get_runtime_attr("name")).
	invoked := any(ref(id))
	if alias, ok := p["AutoPublishAlias"]; ok {
		name, ok := alias.(string)
		if !ok {
			t.note(NoteUnmodelled, id, "Resources/"+id+"/Properties/AutoPublishAlias", "%s's AutoPublishAlias is not a literal name: its alias is not modelled", id)
		} else {
			vid := id + "Version" + versionSuffix
			gen(&Resource{ID: vid, Type: "AWS::Lambda::Version", Props: map[string]any{"FunctionName": ref(id)}})
			aid := id + "Alias" + alnum(name)
			gen(&Resource{ID: aid, Type: "AWS::Lambda::Alias", Props: map[string]any{"Name": name, "FunctionName": ref(id), "FunctionVersion": getAtt(vid, "Version")}})
			invoked = ref(aid)
		}
	}
	if events, ok := p["Events"].(map[string]any); ok {
		for _, ev := range slices.Sorted(maps.Keys(events)) {
			em, _ := events[ev].(map[string]any)
			t.expandEvent(id, ev, em, invoked, gen, events)
		}
	}
	if url, ok := p["FunctionUrlConfig"].(map[string]any); ok {
		gen(&Resource{ID: id + "Url", Type: "AWS::Lambda::Url", Props: map[string]any{"TargetFunctionArn": invoked, "AuthType": url["AuthType"]}})
		if url["AuthType"] == "NONE" {
			// SAM grants both actions a public URL needs since October
			// 2025 (Lambda: "Control access to function URLs").
			gen(&Resource{ID: id + "UrlPublicPermissions", Type: "AWS::Lambda::Permission", Props: map[string]any{
				"Action": "lambda:InvokeFunctionUrl", "FunctionName": invoked, "Principal": "*", "FunctionUrlAuthType": "NONE"}})
			gen(&Resource{ID: id + "URLInvokeAllowPublicAccess", Type: "AWS::Lambda::Permission", Props: map[string]any{
				"Action": "lambda:InvokeFunction", "FunctionName": invoked, "Principal": "*", "InvokedViaFunctionUrl": true}})
		}
	}
	for _, cid := range slices.Sorted(maps.Keys(r.Connectors)) {
		cm, _ := r.Connectors[cid].(map[string]any)
		props, _ := cm["Properties"].(map[string]any)
		props = maps.Clone(props)
		if props == nil {
			props = map[string]any{}
		}
		props["Source"] = map[string]any{"Id": id}
		t.expandConnector(id+cid, props, r, "Resources/"+id+"/Connectors/"+cid)
	}
	return nil
}

// versionSuffix stands for the hash SAM appends to a Version's logical ID
// (computed from the code location): it is not known before packaging.
const versionSuffix = "<hash>"

func alnum(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// executionRole is the role SAM generates for a function without Role.
func (t *Template) executionRole(id string, p map[string]any) map[string]any {
	trust := any(lambdaTrust)
	if v, ok := p["AssumeRolePolicyDocument"]; ok {
		trust = v
	}
	managed := []any{awsManagedARN("AWSLambdaBasicExecutionRole")}
	// SAM adds X-Ray's policy for any Tracing but Disabled.
	if tr, ok := p["Tracing"]; ok && tr != nil && tr != "Disabled" {
		managed = append(managed, awsManagedARN("AWSXrayWriteOnlyAccess"))
	}
	if p["VpcConfig"] != nil {
		managed = append(managed, awsManagedARN("AWSLambdaVPCAccessExecutionRole"))
	}
	// Policies SAM writes itself come first (DeadLetterQueue, then
	// EventInvokeConfig destinations), then the Policies entries.
	inline := t.writtenPolicies(id, p)
	addManaged := func(v any) {
		for _, m := range managed {
			if reflect.DeepEqual(m, v) {
				return
			}
		}
		managed = append(managed, v)
	}
	policies := p["Policies"]
	switch v := policies.(type) {
	case string:
		policies = []any{v}
	case map[string]any:
		if !isIntrinsic(v) {
			policies = []any{v}
		}
	}
	list, _ := policies.([]any)
	for i, item := range list {
		name := id + "RolePolicy" + strconv.Itoa(i)
		where := "Resources/" + id + "/Properties/Policies/" + strconv.Itoa(i)
		kind := policyKind(item)
		im, _ := item.(map[string]any)
		if cond, ok := im["Fn::If"].([]any); ok && len(cond) == 3 {
			// SAM keeps the Fn::If, converting each branch that is not
			// AWS::NoValue (resource_policies.py, role_utils.py).
			if kind == policyUnknown {
				t.note(NoteUnmodelled, id, where, "%s's Policies entry %d is an Fn::If mixing kinds of policies, which SAM rejects", id, i)
				continue
			}
			branch := func(v any) any {
				if isNoValue(v) {
					return v
				}
				switch kind {
				case policyManaged:
					return managedARN(v)
				case policyTemplate:
					return map[string]any{"PolicyName": name, "PolicyDocument": templateDocOf(v)}
				}
				return map[string]any{"PolicyName": name, "PolicyDocument": v}
			}
			v := map[string]any{"Fn::If": []any{cond[0], branch(cond[1]), branch(cond[2])}}
			if kind == policyManaged {
				addManaged(v)
			} else {
				inline = append(inline, v)
			}
			continue
		}
		switch kind {
		case policyManaged:
			addManaged(managedARN(item))
		case policyStatement:
			inline = append(inline, map[string]any{"PolicyName": name, "PolicyDocument": item})
		case policyTemplate:
			inline = append(inline, map[string]any{"PolicyName": name, "PolicyDocument": templateDocOf(item)})
		default:
			t.note(NoteUnmodelled, id, where, "%s's Policies entry %d is neither a policy document, a managed policy nor a known SAM policy template", id, i)
		}
	}
	if events, ok := p["Events"].(map[string]any); ok {
		for _, ev := range slices.Sorted(maps.Keys(events)) {
			em, _ := events[ev].(map[string]any)
			if name, ok := pullEventPolicies[fmt.Sprint(em["Type"])]; ok {
				addManaged(awsManagedARN(name))
			}
		}
	}
	role := map[string]any{"AssumeRolePolicyDocument": trust, "ManagedPolicyArns": managed}
	if len(inline) > 0 {
		role["Policies"] = inline
	}
	if v, ok := p["PermissionsBoundary"]; ok {
		role["PermissionsBoundary"] = v
	}
	if v, ok := p["RolePath"]; ok {
		role["Path"] = v
	}
	return role
}

// pullEventPolicies are the managed policies SAM attaches for event
// sources Lambda polls (model/eventsources/pull.py).
var pullEventPolicies = map[string]string{
	"SQS":      "AWSLambdaSQSQueueExecutionRole",
	"Kinesis":  "AWSLambdaKinesisExecutionRole",
	"DynamoDB": "AWSLambdaDynamoDBExecutionRole",
}

// noLambdaGrant marks a policy made from a SAM policy template that grants
// no lambda: action: its statements are not part of any diagnosis here.
const noLambdaGrant = "WhyDeniedNoLambdaGrant"

// policyTemplateDoc is the document a SAM policy template expands to.
// LambdaInvokePolicy is written as SAM writes it (function:NAME*: it
// covers the function, its versions and aliases, and every function whose
// name starts the same way); the others grant no lambda: action and are
// recorded by name only.
func policyTemplateDoc(name string, grantsLambda bool, params any) map[string]any {
	if !grantsLambda {
		return map[string]any{"Statement": []any{}, noLambdaGrant: name}
	}
	pm, _ := params.(map[string]any)
	return map[string]any{"Statement": []any{map[string]any{
		"Action": []any{"lambda:InvokeFunction"}, "Effect": "Allow",
		"Resource": map[string]any{"Fn::Sub": []any{
			"arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*",
			map[string]any{"functionName": pm["FunctionName"]},
		}},
	}}}
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if r, ok := v["Ref"]; ok {
			return fmt.Sprintf("!Ref %v", r)
		}
		if g, ok := v["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			return fmt.Sprintf("!GetAtt %v.%v", g[0], g[1])
		}
	}
	return "given"
}

// writtenPolicies are the inline policies SAM writes for a function's
// DeadLetterQueue and EventInvokeConfig destinations (model/iam.py): a
// Lambda destination is invoked with the function's own role.
func (t *Template) writtenPolicies(id string, p map[string]any) []any {
	var out []any
	if dlq, ok := p["DeadLetterQueue"].(map[string]any); ok {
		action := map[string]string{"SQS": "sqs:SendMessage", "SNS": "sns:Publish"}[fmt.Sprint(dlq["Type"])]
		out = append(out, map[string]any{"PolicyName": "DeadLetterQueuePolicy", "PolicyDocument": map[string]any{
			"Version": "2012-10-17", "Statement": []any{map[string]any{"Action": action, "Resource": dlq["TargetArn"], "Effect": "Allow"}}}})
	}
	eic, _ := p["EventInvokeConfig"].(map[string]any)
	dc, _ := eic["DestinationConfig"].(map[string]any)
	for _, ev := range []string{"OnSuccess", "OnFailure"} {
		d, ok := dc[ev].(map[string]any)
		if !ok {
			continue
		}
		lid := id + "EventInvokeConfig" + ev
		dest, given := d["Destination"]
		switch typ := fmt.Sprint(d["Type"]); typ {
		case "Lambda":
			if given {
				out = append(out, map[string]any{"PolicyName": lid + "LambdaPolicy", "PolicyDocument": map[string]any{
					"Statement": []any{map[string]any{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": dest}}}})
			}
		case "SQS", "SNS", "EventBridge", "S3Bucket":
			// Grant no lambda: action; recorded by name.
			name := map[string]string{"SQS": "SQSPolicy", "SNS": "SNSPolicy", "EventBridge": "EventBridgePolicy", "S3Bucket": "S3Policy"}[typ]
			out = append(out, map[string]any{"PolicyName": lid + name, "PolicyDocument": map[string]any{"Statement": []any{}, noLambdaGrant: typ}})
		}
	}
	return out
}

type policyEntryKind int

const (
	policyUnknown policyEntryKind = iota
	policyManaged
	policyStatement
	policyTemplate
)

// policyKind classifies a Policies entry as SAM does (ResourcePolicies
// _get_type): a string or an intrinsic function is a managed policy, a map
// with Statement a policy document, a map with one known template name a
// policy template; an Fn::If is the kind of its branches, AWS::NoValue
// aside.
func policyKind(v any) policyEntryKind {
	switch v := v.(type) {
	case string:
		return policyManaged
	case map[string]any:
		if c, ok := v["Fn::If"].([]any); ok && len(v) == 1 && len(c) == 3 {
			a, b := policyKind(c[1]), policyKind(c[2])
			switch {
			case a == b:
				return a
			case isNoValue(c[1]):
				return b
			case isNoValue(c[2]):
				return a
			}
			return policyUnknown
		}
		if isIntrinsic(v) {
			return policyManaged
		}
		if _, ok := v["Statement"]; ok {
			return policyStatement
		}
		if len(v) == 1 {
			for name := range v {
				if _, ok := policyTemplates[name]; ok {
					return policyTemplate
				}
			}
		}
	}
	return policyUnknown
}

func isNoValue(v any) bool { return refID(v) == "AWS::NoValue" }

// managedARN is the ARN SAM writes for a managed policy entry: AWS
// managed names become their ARN, anything else is kept.
func managedARN(v any) any {
	if s, ok := v.(string); ok {
		if _, known := awsManaged[s]; known {
			return awsManagedARN(s)
		}
	}
	return v
}

func templateDocOf(v any) map[string]any {
	for name, params := range v.(map[string]any) {
		return policyTemplateDoc(name, policyTemplates[name], params)
	}
	return nil
}
