package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
)

func newMigrateCmd(e *env) *cobra.Command {
	var configID string
	var checkScripts bool
	cmd := &cobra.Command{
		Use:   "migrate KEEPALIVED.CONF",
		Short: "Convert a keepalived.conf to vipd YAML (stdout); warnings go to stderr",
		Long: `Migrate converts keepalived.conf ("-" for stdin) to vipd YAML on stdout, with
the same behaviour, or refuses. keepalived's reading rules apply: comments
at # or ! anywhere, quotes, include (globs, relative to the including file),
$NAME=value definitions, and @ID conditional lines (give --config-id, as
keepalived -i; keepalived's default is the host name without domain).

What is converted with a changed text (an auth_pass cut to 8 characters, a
rounded advert_int, …) or not converted because it does not change
behaviour is listed on stderr, one "warning: line N: …" each. What vipd
cannot do the same way (auth_type AH, use_vmac, vrrp_strict dropping VIP
traffic, weight reverse, …) is an error naming the line, and nothing is
written. The result is then checked as "vipd check --offline" would.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := configs.KeepalivedOptions{ConfigID: configID}
			if checkScripts {
				opts.ScriptCheck = scriptCheck
			}
			var (
				cfg      *configs.Config
				warnings []string
				err      error
			)
			if args[0] == "-" {
				cfg, warnings, err = configs.ParseKeepalivedWith(e.stdin, "", "", opts)
			} else {
				cfg, warnings, err = configs.ParseKeepalivedFile(args[0], opts)
			}
			for _, w := range warnings {
				fmt.Fprintln(e.stderr, "warning:", w)
			}
			if err != nil {
				return fmt.Errorf("migrate %s: %w", args[0], err)
			}
			out, err := configs.MarshalYAML(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "# Migrated from %s by vipd migrate %s.\n", filepath.Base(args[0]), versionString())
			if _, err := e.stdout.Write(out); err != nil {
				return err
			}
			// What "vipd check --offline" would say of the result.
			if _, err := plan.Build(cfg); err != nil {
				fmt.Fprintf(e.stderr, "warning: the result does not pass vipd check yet:\n%v\n", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&configID, "config-id", "i", "", "the config id selecting @ID lines (keepalived -i)")
	cmd.Flags().BoolVar(&checkScripts, "check-scripts", false,
		"run on the keepalived host: drop track scripts that are missing or insecure here, as keepalived does")
	return cmd
}

// scriptCheck reports a track script keepalived would disable on this host:
// missing, or insecure under enable_script_security.
func scriptCheck(argv []string, user string, security bool) error {
	_, err := checks.NewExecChecker(checks.ExecConfig{Argv: argv, User: user, Security: security})
	if errors.Is(err, checks.ErrScriptMissing) || errors.Is(err, checks.ErrScriptInsecure) {
		return err
	}
	return nil // e.g. a script user that exists only on the target host
}
