//go:build !linux

package netlink

import (
	"context"
	"log/slog"
)

// Routing is a stub outside Linux: every call that would touch the kernel
// fails.
type Routing struct{}

// NewRouting returns a stub Routing.
func NewRouting(Options, *slog.Logger) *Routing { return &Routing{} }

// Set always fails outside Linux.
func (*Routing) Set(context.Context, []Route, []Rule) error { return errUnsupported }

// Remove has nothing to remove outside Linux.
func (*Routing) Remove(context.Context) error { return nil }

// Owned is always empty outside Linux.
func (*Routing) Owned() ([]Route, []Rule) { return nil, nil }

// Close does nothing.
func (*Routing) Close() error { return nil }
