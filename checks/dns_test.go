package checks

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers on a loopback UDP socket: ok.test. → an A record,
// nx.test. → NXDOMAIN, fail.test. → SERVFAIL, wrongid.test. → a reply with
// another id, silent.test. → nothing.
func dnsServer(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Skipf("listen udp %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if err := q.Unpack(buf[:n]); err != nil || len(q.Questions) != 1 {
				continue
			}
			qq := q.Questions[0]
			resp := dnsmessage.Message{
				Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true},
				Questions: q.Questions,
			}
			switch qq.Name.String() {
			case "ok.test.":
				if qq.Type != dnsmessage.TypeA {
					break // NOERROR, no answer (NODATA)
				}
				resp.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: qq.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
					Body:   &dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}},
				}}
			case "nx.test.":
				resp.RCode = dnsmessage.RCodeNameError
			case "fail.test.":
				resp.RCode = dnsmessage.RCodeServerFailure
			case "wrongid.test.":
				resp.ID = q.ID + 1
			case "silent.test.":
				continue
			}
			b, err := resp.Pack()
			if err != nil {
				continue
			}
			_, _ = pc.WriteTo(b, from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func closedUDPPort(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	pc.Close()
	return ap
}

func TestDNSChecker(t *testing.T) {
	v4 := dnsServer(t, "127.0.0.1:0")
	v6 := dnsServer(t, "[::1]:0")
	tests := []struct {
		name       string
		server     netip.AddrPort
		qname      string
		qtype      string
		wantOK     bool
		wantReason string
	}{
		{"A ok", v4, "ok.test", "A", true, ""},
		{"A ok ipv6 server", v6, "ok.test.", "a", true, ""},
		{"NODATA is not an error", v4, "ok.test", "AAAA", true, ""},
		{"NXDOMAIN", v4, "nx.test", "A", false, "rcode NXDOMAIN"},
		{"SERVFAIL", v4, "fail.test", "SOA", false, "rcode SERVFAIL"},
		{"wrong id ignored", v4, "wrongid.test", "A", false, "timeout"},
		{"no answer", v4, "silent.test", "A", false, "timeout"},
		{"port unreachable", closedUDPPort(t), "ok.test", "A", false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewDNSChecker(DNSConfig{Server: tt.server, Name: tt.qname, Type: tt.qtype, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			got := c.Check(context.Background())
			if got.OK != tt.wantOK || got.Reason != tt.wantReason {
				t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:%v Reason:%q}", got.OK, got.Reason, tt.wantOK, tt.wantReason)
			}
		})
	}
}

func TestNewDNSCheckerInvalid(t *testing.T) {
	srv := netip.MustParseAddrPort("127.0.0.1:53")
	tests := []struct {
		name string
		cfg  DNSConfig
		want string
	}{
		{"no server", DNSConfig{Name: "x"}, "no server"},
		{"bad type", DNSConfig{Server: srv, Type: "BOGUS"}, `unknown query type "BOGUS"`},
		{"bad name", DNSConfig{Server: srv, Name: strings.Repeat("a", 300)}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewDNSChecker(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewDNSChecker() error = %v, want containing %q", err, tt.want)
			}
		})
	}
	c, err := NewDNSChecker(DNSConfig{Server: srv})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.String(), "dns 127.0.0.1:53 . SOA"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
