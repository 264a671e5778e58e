package providers

import (
	"context"
	"fmt"
	"net/netip"
)

// Mode is one way a cloud provider moves a VIP: Acquire makes one attempt to
// point it at this node, Verify reads where the cloud points it.
type Mode struct {
	Acquire func(ctx context.Context, vip VIP) error
	Verify  func(ctx context.Context, vip VIP) (Ownership, error)
}

// Modes is a cloud provider's mode table, by mode name. Its Acquire and
// Verify check the VIP, pick the configured mode and run it.
//
// Every mode in a table handles IPv4 VIPs only (HAVIPs are IPv4; IPv6
// addresses and routes use other API fields and actions): other VIPs are
// rejected before any API call, with a permanent error.
type Modes map[string]Mode

// Acquire runs mode's Acquire for vip. provider names the errors ("aliyun").
func (m Modes) Acquire(ctx context.Context, provider, mode string, vip VIP) error {
	md, err := m.lookup(provider, mode, vip)
	if err != nil {
		return err
	}
	return md.Acquire(ctx, vip)
}

// Verify runs mode's Verify for vip. provider names the errors.
func (m Modes) Verify(ctx context.Context, provider, mode string, vip VIP) (Ownership, error) {
	md, err := m.lookup(provider, mode, vip)
	if err != nil {
		return Ownership{}, err
	}
	return md.Verify(ctx, vip)
}

func (m Modes) lookup(provider, mode string, vip VIP) (Mode, error) {
	if err := RequireIPv4(provider, vip); err != nil {
		return Mode{}, err
	}
	md, ok := m[mode]
	if !ok {
		return Mode{}, fmt.Errorf("%s: unknown mode %q", provider, mode)
	}
	return md, nil
}

// RequireIPv4 returns an error naming provider unless vip is an IPv4
// address (an IPv4-mapped IPv6 address is not).
func RequireIPv4(provider string, vip VIP) error {
	if !vip.Prefix.Addr().Is4() {
		return fmt.Errorf("%s: %s: only IPv4 VIPs are supported", provider, vip.Prefix)
	}
	return nil
}

// HostRoute is the VIP's address as a host route: a.b.c.d/32 or x::y/128.
func HostRoute(vip VIP) string {
	a := vip.Prefix.Addr()
	return netip.PrefixFrom(a, a.BitLen()).String()
}
