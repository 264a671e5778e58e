//go:build novipd_tencent || onprem

package agent

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/tencent/tencentopts"
)

// newTencent fails: this build leaves the tencent SDK out (build tag novipd_tencent
// or onprem).
func newTencent(context.Context, tencentopts.Options, *slog.Logger) (providers.Provider, error) {
	return nil, fmt.Errorf("%w tencent (build tag novipd_tencent or onprem)", errBuiltWithout)
}
