package checks

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// UDPConfig configures a UDP probe (keepalived UDP_CHECK).
type UDPConfig struct {
	Target netip.AddrPort
	Send   []byte // payload; empty sends an empty datagram
	// Expect: a reply must arrive and contain it. With Expect empty and
	// RequireReply false, silence until the timeout counts as up (as
	// keepalived's UDP_CHECK without require_reply); only an ICMP port
	// unreachable ("connection refused") fails.
	Expect       []byte
	RequireReply bool
	Timeout      time.Duration // must be > 0 when no reply is required
}

// UDPChecker sends one datagram and judges the reply.
type UDPChecker struct{ cfg UDPConfig }

var _ Checker = (*UDPChecker)(nil)

// NewUDPChecker validates cfg.
func NewUDPChecker(cfg UDPConfig) (*UDPChecker, error) {
	if !cfg.Target.IsValid() {
		return nil, errors.New("udp check: no target")
	}
	if len(cfg.Expect) > 0 {
		cfg.RequireReply = true
	}
	if !cfg.RequireReply && cfg.Timeout <= 0 {
		return nil, errors.New("udp check: a timeout is needed when no reply is required")
	}
	return &UDPChecker{cfg: cfg}, nil
}

func (c *UDPChecker) String() string { return "udp " + c.cfg.Target.String() }

// Check sends the payload and reads one reply.
func (c *UDPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	// A connected socket: the kernel reports an ICMP port unreachable as
	// ECONNREFUSED on the next read.
	conn, err := d.DialContext(ctx, "udp", c.cfg.Target.String())
	if err != nil {
		return fail(start, errReason(err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(c.cfg.Send); err != nil {
		return fail(start, errReason(ctxErr(ctx, err)))
	}
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if err != nil {
		if !c.cfg.RequireReply && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ok(start) // silence, no ICMP error
		}
		return fail(start, errReason(ctxErr(ctx, err)))
	}
	if len(c.cfg.Expect) > 0 && !bytes.Contains(buf[:n], c.cfg.Expect) {
		return fail(start, "unexpected reply")
	}
	return ok(start)
}
