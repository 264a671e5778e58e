//go:build linux

package lvs

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/moby/ipvs"
)

// serviceHandle is the part of *ipvs.Handle that manages virtual services.
type serviceHandle interface {
	GetServices() ([]*ipvs.Service, error)
	NewService(*ipvs.Service) error
	UpdateService(*ipvs.Service) error
	DelService(*ipvs.Service) error
}

// destHandle is the part of *ipvs.Handle that manages real servers.
type destHandle interface {
	GetDestinations(*ipvs.Service) ([]*ipvs.Destination, error)
	NewDestination(*ipvs.Service, *ipvs.Destination) error
	UpdateDestination(*ipvs.Service, *ipvs.Destination) error
	DelDestination(*ipvs.Service, *ipvs.Destination) error
}

// ipvsHandle is every moby/ipvs call the reconciler makes. *ipvs.Handle is
// the real one; lvstest.Fake is the in-memory one.
type ipvsHandle interface {
	serviceHandle
	destHandle
}

var _ ipvsHandle = (*ipvs.Handle)(nil)

// OpenKernel opens the kernel's IPVS table in the network namespace at
// netnsPath ("" for the current one).
func OpenKernel(netnsPath string) (*ipvs.Handle, error) {
	h, err := ipvs.New(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("lvs: open ipvs %q: %w", netnsPath, err)
	}
	return h, nil
}

// svcParams are the kernel parameters of a service that vipd compares.
type svcParams struct {
	Scheduler string
	Flags     uint32 // without the kernel's HASHED bit
	Timeout   uint32 // seconds
	Netmask   uint32
}

// dstParams are the kernel parameters of a destination that vipd compares.
type dstParams struct {
	Weight     int
	Forwarding Forwarding
	Upper      uint32
	Lower      uint32
}

func (s Service) params() svcParams {
	return svcParams{
		Scheduler: s.scheduler(),
		Flags:     s.kernelFlags(),
		Timeout:   uint32(s.Persistence.Seconds()),
		Netmask:   s.kernelNetmask(),
	}
}

// toIPVS builds the moby/ipvs service for key k with parameters p.
func toIPVS(k ServiceKey, p svcParams) *ipvs.Service {
	s := &ipvs.Service{
		AddressFamily: uint16(k.Family),
		SchedName:     p.Scheduler,
		Flags:         p.Flags,
		Timeout:       p.Timeout,
		Netmask:       p.Netmask,
	}
	if k.FWMark != 0 {
		s.FWMark = k.FWMark
	} else {
		s.Address = net.IP(k.Addr.AsSlice())
		s.Port = k.Port
		s.Protocol = uint16(k.Protocol)
	}
	return s
}

func toIPVSDest(a netip.AddrPort, p dstParams) *ipvs.Destination {
	return &ipvs.Destination{
		Address:         net.IP(a.Addr().AsSlice()),
		Port:            a.Port(),
		Weight:          p.Weight,
		ConnectionFlags: p.Forwarding.kernel(),
		AddressFamily:   uint16(familyOf(a.Addr())),
		UpperThreshold:  p.Upper,
		LowerThreshold:  p.Lower,
	}
}

func ipFromNet(ip net.IP, fam uint16) (netip.Addr, bool) {
	if fam == uint16(IPv4) {
		ip = ip.To4()
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, false
	}
	if fam == uint16(IPv4) {
		a = a.Unmap()
	}
	return a, true
}

// fromIPVS reads a kernel service back.
func fromIPVS(s *ipvs.Service) (ServiceKey, svcParams, bool) {
	p := svcParams{Scheduler: s.SchedName, Flags: s.Flags &^ flagHashed, Timeout: s.Timeout, Netmask: s.Netmask}
	fam := Family(s.AddressFamily)
	if s.FWMark != 0 {
		return ServiceKey{Family: fam, FWMark: s.FWMark}, p, true
	}
	a, ok := ipFromNet(s.Address, s.AddressFamily)
	if !ok {
		return ServiceKey{}, p, false
	}
	return ServiceKey{Family: fam, Protocol: Protocol(s.Protocol), Addr: a, Port: s.Port}, p, true
}

func fromIPVSDest(d *ipvs.Destination) (netip.AddrPort, dstParams, bool) {
	a, ok := ipFromNet(d.Address, d.AddressFamily)
	if !ok {
		return netip.AddrPort{}, dstParams{}, false
	}
	return netip.AddrPortFrom(a, d.Port), dstParams{
		Weight:     d.Weight,
		Forwarding: forwardingOf(d.ConnectionFlags),
		Upper:      d.UpperThreshold,
		Lower:      d.LowerThreshold,
	}, true
}
