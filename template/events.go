package template

import (
	"fmt"
	"regexp"
	"strings"
)

// expandEvent writes what one function event creates that decides
// permissions: the AWS::Lambda::Permission a push source needs, named and
// scoped exactly as SAM writes it (model/eventsources/push.py), or the
// role a ScheduleV2 schedule assumes instead.
func (t *Template) expandEvent(fn, ev string, em map[string]any, invoked any, gen func(*Resource), siblings map[string]any) {
	typ, _ := em["Type"].(string)
	p, _ := em["Properties"].(map[string]any)
	if p == nil {
		p = map[string]any{}
	}
	path := "Resources/" + fn + "/Properties/Events/" + ev
	perm := func(id, principal string, extra map[string]any) {
		props := map[string]any{"Action": "lambda:InvokeFunction", "FunctionName": invoked, "Principal": principal}
		for k, v := range extra {
			props[k] = v
		}
		gen(&Resource{ID: id, Type: "AWS::Lambda::Permission", Props: props})
	}
	prefix := fn + ev
	switch typ {
	case "S3":
		// S3 notifications are scoped by account only: SAM cannot name the
		// bucket's ARN without a circular dependency.
		perm(prefix+"Permission", "s3.amazonaws.com", map[string]any{"SourceAccount": ref("AWS::AccountId")})
	case "SNS":
		perm(prefix+"Permission", "sns.amazonaws.com", map[string]any{"SourceArn": p["Topic"]})
	case "Schedule", "CloudWatchEvent", "EventBridgeRule":
		gen(&Resource{ID: prefix, Type: "AWS::Events::Rule", Props: map[string]any{}})
		perm(prefix+"Permission", "events.amazonaws.com", map[string]any{"SourceArn": getAtt(prefix, "Arn")})
	case "ScheduleV2":
		if _, ok := p["RoleArn"]; ok {
			return
		}
		gen(&Resource{ID: prefix + "Role", Type: "AWS::IAM::Role", Props: map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Action": []any{"sts:AssumeRole"}, "Effect": "Allow",
				"Principal": map[string]any{"Service": []any{"scheduler.amazonaws.com"}}}}},
			"Policies": []any{map[string]any{"PolicyName": prefix + "LambdaPolicy", "PolicyDocument": map[string]any{
				"Statement": []any{map[string]any{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": runtimeArn(invoked)}}}}},
		}})
	case "Api":
		method, _ := p["Method"].(string)
		apiPath, _ := p["Path"].(string)
		api, suffix := any(ref("ServerlessRestApi")), "Prod"
		if id, ok := p["RestApiId"]; ok {
			api, suffix = id, "AllStages"
			if rid := refID(id); rid != "" {
				suffix = "Stage"
				if r := t.SAM[rid]; r != nil {
					if s, ok := r.Props["StageName"].(string); ok && s != "" {
						suffix = s
					}
				}
			}
		}
		if !isAlnum(suffix) {
			t.note(NoteUnmodelled, fn, path, "%s's Api event %s has a stage name that is not alphanumeric: the permission's logical ID is a hash this tool does not compute", fn, ev)
			suffix = alnum(suffix)
		}
		arn := fmt.Sprintf("arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/%s%s", apiMethod(method), apiPathOf(apiPath))
		perm(prefix+"Permission"+suffix, "apigateway.amazonaws.com", map[string]any{
			"SourceArn": map[string]any{"Fn::Sub": []any{arn, map[string]any{"__ApiId__": api, "__Stage__": "*"}}}})
	case "HttpApi":
		api := any(ref("ServerlessHttpApi"))
		if id, ok := p["ApiId"]; ok {
			api = id
		}
		method, _ := p["Method"].(string)
		apiPath, _ := p["Path"].(string)
		resource := "${__ApiId__}/${__Stage__}"
		if apiPath != "" && apiPath != "$default" && defaultRoute(siblings, p["ApiId"]) {
			// The function's $default route already grants every path
			// (SAM writes no permission per route then).
			return
		}
		switch {
		case apiPath == "" || apiPath == "$default":
			resource += "/" + apiMethod(cmpOr(method, "ANY"))
		case strings.EqualFold(method, "any") && apiPath == "/$default":
			resource += apiPath
		default:
			resource += "/" + apiMethod(method) + apiPathOf(apiPath)
		}
		perm(prefix+"Permission", "apigateway.amazonaws.com", map[string]any{
			"SourceArn": map[string]any{"Fn::Sub": []any{"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:" + resource, map[string]any{"__ApiId__": api, "__Stage__": "*"}}}})
	case "SQS", "Kinesis", "DynamoDB":
		// Lambda polls these with the function's role: no permission on
		// the function (the role's managed policy is added with the role).
	case "MSK", "MQ", "SelfManagedKafka", "DocumentDB":
		t.note(NoteUnmodelled, fn, path, "%s's %s event %s is not modelled: the policies SAM adds to the role for it are not part of the diagnosis (they grant no lambda: action)", fn, typ, ev)
	default:
		// A push source SAM grants a permission for, which this tool does
		// not write: a permission whose principal is unknown, so that a
		// call it could allow is unknown rather than denied.
		t.note(NoteUnmodelled, fn, path, "%s's %s event %s is not modelled: the permission it creates is unknown to the diagnosis", fn, typ, ev)
		perm(prefix+"Permission", "", map[string]any{"Principal": map[string]any{unmodelledFn: fmt.Sprintf("the principal of %s's %s event %s", fn, typ, ev)}})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func apiMethod(m string) string {
	if strings.EqualFold(m, "any") || strings.EqualFold(m, "x-amazon-apigateway-any-method") {
		return "*"
	}
	return strings.ToUpper(m)
}

var trailingSlash = regexp.MustCompile(`^(.+)/$`)

// apiPathOf drops a trailing slash, as SAM does (API Gateway removes it).
func apiPathOf(p string) string { return trailingSlash.ReplaceAllString(p, "$1") }

func isAlnum(s string) bool { return s != "" && alnum(s) == s }

// refID is the logical ID a {"Ref": ID} names, or "".
func refID(v any) string {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if s, ok := m["Ref"].(string); ok {
			return s
		}
	}
	return ""
}

// runtimeArn is the ARN of what events invoke: the alias (Ref of an alias
// is its ARN) or the function.
func runtimeArn(invoked any) any {
	if id := refID(invoked); id != "" && !strings.Contains(id, "Alias") {
		return getAtt(id, "Arn")
	}
	return invoked
}

// expandConnector writes what a connector creates (samtranslator's
// connector profiles): to a function, an identity policy on the source's
// role (lambda:InvokeAsync and lambda:InvokeFunction on the destination's
// unqualified ARN) or a Lambda permission for a service source.
func (t *Template) expandConnector(id string, p map[string]any, owner *Resource, path string) {
	if path == "" {
		path = "Resources/" + id
	}
	src, _ := p["Source"].(map[string]any)
	dst, ok := p["Destination"].(map[string]any)
	if !ok {
		t.note(NoteUnmodelled, owner.ID, path, "connector %s has a Destination that is not one resource (a list is not modelled)", id)
		return
	}
	write := false
	if perms, ok := p["Permissions"].([]any); ok {
		for _, x := range perms {
			write = write || x == "Write"
		}
	}
	dstID, _ := dst["Id"].(string)
	dstType := t.typeOf(dstID)
	if dstType != "AWS::Lambda::Function" && dstType != "AWS::Serverless::Function" {
		return // only connectors to functions decide invoke permissions
	}
	if !write {
		return
	}
	dstArn := any(getAtt(dstID, "Arn"))
	srcID, _ := src["Id"].(string)
	gen := func(nr *Resource) {
		nr.Condition, nr.Pos, nr.From = owner.Condition, owner.Pos, owner.ID
		t.add(nr)
	}
	switch st := t.typeOf(srcID); st {
	case "AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		role := t.roleRefOf(srcID)
		if role == nil {
			t.note(NoteUnmodelled, owner.ID, path, "connector %s: the role of %s is not a role of this template, so its policy is not modelled", id, srcID)
			return
		}
		gen(&Resource{ID: id + "Policy", Type: "AWS::IAM::ManagedPolicy", Props: map[string]any{
			"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Action": []any{"lambda:InvokeAsync", "lambda:InvokeFunction"}, "Resource": []any{dstArn}}}},
			"Roles": []any{role},
		}})
	case "AWS::SNS::Topic", "AWS::S3::Bucket", "AWS::Events::Rule":
		props := map[string]any{"Action": "lambda:InvokeFunction", "FunctionName": dstArn}
		switch st {
		case "AWS::SNS::Topic":
			props["Principal"], props["SourceArn"] = "sns.amazonaws.com", ref(srcID)
		case "AWS::S3::Bucket":
			props["Principal"], props["SourceArn"], props["SourceAccount"] = "s3.amazonaws.com", getAtt(srcID, "Arn"), map[string]any{"Fn::Sub": "${AWS::AccountId}"}
		default:
			props["Principal"], props["SourceArn"] = "events.amazonaws.com", getAtt(srcID, "Arn")
		}
		gen(&Resource{ID: id + "WriteLambdaPermission", Type: "AWS::Lambda::Permission", Props: props})
	default:
		t.note(NoteUnmodelled, owner.ID, path, "connector %s from %s is not modelled", id, cmpOr(st, "a resource outside the template"))
	}
}

// typeOf is the type of a resource of the template, SAM or not.
func (t *Template) typeOf(id string) string {
	if r := t.SAM[id]; r != nil {
		return r.Type
	}
	if r := t.Resources[id]; r != nil {
		return r.Type
	}
	return ""
}

// roleRefOf is {"Ref": ROLE} for the role a function of the template runs
// as, when that role is in the template.
func (t *Template) roleRefOf(fn string) any {
	var role any
	if r := t.SAM[fn]; r != nil {
		v, given := r.Props["Role"]
		if !given {
			if g := t.globals("Function"); g != nil {
				v, given = g["Role"]
			}
		}
		if !given {
			return ref(fn + "Role")
		}
		role = v
	} else if r := t.Resources[fn]; r != nil {
		role = r.Props["Role"]
	}
	if m, ok := role.(map[string]any); ok {
		if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			return ref(fmt.Sprint(g[0]))
		}
	}
	return nil
}

// defaultRoute reports whether a function has an HttpApi event on the
// API's $default route (no Path, or Path $default).
func defaultRoute(events map[string]any, api any) bool {
	for _, e := range events {
		em, _ := e.(map[string]any)
		if em["Type"] != "HttpApi" {
			continue
		}
		p, _ := em["Properties"].(map[string]any)
		path, _ := p["Path"].(string)
		if fmt.Sprint(p["ApiId"]) == fmt.Sprint(api) && (path == "" || path == "$default") {
			return true
		}
	}
	return false
}
