package bfd

import (
	"fmt"
	"sync/atomic"
)

// DropReason says why a received packet was discarded. Every discarded
// packet is counted under exactly one reason; String returns a stable metric
// label.
type DropReason int

// Drop reasons.
const (
	DropMalformed DropReason = iota // Parse failed (RFC 5880 §6.8.6)
	DropTTL                         // TTL / hop limit is not 255 (RFC 5881 §5)
	DropNoSession                   // no session for Your Discriminator, or for the addresses when it is 0
	DropWrongPeer                   // Your Discriminator names a session of another peer or interface
	DropAuth                        // the A bit is set: no authentication is configured
	DropQueueFull                   // the session's inbox was full (its goroutine is stuck or not running)
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropMalformed: "malformed",
	DropTTL:       "ttl",
	DropNoSession: "no_session",
	DropWrongPeer: "wrong_peer",
	DropAuth:      "auth",
	DropQueueFull: "queue_full",
}

// String returns the reason's metric label, e.g. "no_session".
func (r DropReason) String() string {
	if r >= 0 && r < numDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", int(r))
}

// Counters counts discarded packets by reason. The zero value is ready;
// it is safe for concurrent use.
type Counters struct {
	n [numDropReasons]atomic.Int64
}

// Inc counts one packet under r.
func (c *Counters) Inc(r DropReason) {
	if r >= 0 && r < numDropReasons {
		c.n[r].Add(1)
	}
}

// Get returns the count of r.
func (c *Counters) Get(r DropReason) int64 {
	if r >= 0 && r < numDropReasons {
		return c.n[r].Load()
	}
	return 0
}

// Snapshot returns the non-zero counts by label.
func (c *Counters) Snapshot() map[string]int64 {
	m := make(map[string]int64)
	for r := range numDropReasons {
		if v := c.n[r].Load(); v != 0 {
			m[r.String()] = v
		}
	}
	return m
}
