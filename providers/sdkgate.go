package providers

// Cloud-agnostic helpers for SDKs that take no context (Aliyun, Tencent):
// a gate binding each call to its context, instance-metadata reads, endpoint
// parsing and the transient-HTTP classification.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Gate runs SDK calls one at a time and binds each to its context.
//
// The Aliyun and the Tencent (v1.0.162) SDKs take no context.Context, and
// their clients mutate themselves on every call (timeouts, credentials), so
// they must not be used concurrently. A Gate is installed as the client's
// http.RoundTripper: Do takes the gate (or gives up when ctx ends), binds ctx
// to every HTTP request the SDK makes inside fn, and records the HTTP status
// of the last response so errors can carry it.
type Gate struct {
	sem  chan struct{}
	base http.RoundTripper

	mu     sync.Mutex
	ctx    context.Context
	status int
}

// NewGate returns a Gate sending through base (nil: a clone of
// http.DefaultTransport).
func NewGate(base http.RoundTripper) *Gate {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Gate{sem: make(chan struct{}, 1), base: base}
}

// Do runs fn with the gate held and ctx bound to its HTTP requests. It
// returns the HTTP status of the last response fn received (0: none).
func (g *Gate) Do(ctx context.Context, fn func() error) (status int, err error) {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-g.sem }()
	g.mu.Lock()
	g.ctx, g.status = ctx, 0
	g.mu.Unlock()
	err = fn()
	g.mu.Lock()
	status = g.status
	g.ctx = nil
	g.mu.Unlock()
	return status, err
}

// RoundTrip implements http.RoundTripper.
func (g *Gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	ctx := g.ctx
	g.mu.Unlock()
	if ctx == nil {
		return nil, errors.New("sdk call outside Gate.Do")
	}
	resp, err := g.base.RoundTrip(r.WithContext(ctx))
	if resp != nil {
		g.mu.Lock()
		g.status = resp.StatusCode
		g.mu.Unlock()
	}
	return resp, err
}

// TransientHTTP reports whether an HTTP status or transport error is worth
// another attempt: 429, 5xx, and errors that never got a response (network
// errors, a call deadline). A cancelled context is not transient.
func TransientHTTP(status int, err error) bool {
	if status == http.StatusTooManyRequests || status >= 500 {
		return true
	}
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}

// Metadata reads an instance metadata service (Aliyun 100.100.100.200,
// Tencent metadata.tencentyun.com) with a short timeout per request.
type Metadata struct {
	// Base is the metadata root, e.g. http://100.100.100.200/latest/meta-data/.
	Base string
	// Timeout bounds one request (default 2s).
	Timeout time.Duration
	// Header is added to every request (e.g. an IMDSv2 token), may be nil.
	Header http.Header
	// Client is the HTTP client (nil: a client without proxy).
	Client *http.Client
	// TokenURL, when set, is asked (PUT, TokenTTLHeader: 60) for a session
	// token before each Get, sent back in TokenHeader: Aliyun's hardened
	// metadata mode. When the token request fails, Get goes without one
	// (normal mode).
	TokenURL, TokenTTLHeader, TokenHeader string
}

// Get returns the trimmed body of Base+path.
func (m Metadata) Get(ctx context.Context, path string) (string, error) {
	to := m.Timeout
	if to <= 0 {
		to = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	u := strings.TrimSuffix(m.Base, "/") + "/" + strings.TrimPrefix(path, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", path, err)
	}
	for k, v := range m.Header {
		req.Header[k] = v
	}
	c := m.Client
	if c == nil {
		c = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	}
	if m.TokenURL != "" {
		if tok, err := m.token(ctx, c); err == nil {
			req.Header.Set(m.TokenHeader, tok)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metadata %s: http status %d", path, resp.StatusCode)
	}
	v := strings.TrimSpace(string(body))
	if v == "" {
		return "", fmt.Errorf("metadata %s: empty answer", path)
	}
	return v, nil
}

func (m Metadata) token(ctx context.Context, c *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.TokenURL, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(m.TokenTTLHeader, "60")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil || resp.StatusCode != http.StatusOK || len(b) == 0 {
		return "", fmt.Errorf("metadata token: status %d: %v", resp.StatusCode, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SplitEndpoint turns an endpoint override ("http://127.0.0.1:8080",
// "vpc.example.com") into scheme ("http"/"https") and host.
func SplitEndpoint(ep string) (scheme, host string) {
	switch {
	case strings.HasPrefix(ep, "http://"):
		return "http", strings.TrimSuffix(strings.TrimPrefix(ep, "http://"), "/")
	case strings.HasPrefix(ep, "https://"):
		return "https", strings.TrimSuffix(strings.TrimPrefix(ep, "https://"), "/")
	}
	return "https", strings.TrimSuffix(ep, "/")
}
