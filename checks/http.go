package checks

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HTTPConfig configures keepalived's HTTP_GET / SSL_GET.
type HTTPConfig struct {
	Target      netip.AddrPort // connect_ip:connect_port
	TLS         bool           // SSL_GET
	Path        string         // url path; "" → "/"
	StatusCodes []int          // accepted status codes; nil → 200
	Digest      string         // md5 hex of the body (see Genhash); "" skips the body check
	VirtualHost string         // Host header and TLS SNI; "" → the target's address
	TLSVerify   bool           // verify the server certificate (default off, as keepalived)
	RootCAs     *x509.CertPool // trust anchors when TLSVerify; nil → system roots
	Timeout     time.Duration  // connect + request timeout; 0 leaves only ctx
	Bind        netip.Addr     // bindto; zero: let the kernel choose
}

// MaxDigestBody bounds how much of a body is read for the digest.
const MaxDigestBody = 16 << 20

// HTTPChecker is keepalived's HTTP_GET / SSL_GET: the probe succeeds when
// the response status is one of StatusCodes and, with Digest, the body's
// md5 matches. Each probe uses a fresh connection.
type HTTPChecker struct {
	cfg    HTTPConfig
	url    string
	client *http.Client
}

var _ Checker = (*HTTPChecker)(nil)

// NewHTTPChecker validates cfg and builds the checker's client.
func NewHTTPChecker(cfg HTTPConfig) (*HTTPChecker, error) {
	if !cfg.Target.IsValid() {
		return nil, errors.New("http check: no target")
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if !strings.HasPrefix(cfg.Path, "/") {
		return nil, fmt.Errorf("http check: path %q must start with /", cfg.Path)
	}
	if len(cfg.StatusCodes) == 0 {
		cfg.StatusCodes = []int{http.StatusOK}
	}
	for _, c := range cfg.StatusCodes {
		if c < 100 || c > 599 {
			return nil, fmt.Errorf("http check: status code %d out of range 100-599", c)
		}
	}
	if cfg.Digest != "" {
		cfg.Digest = strings.ToLower(cfg.Digest)
		if b, err := hex.DecodeString(cfg.Digest); err != nil || len(b) != md5.Size {
			return nil, fmt.Errorf("http check: digest %q is not 32 hex digits (md5)", cfg.Digest)
		}
	}
	scheme := "http"
	if cfg.TLS {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: cfg.Target.String(), Path: cfg.Path}
	if p, q, found := strings.Cut(cfg.Path, "?"); found {
		u.Path, u.RawQuery = p, q
	}
	serverName := cfg.VirtualHost
	if h, _, err := net.SplitHostPort(serverName); err == nil {
		serverName = h
	}
	if serverName == "" {
		serverName = cfg.Target.Addr().String()
	}
	dialer := &net.Dialer{}
	if cfg.Bind.IsValid() {
		dialer.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(cfg.Bind, 0))
	}
	target := cfg.Target.String()
	tr := &http.Transport{
		// Always connect to the real server, whatever the Host header says.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, target)
		},
		TLSClientConfig: &tls.Config{
			ServerName:         serverName,
			InsecureSkipVerify: !cfg.TLSVerify, //nolint:gosec // keepalived's default; TLSVerify turns it on
			RootCAs:            cfg.RootCAs,
		},
		DisableKeepAlives:  true,
		DisableCompression: true, // digest is of the body as served
		Proxy:              nil,
	}
	return &HTTPChecker{
		cfg: cfg,
		url: u.String(),
		client: &http.Client{
			Transport: tr,
			// A redirect is a status like any other; do not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

func (c *HTTPChecker) String() string {
	s := "http "
	if c.cfg.TLS {
		s = "https "
	}
	s += c.cfg.Target.String() + c.cfg.Path
	if c.cfg.VirtualHost != "" {
		s += " host " + c.cfg.VirtualHost
	}
	return s
}

// Check sends one GET.
func (c *HTTPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return fail(start, err.Error())
	}
	if c.cfg.VirtualHost != "" {
		req.Host = c.cfg.VirtualHost
	}
	req.Header.Set("User-Agent", "vipd-healthcheck")
	resp, err := c.client.Do(req)
	if err != nil {
		return fail(start, httpErrReason(err))
	}
	defer resp.Body.Close()
	if !slices.Contains(c.cfg.StatusCodes, resp.StatusCode) {
		return fail(start, "status "+strconv.Itoa(resp.StatusCode))
	}
	if c.cfg.Digest != "" {
		h := md5.New()
		if _, err := io.Copy(h, io.LimitReader(resp.Body, MaxDigestBody)); err != nil {
			return fail(start, "read body: "+errReason(err))
		}
		if hex.EncodeToString(h.Sum(nil)) != c.cfg.Digest {
			return fail(start, "digest mismatch")
		}
	}
	return ok(start)
}

// httpErrReason unwraps *url.Error and names TLS failures.
func httpErrReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "tls: " + certErr.Err.Error()
	}
	return errReason(err)
}

// Genhash fetches rawURL and returns the md5 hex digest of its body, like
// keepalived's genhash, for HTTPConfig.Digest. The digest is returned
// whatever the status code; a transport error is returned as an error.
func Genhash(ctx context.Context, rawURL string, tlsVerify bool) (string, error) {
	tr := &http.Transport{
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: !tlsVerify}, //nolint:gosec // as keepalived's genhash
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", fmt.Errorf("genhash: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("genhash: %w", err)
	}
	defer resp.Body.Close()
	h := md5.New()
	if _, err := io.Copy(h, io.LimitReader(resp.Body, MaxDigestBody)); err != nil {
		return "", fmt.Errorf("genhash: read body of %s: %w", rawURL, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
