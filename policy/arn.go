package policy

import "strings"

// ARN is an Amazon Resource Name split into its six fields. Resource is
// everything after the fifth colon (it may itself contain colons, as in
// function:NAME:QUALIFIER).
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits s into its fields. It reports false when s does not start
// with "arn:" or has fewer than six fields.
func ParseARN(s string) (ARN, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, false
	}
	f, ok := splitARN(s)
	if !ok {
		return ARN{}, false
	}
	return ARN{Partition: f[1], Service: f[2], Region: f[3], Account: f[4], Resource: f[5]}, true
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}
