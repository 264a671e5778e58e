package checks

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// TCPChecker is keepalived's TCP_CHECK: the probe succeeds when a TCP
// connection to Target is established within Timeout.
type TCPChecker struct {
	Target  netip.AddrPort // connect_ip:connect_port
	Bind    netip.Addr     // bindto; zero: let the kernel choose
	Timeout time.Duration  // connect_timeout; 0: only ctx bounds the dial
}

// DefaultConnectTimeout is keepalived's connect_timeout default.
const DefaultConnectTimeout = 5 * time.Second

var _ Checker = (*TCPChecker)(nil)

// NewTCPChecker returns a TCP_CHECK of target with keepalived's default
// connect_timeout.
func NewTCPChecker(target netip.AddrPort) *TCPChecker {
	return &TCPChecker{Target: target, Timeout: DefaultConnectTimeout}
}

func (c *TCPChecker) String() string { return "tcp " + c.Target.String() }

// Check dials Target and closes the connection at once.
func (c *TCPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withTimeout(ctx, c.Timeout)
	defer cancel()
	d := net.Dialer{}
	if c.Bind.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(c.Bind, 0))
	}
	conn, err := d.DialContext(ctx, "tcp", c.Target.String())
	if err != nil {
		return fail(start, errReason(err))
	}
	// A reset instead of FIN/TIME_WAIT: thousands of checks a second would
	// otherwise fill the checker's port range with TIME_WAIT sockets.
	if tc, isTCP := conn.(*net.TCPConn); isTCP {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return ok(start)
}
