package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
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

// Wire constants (RFC 5798 §5.2, RFC 3768 §5.3).
const (
	headerLen     = 8 // version/type .. checksum
	authDataLen   = 8 // v2 only: Authentication Data
	typeAdvert    = 1 // the only VRRP packet type
	maxV3Interval = 0x0fff
	// AuthTypeNone and AuthTypeSimple are the v2 authentication types
	// (RFC 3768 §5.3.6); type 2 (IP AH) is not supported.
	AuthTypeNone   = 0
	AuthTypeSimple = 1
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

// AuthPassword returns the v2 simple password padded with zeros to the
// 8 bytes of Authentication Data, as keepalived's auth_pass does. Longer
// passwords are truncated to 8 bytes, as keepalived does.
func AuthPassword(pass string) [8]byte {
	var d [8]byte
	copy(d[:], pass)
	return d
}

// Marshal encodes a as the VRRP message (without IP header) that src sends
// to dst, computing the checksum: for v2 over the VRRP message only
// (RFC 3768 §5.3.8), for v3 with the IPv4 or IPv6 pseudo-header
// (RFC 5798 §5.2.8). a.Checksum is ignored. v2 is IPv4 only; a.Addrs must
// all be in the family of src and dst. AdvertInterval must be whole
// seconds 1..255 for v2 and a multiple of 10ms up to 40.95s for v3. For v3,
// AuthType and AuthData must be zero.
func Marshal(a Advert, src, dst netip.Addr) ([]byte, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return nil, fmt.Errorf("vrrp: marshal: src %v and dst %v must be addresses of one family", src, dst)
	}
	alen := 4
	if src.Is6() {
		alen = 16
	}
	if len(a.Addrs) > 255 {
		return nil, fmt.Errorf("vrrp: marshal: %d addresses, at most 255", len(a.Addrs))
	}
	var interval int
	switch a.Version {
	case 2:
		if !src.Is4() {
			return nil, errors.New("vrrp: marshal: VRRPv2 is IPv4 only")
		}
		if a.AuthType != AuthTypeNone && a.AuthType != AuthTypeSimple {
			return nil, fmt.Errorf("vrrp: marshal: unsupported v2 auth type %d", a.AuthType)
		}
		if a.AdvertInterval%time.Second != 0 || a.AdvertInterval < time.Second || a.AdvertInterval > 255*time.Second {
			return nil, fmt.Errorf("vrrp: marshal: v2 advert interval %v is not whole seconds in 1s..255s", a.AdvertInterval)
		}
		interval = int(a.AdvertInterval / time.Second)
	case 3:
		if a.AuthType != 0 || a.AuthData != ([8]byte{}) {
			return nil, errors.New("vrrp: marshal: v3 has no authentication")
		}
		cs := a.AdvertInterval / (10 * time.Millisecond)
		if a.AdvertInterval%(10*time.Millisecond) != 0 || cs < 1 || cs > maxV3Interval {
			return nil, fmt.Errorf("vrrp: marshal: v3 advert interval %v is not a multiple of 10ms in 10ms..40.95s", a.AdvertInterval)
		}
		interval = int(cs)
	default:
		return nil, fmt.Errorf("vrrp: marshal: version %d, want 2 or 3", a.Version)
	}

	n := headerLen + alen*len(a.Addrs)
	if a.Version == 2 {
		n += authDataLen
	}
	b := make([]byte, n)
	b[0] = a.Version<<4 | typeAdvert
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = uint8(len(a.Addrs))
	if a.Version == 2 {
		b[4] = a.AuthType
		b[5] = uint8(interval)
	} else {
		binary.BigEndian.PutUint16(b[4:6], uint16(interval)) // upper 4 bits reserved, zero
	}
	off := headerLen
	for i, ip := range a.Addrs {
		ip = ip.Unmap()
		if ip.BitLen() != alen*8 {
			return nil, fmt.Errorf("vrrp: marshal: address %d (%v) is not in the family of %v", i, ip, src)
		}
		off += copy(b[off:], ip.AsSlice())
	}
	if a.Version == 2 {
		copy(b[off:], a.AuthData[:])
	}
	binary.BigEndian.PutUint16(b[6:8], checksum(a.Version, b, src, dst))
	return b, nil
}

// Unmarshal decodes the VRRP message b (without IP header) received from
// src for dst. The family of src decides the address size. It validates the
// version (2 over IPv4, 3 over IPv4 or IPv6), the type, the length against
// the address count and the checksum; every failure is a *DropError.
// Semantic checks against the configuration (VRID, auth, interval, peers)
// are left to the caller.
func Unmarshal(b []byte, src, dst netip.Addr) (Advert, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return Advert{}, dropf(DropMalformed, "src %v and dst %v are not addresses of one family", src, dst)
	}
	if len(b) < headerLen {
		return Advert{}, dropf(DropMalformed, "%d bytes, shorter than the %d-byte header", len(b), headerLen)
	}
	a := Advert{
		Version:  b[0] >> 4,
		VRID:     b[1],
		Priority: b[2],
		Checksum: binary.BigEndian.Uint16(b[6:8]),
	}
	switch {
	case a.Version == 3:
	case a.Version == 2 && src.Is4():
	case a.Version == 2:
		return Advert{}, dropf(DropVersion, "VRRPv2 over IPv6")
	default:
		return Advert{}, dropf(DropVersion, "version %d", a.Version)
	}
	if t := b[0] & 0x0f; t != typeAdvert {
		return Advert{}, dropf(DropType, "type %d", t)
	}
	alen := 4
	if src.Is6() {
		alen = 16
	}
	count := int(b[3])
	want := headerLen + alen*count
	if a.Version == 2 {
		want += authDataLen
	}
	if len(b) != want {
		return Advert{}, dropf(DropMalformed, "%d bytes for %d addresses, want %d", len(b), count, want)
	}
	if got := checksum(a.Version, b, src, dst); got != 0 {
		return Advert{}, dropf(DropChecksum, "checksum %#04x does not verify", a.Checksum)
	}
	if a.Version == 2 {
		a.AuthType = b[4]
		a.AdvertInterval = time.Duration(b[5]) * time.Second
		copy(a.AuthData[:], b[want-authDataLen:])
	} else {
		a.AdvertInterval = time.Duration(binary.BigEndian.Uint16(b[4:6])&maxV3Interval) * 10 * time.Millisecond
	}
	if count > 0 {
		a.Addrs = make([]netip.Addr, count)
		for i := range count {
			off := headerLen + i*alen
			if alen == 4 {
				a.Addrs[i] = netip.AddrFrom4([4]byte(b[off : off+4]))
			} else {
				a.Addrs[i] = netip.AddrFrom16([16]byte(b[off : off+16]))
			}
		}
	}
	return a, nil
}

// checksum returns the Internet checksum (RFC 1071) of the VRRP message b,
// preceded for v3 by the IPv4 (RFC 768 style) or IPv6 (RFC 8200 §8.1)
// pseudo-header. Over a message whose checksum field is filled in, the
// result is 0 when it verifies; with the field zero, it is the value to
// store.
func checksum(version uint8, b []byte, src, dst netip.Addr) uint16 {
	var sum uint32
	if version == 3 {
		for _, ip := range []netip.Addr{src, dst} {
			s := ip.AsSlice()
			for i := 0; i+1 < len(s); i += 2 {
				sum += uint32(s[i])<<8 | uint32(s[i+1])
			}
		}
		// IPv4: zero, protocol, 16-bit length. IPv6: 32-bit length, 3 zero
		// bytes, next header. Both sum to length + protocol.
		sum += uint32(len(b)>>16) + uint32(len(b)&0xffff) + IPProtocol
	}
	sum = onesSum(sum, b)
	return ^uint16(sum)
}

// onesSum adds b as big-endian 16-bit words to sum and folds the carries.
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum
}
