package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// SMTP defaults, keepalived's.
const (
	DefaultSMTPPort    = 25
	DefaultSMTPHelo    = "localhost"      // smtp_helo_name unset
	DefaultSMTPTimeout = 30 * time.Second // smtp_connect_timeout
)

// SMTPConfig is keepalived's global e-mail settings.
type SMTPConfig struct {
	Server string   // smtp_server: host name or address
	Port   int      // <= 0: DefaultSMTPPort
	From   string   // notification_email_from; "Name <addr>" or "addr"
	To     []string // notification_email
	Helo   string   // smtp_helo_name; empty: DefaultSMTPHelo
	// Timeout bounds one whole delivery (connect to QUIT); <= 0:
	// DefaultSMTPTimeout.
	Timeout time.Duration
	// StartTLS requires STARTTLS before MAIL; a server that does not offer
	// it gets nothing.
	StartTLS bool
	// TLS is used for STARTTLS; nil: system roots, ServerName = Server.
	TLS *tls.Config
}

type mailSink struct {
	cfg  SMTPConfig
	addr string // host:port
	from string // envelope sender
	to   []string
}

func newMailSink(cfg SMTPConfig) (*mailSink, error) {
	if cfg.Server == "" {
		return nil, errors.New("alert: smtp: no server")
	}
	if cfg.Port <= 0 {
		cfg.Port = DefaultSMTPPort
	}
	if cfg.Helo == "" {
		cfg.Helo = DefaultSMTPHelo
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("alert: smtp: from %q: %w", cfg.From, err)
	}
	if len(cfg.To) == 0 {
		return nil, errors.New("alert: smtp: no recipient")
	}
	s := &mailSink{cfg: cfg, addr: net.JoinHostPort(cfg.Server, strconv.Itoa(cfg.Port)), from: from.Address}
	for _, t := range cfg.To {
		if localUser(t) {
			// keepalived's samples mail "acassen": a user of the local MTA
			// (RCPT TO:<acassen>, RFC 5321 §4.1.1.3 leaves it to the server).
			s.to = append(s.to, t)
			continue
		}
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("alert: smtp: to %q: %w", t, err)
		}
		s.to = append(s.to, a.Address)
	}
	return s, nil
}

func (s *mailSink) name() string { return "smtp" }

func (s *mailSink) deliver(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("smtp: dial %s: %w", s.addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, s.cfg.Server)
	if err != nil {
		return fmt.Errorf("smtp: greeting from %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.Helo); err != nil {
		return fmt.Errorf("smtp: hello: %w", err)
	}
	if s.cfg.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp: %s does not offer STARTTLS", s.addr)
		}
		tc := s.cfg.TLS.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		if tc.ServerName == "" {
			tc.ServerName = s.cfg.Server
		}
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("smtp: starttls: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("smtp: mail from: %w", err)
	}
	for _, t := range s.to {
		if err := c.Rcpt(t); err != nil {
			return fmt.Errorf("smtp: rcpt to %s: %w", t, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if _, err := w.Write(s.message(m)); err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	_ = c.Quit() // delivered once DATA is accepted
	return nil
}

// message renders m as keepalived's body_cmd() does (Date, From, Subject,
// X-Mailer, To, blank line, body), plus Message-ID and MIME headers.
func (s *mailSink) message(m Message) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("Date", m.Event.Time.Format(time.RFC1123Z))
	hdr("From", s.cfg.From)
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("X-Mailer", "vipd")
	hdr("To", strings.Join(s.cfg.To, ", "))
	hdr("Message-ID", "<"+messageID()+"@"+s.cfg.Helo+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	b.WriteString("\r\n")
	return b.Bytes()
}

func messageID() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "." + hex.EncodeToString(r[:])
}

// localUser reports whether s is a bare local part (no domain): letters,
// digits and . _ - +.
func localUser(s string) bool {
	if s == "" || strings.ContainsAny(s, "@<> ") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+", r)) {
			return false
		}
	}
	return true
}
