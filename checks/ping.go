package checks

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// PingSocket selects the kind of socket a PingChecker uses.
type PingSocket int32

const (
	// PingAuto (the default) tries an unprivileged ICMP datagram socket
	// ("ping socket", allowed to the groups in net.ipv4.ping_group_range,
	// which also governs ICMPv6) and falls back to a raw socket (needs
	// CAP_NET_RAW) when the kernel refuses it. The choice is remembered.
	PingAuto PingSocket = iota
	// PingDatagram uses only the ICMP datagram socket (keepalived's choice).
	PingDatagram
	// PingRaw uses only a raw ICMP socket.
	PingRaw
)

func (s PingSocket) String() string {
	switch s {
	case PingDatagram:
		return "datagram"
	case PingRaw:
		return "raw"
	}
	return "auto"
}

// pingPayloadLen is keepalived's ICMP_BUFSIZE: the echo data length.
const pingPayloadLen = 128

// ReasonPingDenied is the reason when neither an ICMP datagram socket
// (ping_group_range) nor a raw socket (CAP_NET_RAW) may be opened.
const ReasonPingDenied = "permission denied"

// PingChecker is keepalived's PING_CHECK: the probe succeeds when an ICMP
// (ICMPv6 for an IPv6 Target) echo reply with the request's sequence number
// and data comes back from Target within Timeout. Anything else (no reply,
// destination unreachable, time exceeded) ends in "timeout", as with
// keepalived's datagram socket, which never sees the ICMP errors.
//
// Each Check opens its own socket, so concurrent checks of one target never
// see each other's replies: a datagram socket's echo id is its local port,
// unique while it is open; on a raw socket the id is random and replies with
// another id, sequence or source are skipped.
type PingChecker struct {
	Target  netip.Addr    // the real server (connect_ip)
	Bind    netip.Addr    // bindto; zero: let the kernel choose
	Timeout time.Duration // connect_timeout; 0: only ctx bounds the probe
	Socket  PingSocket    // which socket; PingAuto by default

	seq    atomic.Uint32 // echo sequence numbers, as keepalived's seq_no
	useRaw atomic.Bool   // PingAuto: a datagram socket was refused once
}

var _ Checker = (*PingChecker)(nil)

// NewPingChecker returns a PING_CHECK of target with keepalived's default
// connect_timeout.
func NewPingChecker(target netip.Addr) *PingChecker {
	return &PingChecker{Target: target.Unmap(), Timeout: DefaultConnectTimeout}
}

func (c *PingChecker) String() string { return "ping " + c.Target.String() }

// Check sends one echo request and waits for its reply.
func (c *PingChecker) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withTimeout(ctx, c.Timeout)
	defer cancel()
	target := c.Target.Unmap()
	if !target.IsValid() {
		return fail(start, "no target")
	}
	conn, raw, err := c.listen(target)
	if err != nil {
		return fail(start, err.Error())
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}

	seq := int(uint16(c.seq.Add(1)))
	id := 0 // the kernel sets it on a datagram socket
	if raw {
		id = int(rand.N[uint16](0xffff)) + 1
	}
	payload := pingPayload()
	var typ, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1 // iana.ProtocolICMP
	if target.Is6() {
		typ, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	req, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}).Marshal(nil)
	if err != nil {
		return fail(start, err.Error())
	}
	var dst net.Addr = &net.UDPAddr{IP: target.AsSlice(), Zone: target.Zone()}
	if raw {
		dst = &net.IPAddr{IP: target.AsSlice(), Zone: target.Zone()}
	}
	if _, err := conn.WriteTo(req, dst); err != nil {
		return fail(start, errReason(ctxErr(ctx, err)))
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return fail(start, errReason(ctxErr(ctx, err)))
		}
		if !sameAddr(from, target) {
			continue
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != replyType {
			continue
		}
		echo, isEcho := m.Body.(*icmp.Echo)
		if !isEcho || echo.Seq != seq || (raw && echo.ID != id) {
			continue
		}
		if !bytes.Equal(echo.Data, payload) {
			return fail(start, "reply data mismatch")
		}
		return ok(start)
	}
}

// listen opens the socket for one probe and reports whether it is raw.
func (c *PingChecker) listen(target netip.Addr) (*icmp.PacketConn, bool, error) {
	laddr := "0.0.0.0"
	if target.Is6() {
		laddr = "::"
	}
	if c.Bind.IsValid() {
		laddr = c.Bind.Unmap().String()
	}
	rawNet, dgramNet := "ip4:icmp", "udp4"
	if target.Is6() {
		rawNet, dgramNet = "ip6:ipv6-icmp", "udp6"
	}
	mode := c.Socket
	if mode == PingAuto && c.useRaw.Load() {
		mode = PingRaw
	}
	if mode != PingRaw {
		conn, err := icmp.ListenPacket(dgramNet, laddr)
		if err == nil {
			return conn, false, nil
		}
		if mode == PingDatagram || !denied(err) {
			return nil, false, pingListenErr(err)
		}
		c.useRaw.Store(true)
	}
	conn, err := icmp.ListenPacket(rawNet, laddr)
	if err != nil {
		return nil, true, pingListenErr(err)
	}
	return conn, true, nil
}

// denied reports whether err means the kernel refuses an ICMP datagram
// socket to this process (group outside ping_group_range, or no support).
func denied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) ||
		errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT)
}

func pingListenErr(err error) error {
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
		return errors.New(ReasonPingDenied)
	}
	return err
}

// pingPayload is the echo data: keepalived's set_buf pattern is arbitrary,
// so vipd uses bytes 0..127, which makes a truncated or altered reply
// visible.
func pingPayload() []byte {
	b := make([]byte, pingPayloadLen)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// sameAddr reports whether a reply's source is target.
func sameAddr(from net.Addr, target netip.Addr) bool {
	var ip net.IP
	switch a := from.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	default:
		return false
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == target.WithZone("")
}
