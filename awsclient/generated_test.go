package awsclient

import "testing"

// The names CloudFormation generates: STACK-LogicalId-SUFFIX.
func TestGeneratedFrom(t *testing.T) {
	for _, tc := range []struct {
		name, logicalID string
		want            bool
	}{
		{"sam-app-ProcessorFunction-AbC123", "ProcessorFunction", true},
		{"orders-ProcessorFunction-1A2B3C4D5E6F", "ProcessorFunction", true},
		{"ProcessorFunction-AbC123", "ProcessorFunction", false},   // no stack
		{"sam-app-ProcessorFunction-", "ProcessorFunction", false}, // no suffix
		{"sam-app-ProcessorFunctionLegacy-AbC123", "ProcessorFunction", false},
		{"sam-app-XProcessorFunction-AbC123", "ProcessorFunction", false}, // another logical ID
		{"sam-app-Processor-Function-AbC123", "Processor-Function", false},
		{"ProcessorFunction", "ProcessorFunction", false},
	} {
		if got := generatedFrom(tc.name, tc.logicalID); got != tc.want {
			t.Errorf("generatedFrom(%q, %q) = %v, want %v", tc.name, tc.logicalID, got, tc.want)
		}
	}
}
