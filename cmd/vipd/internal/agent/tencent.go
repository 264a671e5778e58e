package agent

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/providers"
)

func newTencent(context.Context, configs.Instance, *slog.Logger) (providers.Provider, error) {
	return nil, errors.New("tencent provider not wired yet")
}
