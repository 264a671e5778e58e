//go:build !novipd_tencent && !onprem

package agent

import (
	"context"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/tencent"
	"github.com/vipd/vipd/providers/tencent/tencentopts"
)

// newTencent builds the tencent provider (this build includes its SDK).
func newTencent(ctx context.Context, o tencentopts.Options, log *slog.Logger) (providers.Provider, error) {
	p, err := tencent.New(ctx, o, log)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return p, nil
}
