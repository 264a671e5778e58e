//go:build linux

package netlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vipd/vipd/providers"
)

var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Announcer = (*Provider)(nil)
	_ providers.Cleaner   = (*Provider)(nil)
)

// ErrClosed is returned by every call made after Close.
var ErrClosed = errors.New("netlink: provider closed")

// Provider holds VIPs as local addresses. It is safe for concurrent use; per
// the providers contract it is never called concurrently for the same VIP.
type Provider struct {
	opts Options
	log  *slog.Logger

	base context.Context    // parent of every burst; cancelled by Close
	stop context.CancelFunc // cancels base
	wg   sync.WaitGroup     // one count per running burst goroutine

	// inflight is read-held by every call while it may use h, so that Close
	// closes h only after them.
	inflight sync.RWMutex

	mu     sync.Mutex
	h      *vnl.Handle       // rtnetlink handle, made on first use in opts.NetNS
	bursts map[string]*burst // running announcement bursts by VIP.String()
	closed bool
}

// burst is one running announcement goroutine.
type burst struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has exited
}

// New returns a Provider. It touches the kernel only when first called, so
// that a process (or test thread) can enter its namespace first.
func New(opts Options, log *slog.Logger) *Provider {
	base, stop := context.WithCancel(context.Background())
	return &Provider{
		opts:   opts.withDefaults(),
		log:    log.With("provider", "netlink"),
		base:   base,
		stop:   stop,
		bursts: map[string]*burst{},
	}
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return "netlink" }

// Acquire adds vip.Prefix to vip.Interface unless it is there already (IPv6
// without duplicate address detection, so it is usable at once), sends the
// first gratuitous ARP / unsolicited NA before returning and the rest of the
// burst from a goroutine.
func (p *Provider) Acquire(ctx context.Context, vip providers.VIP) error {
	p.inflight.RLock()
	defer p.inflight.RUnlock()
	h, link, err := p.prepare(ctx, vip)
	if err != nil {
		return err
	}
	if link == nil {
		return fmt.Errorf("netlink: interface %s %w", vip.Interface, ErrInterfaceNotFound)
	}
	present, err := hasAddr(h, link, vip.Prefix)
	if err != nil {
		return fmt.Errorf("netlink: acquire %s: %w", vip, err)
	}
	if p.opts.DryRun {
		if !present {
			p.log.Info("dry-run: would add vip", "vip", vip.Prefix, "iface", vip.Interface)
		}
		p.dryAnnounce(vip, link)
		return nil
	}
	if !present {
		err := h.AddrAdd(link, toAddr(vip.Prefix))
		switch {
		case errors.Is(err, unix.EEXIST):
			// Added by someone else between the dump and the add.
		case err != nil:
			return fmt.Errorf("netlink: add %s to %s: %w", vip.Prefix, vip.Interface, err)
		default:
			p.log.Info("added vip", "vip", vip.Prefix, "iface", vip.Interface)
		}
	}
	return p.announce(ctx, vip, link)
}

// Announce sends a fresh burst for a VIP this node holds, replacing a burst
// still running for it.
func (p *Provider) Announce(ctx context.Context, vip providers.VIP) error {
	p.inflight.RLock()
	defer p.inflight.RUnlock()
	_, link, err := p.prepare(ctx, vip)
	if err != nil {
		return err
	}
	if link == nil {
		return fmt.Errorf("netlink: interface %s %w", vip.Interface, ErrInterfaceNotFound)
	}
	if p.opts.DryRun {
		p.dryAnnounce(vip, link)
		return nil
	}
	return p.announce(ctx, vip, link)
}

// dryAnnounce logs the burst announce would send.
func (p *Provider) dryAnnounce(vip providers.VIP, link vnl.Link) {
	attrs := link.Attrs()
	if len(attrs.HardwareAddr) != 6 || attrs.RawFlags&unix.IFF_NOARP != 0 {
		return
	}
	kind := "gratuitous arp"
	if vip.Prefix.Addr().Is6() {
		kind = "unsolicited na"
	}
	p.log.Info("dry-run: would announce vip", "vip", vip.Prefix, "iface", vip.Interface, "kind", kind, "count", p.opts.GARPCount, "interval", p.opts.GARPInterval)
}

// Release stops the VIP's announcements and removes the address if present.
// A missing interface means the address is gone too: not an error.
func (p *Provider) Release(ctx context.Context, vip providers.VIP) error {
	removed, err := p.remove(ctx, vip)
	if removed {
		p.log.Info("removed vip", "vip", vip.Prefix, "iface", vip.Interface)
	}
	return err
}

// Cleanup removes a VIP left behind by a previous run (kill -9), if present.
func (p *Provider) Cleanup(ctx context.Context, vip providers.VIP) error {
	removed, err := p.remove(ctx, vip)
	if removed {
		p.log.Info("removed stale vip", "vip", vip.Prefix, "iface", vip.Interface)
	}
	return err
}

// Close stops every announcement goroutine, waits for them and releases the
// netlink handle. Addresses stay where they are. Safe to call more than once.
func (p *Provider) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.stop()
	h := p.h
	p.h = nil
	p.mu.Unlock()
	p.wg.Wait()
	p.inflight.Lock()
	defer p.inflight.Unlock()
	if h != nil {
		h.Close()
	}
	return nil
}

// remove stops announcements and deletes the address; it reports whether an
// address was deleted.
func (p *Provider) remove(ctx context.Context, vip providers.VIP) (bool, error) {
	p.inflight.RLock()
	defer p.inflight.RUnlock()
	if err := validate(vip); err != nil {
		return false, err
	}
	p.stopBurst(vip.String())
	h, link, err := p.prepare(ctx, vip)
	if err != nil || link == nil {
		return false, err
	}
	present, err := hasAddr(h, link, vip.Prefix)
	if err != nil {
		return false, fmt.Errorf("netlink: release %s: %w", vip, err)
	}
	if !present {
		return false, nil
	}
	if p.opts.DryRun {
		p.log.Info("dry-run: would remove vip", "vip", vip.Prefix, "iface", vip.Interface)
		return false, nil
	}
	err = h.AddrDel(link, toAddr(vip.Prefix))
	if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("netlink: remove %s from %s: %w", vip.Prefix, vip.Interface, err)
	}
	return true, nil
}

// prepare validates vip and looks its interface up; link is nil (with a nil
// error) when the interface does not exist.
func (p *Provider) prepare(ctx context.Context, vip providers.VIP) (*vnl.Handle, vnl.Link, error) {
	if err := validate(vip); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("netlink: %s: %w", vip, err)
	}
	h, err := p.handle()
	if err != nil {
		return nil, nil, err
	}
	link, err := h.LinkByName(vip.Interface)
	var nf vnl.LinkNotFoundError
	if errors.As(err, &nf) {
		return h, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("netlink: look up interface %s: %w", vip.Interface, err)
	}
	return h, link, nil
}

func validate(vip providers.VIP) error {
	if !vip.Prefix.IsValid() {
		return fmt.Errorf("netlink: invalid vip prefix %q", vip.Prefix)
	}
	if vip.Prefix.Addr().Is4In6() {
		return fmt.Errorf("netlink: vip %s: use the plain IPv4 form", vip.Prefix)
	}
	if vip.Interface == "" {
		return fmt.Errorf("netlink: vip %s has no interface", vip.Prefix)
	}
	return nil
}

// handle returns the rtnetlink handle, creating it on first use.
func (p *Provider) handle() (*vnl.Handle, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.h != nil {
		return p.h, nil
	}
	h, err := openRoute(p.opts.NetNS)
	if err != nil {
		return nil, err
	}
	p.h = h
	return h, nil
}

// openRoute opens an rtnetlink handle in the namespace at path ("": the
// current one).
func openRoute(path string) (*vnl.Handle, error) {
	var (
		h   *vnl.Handle
		err error
	)
	if path == "" {
		h, err = vnl.NewHandle(unix.NETLINK_ROUTE)
	} else {
		var ns netns.NsHandle
		ns, err = netns.GetFromPath(path)
		if err == nil {
			// NETLINK_ROUTE only: the default family list includes XFRM,
			// which fails where that module is not loaded.
			h, err = vnl.NewHandleAt(ns, unix.NETLINK_ROUTE)
			ns.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("netlink: open rtnetlink: %w", err)
	}
	return h, nil
}

// hasAddr reports whether link carries exactly prefix (address and length).
func hasAddr(h *vnl.Handle, link vnl.Link, prefix netip.Prefix) (bool, error) {
	family := vnl.FAMILY_V4
	if prefix.Addr().Is6() {
		family = vnl.FAMILY_V6
	}
	var (
		addrs []vnl.Addr
		err   error
	)
	for range 3 { // a dump interrupted by a concurrent change is retried
		addrs, err = h.AddrList(link, family)
		if !errors.Is(err, vnl.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	for _, a := range addrs {
		if a.IPNet == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if ok && ip.Unmap() == prefix.Addr() && ones == prefix.Bits() {
			return true, nil
		}
	}
	return false, nil
}

func toAddr(prefix netip.Prefix) *vnl.Addr {
	ip := prefix.Addr()
	a := &vnl.Addr{IPNet: &net.IPNet{
		IP:   ip.AsSlice(),
		Mask: net.CIDRMask(prefix.Bits(), ip.BitLen()),
	}}
	if ip.Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// announce sends the first frame of a burst now and hands the rest to a
// goroutine. Interfaces without an Ethernet address, or with NOARP, get no
// announcements.
func (p *Provider) announce(ctx context.Context, vip providers.VIP, link vnl.Link) error {
	key := vip.String()
	p.stopBurst(key)
	attrs := link.Attrs()
	if len(attrs.HardwareAddr) != 6 || attrs.RawFlags&unix.IFF_NOARP != 0 {
		p.log.Debug("announce skipped", "vip", vip.Prefix, "iface", vip.Interface, "reason", "no arp on interface")
		return nil
	}
	ifi := &net.Interface{Index: attrs.Index, Name: attrs.Name, HardwareAddr: attrs.HardwareAddr}
	var s sender
	err := p.inNS(func() error {
		var err error
		s, err = newSender(ifi, vip.Prefix.Addr(), p.routerFlag)
		return err
	})
	if err != nil {
		return fmt.Errorf("netlink: announce %s: %w", vip, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetWriteDeadline(dl)
	}
	if err := s.send(); err != nil {
		s.Close()
		return fmt.Errorf("netlink: announce %s: %w", vip, err)
	}
	_ = s.SetWriteDeadline(time.Time{})
	p.log.Debug("announced vip", "vip", vip.Prefix, "iface", vip.Interface, "count", 1)
	if p.opts.GARPCount <= 1 {
		s.Close()
		return nil
	}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		s.Close()
		return ErrClosed
	}
	bctx, cancel := context.WithCancel(p.base)
	b := &burst{cancel: cancel, done: make(chan struct{})}
	old := p.bursts[key]
	p.bursts[key] = b
	p.wg.Add(1)
	p.mu.Unlock()
	if old != nil { // only when the contract (one caller per VIP) is broken
		old.cancel()
	}
	go p.runBurst(bctx, key, b, s, vip)
	return nil
}

// routerFlag is the R flag for NAs sent on iface: Options.Router, else the
// interface's IPv6 forwarding sysctl (false when it cannot be read). It must
// run in the provider's namespace: /proc/sys/net follows the calling thread.
func (p *Provider) routerFlag(iface string) bool {
	if p.opts.Router != nil {
		return *p.opts.Router
	}
	b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + iface + "/forwarding")
	if err != nil {
		p.log.Debug("ipv6 forwarding unknown", "iface", iface, "err", err)
		return false
	}
	return strings.TrimSpace(string(b)) == "1"
}

// runBurst sends the remaining GARPCount-1 frames, GARPInterval apart (each
// gap at least the interval, like keepalived's garp_interval).
func (p *Provider) runBurst(ctx context.Context, key string, b *burst, s sender, vip providers.VIP) {
	defer p.wg.Done()
	// done is closed before the socket: closing a packet socket waits for
	// an RCU grace period (often 5–15 ms), and stopBurst (so Release) must
	// only wait until no frame can be sent any more, not for that; Close
	// still waits for it through wg.
	defer s.Close()
	defer close(b.done)
	defer func() {
		p.mu.Lock()
		if p.bursts[key] == b {
			delete(p.bursts, key)
		}
		p.mu.Unlock()
		b.cancel()
	}()
	t := time.NewTimer(p.opts.GARPInterval)
	defer t.Stop()
	for i := 2; i <= p.opts.GARPCount; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.send(); err != nil {
			p.log.Warn("announce failed", "vip", vip.Prefix, "iface", vip.Interface, "count", i, "err", err)
		} else {
			p.log.Debug("announced vip", "vip", vip.Prefix, "iface", vip.Interface, "count", i)
		}
		t.Reset(p.opts.GARPInterval)
	}
}

// stopBurst cancels the burst running for key, if any, and waits for it.
func (p *Provider) stopBurst(key string) {
	p.mu.Lock()
	b := p.bursts[key]
	delete(p.bursts, key)
	p.mu.Unlock()
	if b != nil {
		b.cancel()
		<-b.done
	}
}

// sender sends one announcement per call: a gratuitous ARP for an IPv4 VIP,
// an unsolicited NA for an IPv6 one.
type sender interface {
	send() error
	SetWriteDeadline(time.Time) error
	Close() error
}

var (
	_ sender = garpSender{}
	_ sender = naSender{}
)

// newSender opens the socket that announces vip on ifi. It must run in the
// provider's namespace: the socket and the forwarding sysctl routerFlag
// reads follow the calling thread.
func newSender(ifi *net.Interface, vip netip.Addr, routerFlag func(iface string) bool) (sender, error) {
	if vip.Is4() {
		frame, err := garpFrame(ifi.HardwareAddr, vip)
		if err != nil {
			return nil, err
		}
		conn, err := listen(ifi, unix.ETH_P_ARP)
		if err != nil {
			return nil, fmt.Errorf("open packet socket: %w", err)
		}
		// The frame is written as it is: no arp.Client, whose New dumps
		// every address of the interface (with 250 VIPs on it, 250
		// dumps of 250 addresses per burst).
		return garpSender{c: conn, frame: frame}, nil
	}
	frame, err := unsolicitedNAFrame(ifi.HardwareAddr, vip, routerFlag(ifi.Name))
	if err != nil {
		return nil, err
	}
	conn, err := listen(ifi, unix.ETH_P_IPV6)
	if err != nil {
		return nil, fmt.Errorf("open packet socket: %w", err)
	}
	return naSender{c: conn, frame: frame}, nil
}

// garpSender writes a prebuilt gratuitous ARP frame to the broadcast
// address.
type garpSender struct {
	c     net.PacketConn
	frame []byte
}

func (g garpSender) send() error {
	_, err := g.c.WriteTo(g.frame, &packet.Addr{HardwareAddr: ethernet.Broadcast})
	return err
}
func (g garpSender) SetWriteDeadline(t time.Time) error { return g.c.SetWriteDeadline(t) }
func (g garpSender) Close() error                       { return g.c.Close() }

// naSender writes a prebuilt unsolicited NA frame to 33:33:00:00:00:01.
type naSender struct {
	c     *packet.Conn
	frame []byte
}

func (n naSender) send() error {
	_, err := n.c.WriteTo(n.frame, &packet.Addr{HardwareAddr: allNodesMAC})
	return err
}
func (n naSender) SetWriteDeadline(t time.Time) error { return n.c.SetWriteDeadline(t) }
func (n naSender) Close() error                       { return n.c.Close() }

// listen opens a send-only packet socket on ifi: bound to proto so the
// kernel tags the frames correctly, with a filter that queues nothing.
func listen(ifi *net.Interface, proto int) (*packet.Conn, error) {
	drop, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return nil, err
	}
	return packet.Listen(ifi, packet.Raw, proto, &packet.Config{Filter: drop})
}

// inNS runs fn in the provider's namespace: on the calling thread when
// Options.NetNS is empty, else on a thread that enters opts.NetNS and is
// thrown away afterwards (sockets stay in the namespace they were made in).
func (p *Provider) inNS(fn func() error) error {
	if p.opts.NetNS == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, switched to another namespace, exits
		// with this goroutine instead of going back to the scheduler.
		runtime.LockOSThread()
		ns, err := netns.GetFromPath(p.opts.NetNS)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter %s: %w", p.opts.NetNS, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
