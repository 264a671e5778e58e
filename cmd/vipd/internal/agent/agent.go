package agent

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipd/vipd/configs"
)

// Run runs the agent until ctx ends. On return every VIP this node held has
// been released (master instances send a priority-0 advert first).
func Run(ctx context.Context, cfg *configs.Config, log *slog.Logger) error {
	_ = ctx
	_ = cfg
	_ = log
	return errors.New("agent: not implemented yet")
}
