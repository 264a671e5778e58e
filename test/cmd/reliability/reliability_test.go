package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVRRPv2PacketChecksums(t *testing.T) {
	p := vrrpV2(51, 254, netip.MustParseAddr("192.0.2.100"), "wrongpw")
	if got := csum(p); got != 0 {
		t.Fatalf("VRRP checksum does not verify: %#04x", got)
	}
	ip := ipv4(netip.MustParseAddr("192.0.2.12"), vrrpGroup, p)
	if got := csum(ip[:20]); got != 0 {
		t.Fatalf("IPv4 header checksum does not verify: %#04x", got)
	}
	if diff := cmp.Diff([]byte{0x21, 51, 254, 1, 1, 1}, p[:6]); diff != "" {
		t.Errorf("VRRP header (-want +got):\n%s", diff)
	}
	if ip[8] != 255 || ip[9] != 112 || len(ip) != 20+len(p) {
		t.Errorf("IPv4 header: ttl %d proto %d len %d", ip[8], ip[9], len(ip))
	}
}

func TestSlope(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"flat", []float64{0, 1, 2, 3}, []float64{5, 5, 5, 5}, 0},
		{"rising", []float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2},
		{"one point", []float64{1}, []float64{3}, 0},
	} {
		if got := slope(tc.xs, tc.ys); got != tc.want {
			t.Errorf("%s: slope = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCodeIn(t *testing.T) {
	for in, want := range map[string]string{
		"api error RequestLimitExceeded: Request limit exceeded.": "RequestLimitExceeded",
		"operation error EC2: InternalError":                      "InternalError",
		"context deadline exceeded":                               "timeout",
		"connection refused":                                      "",
	} {
		if got := codeIn(in); got != want {
			t.Errorf("codeIn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportFailsOnlyOnInvariants(t *testing.T) {
	var r Report
	r.Check("a", "vipd", "x", "0", "0", true)
	r.Goal("b", "vipd", "y", "9", "0", false)
	r.Info("c", "keepalived", "z", "1")
	if r.Failed() != 0 {
		t.Fatalf("a missed goal fails the run")
	}
	r.Check("d", "vipd", "w", "1", "0", false)
	if r.Failed() != 1 {
		t.Fatalf("a broken invariant does not fail the run")
	}
	var b strings.Builder
	r.Markdown(&b, "t")
	for _, want := range []string{"| a | vipd | x | 0 | 0 | yes |", "| b | vipd | y | 9 | 0 | missed (goal) |", "| d | vipd | w | 1 | 0 | **NO** |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestJitter(t *testing.T) {
	mean, _, worst := jitter([]time.Duration{900 * time.Millisecond, 1100 * time.Millisecond, 1050 * time.Millisecond}, time.Second)
	if mean != 1016666666 || worst != 100*time.Millisecond {
		t.Fatalf("mean %v worst %v", mean, worst)
	}
}
