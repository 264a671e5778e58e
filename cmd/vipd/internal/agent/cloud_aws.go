//go:build !novipd_aws && !onprem

package agent

import (
	"context"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aws"
	"github.com/vipd/vipd/providers/aws/awsopts"
)

// newAWS builds the aws provider (this build includes its SDK).
func newAWS(ctx context.Context, o awsopts.Options, log *slog.Logger) (providers.Provider, error) {
	p, err := aws.New(ctx, o, log)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return p, nil
}
