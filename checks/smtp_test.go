package checks

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// heloRecorder is a go-smtp backend that records the HELO name of every
// session and accepts nothing else.
type heloRecorder struct {
	mu    sync.Mutex
	helos []string
}

func (b *heloRecorder) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	b.helos = append(b.helos, c.Hostname())
	b.mu.Unlock()
	return nopSession{}, nil
}

func (b *heloRecorder) got() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.helos...)
}

type nopSession struct{}

func (nopSession) Reset()                               {}
func (nopSession) Logout() error                        { return nil }
func (nopSession) Mail(string, *smtp.MailOptions) error { return errors.New("no") }
func (nopSession) Rcpt(string, *smtp.RcptOptions) error { return errors.New("no") }
func (nopSession) Data(io.Reader) error                 { return errors.New("no") }

// smtpServer starts a real go-smtp server on addr and returns its address.
func smtpServer(t *testing.T, network, addr string) (netip.AddrPort, *heloRecorder) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, addr, err)
	}
	be := &heloRecorder{}
	s := smtp.NewServer(be)
	s.Domain = "mx.test"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return ln.Addr().(*net.TCPAddr).AddrPort(), be
}

// scripted starts a listener that, per connection, writes banner, then for
// each line it reads writes the next reply; an empty banner writes nothing
// and a reply of "close" closes the connection.
func scripted(t *testing.T, banner string, replies ...string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if banner != "" {
					if _, err := io.WriteString(c, banner); err != nil {
						return
					}
				}
				r := bufio.NewReader(c)
				for _, rep := range replies {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					if rep == "close" {
						return
					}
					if _, err := io.WriteString(c, rep); err != nil {
						return
					}
				}
				_, _ = io.Copy(io.Discard, r) // hold the connection open
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func TestSMTPCheckerServer(t *testing.T) {
	for _, tt := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(tt.network, func(t *testing.T) {
			ap, be := smtpServer(t, tt.network, tt.addr)
			c := NewSMTPChecker(ap)
			c.Timeout = 5 * time.Second
			got := c.Check(context.Background())
			if !got.OK {
				t.Fatalf("Check() = {OK:false Reason:%q}, want OK", got.Reason)
			}
			c.Helo = "lb1.example.org"
			if got := c.Check(context.Background()); !got.OK {
				t.Fatalf("Check() with helo = {OK:false Reason:%q}, want OK", got.Reason)
			}
			// The server sees the HELO before it replies 250, so both
			// sessions are recorded once both checks have passed.
			want := []string{DefaultSMTPHelo, "lb1.example.org"}
			if got := be.got(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("server saw HELO %q, want %q", got, want)
			}
		})
	}
}

func TestSMTPChecker(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name   string
		target func(t *testing.T) netip.AddrPort
		want   Result
	}{
		{"ok", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220 mx ESMTP\r\n", "250 mx\r\n", "221 bye\r\n")
		}, Result{OK: true}},
		{"multi-line banner", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220-mx ESMTP\r\n220-more\r\n220 ready\r\n", "250 mx\r\n", "221 bye\r\n")
		}, Result{OK: true}},
		{"bare codes", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220\r\n", "250\n", "221\r\n")
		}, Result{OK: true}},
		{"554 banner", func(t *testing.T) netip.AddrPort {
			return scripted(t, "554 no service\r\n")
		}, Result{Reason: "bad greeting banner 554"}},
		{"garbage banner", func(t *testing.T) netip.AddrPort {
			return scripted(t, "SSH-2.0-OpenSSH_9.6\r\n")
		}, Result{Reason: ReasonSMTPBanner}},
		{"mixed codes", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220-mx\r\n421 gone\r\n")
		}, Result{Reason: ReasonSMTPBanner}},
		{"bad HELO reply", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220 mx\r\n", "501 syntax\r\n")
		}, Result{Reason: "bad HELO response 501"}},
		{"closed after HELO", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220 mx\r\n", "close")
		}, Result{Reason: ReasonSMTPRead}},
		{"closed instead of QUIT reply", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220 mx\r\n", "250 mx\r\n", "close")
		}, Result{Reason: ReasonSMTPRead}},
		{"silent server", func(t *testing.T) netip.AddrPort {
			return scripted(t, "")
		}, Result{Reason: ReasonTimeout}},
		{"no HELO reply", func(t *testing.T) netip.AddrPort {
			return scripted(t, "220 mx\r\n")
		}, Result{Reason: ReasonTimeout}},
		{"refused", closedPort, Result{Reason: ReasonRefused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewSMTPChecker(tt.target(t))
			c.Timeout = timeout
			start := time.Now()
			got := c.Check(context.Background())
			// Three steps at most, each bounded by Timeout, plus slack.
			if el := time.Since(start); el > 3*timeout+2*time.Second {
				t.Errorf("Check took %v, want bounded by 3×%v", el, timeout)
			}
			if got.OK != tt.want.OK || got.Reason != tt.want.Reason {
				t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:%v Reason:%q}", got.OK, got.Reason, tt.want.OK, tt.want.Reason)
			}
		})
	}
}

// TestSMTPCheckerCtx: with no Timeout, the caller's ctx bounds the probe.
func TestSMTPCheckerCtx(t *testing.T) {
	c := NewSMTPChecker(scripted(t, ""))
	c.Timeout = 0
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := c.Check(ctx)
	if got.OK || got.Reason != ReasonTimeout {
		t.Errorf("Check() = {OK:%v Reason:%q}, want timeout", got.OK, got.Reason)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Check took %v, want bounded by ctx (200ms)", el)
	}
}

func TestSMTPCheckerString(t *testing.T) {
	c := NewSMTPChecker(netip.MustParseAddrPort("[2001:db8::1]:25"))
	if got, want := c.String(), "smtp [2001:db8::1]:25"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if c.Timeout != DefaultConnectTimeout || c.Helo != DefaultSMTPHelo {
		t.Errorf("defaults = {%v %q}", c.Timeout, c.Helo)
	}
}
