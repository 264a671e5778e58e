package netlink

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/providers"
)

// With DryRun the provider adds, removes and sends nothing, and logs every
// change it would make.
func TestDryRunChangesNothing(t *testing.T) {
	a, b := setupPair(t)
	ctx := context.Background()
	for _, prefix := range []string{"192.0.2.120/24", "2001:db8::120/64"} {
		t.Run(prefix, func(t *testing.T) {
			const count, interval = 3, 50 * time.Millisecond
			p, logs := newProvider(t, Options{GARPCount: count, GARPInterval: interval, NetNS: a.ns, DryRun: true})
			vip := providers.VIP{Prefix: netip.MustParsePrefix(prefix), Interface: a.name}
			match := isGARPFor(vip.Prefix.Addr())
			if vip.Prefix.Addr().Is6() {
				match = isNAFor(vip.Prefix.Addr())
			}
			c := capture(t, b)
			if err := p.Acquire(ctx, vip); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if err := p.Announce(ctx, vip); err != nil {
				t.Fatalf("Announce: %v", err)
			}
			if got := addrs(t, a); len(got) != 0 {
				t.Errorf("addresses after a dry-run Acquire = %v, want none", got)
			}
			// Two bursts' worth of time plus a margin: nothing may arrive.
			if got := c.collect(t, 2*count*interval+500*time.Millisecond, match); len(got) != 0 {
				t.Errorf("captured %d announcements in dry-run, want 0", len(got))
			}
			for _, want := range []string{`msg="dry-run: would add vip" provider=netlink vip=` + prefix, `msg="dry-run: would announce vip"`} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, logs.String())
				}
			}

			// An address put there by someone else is not removed either.
			real, _ := newProvider(t, Options{GARPCount: 1, NetNS: a.ns})
			if err := real.Acquire(ctx, vip); err != nil {
				t.Fatal(err)
			}
			if err := p.Release(ctx, vip); err != nil {
				t.Fatalf("Release: %v", err)
			}
			if err := p.Cleanup(ctx, vip); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}
			if got := addrs(t, a); len(got) != 1 {
				t.Errorf("addresses after a dry-run Release = %v, want the one added", got)
			}
			if n := strings.Count(logs.String(), `msg="dry-run: would remove vip"`); n != 2 {
				t.Errorf("logged %q %d times, want 2 (Release, Cleanup):\n%s", "dry-run: would remove vip", n, logs.String())
			}
			if err := real.Release(ctx, vip); err != nil {
				t.Fatal(err)
			}
		})
	}
}
