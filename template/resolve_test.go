package template

import (
	"reflect"
	"strings"
	"testing"
)

const intrinsicsTemplate = `
Parameters:
  Stage: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
  NoDefault: {Type: String}
  Ssm: {Type: "AWS::SSM::Parameter::Value<String>", Default: /x}
Mappings:
  M:
    us-east-1: {Arn: "arn:aws:lambda:us-east-1:111111111111:function:m"}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  Unknown: !Equals [!Ref NoDefault, x]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: arn:aws:iam::111111111111:role/r}
  Named:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: !Sub "${AWS::StackName}-named", Role: arn:aws:iam::111111111111:role/r}
`

func TestIntrinsics(t *testing.T) {
	tpl, err := Parse([]byte(intrinsicsTemplate))
	if err != nil {
		t.Fatal(err)
	}
	r := tpl.resolver(Settings{Account: "111111111111", Region: "us-east-1", StackName: "st", Params: map[string]string{"Stage": "prod"}})
	for _, tc := range []struct {
		in   any
		want any
	}{
		{map[string]any{"Ref": "Stage"}, "prod"},
		{map[string]any{"Ref": "Names"}, []any{"a", "b"}},
		{map[string]any{"Ref": "AWS::Partition"}, "aws"},
		{map[string]any{"Ref": "Fn"}, "st-Fn-<generated>"},
		{map[string]any{"Fn::GetAtt": []any{"Named", "Arn"}}, "arn:aws:lambda:us-east-1:111111111111:function:st-named"},
		{map[string]any{"Fn::Sub": "${Fn.Arn}:*"}, "arn:aws:lambda:us-east-1:111111111111:function:st-Fn-<generated>:*"},
		{map[string]any{"Fn::Sub": "${!Literal}-${AWS::Region}"}, "${Literal}-us-east-1"},
		{map[string]any{"Fn::Sub": []any{"${X}:live", map[string]any{"X": map[string]any{"Ref": "Named"}}}}, "st-named:live"},
		{map[string]any{"Fn::Join": []any{":", []any{"a", map[string]any{"Fn::Select": []any{"1", map[string]any{"Fn::Split": []any{",", "x,y"}}}}}}}, "a:y"},
		{map[string]any{"Fn::FindInMap": []any{"M", map[string]any{"Ref": "AWS::Region"}, "Arn"}}, "arn:aws:lambda:us-east-1:111111111111:function:m"},
		{map[string]any{"Fn::If": []any{"IsProd", "yes", "no"}}, "yes"},
		{[]any{"keep", map[string]any{"Ref": "AWS::NoValue"}}, []any{"keep"}},
	} {
		if got := r.resolve(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"Ref": "NoDefault"}, "pass --param NoDefault=VALUE"},
		{map[string]any{"Ref": "Ssm"}, "SSM-typed parameter Ssm"},
		{map[string]any{"Fn::ImportValue": "Shared"}, "pass --import Shared=VALUE"},
		{map[string]any{"Fn::If": []any{"Unknown", "a", "b"}}, "Fn::If Unknown"},
		{"{{resolve:ssm:/x}}", "dynamic reference"},
		{map[string]any{"Fn::Sub": "${Fn.Arn}:${NoDefault}"}, "pass --param NoDefault=VALUE"},
	} {
		u, ok := r.resolve(tc.in).(Unresolved)
		if !ok || !strings.Contains(u.String(), tc.want) {
			t.Errorf("%v: got %#v, want unresolved naming %q", tc.in, r.resolve(tc.in), tc.want)
		}
	}
}
