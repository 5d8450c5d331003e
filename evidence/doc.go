// Package evidence is the evidence file format (version 1): everything a
// diagnosis rests on (the request, the caller's and the target's policies,
// the organization's, the simulator's recorded answer, what could not be
// read), with reading, writing, validation, the request context AWS would
// build, and the changes a fix consists of. awsclient and template produce
// it; diagnose consumes it.
package evidence
