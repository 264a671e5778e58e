//go:build novipd_aliyun || onprem

package agent

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aliyun/aliyunopts"
)

// newAliyun fails: this build leaves the aliyun SDK out (build tag novipd_aliyun
// or onprem).
func newAliyun(context.Context, aliyunopts.Options, *slog.Logger) (providers.Provider, error) {
	return nil, errors.New("built without aliyun (build tag novipd_aliyun or onprem)")
}
