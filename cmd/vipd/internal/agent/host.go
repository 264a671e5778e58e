package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vipd/vipd/cmd/vipd/internal/director"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/netlink"
	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/bfd"
)

// Host is everything the agent takes from the machine: sockets, clock,
// interfaces, link events, providers, IPVS. DefaultHost is the real one;
// tests pass fakes (vrrptest, providertest, lvstest) and run the whole
// agent without root.
type Host struct {
	// Listen opens the VRRP socket of a family (4 or 6).
	Listen func(family int) (vrrp.Conn, error)
	// Clock drives the VRRP routers.
	Clock vrrp.Clock
	// Interface looks an interface up by name.
	Interface func(name string) (Interface, error)
	// WatchLinks reports the state of each named link at once, then every
	// change until ctx ends (in a goroutine it owns).
	WatchLinks func(ctx context.Context, log *slog.Logger, names []string, changed func(name string, up bool)) error
	// Providers builds an instance's local provider (nil with
	// no_local_address) and cloud provider (nil on-prem); closeFn releases
	// what they hold.
	Providers func(ctx context.Context, in plan.Instance, log *slog.Logger) (local, cloud providers.Provider, closeFn func(), err error)
	// IPVS opens the reconciler of the kernel's IPVS table.
	IPVS func(cfg lvs.Config) (*lvs.Reconciler, error)
	// SyncDaemon opens the control of the IPVS connection sync daemon.
	SyncDaemon func() (director.SyncDaemon, error)
	// BFD opens the BFD transport (UDP 3784, TTL 255).
	BFD func() (bfd.Conn, error)
	// Routing returns an instance's table of virtual routes and rules.
	Routing func(log *slog.Logger) Routing
}

// Routing adds and removes virtual routes and rules (netlink.Routing).
type Routing interface {
	Set(ctx context.Context, routes []netlink.Route, rules []netlink.Rule) error
	Remove(ctx context.Context) error
	Close() error
}

// Interface is what the agent needs of a network interface.
type Interface struct {
	Index int
	Addrs []netip.Addr
}

// DefaultHost is the machine vipd runs on.
func DefaultHost() Host {
	return Host{
		Listen: func(family int) (vrrp.Conn, error) {
			if family == 6 {
				return vrrp.ListenIPv6()
			}
			return vrrp.ListenIPv4()
		},
		Clock:      vrrp.RealClock(),
		Interface:  hostInterface,
		WatchLinks: watchLinks,
		Providers:  buildProviders,
		IPVS:       func(cfg lvs.Config) (*lvs.Reconciler, error) { return lvs.NewKernelReconciler("", cfg) },
		SyncDaemon: func() (director.SyncDaemon, error) { return lvs.OpenSync(0) },
		BFD:        bfd.Listen,
		Routing:    func(log *slog.Logger) Routing { return netlink.NewRouting(netlink.Options{}, log) },
	}
}

func hostInterface(name string) (Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return Interface{}, fmt.Errorf("interface %s: %w", name, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return Interface{}, fmt.Errorf("interface %s: %w", name, err)
	}
	out := Interface{Index: ifi.Index}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out.Addrs = append(out.Addrs, p.Addr().Unmap())
		}
	}
	return out, nil
}

// watchLinks follows links through netlink: a missing link is down.
func watchLinks(ctx context.Context, log *slog.Logger, names []string, changed func(name string, up bool)) error {
	tracked := map[string]bool{}
	for _, name := range names {
		tracked[name] = true
	}
	updates := make(chan vnl.LinkUpdate, 64)
	done := make(chan struct{})
	errc := make(chan error, 1)
	if err := vnl.LinkSubscribeWithOptions(updates, done, vnl.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case errc <- err:
			default:
			}
		},
	}); err != nil {
		close(done)
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	last := map[string]bool{}
	for name := range tracked {
		l, err := vnl.LinkByName(name)
		up := err == nil && linkUp(l)
		last[name] = up
		changed(name, up)
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-errc:
				log.Error("link watch failed", "err", err)
			case u, ok := <-updates:
				if !ok {
					return
				}
				name := u.Attrs().Name
				if !tracked[name] {
					continue
				}
				up := u.Header.Type != unix.RTM_DELLINK && linkUp(u.Link)
				if prev, seen := last[name]; seen && prev == up {
					continue
				}
				last[name] = up
				changed(name, up)
			}
		}
	}()
	return nil
}

// linkUp: administratively up and carrier (oper state up, or unknown for
// links without carrier reporting such as dummy).
func linkUp(l vnl.Link) bool {
	at := l.Attrs()
	if at.Flags&net.FlagUp == 0 {
		return false
	}
	return at.OperState == vnl.OperUp || at.OperState == vnl.OperUnknown
}

// buildProviders returns the instance's local provider (netlink: the
// address on the NIC plus GARP/NA) and its cloud provider. The cloud
// constructors (newAWS, newAliyun, newTencent) are in cloud_*.go: a build
// tag (novipd_aws, novipd_aliyun, novipd_tencent, or onprem for all three)
// replaces one by a stub that fails with "built without aws" etc., leaving its SDK
// out of the binary.
func buildProviders(ctx context.Context, in plan.Instance, log *slog.Logger) (local, cloud providers.Provider, closeFn func(), err error) {
	p := in.Provider
	if cloud, err = newCloud(ctx, p, log); err != nil {
		return nil, nil, nil, err
	}
	closeFn = func() {}
	if p.Local != nil {
		nl := netlink.New(*p.Local, log)
		local, closeFn = nl, func() { _ = nl.Close() }
	}
	return local, cloud, closeFn, nil
}

// newCloud builds the cloud provider of p (nil for netlink).
func newCloud(ctx context.Context, p plan.Provider, log *slog.Logger) (providers.Provider, error) {
	var (
		cloud providers.Provider
		err   error
	)
	switch p.Kind {
	case plan.AWS:
		cloud, err = newAWS(ctx, *p.AWS, log)
	case plan.Aliyun:
		cloud, err = newAliyun(ctx, *p.Aliyun, log)
	case plan.Tencent:
		cloud, err = newTencent(ctx, *p.Tencent, log)
	}
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", p.Kind, err)
	}
	return cloud, nil
}

// Preflight is the go-live check of one instance's cloud provider.
type Preflight struct {
	Instance string
	Verdict  providers.Verdict
	Err      error // the provider could not be built (credentials, metadata)
}

// OK reports whether the provider was built and no check failed.
func (p Preflight) OK() bool { return p.Err == nil && p.Verdict.OK() }

// PreflightClouds builds the cloud provider of every cloud instance of p, as
// run does, and asks it whether it could move the instance's VIPs:
// credentials, identity discovery, reads, and write permissions where the
// cloud has a dry run (EC2 DryRun). It changes nothing anywhere.
func PreflightClouds(ctx context.Context, p *plan.Plan, log *slog.Logger) []Preflight {
	var out []Preflight
	for _, in := range p.Instances {
		if in.Provider.Kind == plan.Netlink {
			continue
		}
		pf := Preflight{Instance: in.Name}
		cloud, err := newCloud(ctx, in.Provider, log.With("instance", in.Name))
		if err != nil {
			pf.Err = err
			out = append(out, pf)
			continue
		}
		pre, ok := cloud.(providers.Preflighter)
		if !ok {
			pf.Err = fmt.Errorf("provider %s has no preflight check", in.Provider.Kind)
		} else {
			pf.Verdict, pf.Err = pre.Preflight(ctx, in.VIPs...)
		}
		out = append(out, pf)
	}
	return out
}
