package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
)

func newCheckCmd(e *env) *cobra.Command {
	var path string
	var offline, cloud bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration; print ok or every problem",
		Long: `Check loads the configuration like run does (file and VIPD_* environment
variables) and validates it against this host's interfaces and addresses.
It prints "ok", or one line per problem and exits 1. --offline skips the
host checks (to check a file for another machine). --cloud then asks each
cloud provider, against the real account, whether it could move the VIPs:
credentials, identity discovery, reads, and write permissions where the
cloud has a dry run (EC2 DryRun); it changes nothing and prints one verdict
per instance.`,
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
			if cloud {
				return checkCloud(cmd.Context(), e, p)
			}
			fmt.Fprintln(e.stdout, "ok")
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, `configuration file ("" for environment only)`)
	cmd.Flags().BoolVar(&offline, "offline", false, "do not check interfaces and addresses of this host")
	cmd.Flags().BoolVar(&cloud, "cloud", false, "also ask each cloud provider, against the real account, whether it could move the VIPs (credentials, identity, permissions; changes nothing)")
	return cmd
}

// checkCloud prints the preflight verdict of every cloud instance; exit 1
// if one is not ready.
func checkCloud(ctx context.Context, e *env, p *plan.Plan) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res := agent.PreflightClouds(ctx, p, log)
	if len(res) == 0 {
		fmt.Fprintln(e.stdout, "ok (no cloud provider configured)")
		return nil
	}
	ready := true
	for _, r := range res {
		switch {
		case r.Err != nil:
			fmt.Fprintf(e.stdout, "%s: NOT READY: %v\n", r.Instance, r.Err)
		default:
			fmt.Fprintf(e.stdout, "%s %s", r.Instance, r.Verdict.String())
		}
		ready = ready && r.OK()
	}
	if !ready {
		return exitError{1}
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
