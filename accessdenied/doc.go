// Package accessdenied reads an AccessDenied message as people paste it
// (from the CLI, an SDK, a log or a stack event) into the caller, action,
// resource and policy layer it names, and says what it means without the
// account: which policy to look at and the commands to run next. The
// diagnosis of the call it names belongs to package diagnose.
package accessdenied
