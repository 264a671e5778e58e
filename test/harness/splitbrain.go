package harness

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Detach takes the node's switch port off the bridge: the node is cut off
// from every other namespace while its eth0 stays up with carrier (a split
// brain, not a link failure: no track_interface fault).
func (ns *NS) Detach() error {
	_, err := ns.bed.Switch.IP("link", "set", ns.SwitchPort, "nomaster")
	return err
}

// Attach puts the node's switch port back on the bridge (forward_delay 0:
// it forwards at once).
func (ns *NS) Attach() error {
	_, err := ns.bed.Switch.IP("link", "set", ns.SwitchPort, "master", "br0")
	return err
}

// Heal is what the client saw after a split brain healed.
type Heal struct {
	// Reached is the time from the heal to the first answer from the
	// surviving master.
	Reached time.Duration
	// Gap is the longest silence of the probe from the heal until the
	// survivor answers steadily.
	Gap Gap
}

// SplitBrainHeal isolates the master (Detach), waits until the client is
// answered by the other node (which must take over), keeps them apart for
// isolate in total, heals (Attach) and measures until the isolated node,
// which must win the election back, answers steadily. pr must be probing
// the VIP. The port is reattached on every path.
//
// With aw (multicast VRRP only) the heal is timed 2 ms after an advert
// from other: when the master advertises more often than other, the
// master's advert then reaches other first and other yields before it
// advertises again. That is the order in which a silent yield leaves the
// client's ARP entry pointing at other (issue 11); in the other order the
// master hears other's advert and re-announces anyway.
func (b *Bed) SplitBrainHeal(pr *Prober, master, other *NS, isolate time.Duration, aw *AdvertWatch) (Heal, error) {
	if got := pr.LastFrom(); got != master.Role {
		return Heal{}, fmt.Errorf("split brain: before the cut the VIP answers from %q, want %s", got, master.Role)
	}
	cut := time.Now()
	if err := master.Detach(); err != nil {
		return Heal{}, fmt.Errorf("split brain: detach %s: %w", master.Role, err)
	}
	attached := false
	defer func() {
		if !attached {
			_ = master.Attach()
		}
	}()
	if !pollUntil(cut.Add(isolate), func() bool { return answersSteadily(pr, other.Role) }) {
		return Heal{}, fmt.Errorf("split brain: %s did not take over within %v (last answer from %q)", other.Role, isolate, pr.LastFrom())
	}
	time.Sleep(time.Until(cut.Add(isolate)))
	if aw != nil {
		at, ok := aw.Next(other.IPv4, time.Now(), 5*time.Second)
		if !ok {
			return Heal{}, fmt.Errorf("split brain: no advert from %s (%v) within 5s", other.Role, other.IPv4)
		}
		time.Sleep(time.Until(at.Add(2 * time.Millisecond)))
	}
	healed := time.Now()
	attached = true
	if err := master.Attach(); err != nil {
		return Heal{}, fmt.Errorf("split brain: attach %s: %w", master.Role, err)
	}
	const timeout = 15 * time.Second // longer than any ARP/ND timeout
	if !pollUntil(healed.Add(timeout), func() bool { return answersSteadily(pr, master.Role) }) {
		return Heal{}, fmt.Errorf("split brain: %s not answering %v after the heal (last answer from %q)", master.Role, timeout, pr.LastFrom())
	}
	end := time.Now()
	h := Heal{Reached: -1, Gap: pr.LongestGap(healed, end)}
	for _, r := range pr.Replies() {
		if r.At.After(healed) && r.From == master.Role {
			h.Reached = r.At.Sub(healed)
			break
		}
	}
	return h, nil
}

// answersSteadily reports whether the last 20 ms of probe answers all came
// from role.
func answersSteadily(pr *Prober, role string) bool {
	rs := pr.Replies()
	if len(rs) == 0 || rs[len(rs)-1].From != role || time.Since(rs[len(rs)-1].At) > 20*time.Millisecond {
		return false
	}
	for i := len(rs) - 1; i >= 0 && time.Since(rs[i].At) < 20*time.Millisecond; i-- {
		if rs[i].From != role {
			return false
		}
	}
	return true
}

// pollUntil polls cond every 10 ms until it holds or deadline passes.
func pollUntil(deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// AdvertWatch records when VRRP adverts (IPv4, multicast 224.0.0.18) are
// seen in a namespace, by source address.
type AdvertWatch struct {
	mu     sync.Mutex
	seen   map[netip.Addr][]time.Time
	cond   chan struct{} // closed and replaced on every advert
	cancel context.CancelFunc
	done   chan struct{}
}

// WatchAdverts joins 224.0.0.18 on eth0 of ns with a raw protocol-112
// socket and records every advert until Stop.
func (ns *NS) WatchAdverts() (*AdvertWatch, error) {
	var fd int
	err := ns.Do(func() error {
		var err error
		fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, 112)
		if err != nil {
			return fmt.Errorf("advert watch: socket: %w", err)
		}
		mreq := &syscall.IPMreq{Multiaddr: [4]byte{224, 0, 0, 18}}
		local := ns.IPv4.As4()
		copy(mreq.Interface[:], local[:])
		if err := syscall.SetsockoptIPMreq(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq); err != nil {
			syscall.Close(fd)
			return fmt.Errorf("advert watch: join 224.0.0.18: %w", err)
		}
		// Bounded reads, so Stop returns.
		tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
		return syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &AdvertWatch{seen: map[netip.Addr][]time.Time{}, cond: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer syscall.Close(fd)
		buf := make([]byte, 1500)
		for ctx.Err() == nil {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil || n < 20 {
				continue
			}
			src := netip.AddrFrom4([4]byte(buf[12:16]))
			w.mu.Lock()
			w.seen[src] = append(w.seen[src], time.Now())
			close(w.cond)
			w.cond = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w, nil
}

// Next returns the time of the first advert from src seen after t, waiting
// up to timeout for it.
func (w *AdvertWatch) Next(src netip.Addr, t time.Time, timeout time.Duration) (time.Time, bool) {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for _, at := range w.seen[src] {
			if at.After(t) {
				w.mu.Unlock()
				return at, true
			}
		}
		c := w.cond
		w.mu.Unlock()
		select {
		case <-c:
		case <-deadline:
			return time.Time{}, false
		}
	}
}

// Stop ends the watch.
func (w *AdvertWatch) Stop() {
	w.cancel()
	<-w.done
}
