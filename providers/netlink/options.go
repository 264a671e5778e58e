package netlink

import (
	"errors"
	"time"
)

// Defaults for Options. GARPCount is keepalived's vrrp_garp_master_repeat
// default; keepalived sends a burst back to back unless vrrp_garp_interval is
// set, and 200ms spaces them so that a switch or HAVIP that drops one of a
// burst still sees the next.
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
	// Router sets the R (router) flag of unsolicited NAs. nil: copy the
	// interface's net.ipv6.conf.<iface>.forwarding, as keepalived does; a
	// node that routes must keep R set or neighbours drop it from their
	// default router list (RFC 4861 §7.2.5).
	Router *bool
	// DryRun makes the provider change nothing: it reads the interface and
	// its addresses, and logs every change it would make (address add or
	// remove, gratuitous ARP / unsolicited NA burst) with msg "dry-run:
	// would …"; it adds, removes and sends nothing.
	DryRun bool
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
