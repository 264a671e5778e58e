package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// sdNotifier tells systemd (Type=notify, NotifyAccess=main) about vipd's
// life cycle through sd_notify(3), with github.com/coreos/go-systemd. Every
// method is a no-op returning nil when NOTIFY_SOCKET is not set (not run by
// systemd, or another Type=). NOTIFY_SOCKET stays in the environment, since
// reloads and the watchdog need it later; with NotifyAccess=main systemd
// ignores notify and track scripts that inherit it.
type sdNotifier struct {
	log *slog.Logger
}

func newSDNotifier(log *slog.Logger) *sdNotifier { return &sdNotifier{log: log} }

// Ready sends READY=1: every instance has started (also after a reload).
func (n *sdNotifier) Ready() error { return n.send(daemon.SdNotifyReady) }

// Reloading sends RELOADING=1 with MONOTONIC_USEC (what Type=notify-reload
// requires; Type=notify accepts it too) when a reload starts; send Ready
// when it is done, whether the new config was applied or rejected.
func (n *sdNotifier) Reloading() error {
	return n.send(daemon.SdNotifyReloading + "\n" + daemon.SdNotifyMonotonicUsec())
}

// Stopping sends STOPPING=1 when shutdown starts (before the routers
// resign and release).
func (n *sdNotifier) Stopping() error { return n.send(daemon.SdNotifyStopping) }

func (n *sdNotifier) send(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sd_notify %q: %w", state, err)
	}
	return nil
}

// Watchdog sends WATCHDOG=1 every half WatchdogSec while alive reports true
// (the agent's check that every VRRP loop still turns), until ctx is done;
// it then returns nil. Without a watchdog for this process (WATCHDOG_USEC
// unset, or WATCHDOG_PID another pid) it returns nil at once. While alive
// reports false no keep-alive is sent, so systemd kills and restarts a
// wedged vipd WatchdogSec after its last healthy check; that is logged once
// per streak. alive is called from Watchdog's goroutine and must not block.
func (n *sdNotifier) Watchdog(ctx context.Context, alive func() bool) error {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("sd_notify watchdog: %w", err)
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTicker(d / 2)
	defer t.Stop()
	wedged := false
	for {
		if alive() {
			if wedged {
				n.log.Info("watchdog keep-alives resumed")
				wedged = false
			}
			if err := n.send(daemon.SdNotifyWatchdog); err != nil {
				n.log.Warn("watchdog keep-alive failed", "err", err)
			}
		} else if !wedged {
			wedged = true
			n.log.Error("a vrrp loop is not responding, watchdog keep-alives stopped", "watchdog", d)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
