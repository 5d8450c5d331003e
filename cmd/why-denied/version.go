package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version go install recorded is used.
var version = "dev"

func newVersionCmd(io streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of why-denied, the commit it was built from and the Go version",
		Args:  cobra.NoArgs,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, _ := debug.ReadBuildInfo()
			return writeVersion(io.Out, info)
		},
	}
}

// writeVersion prints what the build info knows: the module version (go
// install ...@v1.2.3 records it), the VCS commit and whether the tree was
// modified (go build in a checkout records them), and the Go version.
func writeVersion(w io.Writer, info *debug.BuildInfo) error {
	v, commit, modified, goVersion := version, "", false, "unknown"
	if info != nil {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	} else if modified {
		commit += " (modified)"
	}
	_, err := fmt.Fprintf(w, "why-denied %s\n  commit    %s\n  go        %s\n  evidence  file version 1\n", v, commit, goVersion)
	return err
}
