package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSystemd listens on a unixgram NOTIFY_SOCKET in a temp dir (set in
// the environment for the test) and returns a function that reads the next
// message, or "" after timeout.
func fakeSystemd(t *testing.T) func(timeout time.Duration) string {
	t.Helper()
	// Unix socket paths are limited to 108 bytes: t.TempDir may be longer.
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return func(timeout time.Duration) string {
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(timeout))
		n, err := c.Read(buf)
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}
}

func nopLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSDNotifyStates(t *testing.T) {
	next := fakeSystemd(t)
	n := newSDNotifier(nopLogger())

	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := next(time.Second); got != "READY=1" {
		t.Errorf("Ready sent %q, want READY=1", got)
	}

	before := monotonicUsec(t)
	if err := n.Reloading(); err != nil {
		t.Fatal(err)
	}
	got := next(time.Second)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("Reloading sent %q, want RELOADING=1 and MONOTONIC_USEC=…", got)
	}
	us, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil || us < before || us > monotonicUsec(t) {
		t.Errorf("MONOTONIC_USEC=%d (%v), want the monotonic clock now (≥ %d)", us, err, before)
	}

	if err := n.Stopping(); err != nil {
		t.Fatal(err)
	}
	if got := next(time.Second); got != "STOPPING=1" {
		t.Errorf("Stopping sent %q, want STOPPING=1", got)
	}
}

func TestSDNotifyWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	n := newSDNotifier(nopLogger())
	for name, f := range map[string]func() error{"Ready": n.Ready, "Reloading": n.Reloading, "Stopping": n.Stopping} {
		if err := f(); err != nil {
			t.Errorf("%s without NOTIFY_SOCKET: %v", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := n.Watchdog(ctx, func() bool { return true }); err != nil || time.Since(start) > time.Second {
		t.Errorf("Watchdog without WATCHDOG_USEC = %v after %v, want nil at once", err, time.Since(start))
	}
}

// TestSDNotifyWatchdog: keep-alives every half WatchdogSec while the
// routers are alive, none while one is wedged, again once it recovers.
func TestSDNotifyWatchdog(t *testing.T) {
	next := fakeSystemd(t)
	const watchdog = 200 * time.Millisecond
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(int(watchdog/time.Microsecond)))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	n := newSDNotifier(nopLogger())
	var alive atomic.Bool
	alive.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Watchdog(ctx, alive.Load) }()

	// Alive: a keep-alive at once, then every 100 ms (3 within 1 s is a
	// loose lower bound that a loaded machine still meets).
	for i := range 3 {
		if got := next(time.Second); got != "WATCHDOG=1" {
			t.Fatalf("keep-alive %d: got %q, want WATCHDOG=1", i, got)
		}
	}
	// Wedged: after at most one in-flight keep-alive, silence for well over
	// WatchdogSec.
	alive.Store(false)
	next(watchdog / 2)
	if got := next(2 * watchdog); got != "" {
		t.Errorf("while wedged systemd got %q, want nothing", got)
	}
	alive.Store(true)
	if got := next(time.Second); got != "WATCHDOG=1" {
		t.Errorf("after recovery got %q, want WATCHDOG=1", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watchdog returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watchdog did not return after cancel")
	}
}

func monotonicUsec(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}
