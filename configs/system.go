package configs

import (
	"fmt"
	"net"
	"net/netip"
)

// System is what Validate asks the host: which interfaces exist and which
// addresses they carry. HostSystem is the real one; configstest.System a
// fake.
type System interface {
	// InterfaceAddrs returns the addresses of the named interface, or an
	// error when it does not exist.
	InterfaceAddrs(name string) ([]netip.Addr, error)
}

// HostSystem reads this host's interfaces (net.InterfaceByName).
type HostSystem struct{}

var _ System = HostSystem{}

// InterfaceAddrs implements System.
func (HostSystem) InterfaceAddrs(name string) ([]netip.Addr, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", name, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, fmt.Errorf("interface %s: addresses: %w", name, err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}
