package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/configs"
)

func newMigrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate KEEPALIVED.CONF",
		Short: "Convert a keepalived.conf to vipd YAML (stdout); warnings go to stderr",
		Long: `Migrate converts keepalived.conf ("-" for stdin) to vipd YAML on stdout.
What could not be converted is listed on stderr, one "warning: line N: …"
each, followed by the problems "vipd check --offline" would report. Review
both before using the result.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = e.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("migrate: %w", err)
				}
				defer f.Close()
				r = f
			}
			cfg, warnings, err := configs.ParseKeepalived(r)
			if err != nil {
				return fmt.Errorf("migrate %s: %w", args[0], err)
			}
			out, err := configs.MarshalYAML(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "# Migrated from %s by vipd migrate %s.\n", args[0], versionString())
			if _, err := e.stdout.Write(out); err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintln(e.stderr, "warning:", w)
			}
			if err := cfg.Validate(nil); err != nil {
				fmt.Fprintf(e.stderr, "warning: the result does not validate yet:\n%v\n", err)
			}
			return nil
		},
	}
}
