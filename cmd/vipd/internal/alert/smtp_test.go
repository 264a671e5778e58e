package alert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
)

// received is one message as the test SMTP server got it.
type received struct {
	Helo    string
	TLS     bool
	From    string
	To      []string
	Subject string
	Header  mail.Header
	Body    string
}

// mailbox is a go-smtp backend that keeps every message.
type mailbox struct {
	mu   sync.Mutex
	msgs []received
	got  chan struct{} // one value per message
}

func (b *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, r: received{Helo: c.Hostname(), TLS: isTLS}}, nil
}

func (b *mailbox) all() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	b *mailbox
	r received
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.r.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.To = append(s.r.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	s.r.Header, s.r.Subject, s.r.Body = m.Header, m.Header.Get("Subject"), string(body)
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.r)
	s.b.mu.Unlock()
	s.b.got <- struct{}{}
	return nil
}

// mailServer starts a go-smtp server on loopback; with cert set it offers
// STARTTLS.
func mailServer(t *testing.T, cert *tls.Certificate) (host string, port int, box *mailbox) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box = &mailbox{got: make(chan struct{}, 16)}
	s := smtp.NewServer(box)
	s.Domain = "mx.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, box
}

// selfSigned returns a certificate for mx.test and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		DNSNames:     []string{"mx.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// wait waits (bounded) for n messages in box.
func wait(t *testing.T, box *mailbox, n int) {
	t.Helper()
	for range n {
		select {
		case <-box.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d messages after 10s, want %d", len(box.all()), n)
		}
	}
}

// waitStats polls (bounded, 10s) until cond holds for n's Stats.
func waitStats(t *testing.T, n *Notifier, cond func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(n.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v after 10s", n.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func run(t *testing.T, n *Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestMailDelivered(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, tt := range []struct {
		name     string
		cert     *tls.Certificate
		startTLS bool
	}{
		{"plain", nil, false},
		{"plain to a server offering STARTTLS", &cert, false},
		{"starttls", &cert, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			host, port, box := mailServer(t, tt.cert)
			n, err := New(Config{
				RouterID: "lb1",
				SMTP: &SMTPConfig{
					Server: host, Port: port, Helo: "lb1.example.org",
					From: "vipd <vipd@example.org>", To: []string{"ops@example.org", "Oncall <oncall@example.org>"},
					Timeout: 5 * time.Second, StartTLS: tt.startTLS,
					TLS: &tls.Config{RootCAs: pool, ServerName: "mx.test"},
				},
			}, discard())
			if err != nil {
				t.Fatal(err)
			}
			run(t, n)
			at := time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC)
			n.Send(Event{Kind: KindInstance, Name: "VI_1", State: StateMaster, Time: at})
			n.Send(Event{Kind: KindRealServer, Name: "[192.0.2.21]:tcp:80", VirtualServer: "[192.0.2.100]:tcp:80", State: StateDown, Detail: "=> TCP CHECK failed on service <="})
			wait(t, box, 2)
			got := box.all()
			want := []received{
				{Helo: "lb1.example.org", TLS: tt.startTLS, From: "vipd@example.org", To: []string{"ops@example.org", "oncall@example.org"},
					Subject: "[lb1] VRRP Instance VI_1 - Entering MASTER state", Body: "=> VRRP Instance is now owning VRRP VIPs <=\r\n"},
				{Helo: "lb1.example.org", TLS: tt.startTLS, From: "vipd@example.org", To: []string{"ops@example.org", "oncall@example.org"},
					Subject: "[lb1] Realserver [192.0.2.21]:tcp:80 of virtual server [192.0.2.100]:tcp:80 - DOWN", Body: "=> TCP CHECK failed on service <=\r\n"},
			}
			if diff := cmp.Diff(want, got, cmpIgnoreHeader); diff != "" {
				t.Errorf("received (-want +got):\n%s", diff)
			}
			h := got[0].Header
			for k, v := range map[string]string{
				"From": "vipd <vipd@example.org>", "To": "ops@example.org, Oncall <oncall@example.org>",
				"Date": "Tue, 01 Dec 2026 03:04:05 +0000", "X-Mailer": "vipd",
			} {
				if h.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
				}
			}
			// The server has the message before the client has QUIT.
			waitStats(t, n, func(st Stats) bool { return st.Sent == 2 })
			if st := n.Stats(); st.Failed != 0 || st.Retried != 0 {
				t.Errorf("Stats = %+v, want 2 sent at the first attempt", st)
			}
		})
	}
}

var cmpIgnoreHeader = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Header" }, cmp.Ignore())

// TestMailStartTLSRequired: STARTTLS configured, the server does not offer
// it: nothing is delivered (never in clear), and the failure is counted.
func TestMailStartTLSRequired(t *testing.T) {
	host, port, box := mailServer(t, nil)
	n, err := New(Config{
		RouterID: "lb1", Attempts: 2, Backoff: 10 * time.Millisecond,
		SMTP: &SMTPConfig{Server: host, Port: port, From: "a@example.org", To: []string{"b@example.org"}, Timeout: 5 * time.Second, StartTLS: true},
	}, discard())
	if err != nil {
		t.Fatal(err)
	}
	run(t, n)
	n.Send(ev("VI_1", StateMaster))
	waitStats(t, n, func(st Stats) bool { return st.Failed == 1 })
	if st := n.Stats(); st.Failed != 1 || st.Sent != 0 || st.Retried != 1 {
		t.Errorf("Stats = %+v, want 1 failed after 1 retry", st)
	}
	if got := box.all(); len(got) != 0 {
		t.Errorf("server received %d messages, want none", len(got))
	}
}

// TestMailDeadServer: the mail server accepts connections and never
// greets. Send returns at once; each attempt ends at Timeout; exactly
// Attempts connections are made for one message; a full queue drops its
// oldest messages.
func TestMailDeadServer(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	const (
		timeout  = 200 * time.Millisecond
		attempts = 3
		backoff  = 50 * time.Millisecond
	)
	n, err := New(Config{
		RouterID: "lb1", Attempts: attempts, Backoff: backoff, QueueSize: 2, DrainTimeout: -1,
		SMTP: &SMTPConfig{Server: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "a@example.org", To: []string{"b@example.org"}, Timeout: timeout},
	}, discard())
	if err != nil {
		t.Fatal(err)
	}
	run(t, n)
	start := time.Now()
	n.Send(ev("VI_1", StateMaster))
	// Wait until the worker holds VI_1 (first connection made), then fill
	// the queue past its size.
	for conns.Load() == 0 && time.Since(start) < 5*time.Second {
		time.Sleep(time.Millisecond)
	}
	sendStart := time.Now()
	for i := range 5 {
		n.Send(ev("VI_"+strconv.Itoa(i+2), StateMaster))
	}
	if el := time.Since(sendStart); el > 50*time.Millisecond {
		t.Errorf("5 Sends took %v with a dead server, want immediate", el)
	}
	// VI_1 and the 2 kept messages: 3 messages × 3 attempts, each attempt
	// ≤ timeout, plus 2 backoffs each (50ms+100ms).
	total := 3 * (attempts*timeout + 3*backoff)
	deadline := time.Now().Add(total + 5*time.Second)
	for n.Stats().Failed < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := n.Stats()
	if diff := cmp.Diff(Stats{Queued: 6, Retried: 3 * (attempts - 1), Failed: 3, Dropped: 3}, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got := conns.Load(); got != 3*attempts {
		t.Errorf("server saw %d connections, want %d (3 messages × %d attempts)", got, 3*attempts, attempts)
	}
	if el := time.Since(start); el < 3*attempts*timeout {
		t.Errorf("all attempts done after %v, want each bounded by Timeout (%v) not shorter", el, timeout)
	}
}
