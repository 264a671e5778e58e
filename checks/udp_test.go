package checks

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// udpServer replies "pong <payload>" unless the payload is "quiet".
func udpServer(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Skipf("listen udp %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if bytes.Equal(buf[:n], []byte("quiet")) {
				continue
			}
			_, _ = pc.WriteTo(append([]byte("pong "), buf[:n]...), from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestUDPChecker(t *testing.T) {
	v4 := udpServer(t, "127.0.0.1:0")
	v6 := udpServer(t, "[::1]:0")
	closed := closedUDPPort(t)
	tests := []struct {
		name       string
		cfg        UDPConfig
		wantOK     bool
		wantReason string
	}{
		{"expected reply", UDPConfig{Target: v4, Send: []byte("ping"), Expect: []byte("pong ping")}, true, ""},
		{"expected reply ipv6", UDPConfig{Target: v6, Send: []byte("ping"), Expect: []byte("pong")}, true, ""},
		{"any reply", UDPConfig{Target: v4, Send: []byte("x"), RequireReply: true}, true, ""},
		{"unexpected reply", UDPConfig{Target: v4, Send: []byte("ping"), Expect: []byte("hello")}, false, "unexpected reply"},
		{"no reply required reply", UDPConfig{Target: v4, Send: []byte("quiet"), Expect: []byte("pong")}, false, "timeout"},
		{"silence ok without require_reply", UDPConfig{Target: v4, Send: []byte("quiet")}, true, ""},
		{"port unreachable", UDPConfig{Target: closed, Send: []byte("ping"), Expect: []byte("pong")}, false, "connection refused"},
		{"port unreachable without require_reply", UDPConfig{Target: closed, Send: []byte("ping")}, false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Timeout = 300 * time.Millisecond
			c, err := NewUDPChecker(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Check(context.Background())
			if got.OK != tt.wantOK || got.Reason != tt.wantReason {
				t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:%v Reason:%q}", got.OK, got.Reason, tt.wantOK, tt.wantReason)
			}
		})
	}
}

func TestNewUDPCheckerInvalid(t *testing.T) {
	if _, err := NewUDPChecker(UDPConfig{}); err == nil {
		t.Error("no target accepted")
	}
	if _, err := NewUDPChecker(UDPConfig{Target: netip.MustParseAddrPort("127.0.0.1:9")}); err == nil {
		t.Error("no timeout without require_reply accepted")
	}
}
