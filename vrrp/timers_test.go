package vrrp

import (
	"testing"
	"time"
)

func TestSkewTimeAndMasterDownInterval(t *testing.T) {
	tests := []struct {
		name       string
		priority   uint8
		interval   time.Duration
		version    uint8
		wantSkew   time.Duration
		wantMaster time.Duration
	}{
		// v2: skew = (256-prio)/256 s, independent of the interval (RFC 3768 §6.1).
		{"v2 prio 100 1s", 100, time.Second, 2, 609375 * time.Microsecond, 3*time.Second + 609375*time.Microsecond},
		{"v2 prio 255 1s", 255, time.Second, 2, 3906250 * time.Nanosecond, 3*time.Second + 3906250*time.Nanosecond},
		{"v2 prio 1 1s", 1, time.Second, 2, 996093750 * time.Nanosecond, 3*time.Second + 996093750*time.Nanosecond},
		{"v2 prio 100 3s", 100, 3 * time.Second, 2, 609375 * time.Microsecond, 9*time.Second + 609375*time.Microsecond},
		// v3: skew = ((256-prio)*Master_Adver_Interval)/256 (RFC 5798 §6.1).
		{"v3 prio 100 1s", 100, time.Second, 3, 609375 * time.Microsecond, 3*time.Second + 609375*time.Microsecond},
		{"v3 prio 100 3s", 100, 3 * time.Second, 3, 1828125 * time.Microsecond, 9*time.Second + 1828125*time.Microsecond},
		{"v3 prio 200 100ms", 200, 100 * time.Millisecond, 3, 21875 * time.Microsecond, 300*time.Millisecond + 21875*time.Microsecond},
		{"v3 prio 255 10ms", 255, 10 * time.Millisecond, 3, 39062 * time.Nanosecond, 30*time.Millisecond + 39062*time.Nanosecond},
		{"v3 prio 0 1s", 0, time.Second, 3, time.Second, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := skewTime(tt.priority, tt.interval, tt.version); got != tt.wantSkew {
				t.Errorf("skewTime(%d, %v, %d) = %v, want %v", tt.priority, tt.interval, tt.version, got, tt.wantSkew)
			}
			if got := masterDownInterval(tt.priority, tt.interval, tt.version); got != tt.wantMaster {
				t.Errorf("masterDownInterval(%d, %v, %d) = %v, want %v", tt.priority, tt.interval, tt.version, got, tt.wantMaster)
			}
		})
	}
}

func TestHigherPriorityHasShorterMasterDownInterval(t *testing.T) {
	for _, v := range []uint8{2, 3} {
		for p := 1; p < 255; p++ {
			lo := masterDownInterval(uint8(p), time.Second, v)
			hi := masterDownInterval(uint8(p+1), time.Second, v)
			if hi >= lo {
				t.Fatalf("v%d: masterDownInterval(%d) = %v, not shorter than masterDownInterval(%d) = %v", v, p+1, hi, p, lo)
			}
		}
	}
}

func TestEffectivePriority(t *testing.T) {
	tests := []struct {
		name  string
		base  uint8
		delta int
		want  uint8
	}{
		{"no tracks", 100, 0, 100},
		{"negative weight", 100, -20, 80},
		{"positive weight", 100, 50, 150},
		{"clamped to 254", 200, 100, 254},
		{"clamped to 1", 100, -500, 1},
		{"exactly 1", 100, -99, 1},
		{"owner never changes down", 255, -100, 255},
		{"owner never changes up", 255, 10, 255},
		{"254 plus stays 254", 254, 1, 254},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := effectivePriority(tt.base, tt.delta); got != tt.want {
				t.Errorf("effectivePriority(%d, %d) = %d, want %d", tt.base, tt.delta, got, tt.want)
			}
		})
	}
}

func TestAdvertDelay(t *testing.T) {
	base := time.Unix(1_700_000_000, 0) // on every slot boundary
	for _, tc := range []struct {
		name     string
		now      time.Time
		interval time.Duration
		want     time.Duration
	}{
		{"aligned", base, time.Second, time.Second},
		{"late by handling", base.Add(300 * time.Microsecond), time.Second, time.Second - 300*time.Microsecond},
		{"unaligned: at most one slot early", base.Add(100 * time.Millisecond), time.Second, 900 * time.Millisecond},
		{"just before a slot", base.Add(124 * time.Millisecond), time.Second, time.Second - 124*time.Millisecond},
		{"100ms", base.Add(13 * time.Millisecond), 100 * time.Millisecond, 100*time.Millisecond - 500*time.Microsecond},
		{"10ms", base.Add(time.Millisecond), 10 * time.Millisecond, 9 * time.Millisecond},
		{"tiny interval", base.Add(3), 5, 5},
		{"before 1970", time.Unix(-1, 0), time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := advertDelay(tc.now, tc.interval)
			if got != tc.want {
				t.Errorf("advertDelay(%v, %v) = %v, want %v", tc.now.Sub(base), tc.interval, got, tc.want)
			}
			// Invariants: never later than interval, at most one slot early,
			// and the advert lands on a slot boundary.
			if got > tc.interval || got <= tc.interval-tc.interval/advertGrid && tc.interval >= advertGrid {
				t.Errorf("advertDelay = %v outside (interval - slot, interval]", got)
			}
		})
	}
	// Periodic: once aligned, adverts are exactly interval apart.
	now := base.Add(77 * time.Millisecond)
	now = now.Add(advertDelay(now, time.Second))
	for range 5 {
		if d := advertDelay(now, time.Second); d != time.Second {
			t.Fatalf("aligned advert after %v, want 1s", d)
		}
		now = now.Add(time.Second)
	}
}
