package vrrp

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDropReasonNames pins the metric labels: changing one breaks dashboards.
func TestDropReasonNames(t *testing.T) {
	want := map[DropReason]string{
		DropUnknown:        "unknown",
		DropMalformed:      "malformed",
		DropVersion:        "version",
		DropType:           "type",
		DropChecksum:       "checksum",
		DropTTL:            "ttl",
		DropVRIDUnknown:    "vrid_unknown",
		DropNotPeer:        "not_peer",
		DropAuth:           "auth",
		DropAdvertInterval: "advert_interval",
		DropAddrCount:      "addr_count",
		DropOwnPacket:      "own_packet",
		DropQueueFull:      "queue_full",
		DropReason(-1):     "unknown",
		numDropReasons:     "unknown",
	}
	for r, name := range want {
		if got := r.String(); got != name {
			t.Errorf("DropReason(%d).String() = %q, want %q", int(r), got, name)
		}
	}
	got := map[string]bool{}
	for _, r := range DropReasons() {
		if r == DropUnknown || got[r.String()] {
			t.Errorf("DropReasons: %v is unknown or repeated", r)
		}
		got[r.String()] = true
	}
	if len(got) != int(numDropReasons)-1 {
		t.Errorf("DropReasons returned %d reasons, want %d", len(got), numDropReasons-1)
	}
}

func TestCounters(t *testing.T) {
	var c Counters
	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for range each {
				c.Inc(DropChecksum)
				if i == 0 {
					c.Inc(DropTTL)
				}
			}
		})
	}
	wg.Wait()
	c.Inc(DropReason(99))
	want := map[string]int64{}
	for r := DropUnknown; r < numDropReasons; r++ {
		want[r.String()] = 0
	}
	want["checksum"] = workers * each
	want["ttl"] = each
	want["unknown"] = 1
	if diff := cmp.Diff(want, c.Snapshot()); diff != "" {
		t.Errorf("Snapshot (-want +got):\n%s", diff)
	}
	if got := c.Get(DropChecksum); got != workers*each {
		t.Errorf("Get(checksum) = %d, want %d", got, workers*each)
	}

	var nilC *Counters
	nilC.Inc(DropTTL) // must not panic
	if got := nilC.Snapshot()["ttl"]; got != 0 {
		t.Errorf("nil Snapshot ttl = %d, want 0", got)
	}
}

func TestDropError(t *testing.T) {
	err := fmt.Errorf("recv: %w", dropf(DropChecksum, "bad %s", "sum"))
	if got, want := err.Error(), "recv: vrrp: drop checksum: bad sum"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	r, ok := DropReasonOf(err)
	if !ok || r != DropChecksum {
		t.Errorf("DropReasonOf = %v, %v; want checksum, true", r, ok)
	}
	if _, ok := DropReasonOf(io.EOF); ok {
		t.Error("DropReasonOf(io.EOF) reported a drop")
	}
	inner := errors.New("inner")
	de := &DropError{Reason: DropTTL, Err: inner}
	if !errors.Is(de, inner) {
		t.Error("DropError does not unwrap to its Err")
	}
	if got, want := (&DropError{Reason: DropAuth}).Error(), "vrrp: drop auth"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
