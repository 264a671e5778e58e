package vrrp

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// DropReason says why a received advertisement was discarded. Every dropped
// packet is counted under exactly one reason. String returns a stable
// snake_case name meant for metric labels; do not rename existing values.
type DropReason int

// Drop reasons. The wire layer (Unmarshal, Conn, Mux) produces
// DropMalformed, DropVersion, DropType, DropChecksum, DropTTL,
// DropVRIDUnknown and DropOwnPacket; the remaining ones are for the
// per-instance checks of RFC 5798 §7.1 / RFC 3768 §7.1 done by the router.
const (
	DropUnknown        DropReason = iota // not a valid reason; counted as "unknown"
	DropMalformed                        // too short, length does not match the address count, bad family
	DropVersion                          // version is not 2 or 3, or v2 over IPv6
	DropType                             // type is not 1 (ADVERTISEMENT)
	DropChecksum                         // checksum mismatch
	DropTTL                              // IPv4 TTL or IPv6 hop limit is not 255
	DropVRIDUnknown                      // no instance is configured for this interface, family and VRID
	DropNotPeer                          // unicast source is not a configured peer
	DropAuth                             // v2 authentication type or password mismatch
	DropAdvertInterval                   // v2 advert interval differs from the configured one
	DropAddrCount                        // address count or list differs from the configuration
	DropOwnPacket                        // the packet was sent by this agent
	DropQueueFull                        // the instance's receive queue was full (it is stuck or flooded)
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
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
}

// DropReasons returns every valid reason, in declaration order.
func DropReasons() []DropReason {
	rs := make([]DropReason, 0, numDropReasons-1)
	for r := DropMalformed; r < numDropReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// String returns the reason's metric label, e.g. "vrid_unknown". Out of
// range values are "unknown".
func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return dropReasonNames[DropUnknown]
	}
	return dropReasonNames[r]
}

// DropError is returned for a packet that must be discarded. The caller
// counts Reason and goes on; it is not a transport failure.
type DropError struct {
	Reason DropReason
	Err    error // detail; may be nil
}

func (e *DropError) Error() string {
	if e.Err == nil {
		return "vrrp: drop " + e.Reason.String()
	}
	return "vrrp: drop " + e.Reason.String() + ": " + e.Err.Error()
}

func (e *DropError) Unwrap() error { return e.Err }

// dropf builds a *DropError with a formatted detail.
func dropf(r DropReason, format string, args ...any) *DropError {
	return &DropError{Reason: r, Err: fmt.Errorf(format, args...)}
}

// DropReasonOf reports the reason of the *DropError in err's chain.
func DropReasonOf(err error) (DropReason, bool) {
	var de *DropError
	if errors.As(err, &de) {
		return de.Reason, true
	}
	return DropUnknown, false
}

// Counters counts dropped packets per reason. The zero value is ready to use
// and safe for concurrent use; a Counters must not be copied after first use.
type Counters struct {
	n [numDropReasons]atomic.Int64
}

// Inc counts one packet dropped for r. Out of range reasons count as
// DropUnknown. Inc on a nil *Counters does nothing.
func (c *Counters) Inc(r DropReason) {
	if c == nil {
		return
	}
	if r < 0 || r >= numDropReasons {
		r = DropUnknown
	}
	c.n[r].Add(1)
}

// Get returns the count for r.
func (c *Counters) Get(r DropReason) int64 {
	if c == nil {
		return 0
	}
	if r < 0 || r >= numDropReasons {
		r = DropUnknown
	}
	return c.n[r].Load()
}

// Snapshot returns the count of every reason, keyed by its String, including
// zeros (so metrics exist from the start) and "unknown".
func (c *Counters) Snapshot() map[string]int64 {
	m := make(map[string]int64, numDropReasons)
	for r := DropUnknown; r < numDropReasons; r++ {
		m[r.String()] = c.Get(r)
	}
	return m
}
