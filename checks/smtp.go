package checks

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// DefaultSMTPHelo is keepalived's SMTP_CHECK helo_name default
// (SMTP_DEFAULT_HELO).
const DefaultSMTPHelo = "smtpchecker.keepalived.org"

// Reasons of SMTPChecker, after keepalived's check_smtp.c messages.
const (
	ReasonSMTPBanner = "bad greeting banner"
	ReasonSMTPHelo   = "bad HELO response"
	ReasonSMTPRead   = "read failure"
)

// smtpMaxLine bounds one reply line, as keepalived's SMTP_BUFF_MAX (512)
// does; a longer line is a protocol error here.
const smtpMaxLine = 512

// SMTPChecker is keepalived's SMTP_CHECK: connect to Target, read a 220
// greeting, send "HELO <Helo>", expect 250, send QUIT and read one reply
// line (of any code). Any other code, a closed connection or a step taking
// longer than Timeout fails the probe.
//
// One difference from keepalived: keepalived reads only the first line of
// each reply, so a multi-line greeting ("220-…" then "220 …", valid SMTP)
// fails there; here the reply's last line ("NNN " or "NNN") decides, and
// every line must carry the same code.
type SMTPChecker struct {
	Target netip.AddrPort // connect_ip:connect_port
	Bind   netip.Addr     // bindto; zero: let the kernel choose
	Helo   string         // helo_name
	// Timeout bounds each step (connect, each read and write), as
	// keepalived's connect_timeout does; 0: only ctx bounds the probe.
	Timeout time.Duration
}

var _ Checker = (*SMTPChecker)(nil)

// NewSMTPChecker returns an SMTP_CHECK of target with keepalived's default
// helo_name and connect_timeout.
func NewSMTPChecker(target netip.AddrPort) *SMTPChecker {
	return &SMTPChecker{Target: target, Helo: DefaultSMTPHelo, Timeout: DefaultConnectTimeout}
}

func (c *SMTPChecker) String() string { return "smtp " + c.Target.String() }

// Check runs one SMTP conversation.
func (c *SMTPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	dctx, cancel := withTimeout(ctx, c.Timeout)
	d := net.Dialer{}
	if c.Bind.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(c.Bind, 0))
	}
	conn, err := d.DialContext(dctx, "tcp", c.Target.String())
	cancel()
	if err != nil {
		return fail(start, errReason(err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	step := func() {
		dl, ok := ctx.Deadline()
		if c.Timeout > 0 && (!ok || time.Until(dl) > c.Timeout) {
			dl, ok = time.Now().Add(c.Timeout), true
		}
		if ok {
			_ = conn.SetDeadline(dl)
		}
	}
	r := bufio.NewReaderSize(conn, smtpMaxLine)
	helo := c.Helo
	if helo == "" {
		helo = DefaultSMTPHelo
	}
	for _, s := range []struct {
		send   string // sent before reading the reply
		expect int    // 0: any code
		reason string
	}{
		{"", 220, ReasonSMTPBanner},
		{"HELO " + helo + "\r\n", 250, ReasonSMTPHelo},
		{"QUIT\r\n", 0, ""},
	} {
		if s.send != "" {
			step()
			if _, err := conn.Write([]byte(s.send)); err != nil {
				return fail(start, "write failure: "+errReason(ctxErr(ctx, err)))
			}
		}
		step()
		code, err := readSMTPReply(r)
		if err != nil {
			if ctx.Err() != nil || isTimeout(err) {
				return fail(start, errReason(ctxErr(ctx, err)))
			}
			if s.expect != 0 && code < 0 {
				// A line that is no reply counts as a bad reply, as
				// keepalived's smtp_get_status() returning -1.
				return fail(start, s.reason)
			}
			return fail(start, ReasonSMTPRead)
		}
		if s.expect != 0 && code != s.expect {
			return fail(start, fmt.Sprintf("%s %d", s.reason, code))
		}
	}
	return ok(start)
}

// readSMTPReply reads one (possibly multi-line) reply and returns its
// code. A malformed line returns code -1 and an error.
func readSMTPReply(r *bufio.Reader) (int, error) {
	code := 0
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		s := strings.TrimRight(string(line), "\r\n")
		if len(s) < 3 || (len(s) > 3 && s[3] != ' ' && s[3] != '-') {
			return -1, fmt.Errorf("malformed reply %q", s)
		}
		n := 0
		for _, ch := range s[:3] {
			if ch < '0' || ch > '9' {
				return -1, fmt.Errorf("malformed reply %q", s)
			}
			n = n*10 + int(ch-'0')
		}
		if code != 0 && n != code {
			return -1, fmt.Errorf("reply code changed from %d to %d", code, n)
		}
		code = n
		if len(s) == 3 || s[3] == ' ' {
			return code, nil
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
