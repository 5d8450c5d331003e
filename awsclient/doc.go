// Package awsclient is the only part of why-denied that talks to AWS. It
// turns the CALLER and TARGET arguments into IAM entities and a Lambda
// function, reads every policy that applies to the call (concurrently, and
// with read-only operations only: the SCPs of the organization that
// governs the caller's account included, see readOrganization), and asks
// iam:SimulatePrincipalPolicy for AWS's own answer. It decides nothing: the verdict belongs to package
// diagnose, which receives the result as an evidence.Evidence.
//
// # Errors
//
// Every error returned by this package is, or wraps, one of these types, so
// that the command layer can map it to an exit code with errors.As:
//
//   - *InputError: an argument or setting cannot name anything (malformed
//     ARN, unknown profile, no region). Exit 2.
//   - *NotFoundError: the function, qualifier, role or user does not exist
//     in the account and region that was read, or a caller function's
//     execution role was deleted (ExecutionRoleOf). Exit 2.
//   - *CredentialsError: no usable credentials for a profile. Exit 3.
//   - *CallError: an AWS read failed for another reason (access denied,
//     throttling or server errors on every attempt, network); it names the IAM action the
//     credentials need. Exit 3.
//   - *TimeoutError: Options.Timeout ran out, retries included; it names
//     the reads still in flight. Exit 3.
//   - *ReadOnlyError: the read-only guard stopped an operation that is not a
//     read. A programming error; exit 3.
//   - *SimulatorError: iam:SimulatePrincipalPolicy refused or could not
//     answer. Not fatal: the caller notes it and evaluates locally.
//
// # Read-only
//
// Every SDK client built here carries a middleware (ReadOnly) that refuses,
// before anything is sent, any operation whose name does not start with
// Get, List, Describe or Simulate. The tool inspects accounts it may have no business
// changing; the guard makes that a property of the code, not a promise.
package awsclient
