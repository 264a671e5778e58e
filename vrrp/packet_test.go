package vrrp

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	v4a = netip.MustParseAddr("192.0.2.1")
	v4b = netip.MustParseAddr("192.0.2.2")
	v6a = netip.MustParseAddr("2001:db8::1")
	v6b = netip.MustParseAddr("2001:db8::2")
	ll6 = netip.MustParseAddr("fe80::1")
)

// addrComparer compares netip.Addr by value (cmp cannot see its fields).
var addrComparer = cmp.Comparer(func(x, y netip.Addr) bool { return x == y })

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestChecksumRFC1071 checks the one's complement sum against the example of
// RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
func TestChecksumRFC1071(t *testing.T) {
	got := onesSum(0, []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7})
	if got != 0xddf2 {
		t.Errorf("onesSum = %#04x, want 0xddf2", got)
	}
	if got := onesSum(0, []byte{0x01}); got != 0x0100 {
		t.Errorf("odd length: onesSum = %#04x, want 0x0100", got)
	}
}

// Fixed vectors, worked out by hand from RFC 3768 §5.3 / RFC 5798 §5.2 and
// checksums computed independently (Python, RFC 1071 with the pseudo-header
// of RFC 5798 §5.2.8); the keepalived captures below cross-check both.
var vectors = []struct {
	name     string
	src, dst netip.Addr
	advert   Advert
	hex      string
}{
	{
		name: "v2 simple auth",
		src:  v4a, dst: MulticastIPv4,
		advert: Advert{
			Version: 2, VRID: 51, Priority: 100, AdvertInterval: time.Second,
			AuthType: AuthTypeSimple, AuthData: AuthPassword("pass"),
			Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")},
		},
		hex: "21336401 0101 d390 c0000264 70617373 00000000",
	},
	{
		name: "v3 ipv4 two addresses",
		src:  v4a, dst: v4b,
		advert: Advert{
			Version: 3, VRID: 7, Priority: 255, AdvertInterval: 1500 * time.Millisecond,
			Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.101")},
		},
		hex: "3107ff02 0096 c610 c0000264 c0000265",
	},
	{
		name: "v3 ipv6",
		src:  ll6, dst: MulticastIPv6,
		advert: Advert{
			Version: 3, VRID: 1, Priority: 0, AdvertInterval: 40950 * time.Millisecond,
			Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::100")},
		},
		hex: "31010001 0fff 9226 20010db8000000000000000000000100",
	},
}

func TestMarshalVectors(t *testing.T) {
	for _, tt := range vectors {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.hex)
			got, err := Marshal(tt.advert, tt.src, tt.dst)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if diff := cmp.Diff(hex.EncodeToString(want), hex.EncodeToString(got)); diff != "" {
				t.Errorf("Marshal (-want +got):\n%s", diff)
			}
			a, err := Unmarshal(want, tt.src, tt.dst)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			wantA := tt.advert
			wantA.Checksum = binary.BigEndian.Uint16(want[6:8])
			if diff := cmp.Diff(wantA, a, addrComparer); diff != "" {
				t.Errorf("Unmarshal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnmarshalDrops(t *testing.T) {
	good2 := unhex(t, vectors[0].hex)
	good3 := unhex(t, vectors[1].hex)
	good6 := unhex(t, vectors[2].hex)
	mod := func(b []byte, f func([]byte) []byte) []byte {
		return f(append([]byte(nil), b...))
	}
	tests := []struct {
		name     string
		b        []byte
		src, dst netip.Addr
		want     DropReason
	}{
		{"empty", nil, v4a, v4b, DropMalformed},
		{"short header", good3[:7], v4a, v4b, DropMalformed},
		{"truncated address", good3[:len(good3)-1], v4a, v4b, DropMalformed},
		{"trailing byte", mod(good3, func(b []byte) []byte { return append(b, 0) }), v4a, v4b, DropMalformed},
		{"count too high", mod(good3, func(b []byte) []byte { b[3] = 3; return b }), v4a, v4b, DropMalformed},
		{"v2 missing auth data", good2[:len(good2)-8], v4a, MulticastIPv4, DropMalformed},
		{"v3 ipv4 parsed as ipv6", good3, v6a, v6b, DropMalformed},
		{"mixed families", good3, v4a, v6b, DropMalformed},
		{"invalid src", good3, netip.Addr{}, v4b, DropMalformed},
		{"version 1", mod(good3, func(b []byte) []byte { b[0] = 0x11; return b }), v4a, v4b, DropVersion},
		{"version 4", mod(good3, func(b []byte) []byte { b[0] = 0x41; return b }), v4a, v4b, DropVersion},
		{"v2 over ipv6", mod(good6, func(b []byte) []byte { b[0] = 0x21; return b }), ll6, MulticastIPv6, DropVersion},
		{"type 2", mod(good3, func(b []byte) []byte { b[0] = 0x32; return b }), v4a, v4b, DropType},
		{"v3 bad checksum", mod(good3, func(b []byte) []byte { b[7] ^= 1; return b }), v4a, v4b, DropChecksum},
		{"v3 wrong pseudo-header dst", good3, v4a, MulticastIPv4, DropChecksum},
		{"v3 ipv6 wrong src", good6, v6a, MulticastIPv6, DropChecksum},
		{"v2 bad checksum", mod(good2, func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), v4a, MulticastIPv4, DropChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal(tt.b, tt.src, tt.dst)
			var de *DropError
			if !errors.As(err, &de) {
				t.Fatalf("Unmarshal error = %v, want a *DropError", err)
			}
			if de.Reason != tt.want {
				t.Errorf("reason = %v, want %v (%v)", de.Reason, tt.want, err)
			}
		})
	}
	// v2 ignores the pseudo-header: any unicast dst verifies.
	if _, err := Unmarshal(good2, v4a, v4b); err != nil {
		t.Errorf("v2 to another dst: %v", err)
	}
}

func TestMarshalErrors(t *testing.T) {
	ok3 := Advert{Version: 3, VRID: 1, Priority: 100, AdvertInterval: time.Second, Addrs: []netip.Addr{v4b}}
	ok2 := Advert{Version: 2, VRID: 1, Priority: 100, AdvertInterval: time.Second, Addrs: []netip.Addr{v4b}}
	with := func(a Advert, f func(*Advert)) Advert { f(&a); return a }
	tests := []struct {
		name     string
		a        Advert
		src, dst netip.Addr
	}{
		{"version 4", with(ok3, func(a *Advert) { a.Version = 4 }), v4a, v4b},
		{"v2 over ipv6", with(ok2, func(a *Advert) { a.Addrs = []netip.Addr{v6b} }), v6a, v6b},
		{"v2 fractional interval", with(ok2, func(a *Advert) { a.AdvertInterval = 1500 * time.Millisecond }), v4a, v4b},
		{"v2 interval 256s", with(ok2, func(a *Advert) { a.AdvertInterval = 256 * time.Second }), v4a, v4b},
		{"v2 interval 0", with(ok2, func(a *Advert) { a.AdvertInterval = 0 }), v4a, v4b},
		{"v2 auth type 2", with(ok2, func(a *Advert) { a.AuthType = 2 }), v4a, v4b},
		{"v3 interval 5ms", with(ok3, func(a *Advert) { a.AdvertInterval = 5 * time.Millisecond }), v4a, v4b},
		{"v3 interval 41s", with(ok3, func(a *Advert) { a.AdvertInterval = 41 * time.Second }), v4a, v4b},
		{"v3 with auth", with(ok3, func(a *Advert) { a.AuthType = 1 }), v4a, v4b},
		{"v3 ipv6 address over ipv4", with(ok3, func(a *Advert) { a.Addrs = []netip.Addr{v6b} }), v4a, v4b},
		{"v3 invalid address", with(ok3, func(a *Advert) { a.Addrs = []netip.Addr{{}} }), v4a, v4b},
		{"mixed src/dst", ok3, v4a, v6b},
		{"invalid dst", ok3, v4a, netip.Addr{}},
		{"256 addresses", with(ok3, func(a *Advert) { a.Addrs = make([]netip.Addr, 256) }), v4a, v4b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := Marshal(tt.a, tt.src, tt.dst); err == nil {
				t.Errorf("Marshal = %x, want an error", b)
			}
		})
	}
}

// TestRoundTripIPv4Mapped checks that IPv4-mapped IPv6 envelopes and
// addresses are treated as IPv4.
func TestRoundTripIPv4Mapped(t *testing.T) {
	a := Advert{Version: 3, VRID: 9, Priority: 1, AdvertInterval: 10 * time.Millisecond,
		Addrs: []netip.Addr{netip.AddrFrom16(v4b.As16())}}
	b, err := Marshal(a, netip.AddrFrom16(v4a.As16()), v4b)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := Unmarshal(b, v4a, netip.AddrFrom16(v4b.As16()))
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if diff := cmp.Diff([]netip.Addr{v4b}, got.Addrs, addrComparer); diff != "" {
		t.Errorf("Addrs (-want +got):\n%s", diff)
	}
}

// capturedPacket is one VRRP packet of a pcap file with its IP envelope.
type capturedPacket struct {
	src, dst netip.Addr
	ttl      int
	payload  []byte
}

// readPcap returns the VRRP packets of an Ethernet pcap file (as written by
// tcpdump -w).
func readPcap(t testing.TB, path string) []capturedPacket {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap file", path)
	}
	if lt := binary.LittleEndian.Uint32(data[20:]); lt != 1 {
		t.Fatalf("%s: link type %d, want 1 (Ethernet)", path, lt)
	}
	var pkts []capturedPacket
	for off := 24; off < len(data); {
		if off+16 > len(data) {
			t.Fatalf("%s: truncated record header at %d", path, off)
		}
		n := int(binary.LittleEndian.Uint32(data[off+8:]))
		off += 16
		if off+n > len(data) || n < 14 {
			t.Fatalf("%s: truncated record at %d", path, off)
		}
		frame := data[off : off+n]
		off += n
		ip := frame[14:]
		var p capturedPacket
		switch binary.BigEndian.Uint16(frame[12:14]) {
		case 0x0800:
			ihl := int(ip[0]&0x0f) * 4
			if ip[9] != IPProtocol {
				continue
			}
			p.ttl = int(ip[8])
			p.src = netip.AddrFrom4([4]byte(ip[12:16]))
			p.dst = netip.AddrFrom4([4]byte(ip[16:20]))
			p.payload = ip[ihl:binary.BigEndian.Uint16(ip[2:4])]
		case 0x86dd:
			if ip[6] != IPProtocol {
				continue
			}
			p.ttl = int(ip[7])
			p.src = netip.AddrFrom16([16]byte(ip[8:24]))
			p.dst = netip.AddrFrom16([16]byte(ip[24:40]))
			p.payload = ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:6]))]
		default:
			continue
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// TestKeepalivedInterop decodes adverts captured from keepalived 2.2.7 (see
// testdata/keepalived/capture.sh and ka.conf) and re-encodes them byte for
// byte.
func TestKeepalivedInterop(t *testing.T) {
	pkts := readPcap(t, "testdata/keepalived/keepalived.pcap")
	addrs := func(ss ...string) []netip.Addr {
		var as []netip.Addr
		for _, s := range ss {
			as = append(as, netip.MustParseAddr(s))
		}
		return as
	}
	// want is the advert of each instance of ka.conf while master.
	want := map[uint8]Advert{
		21: {Version: 2, VRID: 21, Priority: 150, AdvertInterval: time.Second, AuthType: AuthTypeSimple,
			AuthData: AuthPassword("s3cr3t"), Addrs: addrs("192.0.2.100", "192.0.2.101")},
		22: {Version: 2, VRID: 22, Priority: 100, AdvertInterval: 2 * time.Second, Addrs: addrs("192.0.2.102")},
		31: {Version: 3, VRID: 31, Priority: 200, AdvertInterval: 500 * time.Millisecond,
			Addrs: addrs("192.0.2.110", "192.0.2.111", "192.0.2.112")},
		32: {Version: 3, VRID: 32, Priority: 120, AdvertInterval: 1500 * time.Millisecond, Addrs: addrs("192.0.2.113")},
		61: {Version: 3, VRID: 61, Priority: 254, AdvertInterval: time.Second, Addrs: addrs("2001:db8::100", "2001:db8::101")},
		62: {Version: 3, VRID: 62, Priority: 100, AdvertInterval: 800 * time.Millisecond, Addrs: addrs("2001:db8::102")},
	}
	seen := map[uint8]int{}
	resigned := map[uint8]bool{}
	for i, p := range pkts {
		a, err := Unmarshal(p.payload, p.src, p.dst)
		if err != nil {
			t.Errorf("packet %d (%v > %v): Unmarshal: %v", i, p.src, p.dst, err)
			continue
		}
		w, ok := want[a.VRID]
		if !ok {
			t.Errorf("packet %d: unexpected VRID %d", i, a.VRID)
			continue
		}
		seen[a.VRID]++
		// keepalived 2.2.7 sends IPv6 unicast with hop limit 64 (everything
		// else with 255): the reason Conn enforces 255 only on multicast.
		wantTTL := 255
		if p.src.Is6() && !p.dst.IsMulticast() {
			wantTTL = 64
		}
		if p.ttl != wantTTL {
			t.Errorf("packet %d (%v > %v): ttl %d, want %d", i, p.src, p.dst, p.ttl, wantTTL)
		}
		if a.Priority == 0 {
			resigned[a.VRID] = true // keepalived sends priority 0 on shutdown (§6.4.3)
			w.Priority = 0
		}
		w.Checksum = binary.BigEndian.Uint16(p.payload[6:8])
		if diff := cmp.Diff(w, a, addrComparer); diff != "" {
			t.Errorf("packet %d: Unmarshal (-want +got):\n%s", i, diff)
		}
		b, err := Marshal(a, p.src, p.dst)
		if err != nil {
			t.Errorf("packet %d: Marshal: %v", i, err)
			continue
		}
		if diff := cmp.Diff(hex.EncodeToString(p.payload), hex.EncodeToString(b)); diff != "" {
			t.Errorf("packet %d: Marshal (-want +got):\n%s", i, diff)
		}
	}
	for vrid := range want {
		if seen[vrid] < 2 || !resigned[vrid] {
			t.Errorf("VRID %d: %d packets, resigned %v; want adverts and a priority 0 advert", vrid, seen[vrid], resigned[vrid])
		}
	}
}
