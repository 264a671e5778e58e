package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/vipd/vipd/test/harness"
)

// Hostile network: a stranger in the client namespace floods the VRRP group
// (224.0.0.18) with 10,000 packets/s for a bounded time — a third each of
// valid-looking VRRPv2 adverts for the group's VRID with priority 254 and a
// wrong password (source spoofed as the backup), adverts for another VRID,
// and garbage — then storms gratuitous ARPs and unsolicited NAs claiming the
// VIPs. The pair (VRRPv2 with a password for 192.0.2.100, VRRPv3 for
// 2001:db8::100, 1 s adverts, multicast) must not move: no transition, the
// master's adverts keep their interval (jitter measured on the backup),
// CPU bounded, drops counted by reason (vipd status --json).
const (
	floodRate   = 10000 // packets per second
	floodAuth   = "s3cret"
	stormRate   = 1000 // GARPs and NAs per second each
	jitterLimit = 100 * time.Millisecond
	cpuLimit    = 50.0 // % of one core
)

var (
	floodVIP4 = netip.MustParsePrefix("192.0.2.100/24")
	floodVIP6 = netip.MustParsePrefix("2001:db8::100/64")
	vrrpGroup = netip.MustParseAddr("224.0.0.18")
)

func runFlood(t *caseTB, c *config) {
	daemons := []string{"vipd"}
	if c.ka {
		daemons = append(daemons, "keepalived")
	}
	for _, d := range daemons {
		floodOne(t, c, d)
	}
}

func floodOne(t *caseTB, c *config, daemon string) {
	dur := c.scale(15*time.Second, 2*time.Minute)
	storm := c.scale(3*time.Second, 30*time.Second)
	b := harness.New(t, 2)
	dir := t.TempDir()
	var procs []*harness.Proc
	for i, n := range b.Nodes {
		prio := 150 - 50*i
		ins := []harness.Instance{
			{Name: "VI_4", VRID: 51, Version: 2, Priority: prio, AdvertInterval: time.Second, AuthPass: floodAuth, VIPs: []netip.Prefix{floodVIP4}},
			{Name: "VI_6", VRID: 52, Version: 3, Priority: prio, AdvertInterval: time.Second, VIPs: []netip.Prefix{floodVIP6}},
		}
		if daemon == "vipd" {
			procs = append(procs, startVipd(t, n, c.vipd, dir, n.Role+"-vipd", harness.VipdConfig(n, n.StatusSocket(dir), ins...)))
		} else {
			procs = append(procs, n.StartKeepalived(t, dir, ins...))
		}
	}
	for _, v := range []netip.Addr{floodVIP4.Addr(), floodVIP6.Addr()} {
		if _, err := b.WaitHolder(v, "n1", 15*time.Second); err != nil {
			t.Fatalf("%s election: %v\n%s", daemon, err, tail(procs[0].Output(), 20))
		}
	}
	// The backup has heard a few adverts.
	time.Sleep(3 * time.Second)
	if _, err := b.Client.IP("route", "add", "224.0.0.0/4", "dev", "eth0"); err != nil {
		t.Fatalf("multicast route in the client namespace: %v", err)
	}

	// Receive n1's adverts on n2 (arrival times) for the jitter.
	arrivals, stopCap := captureAdverts(t, b.Node(2), b.Node(1).IPv4)
	defer stopCap()
	pids := []int{procs[0].Pid()}
	pids = append(pids, harness.Descendants(procs[0].Pid())...)
	var drops0 []map[string]int64
	if daemon == "vipd" {
		for _, n := range b.Nodes {
			drops0 = append(drops0, allDrops(c.vipd, n.StatusSocket(dir)))
		}
	}
	t0 := time.Now()
	off := []int{len(procs[0].Output()), len(procs[1].Output())}
	cpu0 := harness.CPUTicks(pids...)
	sent, err := flood(b, dur)
	cpu := 100 * float64(harness.CPUTicks(pids...)-cpu0) / 100 / time.Since(t0).Seconds()
	if err != nil {
		t.Fatalf("flood: %v", err)
	}
	floodEnd := time.Now()
	ivs := intervals(arrivals(), t0, floodEnd)
	cs := fmt.Sprintf("flood %d pkt/s for %v", floodRate, dur)
	c.rep.Info(cs, daemon, "packets sent: wrong auth / wrong VRID / garbage", fmt.Sprintf("%d / %d / %d", sent[0], sent[1], sent[2]))
	hard := c.rep.Check // invariants are vipd's; keepalived's rows compare
	if daemon != "vipd" {
		hard = c.rep.Goal
	}
	if len(ivs) < 2 {
		hard(cs, daemon, "master adverts seen on the backup during the flood", fmt.Sprint(len(ivs)+1), "≥ 3", false)
	} else {
		mean, sd, worst := jitter(ivs, time.Second)
		c.rep.Goal(cs, daemon, "advert interval on the backup: mean, sd, worst |Δ| from 1s", fmt.Sprintf("%v, %v, %v", ms(mean), ms(sd), ms(worst)),
			"worst ≤ "+ms(jitterLimit), worst <= jitterLimit)
	}
	c.rep.Goal(cs, daemon, "master CPU during the flood (% of one core)", fmt.Sprintf("%.1f", cpu), fmt.Sprintf("≤ %.0f", cpuLimit), cpu <= cpuLimit)
	if daemon == "vipd" {
		for i, n := range b.Nodes {
			d := allDrops(c.vipd, n.StatusSocket(dir))
			for k, v := range drops0[i] {
				d[k] -= v
			}
			c.rep.Info(cs, daemon, n.Role+" drops by reason", fmtDrops(d))
		}
	}

	// GARP / NA storm claiming the VIPs from the client's MAC.
	garps, nas, err := stormNeighbours(b.Client, storm)
	if err != nil {
		t.Fatalf("storm: %v", err)
	}
	css := fmt.Sprintf("GARP+NA storm %d/s each for %v", stormRate, storm)
	c.rep.Info(css, daemon, "GARPs / NAs sent", fmt.Sprintf("%d / %d", garps, nas))
	h4, h6 := b.Holders(floodVIP4.Addr()), b.Holders(floodVIP6.Addr())
	hard(css, daemon, "holders of the VIPs after flood and storm", fmt.Sprintf("%v %v", h4, h6), "[n1] [n1]",
		fmt.Sprint(h4) == "[n1]" && fmt.Sprint(h6) == "[n1]")
	trans := 0
	for i, p := range procs {
		out := p.Output()[off[i]:]
		trans += strings.Count(out, `"msg":"transition"`) + strings.Count(out, "Entering ")
	}
	hard(cs+" + storm", daemon, "transitions during flood and storm", fmt.Sprint(trans), "0", trans == 0)
}

// allDrops sums the top-level and per-instance drops of vipd status --json.
func allDrops(bin, sock string) map[string]int64 {
	m := map[string]int64{}
	st, err := status(bin, sock)
	if err != nil {
		return m
	}
	for k, v := range st.Drops {
		m[k] += v
	}
	for _, in := range st.Instances {
		for k, v := range in.Drops {
			m[in.Name+"/"+k] += v
		}
	}
	return m
}

func fmtDrops(m map[string]int64) string {
	var ks []string
	for k, v := range m {
		if v != 0 {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// captureAdverts records the arrival time of every VRRP packet from src for
// VRID 51 in ns, until stop.
func captureAdverts(t harness.TB, ns *harness.NS, src netip.Addr) (func() []time.Time, func()) {
	var pc net.PacketConn
	if err := ns.Do(func() (err error) { pc, err = net.ListenPacket("ip4:112", "0.0.0.0"); return err }); err != nil {
		t.Fatalf("capture: %v", err)
	}
	var mu sync.Mutex
	var at []time.Time
	done := make(chan struct{})
	go func() { // owned by the capture: ends when pc closes
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			now := time.Now()
			ip, ok := from.(*net.IPAddr)
			if !ok || !ip.IP.Equal(src.AsSlice()) || n < 8 || buf[1] != 51 {
				continue
			}
			mu.Lock()
			at = append(at, now)
			mu.Unlock()
		}
	}()
	var once sync.Once
	return func() []time.Time {
			mu.Lock()
			defer mu.Unlock()
			return append([]time.Time(nil), at...)
		}, func() {
			once.Do(func() { pc.Close(); <-done })
		}
}

func intervals(at []time.Time, from, to time.Time) []time.Duration {
	var out []time.Duration
	var prev time.Time
	for _, a := range at {
		if a.Before(from) || a.After(to) {
			continue
		}
		if !prev.IsZero() {
			out = append(out, a.Sub(prev))
		}
		prev = a
	}
	return out
}

func jitter(ivs []time.Duration, want time.Duration) (mean, sd, worst time.Duration) {
	mean, sd = stats(ivs)
	for _, d := range ivs {
		dev := d - want
		if dev < 0 {
			dev = -dev
		}
		worst = max(worst, dev)
	}
	return
}

// vrrpV2 builds a VRRPv2 advert (checksum set).
func vrrpV2(vrid, prio byte, vip netip.Addr, auth string) []byte {
	p := make([]byte, 8+4+8)
	p[0], p[1], p[2], p[3] = 0x21, vrid, prio, 1
	p[4], p[5] = 1, 1 // simple text auth, 1 s
	copy(p[8:12], vip.AsSlice())
	copy(p[12:20], auth)
	binary.BigEndian.PutUint16(p[6:8], csum(p))
	return p
}

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// ipv4 wraps payload in an IPv4 header (protocol 112, TTL 255).
func ipv4(src, dst netip.Addr, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 255, 112
	binary.BigEndian.PutUint16(h[2:4], uint16(20+len(payload)))
	copy(h[12:16], src.AsSlice())
	copy(h[16:20], dst.AsSlice())
	binary.BigEndian.PutUint16(h[10:12], csum(h))
	return append(h, payload...)
}

// flood sends floodRate packets/s to the VRRP group from the client
// namespace for dur (rate- and time-bounded) and returns the counts per kind.
func flood(b *harness.Bed, dur time.Duration) ([3]int, error) {
	var sent [3]int
	var fd int
	if err := b.Client.Do(func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		return err
	}); err != nil {
		return sent, err
	}
	defer unix.Close(fd)
	spoof := b.Node(2).IPv4 // the backup: a configured peer
	pkts := [][]byte{
		ipv4(spoof, vrrpGroup, vrrpV2(51, 254, floodVIP4.Addr(), "wrongpw")),
		ipv4(b.Client.IPv4, vrrpGroup, vrrpV2(77, 254, floodVIP4.Addr(), floodAuth)),
	}
	garbage := make([][]byte, 64)
	for i := range garbage {
		g := make([]byte, 8+i)
		_, _ = rand.Read(g)
		garbage[i] = ipv4(b.Client.IPv4, vrrpGroup, g)
	}
	to := &unix.SockaddrInet4{Addr: vrrpGroup.As4()}
	const tick = 10 * time.Millisecond
	per := floodRate * int(tick) / int(time.Second)
	t0 := time.Now()
	for k := 1; time.Since(t0) < dur; k++ {
		for i := 0; i < per; i++ {
			kind := (k*per + i) % 3
			p := garbage[i%len(garbage)]
			if kind < 2 {
				p = pkts[kind]
			}
			if err := unix.Sendto(fd, p, 0, to); err == nil {
				sent[kind]++
			}
		}
		time.Sleep(time.Until(t0.Add(time.Duration(k) * tick)))
	}
	return sent, nil
}

// stormNeighbours sends stormRate gratuitous ARPs for the IPv4 VIP and
// stormRate unsolicited, overriding NAs for the IPv6 VIP per second, both
// claiming the client's MAC, for dur.
func stormNeighbours(ns *harness.NS, dur time.Duration) (garps, nas int, err error) {
	ifi, err := ifaceIn(ns, "eth0")
	if err != nil {
		return 0, 0, err
	}
	var fd int
	var pc *ipv6.PacketConn
	var raw net.PacketConn
	err = ns.Do(func() (err error) {
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ARP))); err != nil {
			return err
		}
		raw, err = net.ListenPacket("ip6:ipv6-icmp", "::")
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	defer raw.Close()
	pc = ipv6.NewPacketConn(raw)
	_ = pc.SetMulticastHopLimit(255)
	_ = pc.SetHopLimit(255)
	mac := ifi.HardwareAddr
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	frame := append(append(append([]byte{}, bcast...), mac...), 0x08, 0x06)
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	arp = append(arp, mac...)
	arp = append(arp, floodVIP4.Addr().AsSlice()...)
	arp = append(arp, 0, 0, 0, 0, 0, 0)
	arp = append(arp, floodVIP4.Addr().AsSlice()...)
	frame = append(frame, arp...)
	ll := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(unix.ETH_P_ARP), Halen: 6}
	copy(ll.Addr[:], bcast)
	na := []byte{136, 0, 0, 0, 0x20, 0, 0, 0} // override
	na = append(na, floodVIP6.Addr().AsSlice()...)
	na = append(na, 2, 1)
	na = append(na, mac...)
	// The zone by index: names resolve in the caller's namespace.
	dst := &net.IPAddr{IP: net.ParseIP("ff02::1"), Zone: strconv.Itoa(ifi.Index)}
	var naErr error
	cm := &ipv6.ControlMessage{HopLimit: 255, IfIndex: ifi.Index}
	const tick = 10 * time.Millisecond
	per := stormRate * int(tick) / int(time.Second)
	t0 := time.Now()
	for k := 1; time.Since(t0) < dur; k++ {
		for i := 0; i < per; i++ {
			if unix.Sendto(fd, frame, 0, ll) == nil {
				garps++
			}
			if _, err := pc.WriteTo(na, cm, dst); err == nil {
				nas++
			} else if naErr == nil {
				naErr = err
			}
		}
		time.Sleep(time.Until(t0.Add(time.Duration(k) * tick)))
	}
	if nas == 0 && naErr != nil {
		return garps, nas, fmt.Errorf("NA: %w", naErr)
	}
	return garps, nas, nil
}

func ifaceIn(ns *harness.NS, name string) (*net.Interface, error) {
	var ifi *net.Interface
	err := ns.Do(func() (err error) { ifi, err = net.InterfaceByName(name); return err })
	return ifi, err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
