//go:build linux

package vmloss

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vipd/vipd/test/harness"
	"github.com/vipd/vipd/test/vm/vmnet"
)

var vip = netip.MustParsePrefix("192.0.2.100/24")

// Result is one pair's figures (the suite parses it).
type Result struct {
	Daemon        string        `json:"daemon"`
	Advert        time.Duration `json:"advert"`
	Loss          int           `json:"loss_percent"`
	Duration      time.Duration `json:"duration"`
	MasterEntries [2]int        `json:"master_entries"` // during the loss, n1 and n2
	HolderChanges int           `json:"holder_changes"` // sampled, during the loss
	Dual          time.Duration `json:"dual_master"`    // sampled time both held the VIP
	None          time.Duration `json:"no_master"`      // sampled time nobody held it
	Converge      time.Duration `json:"converge"`       // after the loss: until exactly one holder (for good)
	Bound         time.Duration `json:"bound"`          // 3 × advert + skew
	Dropped       uint32        `json:"netem_dropped"`  // packets netem dropped (both nodes)
	Err           string        `json:"error,omitempty"`
}

type node struct {
	role string
	ns   *vmnet.NS
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type pair struct {
	daemon string
	adv    time.Duration
	loss   int
	n      [2]*node
	dir    string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestKernelLoss(t *testing.T) {
	if os.Getenv("VIPD_IN_VM") != "1" || os.Geteuid() != 0 {
		t.Skip("runs inside the kernel VM (test/vm/run.sh), as root")
	}
	dur := 20 * time.Second
	if s := os.Getenv("RELIAB_LOSS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	daemons := []string{"vipd", "keepalived"}
	if _, err := os.Stat("/opt/keepalived"); err != nil {
		daemons = daemons[:1]
		t.Log("no /opt/keepalived: vipd only")
	}
	var pairs []*pair
	for _, d := range daemons {
		for _, adv := range []time.Duration{time.Second, 100 * time.Millisecond} {
			for _, loss := range []int{10, 30} {
				pairs = append(pairs, &pair{daemon: d, adv: adv, loss: loss})
			}
		}
	}
	for i, p := range pairs {
		p.dir = t.TempDir()
		build(t, i, p)
	}
	for _, p := range pairs {
		for _, n := range p.n {
			start(t, p, n)
		}
	}
	var wg sync.WaitGroup
	results := make([]Result, len(pairs))
	for i, p := range pairs {
		wg.Add(1)
		go func() { // owned by the test: bounded by the pair's run
			defer wg.Done()
			results[i] = run(p, dur)
		}()
	}
	wg.Wait()
	for i, r := range results {
		b, _ := json.Marshal(r)
		fmt.Printf("RELIAB %s\n", b)
		if r.Err != "" {
			for _, n := range pairs[i].n {
				t.Logf("--- %s %s %s:\n%s", r.Daemon, r.Advert, n.role, tail(n.out.String(), 30))
			}
		}
	}
}

// build makes pair i's bridge and its two nodes (192.0.2.11 and .12).
func build(t *testing.T, i int, p *pair) {
	sw := vmnet.New(t, fmt.Sprintf("l%d-sw", i))
	sw.Bridge(t, "br0")
	sw.Up(t, "br0")
	for j := range 2 {
		n := &node{role: fmt.Sprintf("n%d", j+1), ns: vmnet.New(t, fmt.Sprintf("l%d-n%d", i, j+1)), out: &syncBuffer{}, done: make(chan struct{})}
		port := fmt.Sprintf("p%d", j+1)
		vmnet.Veth(t, sw, port, n.ns, "eth0")
		sw.Enslave(t, port, "br0")
		sw.Up(t, port)
		n.ns.Up(t, "eth0", fmt.Sprintf("192.0.2.%d/24", 11+j))
		p.n[j] = n
	}
	sw.WaitOperUp(t, "br0", "p1", "p2")
	for _, n := range p.n {
		n.ns.WaitOperUp(t, "eth0")
	}
}

func start(t *testing.T, p *pair, n *node) {
	self := map[string]netip.Addr{"n1": netip.MustParseAddr("192.0.2.11"), "n2": netip.MustParseAddr("192.0.2.12")}
	peer := map[string]netip.Addr{"n1": self["n2"], "n2": self["n1"]}
	prio := map[string]int{"n1": 150, "n2": 100}[n.role]
	in := harness.Instance{Name: "VI_1", VRID: 51, Version: 3, Priority: prio, AdvertInterval: p.adv,
		Src: self[n.role], Peers: []netip.Addr{peer[n.role]}, VIPs: []netip.Prefix{vip}}
	h := &harness.NS{Role: n.role}
	var cmd *exec.Cmd
	if p.daemon == "vipd" {
		cfg := filepath.Join(p.dir, n.role+".yaml")
		if err := os.WriteFile(cfg, []byte(harness.VipdConfig(h, filepath.Join(p.dir, n.role+".sock"), in)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("/opt/vipd", "run", "-c", cfg, "--log-format", "json")
	} else {
		cfg := filepath.Join(p.dir, n.role+".conf")
		if err := os.WriteFile(cfg, []byte(harness.KeepalivedConfig(h, in)), 0o644); err != nil {
			t.Fatal(err)
		}
		pre := filepath.Join(p.dir, n.role)
		cmd = exec.Command("/opt/keepalived", "--vrrp", "-n", "-l", "-D", "-f", cfg,
			"-p", pre+".pid", "-r", pre+"-vrrp.pid", "-c", pre+"-chk.pid", "-i", n.role)
	}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "VIPD_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Stdout, cmd.Stderr = n.out, n.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.ns.Do(cmd.Start); err != nil {
		t.Fatalf("start %s %s: %v", p.daemon, n.role, err)
	}
	n.cmd = cmd
	go func() { // owned by n: ends when the process exits (killed at cleanup)
		_ = cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// holds reports whether n has the VIP on eth0.
func holds(n *node) bool {
	l, err := n.ns.NL.LinkByName("eth0")
	if err != nil {
		return false
	}
	as, err := n.ns.NL.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	for _, a := range as {
		if a.IP.Equal(vip.Addr().AsSlice()) {
			return true
		}
	}
	return false
}

func setLoss(n *node, loss int) error {
	l, err := n.ns.NL.LinkByName("eth0")
	if err != nil {
		return err
	}
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		netlink.NetemQdiscAttrs{Loss: float32(loss), Limit: 1000})
	return n.ns.NL.QdiscReplace(q)
}

func clearLoss(n *node) (dropped uint32, err error) {
	l, err := n.ns.NL.LinkByName("eth0")
	if err != nil {
		return 0, err
	}
	qs, err := n.ns.NL.QdiscList(l)
	if err != nil {
		return 0, err
	}
	for _, q := range qs {
		if q.Type() == "netem" {
			if st := q.Attrs().Statistics; st != nil && st.Basic != nil {
				dropped += st.Queue.Drops
			}
			if err := n.ns.NL.QdiscDel(q); err != nil {
				return dropped, err
			}
		}
	}
	return dropped, nil
}

const sampleEvery = 10 * time.Millisecond

// run elects n1, applies the loss for dur, removes it and measures.
func run(p *pair, dur time.Duration) (r Result) {
	r = Result{Daemon: p.daemon, Advert: p.adv, Loss: p.loss, Duration: dur}
	skew := time.Duration(256-100) * p.adv / 256
	r.Bound = 3*p.adv + skew
	n1, n2 := p.n[0], p.n[1]
	deadline := time.Now().Add(20 * time.Second)
	for !(holds(n1) && !holds(n2)) {
		if time.Now().After(deadline) {
			r.Err = "n1 not the only holder 20s after start"
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	defer func() { _, _ = clearLoss(n1); _, _ = clearLoss(n2) }()
	for _, n := range p.n {
		if err := setLoss(n, p.loss); err != nil {
			r.Err = "netem: " + err.Error()
			return r
		}
	}
	t0 := time.Now()
	off := [2]int{len(n1.out.String()), len(n2.out.String())}
	prev := "n1"
	for time.Since(t0) < dur {
		time.Sleep(sampleEvery)
		h1, h2 := holds(n1), holds(n2)
		cur := holderSet(h1, h2)
		if cur != prev {
			r.HolderChanges++
			prev = cur
		}
		switch {
		case h1 && h2:
			r.Dual += sampleEvery
		case !h1 && !h2:
			r.None += sampleEvery
		}
	}
	lossEnd := time.Now()
	for i, n := range p.n {
		r.MasterEntries[i] = masterEntries(n.out.String()[off[i]:])
	}
	for _, n := range p.n {
		d, err := clearLoss(n)
		if err != nil {
			r.Err = "netem del: " + err.Error()
		}
		r.Dropped += d
	}
	// Exactly one holder, for good (1 s or 3 adverts, the longer).
	stable := max(time.Second, 3*p.adv)
	var oneSince time.Time
	deadline = lossEnd.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		now := time.Now()
		if h1, h2 := holds(n1), holds(n2); h1 != h2 {
			if oneSince.IsZero() {
				oneSince = now
			}
			if now.Sub(oneSince) >= stable {
				break
			}
		} else {
			oneSince = time.Time{}
		}
		time.Sleep(sampleEvery)
	}
	if oneSince.IsZero() || time.Since(oneSince) < stable {
		r.Err = "no single holder 15s after the loss ended"
		r.Converge = time.Since(lossEnd)
	} else {
		r.Converge = max(0, oneSince.Sub(lossEnd))
	}
	return r
}

func holderSet(h1, h2 bool) string {
	switch {
	case h1 && h2:
		return "both"
	case h1:
		return "n1"
	case h2:
		return "n2"
	}
	return "none"
}

// masterEntries counts entries into MASTER in a daemon's output: vipd's
// JSON "transition" lines to MASTER, keepalived's "Entering MASTER STATE".
func masterEntries(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		var m struct {
			Msg string `json:"msg"`
			To  string `json:"to"`
		}
		if strings.Contains(l, "Entering MASTER STATE") ||
			json.Unmarshal([]byte(l), &m) == nil && m.Msg == "transition" && m.To == "MASTER" {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
