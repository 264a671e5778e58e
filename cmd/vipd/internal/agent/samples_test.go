package agent

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipd/vipd/cmd/vipd/internal/director"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/lvs/lvstest"
	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/providertest"
	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/vrrptest"
)

// samples are every configuration the project ships or tests migrate with:
// deploy/ samples and the YAML of the keepalived corpus (after "# yaml").
func samples(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, glob := range []string{"../../../../deploy/*/*.yaml", "../../../../configs/testdata/keepalived/*.golden"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f, ".golden") {
				_, y, ok := strings.Cut(string(b), "# yaml\n")
				if !ok {
					continue // a refused conversion: no YAML
				}
				b = []byte(y)
			}
			out[filepath.Base(f)] = b
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d sample configs found", len(out))
	}
	return out
}

// TestEverySampleStarts: what `vipd check` accepts, the agent starts.
// Every sample gives one verdict from the plan (the only conversion, used
// by check and run alike); each one accepted is then built by the agent on
// a host that has its interfaces: every instance gets a running router
// configuration, every provider its options, every service passes the lvs
// package's validation with its groups expanded.
func TestEverySampleStarts(t *testing.T) {
	known := map[string]string{
		// vrrp needs one advertised address; keepalived also sends adverts
		// with none (only virtual_ipaddress_excluded). Known gap.
		"paas-haproxy.golden": "at least one VIP is required",
	}
	for name, b := range samples(t) {
		t.Run(name, func(t *testing.T) {
			cfg, err := configs.LoadBytes(b, []string{})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			p, err := plan.Build(cfg)
			if why, ok := known[name]; ok {
				if err == nil || !strings.Contains(err.Error(), why) {
					t.Fatalf("known gap %q no longer reported (err %v): update the test", why, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("vipd check refuses a shipped sample:\n%v", err)
			}
			startable(t, p)
		})
	}
}

// startable builds the agent's parts for p on a host with every interface
// the plan names, holding the instances' source addresses.
func startable(t *testing.T, p *plan.Plan) {
	t.Helper()
	ifaceAddrs := map[string][]netip.Addr{}
	for _, in := range p.Instances {
		if in.Router.Src.IsValid() {
			ifaceAddrs[in.Interface] = append(ifaceAddrs[in.Interface], in.Router.Src)
		} else if in.Family == 6 {
			ifaceAddrs[in.Interface] = append(ifaceAddrs[in.Interface], netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::1"))
		} else {
			ifaceAddrs[in.Interface] = append(ifaceAddrs[in.Interface], netip.MustParseAddr("192.0.2.1"))
		}
	}
	net := vrrptest.NewNetwork(nil)
	host := Host{
		Listen: func(family int) (vrrp.Conn, error) { return net.NewConn(netip.MustParseAddr("192.0.2.250"), 2) },
		Clock:  vrrp.RealClock(),
		Interface: func(name string) (Interface, error) {
			return Interface{Index: 2, Addrs: ifaceAddrs[name]}, nil
		},
		Providers: func(_ context.Context, in plan.Instance, _ *slog.Logger) (providers.Provider, providers.Provider, func(), error) {
			if in.Provider.Kind != plan.Netlink && in.Provider.AWS == nil && in.Provider.Aliyun == nil && in.Provider.Tencent == nil {
				return nil, nil, nil, errors.New("cloud provider without options")
			}
			return providertest.New("local"), nil, func() {}, nil
		},
		IPVS:       func(cfg lvs.Config) (*lvs.Reconciler, error) { return lvs.NewReconciler(lvstest.New(), cfg), nil },
		SyncDaemon: func() (director.SyncDaemon, error) { return nopSync{}, nil },
	}
	conn, err := net.NewConn(netip.MustParseAddr("192.0.2.251"), 2)
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(p, discard, host)
	if err := a.build(context.Background()); err != nil {
		t.Fatalf("agent build: %v", err)
	}
	for _, in := range a.instances {
		rc, err := a.resolveRouter(in.plan)
		if err != nil {
			t.Fatalf("instance %s: %v", in.plan.Name, err)
		}
		if _, err := vrrp.NewRouter(rc, conn, nil, nil, discard, nil); err != nil {
			t.Fatalf("instance %s: the router refuses what check accepted: %v", in.plan.Name, err)
		}
	}
	if a.director != nil {
		var states []lvs.ServiceState
		for _, svc := range p.Services {
			if svc.Group != nil {
				states = append(states, lvs.ExpandGroup(svc.State, svc.Group)...)
			} else {
				states = append(states, svc.State)
			}
		}
		if err := lvs.ValidateStates(states); err != nil {
			t.Fatalf("lvs refuses what check accepted: %v", err)
		}
	}
}

type nopSync struct{}

func (nopSync) SwitchSyncDaemon(context.Context, lvs.SyncState, string, uint8) error { return nil }
func (nopSync) StopSyncDaemon(context.Context, lvs.SyncState) error                  { return nil }
func (nopSync) Close() error                                                         { return nil }
