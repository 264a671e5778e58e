package netlink

import (
	"errors"
	"time"
)

// Defaults for Options, the same as keepalived's (vrrp_garp_master_repeat 5,
// vrrp_garp_interval 0.2s is what most deployments set).
const (
	DefaultGARPCount    = 5
	DefaultGARPInterval = 200 * time.Millisecond
)

// ErrInterfaceNotFound is wrapped by every error about a VIP whose interface
// does not exist.
var ErrInterfaceNotFound = errors.New("not found")

// Options configure a Provider. The zero value is usable.
type Options struct {
	// GARPCount is how many gratuitous ARPs / unsolicited NAs one burst
	// sends (Acquire, Announce); <= 0 means DefaultGARPCount.
	GARPCount int
	// GARPInterval is the wait between two announcements of one burst;
	// <= 0 means DefaultGARPInterval.
	GARPInterval time.Duration
	// NetNS is the path of a network namespace (e.g. /run/netns/vn-a) the
	// provider works in. Empty (production): the namespace the process is
	// in when the Provider first needs the kernel.
	NetNS string
	// Router sets the R flag of unsolicited NAs (the node forwards IPv6).
	Router bool
}

func (o Options) withDefaults() Options {
	if o.GARPCount <= 0 {
		o.GARPCount = DefaultGARPCount
	}
	if o.GARPInterval <= 0 {
		o.GARPInterval = DefaultGARPInterval
	}
	return o
}
