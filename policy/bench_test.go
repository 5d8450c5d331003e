package policy

import (
	"fmt"
	"testing"
)

var benchRequest = Request{
	Principal:    "arn:aws:sts::111111111111:assumed-role/RequestRole/RequestFunction",
	PrincipalARN: "arn:aws:iam::111111111111:role/service-role/RequestRole",
	Action:       "lambda:InvokeFunction",
	Resource:     "arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction:live",
	Context: Context{
		"aws:PrincipalAccount":  {"111111111111"},
		"aws:PrincipalTag/team": {"payments"},
		"aws:SecureTransport":   {"true"},
	},
}

// BenchmarkEvaluateLambdaInvoke is one decision on the SAM case: an inline
// identity policy, a managed policy and a function policy with a service
// principal grant.
func BenchmarkEvaluateLambdaInvoke(b *testing.B) {
	inline := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction"}]}`)
	managed := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`)
	resource := MustParse(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"p1","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111111111111:function:ProcessorFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:lambda:us-east-1:111111111111:function:RequestFunction"}}}]}`)
	in := &Input{
		Request:  benchRequest,
		Identity: []Named{{Name: "Inline0", Policy: inline}, {Name: "AWSLambdaBasicExecutionRole", Policy: managed}},
		Resource: &Named{Name: "function", Policy: resource},
	}
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(in).Decision != ImplicitDeny {
			b.Fatal("unexpected decision")
		}
	}
}

// BenchmarkEvaluate50x20 evaluates 50 identity policies of 20 statements
// each (1,000 statements, a mix of wildcards and conditions).
func BenchmarkEvaluate50x20(b *testing.B) {
	var policies []Named
	for p := range 50 {
		doc := `{"Version":"2012-10-17","Statement":[`
		for s := range 20 {
			if s > 0 {
				doc += ","
			}
			switch s % 4 {
			case 0:
				doc += fmt.Sprintf(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%d-%d/*"}`, p, s)
			case 1:
				doc += fmt.Sprintf(`{"Effect":"Allow","Action":"lambda:Invoke*","Resource":"arn:aws:lambda:us-east-1:111111111111:function:Fn%d%d*"}`, p, s)
			case 2:
				doc += fmt.Sprintf(`{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:111111111111:function:ProcessorFunction:*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"team-%d"}}}`, s)
			case 3:
				doc += fmt.Sprintf(`{"Effect":"Deny","NotAction":"lambda:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},"StringNotEquals":{"aws:PrincipalAccount":"11111111111%d"}}}`, s%10)
			}
		}
		doc += `]}`
		policies = append(policies, Named{Name: fmt.Sprintf("p%d", p), Policy: MustParse(doc)})
	}
	in := &Input{Request: benchRequest, Identity: policies}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(in)
	}
}

// The hostile shapes of hostile_shapes_test.go, each at the size the issue
// measured: every one must stay well under a second per operation.

func benchEvaluate(b *testing.B, in *Input) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(in)
	}
}

func BenchmarkHostileSegmentStars20(b *testing.B) { benchEvaluate(b, starsInput(20)) }
func BenchmarkHostileLongLiteral1MB(b *testing.B) {
	benchEvaluate(b, longLiteralInput(8000, 1<<20))
}
func BenchmarkHostileQuestionMarks64KB(b *testing.B) {
	benchEvaluate(b, questionMarksInput(5000, MaxContextValueLength))
}
func BenchmarkHostileHugeNumbers1000(b *testing.B) { benchEvaluate(b, hugeNumbersInput(1000)) }
func BenchmarkHostileMatchingDenies4000(b *testing.B) {
	benchEvaluate(b, manyDeniesInput(4000))
}
func BenchmarkHostileTagKeys4000(b *testing.B) { benchEvaluate(b, manyTagKeysInput(4000)) }
func BenchmarkHostileContextKeys100000(b *testing.B) {
	benchEvaluate(b, manyContextKeysInput(100000))
}
func BenchmarkHostileValues100000x1000(b *testing.B) {
	benchEvaluate(b, manyValuesInput(100000, 1000))
}
func BenchmarkHostileStatements40000(b *testing.B) {
	benchEvaluate(b, manyStatementsInput(40000))
}
func BenchmarkHostileDeepJSON100000(b *testing.B) {
	data := deepJSON(100000)
	b.ReportAllocs()
	for b.Loop() {
		if CheckJSON(data) == nil {
			b.Fatal("accepted")
		}
	}
}
