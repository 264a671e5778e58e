package checks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSConfig configures keepalived's DNS_CHECK.
type DNSConfig struct {
	Server  netip.AddrPort // connect_ip:connect_port (usually :53)
	Name    string         // query name; "" → "."
	Type    string         // query type: A, AAAA, NS, CNAME, SOA, PTR, MX, TXT, SRV; "" → SOA as keepalived
	Timeout time.Duration  // 0 leaves only ctx
}

// DNSChecker sends one query over UDP; the probe succeeds when a response
// with the query's id and rcode NOERROR arrives.
type DNSChecker struct {
	cfg   DNSConfig
	name  dnsmessage.Name
	qtype dnsmessage.Type
}

var _ Checker = (*DNSChecker)(nil)

// NewDNSChecker validates cfg.
func NewDNSChecker(cfg DNSConfig) (*DNSChecker, error) {
	if !cfg.Server.IsValid() {
		return nil, errors.New("dns check: no server")
	}
	if cfg.Name == "" {
		cfg.Name = "."
	}
	if !strings.HasSuffix(cfg.Name, ".") {
		cfg.Name += "."
	}
	name, err := dnsmessage.NewName(cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("dns check: name %q: %w", cfg.Name, err)
	}
	if cfg.Type == "" {
		cfg.Type = "SOA"
	}
	qtype, known := dnsTypes(strings.ToUpper(cfg.Type))
	if !known {
		return nil, fmt.Errorf("dns check: unknown query type %q", cfg.Type)
	}
	return &DNSChecker{cfg: cfg, name: name, qtype: qtype}, nil
}

func dnsTypes(s string) (dnsmessage.Type, bool) {
	switch s {
	case "A":
		return dnsmessage.TypeA, true
	case "AAAA":
		return dnsmessage.TypeAAAA, true
	case "NS":
		return dnsmessage.TypeNS, true
	case "CNAME":
		return dnsmessage.TypeCNAME, true
	case "SOA":
		return dnsmessage.TypeSOA, true
	case "PTR":
		return dnsmessage.TypePTR, true
	case "MX":
		return dnsmessage.TypeMX, true
	case "TXT":
		return dnsmessage.TypeTXT, true
	case "SRV":
		return dnsmessage.TypeSRV, true
	}
	return 0, false
}

func (c *DNSChecker) String() string {
	return fmt.Sprintf("dns %s %s %s", c.cfg.Server, c.cfg.Name, strings.ToUpper(c.cfg.Type))
}

// Check sends the query and waits for its answer.
func (c *DNSChecker) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	id := uint16(rand.Uint32())
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: c.name, Type: c.qtype, Class: dnsmessage.ClassINET}},
	}
	q, err := msg.Pack()
	if err != nil {
		return fail(start, "pack query: "+err.Error())
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", c.cfg.Server.String())
	if err != nil {
		return fail(start, errReason(err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(q); err != nil {
		return fail(start, errReason(ctxErr(ctx, err)))
	}
	buf := make([]byte, 1500)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return fail(start, errReason(ctxErr(ctx, err)))
		}
		ours, reason := dnsAnswer(buf[:n], id)
		if !ours {
			continue // not our answer: keep waiting until the deadline
		}
		if reason != "" {
			return fail(start, reason)
		}
		return ok(start)
	}
}

// dnsAnswer reads the datagram b received for the query with id: ours is
// false when it is not a response to that query (unparsable header, other
// id, a query); otherwise reason is "" for NOERROR or why it failed.
func dnsAnswer(b []byte, id uint16) (ours bool, reason string) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil || h.ID != id || !h.Response {
		return false, ""
	}
	if h.RCode != dnsmessage.RCodeSuccess {
		return true, "rcode " + rcodeName(h.RCode)
	}
	return true, ""
}

// ctxErr prefers the context's error to the socket error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func rcodeName(r dnsmessage.RCode) string {
	switch r {
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNameError:
		return "NXDOMAIN"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	}
	return fmt.Sprint(int(r))
}
