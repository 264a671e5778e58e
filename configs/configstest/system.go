// Package configstest provides a fake configs.System for tests.
package configstest

import (
	"fmt"
	"net/netip"

	"github.com/vipd/vipd/configs"
)

// System is a fake host: interface name → its addresses. An interface with
// no addresses exists when its key is present.
type System map[string][]netip.Addr

var _ configs.System = System(nil)

// InterfaceAddrs implements configs.System.
func (s System) InterfaceAddrs(name string) ([]netip.Addr, error) {
	addrs, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("interface %s: no such network interface", name)
	}
	return addrs, nil
}

// Default is a host with lo, eth0 (192.0.2.1, 192.0.2.2, 2001:db8::1,
// 2001:db8::2: both nodes of the deploy/examples pair), eth1 (198.51.100.1,
// 2001:db8:1::1) and eth2 (203.0.113.1).
func Default() System {
	a := netip.MustParseAddr
	return System{
		"lo":   {a("127.0.0.1"), a("::1")},
		"eth0": {a("192.0.2.1"), a("192.0.2.2"), a("2001:db8::1"), a("2001:db8::2")},
		"eth1": {a("198.51.100.1"), a("2001:db8:1::1")},
		"eth2": {a("203.0.113.1")},
	}
}
