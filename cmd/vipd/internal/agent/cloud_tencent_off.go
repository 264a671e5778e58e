//go:build novipd_tencent || onprem

package agent

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/tencent/tencentopts"
)

// newTencent fails: this build leaves the tencent SDK out (build tag novipd_tencent
// or onprem).
func newTencent(context.Context, tencentopts.Options, *slog.Logger) (providers.Provider, error) {
	return nil, errors.New("built without tencent (build tag novipd_tencent or onprem)")
}
