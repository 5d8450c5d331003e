package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/why-denied/why-denied/report"
)

// run builds the command tree, executes it and returns the exit code.
func run(args []string, io streams) int {
	return runTree(context.Background(), newRootCmd(io, defaultDeps()), args, io)
}

// runTree runs the command tree on args, prints an error as one line, and
// returns the exit code of the contract.
func runTree(ctx context.Context, root *cobra.Command, args []string, io streams) int {
	usage := &usageErrors{}
	root.PersistentPreRun = usage.begin
	root.SetArgs(args)
	err := usage.classify(root.ExecuteContext(ctx))
	if err != nil && !errors.As(err, &deniedError{}) {
		fmt.Fprintln(io.Err, errorLine(err))
	}
	return exitCode(err)
}

func newRootCmd(io streams, deps deps) *cobra.Command {
	cmd := newDiagnoseCmd(io, deps, nil)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetIn(io.In)
	cmd.SetOut(io.Out)
	cmd.SetErr(io.Err)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err.Error() + " (see why-denied --help)"}
	})
	cmd.AddCommand(newVersionCmd(io), newExplainCmd(io, deps, nil), newTemplateCmd(io, deps, nil))
	cmd.CompletionOptions.HiddenDefaultCmd = false
	return cmd
}

// errorLine is the one line the command prints for an error. Errors quote
// names from the account, evidence files and pasted messages, which may
// hold terminal controls: they are shown escaped.
func errorLine(err error) string {
	return "why-denied: " + report.Escape(oneLine(err.Error()))
}
