package bfd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Version is the BFD protocol version of RFC 5880.
const Version = 1

// Lengths of a BFD Control packet (RFC 5880 §4.1).
const (
	headerLen  = 24 // mandatory section
	minAuthLen = 26 // mandatory section plus Auth Type and Auth Len
)

// State is a BFD session state (RFC 5880 §4.1 "Sta", §6.2). The values are
// the wire values.
type State uint8

// Session states.
const (
	AdminDown State = 0
	Down      State = 1
	Init      State = 2
	Up        State = 3
)

// String returns AdminDown, Down, Init or Up, as RFC 5880 spells them.
func (s State) String() string {
	switch s {
	case AdminDown:
		return "AdminDown"
	case Down:
		return "Down"
	case Init:
		return "Init"
	case Up:
		return "Up"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Diag is a diagnostic code (RFC 5880 §4.1 "Diag"): why the local system
// last left Up. The values are the wire values.
type Diag uint8

// Diagnostic codes.
const (
	DiagNone              Diag = 0 // No Diagnostic
	DiagTimeExpired       Diag = 1 // Control Detection Time Expired
	DiagEchoFailed        Diag = 2 // Echo Function Failed
	DiagNeighborDown      Diag = 3 // Neighbor Signaled Session Down
	DiagForwardingReset   Diag = 4 // Forwarding Plane Reset
	DiagPathDown          Diag = 5 // Path Down
	DiagConcatPathDown    Diag = 6 // Concatenated Path Down
	DiagAdminDown         Diag = 7 // Administratively Down
	DiagRevConcatPathDown Diag = 8 // Reverse Concatenated Path Down
)

var diagNames = [...]string{
	DiagNone:              "no diagnostic",
	DiagTimeExpired:       "control detection time expired",
	DiagEchoFailed:        "echo function failed",
	DiagNeighborDown:      "neighbor signaled session down",
	DiagForwardingReset:   "forwarding plane reset",
	DiagPathDown:          "path down",
	DiagConcatPathDown:    "concatenated path down",
	DiagAdminDown:         "administratively down",
	DiagRevConcatPathDown: "reverse concatenated path down",
}

// String returns the RFC 5880 name of the code in lower case, e.g.
// "control detection time expired".
func (d Diag) String() string {
	if int(d) < len(diagNames) {
		return diagNames[d]
	}
	return fmt.Sprintf("diag %d", uint8(d))
}

// Control is a BFD Control packet; field names and sizes are per RFC 5880
// §4.1. Intervals are carried in microseconds on the wire: Append truncates
// to whole microseconds and clamps to 0..2^32-1 µs.
type Control struct {
	Version     uint8 // Vers: 1
	Diag        Diag
	State       State
	Poll        bool // P
	Final       bool // F
	CPI         bool // C: Control Plane Independent
	AuthPresent bool // A
	Demand      bool // D
	Multipoint  bool // M: must be zero
	DetectMult  uint8
	MyDiscr     uint32
	YourDiscr   uint32
	// DesiredMinTx is Desired Min TX Interval.
	DesiredMinTx time.Duration
	// RequiredMinRx is Required Min RX Interval.
	RequiredMinRx time.Duration
	// RequiredMinEchoRx is Required Min Echo RX Interval (0: no echo).
	RequiredMinEchoRx time.Duration
	// Auth is the Authentication Section (from Auth Type on) when
	// AuthPresent; Append writes it as is.
	Auth []byte
}

// Errors of Parse, one per check of RFC 5880 §6.8.6 (first paragraphs).
var (
	ErrShort      = errors.New("bfd: packet shorter than its length field or the minimum")
	ErrVersion    = errors.New("bfd: version is not 1")
	ErrLength     = errors.New("bfd: length field too small")
	ErrDetectMult = errors.New("bfd: detect mult is zero")
	ErrMultipoint = errors.New("bfd: multipoint bit set")
	ErrMyDiscr    = errors.New("bfd: my discriminator is zero")
	ErrYourDiscr  = errors.New("bfd: your discriminator is zero while state is not Down or AdminDown")
)

// Parse decodes and validates a Control packet (RFC 5880 §4.1, the checks of
// §6.8.6 that need no session). Bytes after Length (e.g. UDP padding) are
// ignored. The returned Auth aliases b.
func Parse(b []byte) (Control, error) {
	var c Control
	if len(b) < headerLen {
		return c, ErrShort
	}
	c.Version = b[0] >> 5
	c.Diag = Diag(b[0] & 0x1f)
	c.State = State(b[1] >> 6)
	c.Poll = b[1]&0x20 != 0
	c.Final = b[1]&0x10 != 0
	c.CPI = b[1]&0x08 != 0
	c.AuthPresent = b[1]&0x04 != 0
	c.Demand = b[1]&0x02 != 0
	c.Multipoint = b[1]&0x01 != 0
	c.DetectMult = b[2]
	length := int(b[3])
	c.MyDiscr = binary.BigEndian.Uint32(b[4:])
	c.YourDiscr = binary.BigEndian.Uint32(b[8:])
	c.DesiredMinTx = usec(binary.BigEndian.Uint32(b[12:]))
	c.RequiredMinRx = usec(binary.BigEndian.Uint32(b[16:]))
	c.RequiredMinEchoRx = usec(binary.BigEndian.Uint32(b[20:]))

	switch {
	case c.Version != Version:
		return c, ErrVersion
	case length < headerLen, c.AuthPresent && length < minAuthLen:
		return c, ErrLength
	case length > len(b):
		return c, ErrShort
	case c.DetectMult == 0:
		return c, ErrDetectMult
	case c.Multipoint:
		return c, ErrMultipoint
	case c.MyDiscr == 0:
		return c, ErrMyDiscr
	case c.YourDiscr == 0 && c.State != Down && c.State != AdminDown:
		return c, ErrYourDiscr
	}
	if c.AuthPresent {
		c.Auth = b[headerLen:length]
	}
	return c, nil
}

// Append appends the wire form of c to b. Version 0 is written as 1;
// Length covers the mandatory section and, when AuthPresent, Auth (at most
// 255 bytes in all: a longer Auth is truncated).
func Append(b []byte, c Control) []byte {
	v := c.Version
	if v == 0 {
		v = Version
	}
	var flags byte
	for _, f := range []struct {
		set bool
		bit byte
	}{{c.Poll, 0x20}, {c.Final, 0x10}, {c.CPI, 0x08}, {c.AuthPresent, 0x04}, {c.Demand, 0x02}, {c.Multipoint, 0x01}} {
		if f.set {
			flags |= f.bit
		}
	}
	auth := []byte(nil)
	if c.AuthPresent {
		auth = c.Auth[:min(len(c.Auth), 255-headerLen)]
	}
	b = append(b, v<<5|byte(c.Diag)&0x1f, byte(c.State)<<6|flags, c.DetectMult, byte(headerLen+len(auth)))
	b = binary.BigEndian.AppendUint32(b, c.MyDiscr)
	b = binary.BigEndian.AppendUint32(b, c.YourDiscr)
	b = binary.BigEndian.AppendUint32(b, toUsec(c.DesiredMinTx))
	b = binary.BigEndian.AppendUint32(b, toUsec(c.RequiredMinRx))
	b = binary.BigEndian.AppendUint32(b, toUsec(c.RequiredMinEchoRx))
	return append(b, auth...)
}

func usec(v uint32) time.Duration { return time.Duration(v) * time.Microsecond }

// maxInterval is the largest interval the wire can carry.
const maxInterval = time.Duration(1<<32-1) * time.Microsecond

func toUsec(d time.Duration) uint32 {
	switch {
	case d <= 0:
		return 0
	case d >= maxInterval:
		return 1<<32 - 1
	}
	return uint32(d / time.Microsecond)
}
