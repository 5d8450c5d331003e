package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/why-denied/why-denied/accessdenied"
	"github.com/why-denied/why-denied/awsclient"
	"github.com/why-denied/why-denied/diagnose"
	"github.com/why-denied/why-denied/evidence"
	"github.com/why-denied/why-denied/policy"
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

// incompleteError: the diagnosis could not be completed (exit 3).
type incompleteError struct{ msg string }

func (e *incompleteError) Error() string { return e.msg }

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
		message  *accessdenied.InputError
		limit    *policy.LimitError
	)
	switch {
	case errors.As(err, &deniedError{}):
		return exitDenied
	case errors.As(err, &usage), errors.As(err, &input), errors.As(err, &notFound),
		errors.As(err, &evInput), errors.As(err, &evFile), errors.As(err, &message), errors.As(err, &limit):
		return exitBadInput
	}
	return exitIncomplete
}

// usageErrors marks what went wrong before a command ran: cobra's own
// flag, argument and command errors arise there, and are bad usage (exit
// 2) whatever their words. Errors from a running command are judged by
// their type alone: an AWS or network error saying "invalid argument" is
// not bad usage.
type usageErrors struct{ started bool }

// begin is the root's PersistentPreRun: the command is about to run.
func (u *usageErrors) begin(*cobra.Command, []string) { u.started = true }

// classify wraps an error that arose before the command ran as a
// usageError.
func (u *usageErrors) classify(err error) error {
	var usage *usageError
	if err == nil || u.started || errors.As(err, &usage) {
		return err
	}
	return &usageError{err.Error() + " (see why-denied --help)"}
}

// oneLine keeps error messages to a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
