package checks

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const helloMD5 = "5d41402abc4b2a76b9719d911017c592" // md5("hello")

func testHandler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })
	mux.HandleFunc("/503", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("x") != "1" {
			http.Error(w, "no query", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/vhost", func(w http.ResponseWriter, r *http.Request) {
		sni := ""
		if r.TLS != nil {
			sni = r.TLS.ServerName
		}
		if r.Host != "example.com" || (r.TLS != nil && sni != "example.com") {
			http.Error(w, "wrong host "+r.Host+" sni "+sni, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("hello"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	return mux
}

func serve(t *testing.T, tlsOn bool, addr string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	ts := httptest.NewUnstartedServer(testHandler(t))
	ts.Listener.Close()
	ts.Listener = ln
	if tlsOn {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts
}

func addrOf(ts *httptest.Server) netip.AddrPort {
	return ts.Listener.Addr().(*net.TCPAddr).AddrPort()
}

func TestHTTPChecker(t *testing.T) {
	plain4 := serve(t, false, "127.0.0.1:0")
	plain6 := serve(t, false, "[::1]:0")
	tls4 := serve(t, true, "127.0.0.1:0")
	tls6 := serve(t, true, "[::1]:0")
	pool := x509.NewCertPool()
	pool.AddCert(tls4.Certificate())
	pool6 := x509.NewCertPool()
	pool6.AddCert(tls6.Certificate())

	tests := []struct {
		name       string
		ts         *httptest.Server
		cfg        HTTPConfig
		wantOK     bool
		wantReason string // prefix
	}{
		{"200 default", plain4, HTTPConfig{Path: "/ok"}, true, ""},
		{"200 ipv6", plain6, HTTPConfig{Path: "/ok"}, true, ""},
		{"503 not accepted", plain4, HTTPConfig{Path: "/503"}, false, "status 503"},
		{"503 accepted", plain4, HTTPConfig{Path: "/503", StatusCodes: []int{200, 503}}, true, ""},
		{"404", plain4, HTTPConfig{Path: "/nope"}, false, "status 404"},
		{"redirect not followed", plain4, HTTPConfig{Path: "/redirect"}, false, "status 302"},
		{"redirect accepted", plain4, HTTPConfig{Path: "/redirect", StatusCodes: []int{302}}, true, ""},
		{"query string", plain4, HTTPConfig{Path: "/query?x=1"}, true, ""},
		{"digest match", plain4, HTTPConfig{Path: "/ok", Digest: helloMD5}, true, ""},
		{"digest match upper case", plain4, HTTPConfig{Path: "/ok", Digest: strings.ToUpper(helloMD5)}, true, ""},
		{"digest mismatch", plain4, HTTPConfig{Path: "/ok", Digest: "00000000000000000000000000000000"}, false, "digest mismatch"},
		{"virtualhost", plain4, HTTPConfig{Path: "/vhost", VirtualHost: "example.com"}, true, ""},
		{"no virtualhost", plain4, HTTPConfig{Path: "/vhost"}, false, "status 404"},
		{"timeout", plain4, HTTPConfig{Path: "/slow", Timeout: 200 * time.Millisecond}, false, "timeout"},
		{"tls verify off self-signed", tls4, HTTPConfig{TLS: true, Path: "/ok"}, true, ""},
		{"tls verify off ipv6", tls6, HTTPConfig{TLS: true, Path: "/ok", Digest: helloMD5}, true, ""},
		{"tls verify on self-signed", tls4, HTTPConfig{TLS: true, Path: "/ok", TLSVerify: true}, false, "tls: x509: certificate signed by unknown authority"},
		{"tls verify on trusted, ip SAN", tls4, HTTPConfig{TLS: true, Path: "/ok", TLSVerify: true, RootCAs: pool}, true, ""},
		{"tls verify on trusted ipv6", tls6, HTTPConfig{TLS: true, Path: "/ok", TLSVerify: true, RootCAs: pool6}, true, ""},
		{"tls sni virtualhost", tls4, HTTPConfig{TLS: true, Path: "/vhost", VirtualHost: "example.com", TLSVerify: true, RootCAs: pool}, true, ""},
		{"tls verify wrong name", tls4, HTTPConfig{TLS: true, Path: "/ok", VirtualHost: "wrong.test", TLSVerify: true, RootCAs: pool}, false, "tls: x509: certificate is valid for"},
		{"plain http to tls port", tls4, HTTPConfig{Path: "/ok"}, false, "status 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Target = addrOf(tt.ts)
			if cfg.Timeout == 0 {
				cfg.Timeout = 2 * time.Second
			}
			c, err := NewHTTPChecker(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Check(context.Background())
			if got.OK != tt.wantOK || !strings.HasPrefix(got.Reason, tt.wantReason) || (tt.wantOK && got.Reason != "") {
				t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:%v Reason:%q…}", got.OK, got.Reason, tt.wantOK, tt.wantReason)
			}
		})
	}
}

func TestHTTPCheckerRefused(t *testing.T) {
	c, err := NewHTTPChecker(HTTPConfig{Target: closedPort(t), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Check(context.Background()); got.OK || got.Reason != ReasonRefused {
		t.Errorf("Check() = {OK:%v Reason:%q}, want connection refused", got.OK, got.Reason)
	}
}

func TestNewHTTPCheckerInvalid(t *testing.T) {
	target := netip.MustParseAddrPort("127.0.0.1:80")
	tests := []struct {
		name string
		cfg  HTTPConfig
		want string
	}{
		{"no target", HTTPConfig{}, "no target"},
		{"bad digest", HTTPConfig{Target: target, Digest: "xyz"}, "not 32 hex digits"},
		{"short digest", HTTPConfig{Target: target, Digest: "abcd"}, "not 32 hex digits"},
		{"bad code", HTTPConfig{Target: target, StatusCodes: []int{42}}, "out of range"},
		{"relative path", HTTPConfig{Target: target, Path: "ok"}, "must start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHTTPChecker(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewHTTPChecker() error = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestGenhash(t *testing.T) {
	plain := serve(t, false, "127.0.0.1:0")
	secure := serve(t, true, "127.0.0.1:0")
	tests := []struct {
		name    string
		url     string
		verify  bool
		want    string
		wantErr bool
	}{
		{"http", plain.URL + "/ok", false, helloMD5, false},
		{"https no verify", secure.URL + "/ok", false, helloMD5, false},
		{"https verify self-signed", secure.URL + "/ok", true, "", true},
		{"refused", "http://" + closedPort(t).String() + "/", false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := Genhash(ctx, tt.url, tt.verify)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Genhash(%s) = %q, %v; want %q, error %v", tt.url, got, err, tt.want, tt.wantErr)
			}
		})
	}
	// The digest Genhash prints is the one HTTPChecker accepts, and only
	// for that body.
	sum, err := Genhash(context.Background(), plain.URL+"/503", false)
	if err != nil {
		t.Fatal(err)
	}
	for path, wantOK := range map[string]bool{"/503": true, "/ok": false} {
		c, err := NewHTTPChecker(HTTPConfig{Target: addrOf(plain), Path: path, StatusCodes: []int{200, 503}, Digest: sum})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Check(context.Background()); got.OK != wantOK {
			t.Errorf("digest of /503 on %s: Check() = %+v, want OK %v", path, got, wantOK)
		}
	}
}
