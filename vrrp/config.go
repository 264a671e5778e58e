package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// PriorityOwner is the priority of the router that owns the virtual
// addresses (RFC 5798 §5.2.4). Tracking never changes it.
const PriorityOwner = 255

// priorityStop is the priority of a resigning master (RFC 5798 §5.2.4).
const priorityStop = 0

// Config is one VRRP instance (keepalived vrrp_instance) as the Router
// needs it. The agent fills it in from configs.Instance, resolving interface
// names and default addresses.
type Config struct {
	// Name names the instance in logs, status and transitions.
	Name string
	// VRID is the virtual router id, 1..255.
	VRID uint8
	// Version is 2 (RFC 3768, IPv4 only) or 3 (RFC 5798).
	Version uint8
	// Priority is the base priority 1..255; 255 means the address owner.
	Priority uint8
	// AdvertInterval is Advertisement_Interval: whole seconds 1s..255s for
	// v2, a multiple of 10ms in 10ms..40.95s for v3.
	AdvertInterval time.Duration
	// Preempt lets a higher-priority backup take over from a lower-priority
	// master (RFC 5798 Preempt_Mode; keepalived nopreempt = false).
	Preempt bool
	// PreemptDelay (keepalived preempt_delay): after start, and after first
	// hearing a lower-priority master since we last deferred to a master
	// of priority ≥ ours, keep deferring for this long before preempting.
	PreemptDelay time.Duration
	// AcceptMode is RFC 5798 Accept_Mode; the router only carries it (the
	// agent decides whether to accept packets for the VIPs).
	AcceptMode bool
	// InitialMaster (keepalived "state MASTER") makes the router become
	// master at once on start instead of waiting Master_Down_Interval as
	// backup (RFC 5798 §6.4.1 does this only for the owner).
	InitialMaster bool
	// IfIndex is the interface adverts are sent out of.
	IfIndex int
	// Src is the primary address: the source of our adverts (keepalived
	// unicast_src_ip) and the address compared in the equal-priority
	// tie-break (RFC 5798 §6.4.3).
	Src netip.Addr
	// Peers are the unicast peers (keepalived unicast_peer). Empty means
	// multicast to 224.0.0.18 / ff02::12. In unicast mode adverts from other
	// sources are dropped (DropNotPeer).
	Peers []netip.Addr
	// VIPs are the virtual addresses carried in adverts, all in Src's family.
	VIPs []netip.Addr
	// AuthPass is the v2 simple text password (auth_type PASS), at most 8
	// bytes; empty means no authentication.
	AuthPass string
}

// Validate reports every problem in c, joined (errors.Join); each starts
// with the key that keepalived.conf and vipd's YAML use for the field
// ("advert_interval: …"), so a caller can prefix its own key path.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.VRID == 0 {
		bad("vrid", "must be 1..255")
	}
	if c.Priority == 0 {
		bad("priority", "must be 1..255")
	}
	switch c.Version {
	case 2:
		// RFC 3768 §5.3.7: whole seconds in 8 bits.
		if c.AdvertInterval%time.Second != 0 || c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second {
			bad("advert_interval", "%v is not whole seconds in 1s..255s (VRRP v2 sends seconds)", c.AdvertInterval)
		}
		if c.Src.IsValid() && !c.Src.Unmap().Is4() {
			bad("version", "VRRP v2 is IPv4 only; IPv6 instances need version 3")
		}
		if len(c.AuthPass) > 8 {
			bad("auth_pass", "is %d characters, at most 8 are sent", len(c.AuthPass))
		}
	case 3:
		// RFC 5798 §5.2.7: centiseconds in 12 bits.
		if c.AdvertInterval%(10*time.Millisecond) != 0 || c.AdvertInterval < 10*time.Millisecond || c.AdvertInterval > maxV3Interval*10*time.Millisecond {
			bad("advert_interval", "%v is not a multiple of 10ms in 10ms..40.95s (VRRP v3 sends centiseconds)", c.AdvertInterval)
		}
		if c.AuthPass != "" {
			bad("auth_pass", "authentication is not part of VRRP v3 (RFC 5798); remove it or set version: 2")
		}
	default:
		bad("version", "%d is not 2 or 3", c.Version)
	}
	if c.PreemptDelay < 0 || c.PreemptDelay > 1000*time.Second {
		bad("preempt_delay", "%v is out of range 0..1000s", c.PreemptDelay)
	}
	if !c.Src.IsValid() {
		bad("unicast_src_ip", "the source (primary) address is required")
		return errors.Join(errs...)
	}
	fam := Family(c.Src)
	for _, p := range c.Peers {
		if Family(p) != fam {
			bad("unicast_peers", "%v is not in the family of the source %v", p, c.Src)
		}
		if p.Unmap() == c.Src.Unmap() {
			bad("unicast_peers", "%v is our own source address", p)
		}
	}
	if len(c.VIPs) == 0 {
		bad("vips", "at least one VIP is required")
	}
	if len(c.VIPs) > 255 {
		bad("vips", "%d VIPs, at most 255 fit in an advert", len(c.VIPs))
	}
	for _, v := range c.VIPs {
		if Family(v) != fam {
			bad("vips", "%v is not in the family of the source %v", v, c.Src)
		}
	}
	return errors.Join(errs...)
}
