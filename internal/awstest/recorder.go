package awstest

import (
	"regexp"
	"slices"
	"sync"
)

// Operation is one AWS operation a client sent.
type Operation struct {
	Service string
	Name    string
}

func (o Operation) String() string { return o.Service + "." + o.Name }

// Recorder collects operations. It satisfies awsclient.OperationRecorder;
// it is safe for concurrent use, and its zero value is ready.
type Recorder struct {
	mu  sync.Mutex
	ops []Operation
}

// RecordOperation notes one operation.
func (r *Recorder) RecordOperation(service, operation string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, Operation{Service: service, Name: operation})
}

// Operations returns the operations in the order they were recorded.
func (r *Recorder) Operations() []Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// readOnlyOperation is the allowlist, written independently of the guard
// in awsclient so that a bug there cannot hide here.
var readOnlyOperation = regexp.MustCompile(`^(Get[A-Z]|List[A-Z]|Describe[A-Z]|Simulate[A-Z])`)

// NotReadOnly returns the recorded operations outside the read-only
// allowlist (Get*, List*, Describe*, Simulate*), each once.
func (r *Recorder) NotReadOnly() []Operation {
	var bad []Operation
	for _, op := range r.Operations() {
		if !readOnlyOperation.MatchString(op.Name) && !slices.Contains(bad, op) {
			bad = append(bad, op)
		}
	}
	return bad
}
