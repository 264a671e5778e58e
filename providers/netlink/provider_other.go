//go:build !linux

package netlink

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipd/vipd/providers"
)

// ErrClosed is returned by every call made after Close.
var ErrClosed = errors.New("netlink: provider closed")

// errUnsupported is returned by every call on systems other than Linux.
var errUnsupported = errors.New("netlink: provider is only supported on linux")

// Provider is a stub outside Linux: every call fails.
type Provider struct{}

// New returns a stub Provider.
func New(Options, *slog.Logger) *Provider { return &Provider{} }

// Name implements providers.Provider.
func (*Provider) Name() string { return "netlink" }

// Acquire always fails outside Linux.
func (*Provider) Acquire(context.Context, providers.VIP) error { return errUnsupported }

// Release always fails outside Linux.
func (*Provider) Release(context.Context, providers.VIP) error { return errUnsupported }

// Announce always fails outside Linux.
func (*Provider) Announce(context.Context, providers.VIP) error { return errUnsupported }

// Cleanup always fails outside Linux.
func (*Provider) Cleanup(context.Context, providers.VIP) error { return errUnsupported }

// Close does nothing.
func (*Provider) Close() error { return nil }
