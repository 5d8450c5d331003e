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
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return ARN{}, false
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, true
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}
