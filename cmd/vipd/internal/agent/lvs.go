package agent

import "context"

// lvsPart runs the LVS virtual services and their health checks.
type lvsPart struct{}

func (a *agent) buildLVS() error { return nil }

func (l *lvsPart) run(ctx context.Context) error { <-ctx.Done(); return nil }

func (l *lvsPart) status() []ServiceStatus { return nil }
