package template

import (
	"fmt"
	"strings"
)

// physicalName is a resource's name: the one the template gives, else the
// one CloudFormation generates (STACK-LogicalId-SUFFIX), whose suffix is
// an opaque token.
func (r *resolver) physicalName(id string) any {
	if v, ok := r.names[id]; ok {
		return v
	}
	res := r.t.Resources[id]
	prop := map[string]string{
		"AWS::Lambda::Function": "FunctionName", "AWS::IAM::Role": "RoleName",
		"AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::SNS::Topic": "TopicName",
		"AWS::S3::Bucket": "BucketName", "AWS::Events::Rule": "Name", "AWS::SQS::Queue": "QueueName",
		"AWS::IAM::Policy": "PolicyName",
	}[res.Type]
	var name any
	if v, ok := res.Props[prop]; ok && prop != "" {
		name = r.resolve(v)
	} else {
		suffix := generated
		if r.s.suffix != "" {
			suffix = r.s.suffix
		}
		n := r.s.StackName + "-" + id + "-" + suffix
		if res.Type == "AWS::S3::Bucket" {
			n = strings.ToLower(n)
		}
		name = n
	}
	r.names[id] = name
	return name
}

// resourceRef is what Ref returns for a resource ("Resource type
// reference": each type's Return values).
func (r *resolver) resourceRef(id string) any {
	res := r.t.Resources[id]
	switch res.Type {
	case "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::S3::Bucket", "AWS::IAM::Policy", "AWS::Events::Rule":
		return r.physicalName(id)
	case "AWS::IAM::ManagedPolicy", "AWS::SNS::Topic", "AWS::Lambda::Alias", "AWS::Lambda::Version":
		return r.getAtt(id, "Arn")
	case "AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api":
		// API IDs are made at deploy time: an opaque token.
		return "<" + id + " id>"
	}
	return Unresolved{What: "Ref " + id, Hint: res.Type + " is not modelled"}
}

func (r *resolver) getAtt(id, att string) any {
	res, ok := r.t.Resources[id]
	if !ok {
		if implicitAPI(id) {
			return "<" + id + " " + att + ">"
		}
		return Unresolved{What: "Fn::GetAtt " + id + "." + att, Hint: "no resource of that name"}
	}
	p := r.partition()
	withName := func(f func(string) string) any {
		switch n := r.physicalName(id).(type) {
		case string:
			return f(n)
		case Unresolved:
			return n
		}
		return Unresolved{What: "the name of " + id}
	}
	switch res.Type + "." + att {
	case "AWS::Lambda::Function.Arn":
		return withName(func(n string) string {
			return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p, r.s.Region, r.s.Account, n)
		})
	case "AWS::IAM::Role.Arn":
		path, _ := r.resolve(res.Props["Path"]).(string)
		if path == "" {
			path = "/"
		}
		return withName(func(n string) string { return fmt.Sprintf("arn:%s:iam::%s:role%s%s", p, r.s.Account, path, n) })
	case "AWS::IAM::Role.RoleId":
		return "<" + id + " RoleId>"
	case "AWS::IAM::ManagedPolicy.Arn", "AWS::IAM::ManagedPolicy.PolicyArn":
		path, _ := r.resolve(res.Props["Path"]).(string)
		if path == "" {
			path = "/"
		}
		return withName(func(n string) string { return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", p, r.s.Account, path, n) })
	case "AWS::SNS::Topic.Arn", "AWS::SNS::Topic.TopicArn":
		return withName(func(n string) string { return fmt.Sprintf("arn:%s:sns:%s:%s:%s", p, r.s.Region, r.s.Account, n) })
	case "AWS::S3::Bucket.Arn":
		return withName(func(n string) string { return fmt.Sprintf("arn:%s:s3:::%s", p, n) })
	case "AWS::Events::Rule.Arn":
		return withName(func(n string) string {
			return fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", p, r.s.Region, r.s.Account, n)
		})
	case "AWS::SQS::Queue.Arn":
		return withName(func(n string) string { return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", p, r.s.Region, r.s.Account, n) })
	case "AWS::Lambda::Alias.Arn", "AWS::Lambda::Alias.AliasArn":
		fn, ok := r.resolve(res.Props["FunctionName"]).(string)
		name, ok2 := r.resolve(res.Props["Name"]).(string)
		if !ok || !ok2 {
			return Unresolved{What: "the ARN of alias " + id}
		}
		return r.functionARN(fn) + ":" + name
	case "AWS::Lambda::Version.Version":
		// Version numbers are assigned at publish time.
		return "<" + id + " version>"
	case "AWS::Lambda::Version.Arn":
		fn, ok := r.resolve(res.Props["FunctionName"]).(string)
		if !ok {
			return Unresolved{What: "the ARN of version " + id}
		}
		return r.functionARN(fn) + ":<" + id + " version>"
	}
	return Unresolved{What: "Fn::GetAtt " + id + "." + att, Hint: res.Type + "." + att + " is not modelled"}
}

// functionARN is the unqualified ARN of a function given by name or ARN.
func (r *resolver) functionARN(nameOrArn string) string {
	if strings.HasPrefix(nameOrArn, "arn:") {
		return nameOrArn
	}
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", r.partition(), r.s.Region, r.s.Account, nameOrArn)
}
