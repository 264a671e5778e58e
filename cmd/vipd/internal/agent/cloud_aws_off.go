//go:build novipd_aws || onprem

package agent

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aws/awsopts"
)

// newAWS fails: this build leaves the aws SDK out (build tag novipd_aws
// or onprem).
func newAWS(context.Context, awsopts.Options, *slog.Logger) (providers.Provider, error) {
	return nil, errors.New("built without aws (build tag novipd_aws or onprem)")
}
