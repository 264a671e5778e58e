package vrrp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fuzzAddrs turns fuzzed bytes into a source and destination: 4 or 16
// bytes are an address; anything else falls back to the IPv4 or IPv6
// multicast pair, so the mutator reaches both families and mixed ones.
func fuzzAddrs(src, dst []byte, v6 bool) (netip.Addr, netip.Addr) {
	s, ok1 := netip.AddrFromSlice(src)
	d, ok2 := netip.AddrFromSlice(dst)
	if ok1 && ok2 {
		return s, d
	}
	if v6 {
		return v6a, MulticastIPv6
	}
	return v4a, MulticastIPv4
}

// FuzzUnmarshal: any packet either is refused with a *DropError or decodes
// to an Advert that Marshal encodes back to the same bytes (but for the
// reserved bits of the v3 interval) or refuses with a reason; the
// re-encoded packet decodes to the same Advert. fix fills in the right
// checksum first, so the mutator gets past it. Seeds: every advert
// captured from keepalived (testdata/keepalived).
func FuzzUnmarshal(f *testing.F) {
	for _, p := range readPcap(f, "testdata/keepalived/keepalived.pcap") {
		f.Add(p.payload, p.src.AsSlice(), p.dst.AsSlice(), p.src.Is6(), false)
	}
	for _, v := range vectors {
		b, _ := hex.DecodeString(strings.ReplaceAll(v.hex, " ", ""))
		f.Add(b, v.src.AsSlice(), v.dst.AsSlice(), v.src.Is6(), false)
	}
	f.Add([]byte{}, []byte{}, []byte{}, false, true)
	f.Add([]byte{0x31, 1, 100, 0, 0, 100, 0, 0}, []byte{}, []byte{}, true, true)
	f.Add([]byte{0x21, 1, 100, 1, 0, 1, 0, 0, 192, 0, 2, 9, 0, 0, 0, 0, 0, 0, 0, 0}, v4a.AsSlice(), v6a.AsSlice(), false, true)
	f.Fuzz(func(t *testing.T, b, srcb, dstb []byte, v6, fix bool) {
		src, dst := fuzzAddrs(srcb, dstb, v6)
		b = bytes.Clone(b)
		if fix && len(b) >= headerLen {
			b[6], b[7] = 0, 0
			binary.BigEndian.PutUint16(b[6:8], checksum(b[0]>>4, b, src.Unmap(), dst.Unmap()))
		}
		a, err := Unmarshal(b, src, dst)
		if err != nil {
			var de *DropError
			if !errors.As(err, &de) {
				t.Fatalf("Unmarshal error %v (%T) is not a *DropError", err, err)
			}
			return
		}
		if a.Version != 2 && a.Version != 3 {
			t.Fatalf("Unmarshal accepted version %d", a.Version)
		}
		if len(a.Addrs) != int(b[3]) {
			t.Fatalf("Unmarshal: %d addresses, count field %d", len(a.Addrs), b[3])
		}
		re, err := Marshal(a, src, dst)
		if err != nil {
			// Marshal is stricter than Unmarshal on what a sender may
			// put on the wire: a zero interval, an unsupported v2 auth
			// type, auth data in v3 cannot come out of a decoded v3.
			switch {
			case a.AdvertInterval == 0,
				a.Version == 2 && a.AuthType != AuthTypeNone && a.AuthType != AuthTypeSimple:
				return
			}
			t.Fatalf("Marshal of decoded %+v: %v", a, err)
		}
		want := bytes.Clone(b)
		if a.Version == 3 && want[4]&0xf0 != 0 {
			want[4] &= 0x0f // reserved bits: ignored on receipt, zero when sent
			want[6], want[7] = 0, 0
			binary.BigEndian.PutUint16(want[6:8], checksum(3, want, src.Unmap(), dst.Unmap()))
		}
		if !bytes.Equal(re, want) {
			t.Fatalf("round trip of %+v:\n got %x\nwant %x", a, re, want)
		}
		a2, err := Unmarshal(re, src, dst)
		if err != nil {
			t.Fatalf("Unmarshal of re-encoded %x: %v", re, err)
		}
		a.Checksum, a2.Checksum = 0, 0
		if diff := cmp.Diff(a, a2, addrComparer); diff != "" {
			t.Fatalf("decode(encode(decode(b))) differs (-first +second):\n%s", diff)
		}
	})
}

// FuzzMarshal: any Advert either is refused or encodes to a packet that
// decodes to the same Advert.
func FuzzMarshal(f *testing.F) {
	f.Add(uint8(2), uint8(21), uint8(150), int64(time.Second), uint8(1), []byte("s3cr3t"), v4b.AsSlice(), uint8(2), false)
	f.Add(uint8(3), uint8(61), uint8(254), int64(time.Second), uint8(0), []byte{}, v6b.AsSlice(), uint8(2), true)
	f.Add(uint8(3), uint8(31), uint8(0), int64(40950*time.Millisecond), uint8(0), []byte{}, v4b.AsSlice(), uint8(255), false)
	f.Fuzz(func(t *testing.T, version, vrid, prio uint8, interval int64, authType uint8, auth, addr []byte, n uint8, v6 bool) {
		src, dst := v4a, MulticastIPv4
		if v6 {
			src, dst = v6a, MulticastIPv6
		}
		a := Advert{Version: version, VRID: vrid, Priority: prio, AdvertInterval: time.Duration(interval), AuthType: authType}
		copy(a.AuthData[:], auth)
		if ip, ok := netip.AddrFromSlice(addr); ok {
			for range n {
				a.Addrs = append(a.Addrs, ip)
				ip = ip.Next()
				if !ip.IsValid() {
					break
				}
			}
		}
		b, err := Marshal(a, src, dst)
		if err != nil {
			return
		}
		got, err := Unmarshal(b, src, dst)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(%+v)) = %x: %v", a, b, err)
		}
		got.Checksum = 0
		for i := range a.Addrs {
			a.Addrs[i] = a.Addrs[i].Unmap()
		}
		if diff := cmp.Diff(a, got, addrComparer); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}
