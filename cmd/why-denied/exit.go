package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
)

// Exit codes: the contract scripts and CI depend on (README, "Exit codes").
const (
	exitAllowed    = 0
	exitDenied     = 1
	exitBadInput   = 2
	exitIncomplete = 3
)

// streams are the command's input and outputs, injected so that tests can
// capture them.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// usageError is bad usage of the command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// deniedError carries the denial exit code; the diagnosis is already printed.
type deniedError struct{}

func (deniedError) Error() string { return "denied" }

// exitCode maps an error to the contract's exit code. It is the only place
// that does.
func exitCode(err error) int {
	if err == nil {
		return exitAllowed
	}
	var (
		usage    *usageError
		input    *awsclient.InputError
		notFound *awsclient.NotFoundError
		evInput  *diagnose.InputError
		evFile   *evidence.FileError
	)
	switch {
	case errors.As(err, &deniedError{}):
		return exitDenied
	case errors.As(err, &usage), errors.As(err, &input), errors.As(err, &notFound),
		errors.As(err, &evInput), errors.As(err, &evFile):
		return exitBadInput
	case isCobraUsage(err):
		return exitBadInput
	}
	return exitIncomplete
}

// isCobraUsage recognizes the flag and argument errors cobra returns as
// plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "bad flag syntax", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// oneLine keeps error messages to a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
