package vrrp

import (
	"net/netip"
	"time"
)

// IPProtocol is the IP protocol number of VRRP.
const IPProtocol = 112

// Multicast destinations for VRRP advertisements (RFC 5798 §5.1.1.2, §5.1.2.2).
var (
	MulticastIPv4 = netip.MustParseAddr("224.0.0.18")
	MulticastIPv6 = netip.MustParseAddr("ff02::12")
)

// Advert is one VRRP advertisement. Field names and sizes are per RFC 5798
// §5.2 (v3) and RFC 3768 §5.3 (v2).
type Advert struct {
	Version  uint8 // 2 or 3
	VRID     uint8
	Priority uint8 // 0: the master is resigning; 255: the address owner
	// AdvertInterval is Max Advertise Interval: v3 carries it in centiseconds
	// (12 bits), v2 in whole seconds (8 bits).
	AdvertInterval time.Duration
	AuthType       uint8   // v2 only: 0 none, 1 simple text password
	AuthData       [8]byte // v2 only
	Addrs          []netip.Addr
	Checksum       uint16 // as received; Marshal computes its own
}
