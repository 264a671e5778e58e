package bfd_test

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/vrrp/bfd"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The wire bytes are laid out by hand from the diagram of RFC 5880 §4.1:
//
//	byte 0: Vers(3) Diag(5)   byte 1: Sta(2) P F C A D M   byte 2: Detect Mult   byte 3: Length
//	4..7 My Discriminator, 8..11 Your Discriminator, 12..15 Desired Min TX,
//	16..19 Required Min RX, 20..23 Required Min Echo RX (µs, big endian).
func TestParseAppend(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want bfd.Control
	}{
		{
			name: "initial Down packet at the slow rate",
			// 0x20 = v1 diag 0; 0x40 = Down; mult 3; len 24; my 1; your 0;
			// tx 1 s (0x000f4240 µs); rx 50 ms (0x0000c350 µs); echo 0.
			wire: "20" + "40" + "03" + "18" + "00000001" + "00000000" + "000f4240" + "0000c350" + "00000000",
			want: bfd.Control{Version: 1, State: bfd.Down, DetectMult: 3, MyDiscr: 1,
				DesiredMinTx: time.Second, RequiredMinRx: 50 * time.Millisecond},
		},
		{
			name: "Up with Poll, every discriminator bit",
			// 0xe0 = Up(3)<<6 | P(0x20).
			wire: "20" + "e0" + "05" + "18" + "ffffffff" + "80000001" + "0000c350" + "000186a0" + "00000000",
			want: bfd.Control{Version: 1, State: bfd.Up, Poll: true, DetectMult: 5, MyDiscr: 0xffffffff,
				YourDiscr: 0x80000001, DesiredMinTx: 50 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond},
		},
		{
			name: "Down after expiry: diag 1, Final, C and D bits",
			// 0x21 = v1 diag 1; 0x40|0x10|0x08|0x02 = Down F C D.
			wire: "21" + "5a" + "01" + "18" + "0000002a" + "00000007" + "00000001" + "00000001" + "00000032",
			want: bfd.Control{Version: 1, Diag: bfd.DiagTimeExpired, State: bfd.Down, Final: true, CPI: true, Demand: true,
				DetectMult: 1, MyDiscr: 42, YourDiscr: 7, DesiredMinTx: time.Microsecond, RequiredMinRx: time.Microsecond,
				RequiredMinEchoRx: 50 * time.Microsecond},
		},
		{
			name: "AdminDown with diag 7, your discriminator 0",
			wire: "27" + "00" + "03" + "18" + "00000009" + "00000000" + "000f4240" + "000f4240" + "00000000",
			want: bfd.Control{Version: 1, Diag: bfd.DiagAdminDown, State: bfd.AdminDown, DetectMult: 3, MyDiscr: 9,
				DesiredMinTx: time.Second, RequiredMinRx: time.Second},
		},
		{
			name: "simple password authentication section",
			// A bit (0x04) with Init (0x80); length 24+7; auth type 1, len 7, key id 2, "abcd".
			wire: "20" + "84" + "03" + "1f" + "00000001" + "00000002" + "000f4240" + "000f4240" + "00000000" + "01070261626364",
			want: bfd.Control{Version: 1, State: bfd.Init, AuthPresent: true, DetectMult: 3, MyDiscr: 1, YourDiscr: 2,
				DesiredMinTx: time.Second, RequiredMinRx: time.Second, Auth: []byte{1, 7, 2, 'a', 'b', 'c', 'd'}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := mustHex(t, tt.wire)
			got, err := bfd.Parse(wire)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wire, bfd.Append(nil, tt.want)); diff != "" {
				t.Errorf("Append (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	// A valid Up packet to mutate.
	valid := "20" + "c0" + "03" + "18" + "00000001" + "00000002" + "0000c350" + "0000c350" + "00000000"
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"empty", "", bfd.ErrShort},
		{"23 bytes", valid[:46], bfd.ErrShort},
		{"version 0", "00" + valid[2:], bfd.ErrVersion},
		{"version 2", "40" + valid[2:], bfd.ErrVersion},
		{"length 23", valid[:6] + "17" + valid[8:], bfd.ErrLength},
		{"length 0", valid[:6] + "00" + valid[8:], bfd.ErrLength},
		{"A bit with length 24", "20" + "c4" + valid[4:], bfd.ErrLength},
		{"length beyond the datagram", valid[:6] + "1a" + valid[8:], bfd.ErrShort},
		{"detect mult 0", valid[:4] + "00" + valid[6:], bfd.ErrDetectMult},
		{"multipoint", "20" + "c1" + valid[4:], bfd.ErrMultipoint},
		{"my discriminator 0", valid[:8] + "00000000" + valid[16:], bfd.ErrMyDiscr},
		{"your discriminator 0 while Up", valid[:16] + "00000000" + valid[24:], bfd.ErrYourDiscr},
		{"your discriminator 0 while Init", "20" + "80" + valid[4:16] + "00000000" + valid[24:], bfd.ErrYourDiscr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bfd.Parse(mustHex(t, tt.wire))
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse = %v, want %v", err, tt.want)
			}
		})
	}
	// Trailing bytes after Length are ignored (UDP padding).
	if _, err := bfd.Parse(append(mustHex(t, valid), 0, 0, 0, 0)); err != nil {
		t.Errorf("Parse with padding: %v", err)
	}
}

func TestAppendClampsIntervals(t *testing.T) {
	c := bfd.Control{State: bfd.Down, DetectMult: 3, MyDiscr: 1, DesiredMinTx: 2 * time.Hour, RequiredMinRx: -time.Second,
		RequiredMinEchoRx: 1500 * time.Nanosecond}
	got, err := bfd.Parse(bfd.Append(nil, c))
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Version = 1
	want.DesiredMinTx = (1<<32 - 1) * time.Microsecond
	want.RequiredMinRx = 0
	want.RequiredMinEchoRx = time.Microsecond
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStringers(t *testing.T) {
	got := []string{bfd.AdminDown.String(), bfd.Down.String(), bfd.Init.String(), bfd.Up.String(), bfd.State(4).String(),
		bfd.DiagTimeExpired.String(), bfd.DiagNeighborDown.String(), bfd.Diag(31).String()}
	want := []string{"AdminDown", "Down", "Init", "Up", "State(4)",
		"control detection time expired", "neighbor signaled session down", "diag 31"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts passes the
// checks of RFC 5880 §6.8.6, and that Append(Parse(b)) parses to the same
// Control and is the packet (Length bytes of b) again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2040031800000001000000000000c3500000c35000000000",
		"20e00518ffffffff800000010000c350000186a000000000",
		"2084031f0000000100000002000f4240000f42400000000001070261626364",
		"",
		"20",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := bfd.Parse(b)
		if err != nil {
			return
		}
		if c.Version != 1 || c.DetectMult == 0 || c.Multipoint || c.MyDiscr == 0 ||
			(c.YourDiscr == 0 && c.State != bfd.Down && c.State != bfd.AdminDown) {
			t.Fatalf("Parse accepted an invalid packet: %+v", c)
		}
		got := bfd.Append(nil, c)
		c2, err := bfd.Parse(got)
		if err != nil {
			t.Fatalf("Parse(Append(%+v)) = %v", c, err)
		}
		if diff := cmp.Diff(c, c2); diff != "" {
			t.Fatalf("Parse(Append(Parse(%x))) (-first +second):\n%s", b, diff)
		}
		// Without authentication Append writes Length 24: extra bytes the
		// sender covered by Length are not part of the packet.
		if n := int(b[3]); (n == 24 || c.AuthPresent) && string(got) != string(b[:n]) {
			t.Fatalf("Append(Parse(%x)) = %x", b[:n], got)
		}
	})
}
