package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
)

func newReloadCmd(e *env) *cobra.Command {
	var path, socket string
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Make the running agent re-read its configuration (like SIGHUP)",
		Long: `Reload asks the running agent, through its status socket, to re-read its
configuration file and environment and apply the difference with the least
disruption. It prints the summary, or every problem of an invalid
configuration (the running one stays in force) and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock, err := socketPath(e, path, socket)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
			defer cancel()
			rep, err := agent.RequestReload(ctx, sock)
			if err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				for _, p := range rep.Problems {
					fmt.Fprintln(e.stdout, p)
				}
				return exitError{1}
			}
			fmt.Fprintln(e.stdout, "reloaded:", rep.Summary)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, "configuration file (to find the status socket)")
	cmd.Flags().StringVar(&socket, "socket", "", "status socket (default: global.status_socket of the configuration)")
	return cmd
}
