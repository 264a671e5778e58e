package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
)

func newCheckCmd(e *env) *cobra.Command {
	var path string
	var offline bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration; print ok or every problem",
		Long: `Check loads the configuration like run does (file and VIPD_* environment
variables) and validates it against this host's interfaces and addresses.
It prints "ok", or one line per problem and exits 1. --offline skips the
host checks (to check a file for another machine).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sys configs.System = configs.HostSystem{}
			if offline {
				sys = nil
			}
			// The same plan run builds: what check accepts, run starts.
			p, _, err := plan.Load(path, e.environ, sys)
			if err != nil {
				fmt.Fprintln(e.stdout, err)
				return exitError{1}
			}
			for _, w := range p.Warnings {
				fmt.Fprintln(e.stdout, "warning:", w)
			}
			fmt.Fprintln(e.stdout, "ok")
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, `configuration file ("" for environment only)`)
	cmd.Flags().BoolVar(&offline, "offline", false, "do not check interfaces and addresses of this host")
	return cmd
}
