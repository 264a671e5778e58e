//go:build linux

package vmnet

import (
	"net"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// Link returns the namespace's link name.
func (ns *NS) Link(t testing.TB, name string) netlink.Link {
	t.Helper()
	l, err := ns.NL.LinkByName(name)
	if err != nil {
		t.Fatalf("%s: link %s: %v", ns.Name, name, err)
	}
	return l
}

// Veth creates a veth pair from a (name an) to b (name bn), both down.
func Veth(t testing.TB, a *NS, an string, b *NS, bn string) {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: an}, PeerName: bn, PeerNamespace: netlink.NsFd(b.FD)}
	if err := a.NL.LinkAdd(v); err != nil {
		t.Fatalf("veth %s/%s - %s/%s: %v", a.Name, an, b.Name, bn, err)
	}
}

// Bridge creates the bridge name, down.
func (ns *NS) Bridge(t testing.TB, name string) {
	t.Helper()
	if err := ns.NL.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		t.Fatalf("%s: bridge %s: %v", ns.Name, name, err)
	}
}

// Enslave makes the link port a port of the bridge.
func (ns *NS) Enslave(t testing.TB, port, bridge string) {
	t.Helper()
	if err := ns.NL.LinkSetMaster(ns.Link(t, port), ns.Link(t, bridge)); err != nil {
		t.Fatalf("%s: enslave %s to %s: %v", ns.Name, port, bridge, err)
	}
}

// AddAddr adds addrs (CIDR, e.g. "192.0.2.1/24") to the link name.
func (ns *NS) AddAddr(t testing.TB, name string, addrs ...string) {
	t.Helper()
	l := ns.Link(t, name)
	for _, s := range addrs {
		a, err := netlink.ParseAddr(s)
		if err == nil {
			err = ns.NL.AddrAdd(l, a)
		}
		if err != nil {
			t.Fatalf("%s: addr %s on %s: %v", ns.Name, s, name, err)
		}
	}
}

// Up adds addrs to the link name and sets it up.
func (ns *NS) Up(t testing.TB, name string, addrs ...string) {
	t.Helper()
	ns.AddAddr(t, name, addrs...)
	if err := ns.NL.LinkSetUp(ns.Link(t, name)); err != nil {
		t.Fatalf("%s: %s up: %v", ns.Name, name, err)
	}
}

// DefaultRoute routes everything through the gateway gw.
func (ns *NS) DefaultRoute(t testing.TB, gw string) {
	t.Helper()
	if err := ns.NL.RouteAdd(&netlink.Route{Gw: net.ParseIP(gw)}); err != nil {
		t.Fatalf("%s: default via %s: %v", ns.Name, gw, err)
	}
}

// WaitOperUp waits (10 s at most for all) until the kernel reports the
// links oper-up: they drop frames before.
func (ns *NS) WaitOperUp(t testing.TB, names ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range names {
		for {
			l := ns.Link(t, n)
			if l.Attrs().OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s not up after 10s (%v)", ns.Name, n, l.Attrs().OperState)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
