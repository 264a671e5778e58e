package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vipd/vipd/checks"
)

func newGenhashCmd(e *env) *cobra.Command {
	var tlsVerify bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "genhash URL",
		Short: "Print the md5 digest of a URL's body (for an http check's digest)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			sum, err := checks.Genhash(ctx, args[0], tlsVerify)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "MD5SUM = %s\n", sum)
			return err
		},
	}
	cmd.Flags().BoolVar(&tlsVerify, "tls-verify", false, "verify the server certificate (https)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	return cmd
}
