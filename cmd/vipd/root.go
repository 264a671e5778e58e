package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
)

// exitError carries an exit code without printing anything more (the
// command has already written its output, e.g. `vipd check`).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// env is what the commands get from the process: streams and environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

// execute runs the command line args and returns the exit code.
func execute(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ}
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.Execute()
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(stderr, "vipd:", err)
		return 1
	}
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "vipd",
		Short:         "vipd moves virtual IPs between nodes (VRRP, cloud providers, LVS)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(
		newRunCmd(e),
		newCheckCmd(e),
		newStatusCmd(e),
		newReloadCmd(e),
		newCleanupCmd(e),
		newMigrateCmd(e),
		newGenhashCmd(e),
		newVersionCmd(e),
	)
	return root
}

// versionString is the build's version: -ldflags, else the module version.
func versionString() string { return agent.VersionString() }

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(e.stdout, "vipd", versionString())
			return err
		},
	}
}
