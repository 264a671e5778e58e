package providers

import (
	"context"
	"net/netip"
	"time"
)

// VIP is one virtual address as a provider sees it.
type VIP struct {
	// Prefix is the address with the prefix length it gets on the interface,
	// e.g. 192.0.2.100/24 or 2001:db8::100/64.
	Prefix netip.Prefix
	// Interface is the local interface that carries the VIP (may be empty for
	// providers configured with no local address).
	Interface string
}

func (v VIP) String() string { return v.Prefix.String() + "@" + v.Interface }

// Provider moves a VIP to this node (Acquire) and away from it (Release).
// Both are idempotent and bounded by ctx. Implementations may be called from
// several goroutines, but never concurrently for the same VIP.
type Provider interface {
	Name() string
	Acquire(ctx context.Context, vip VIP) error
	Release(ctx context.Context, vip VIP) error
}

// Ownership is what a Verifier learned from where the VIP's state lives.
type Ownership struct {
	// Here is true when the VIP points at this node.
	Here bool
	// Owner names the current owner when known (instance id, ENI, MAC, …).
	Owner string
	// Detail is a short human explanation, e.g. "HAVIP master i-123".
	Detail string
}

// Verifier is implemented by providers whose state lives outside this host
// (clouds). The agent calls it after Acquire until the cloud confirms
// ("VIP pending at provider"), and periodically while master to repair drift.
type Verifier interface {
	Verify(ctx context.Context, vip VIP) (Ownership, error)
}

// Announcer is implemented by providers that can re-announce a VIP they hold
// (GARP / unsolicited NA): used for garp_master_refresh and after hearing
// another master.
type Announcer interface {
	Announce(ctx context.Context, vip VIP) error
}

// Cleaner is implemented by providers that can remove VIPs left behind by a
// previous run (kill -9). The agent calls it at start for every VIP of an
// instance that is not master.
type Cleaner interface {
	Cleanup(ctx context.Context, vip VIP) error
}

// Confirmation is reported by the agent's status: when the provider confirmed.
type Confirmation struct {
	Pending     bool
	ConfirmedAt time.Time
}
