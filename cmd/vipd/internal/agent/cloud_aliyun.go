//go:build !novipd_aliyun && !onprem

package agent

import (
	"context"
	"log/slog"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aliyun"
	"github.com/vipd/vipd/providers/aliyun/aliyunopts"
)

// newAliyun builds the aliyun provider (this build includes its SDK).
func newAliyun(ctx context.Context, o aliyunopts.Options, log *slog.Logger) (providers.Provider, error) {
	p, err := aliyun.New(ctx, o, log)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return p, nil
}
