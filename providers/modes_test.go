package providers

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestModesDispatch(t *testing.T) {
	var calls []string
	modes := Modes{
		"a": {
			Acquire: func(_ context.Context, vip VIP) error {
				calls = append(calls, "acquire a "+vip.Prefix.String())
				return nil
			},
			Verify: func(_ context.Context, vip VIP) (Ownership, error) {
				calls = append(calls, "verify a "+vip.Prefix.String())
				return Ownership{Here: true, Owner: "a"}, nil
			},
		},
		"b": {
			Acquire: func(context.Context, VIP) error { calls = append(calls, "acquire b"); return nil },
			Verify: func(context.Context, VIP) (Ownership, error) {
				calls = append(calls, "verify b")
				return Ownership{}, nil
			},
		},
	}
	v4 := VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "eth0"}
	tests := []struct {
		name      string
		mode      string
		vip       VIP
		wantErr   string
		wantCalls []string
		wantOwn   Ownership
	}{
		{name: "mode a", mode: "a", vip: v4, wantCalls: []string{"acquire a 192.0.2.100/24", "verify a 192.0.2.100/24"}, wantOwn: Ownership{Here: true, Owner: "a"}},
		{name: "mode b", mode: "b", vip: v4, wantCalls: []string{"acquire b", "verify b"}},
		{name: "unknown mode", mode: "c", vip: v4, wantErr: `cloud: unknown mode "c"`},
		{name: "ipv6", mode: "a", vip: VIP{Prefix: netip.MustParsePrefix("2001:db8::100/64")}, wantErr: "cloud: 2001:db8::100/64: only IPv4 VIPs are supported"},
		{name: "ipv4-mapped ipv6", mode: "a", vip: VIP{Prefix: netip.MustParsePrefix("::ffff:192.0.2.100/120")}, wantErr: "cloud: ::ffff:192.0.2.100/120: only IPv4 VIPs are supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = nil
			aerr := modes.Acquire(context.Background(), "cloud", tt.mode, tt.vip)
			own, verr := modes.Verify(context.Background(), "cloud", tt.mode, tt.vip)
			for _, err := range []error{aerr, verr} {
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != tt.wantErr {
					t.Errorf("error = %q, want %q", got, tt.wantErr)
				}
				if err != nil && IsRetryable(err) {
					t.Errorf("error %v is retryable, want permanent", err)
				}
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOwn, own); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostRoute(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.100/24":   "192.0.2.100/32",
		"192.0.2.100/32":   "192.0.2.100/32",
		"2001:db8::100/64": "2001:db8::100/128",
	} {
		if got := HostRoute(VIP{Prefix: netip.MustParsePrefix(in)}); got != want {
			t.Errorf("HostRoute(%s) = %s, want %s", in, got, want)
		}
	}
}
