package awsclient

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/why-denied/why-denied/evidence"
)

func TestContextEntries(t *testing.T) {
	got := contextEntries(evidence.ContextValues{
		"aws:SourceArn":          {"arn:aws:s3:::bucket"},
		"aws:SourceIp":           {"203.0.113.7"},
		"aws:PrincipalTag/team":  {"a", "b"},
		"aws:MultiFactorAuthAge": {"30"},
	})
	want := []iamtypes.ContextEntry{
		{ContextKeyName: aws.String("aws:MultiFactorAuthAge"), ContextKeyType: iamtypes.ContextKeyTypeEnumNumeric, ContextKeyValues: []string{"30"}},
		{ContextKeyName: aws.String("aws:PrincipalTag/team"), ContextKeyType: iamtypes.ContextKeyTypeEnumStringList, ContextKeyValues: []string{"a", "b"}},
		{ContextKeyName: aws.String("aws:SourceArn"), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{"arn:aws:s3:::bucket"}},
		{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: iamtypes.ContextKeyTypeEnumIp, ContextKeyValues: []string{"203.0.113.7"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if contextEntries(nil) != nil {
		t.Error("an empty context must send no entries")
	}
}
