package configstest

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/vipd/vipd/configs"
)

// ValidConfig is a small configuration that validates against Default()
// and builds: an IPv4 and an IPv6 instance in a sync group, a track script
// and interface, a virtual server and a virtual server group. Tests mutate
// it to provoke one problem at a time.
func ValidConfig() *configs.Config {
	c := configs.DefaultConfig()
	c.Global.Node = "n1"
	sc := configs.DefaultScript()
	sc.Name, sc.Command = "chk_nginx", "pgrep nginx"
	c.Scripts = []configs.Script{sc}

	v4 := configs.DefaultInstance()
	v4.Name, v4.Interface, v4.VRID = "VI_1", "eth0", 51
	v4.UnicastSrcIP = netip.MustParseAddr("192.0.2.1")
	v4.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.3")}
	v4.VIPs = []configs.VIP{configs.MustVIP("192.0.2.100/24"), configs.MustVIP("192.0.2.101/32")}
	v4.TrackScripts = []configs.TrackScript{{Name: "chk_nginx"}}
	v4.TrackInterfaces = []configs.TrackInterface{{Name: "eth1", Weight: -10}}

	v6 := configs.DefaultInstance()
	v6.Name, v6.Interface, v6.VRID = "VI_6", "eth0", 51 // same vrid, other family
	v6.VIPs = []configs.VIP{configs.MustVIP("2001:db8::100/64")}
	c.Instances = []configs.Instance{v4, v6}
	c.SyncGroups = []configs.SyncGroup{{Name: "G", Instances: []string{"VI_1", "VI_6"}}}

	c.VirtualServerGroups = []configs.VirtualServerGroup{{Name: "web", Members: []string{"192.0.2.100:80", "192.0.2.110-115:80", "fwmark 3"}}}
	ch := configs.DefaultCheck()
	ch.Type = "tcp"
	rs := configs.DefaultRealServer()
	rs.Address, rs.Checks = netip.MustParseAddrPort("192.0.2.11:80"), []configs.Check{ch}
	vs := configs.DefaultVirtualServer()
	vs.Address, vs.RealServers, vs.VRRPInstance = netip.MustParseAddrPort("192.0.2.100:80"), []configs.RealServer{rs}, "VI_1"
	vsg := configs.DefaultVirtualServer()
	vsg.Group = "web"
	c.VirtualServers = []configs.VirtualServer{vs, vsg}
	return c
}

// Problems returns the lines of err, which must be a
// *configs.ValidationErrors (one problem per entry and per line); nil for
// no error.
func Problems(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *configs.ValidationErrors
	if !errors.As(err, &ve) {
		t.Fatalf("error %T is not *ValidationErrors: %v", err, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(ve.Errs) != len(lines) {
		t.Errorf("%d errors but %d lines", len(ve.Errs), len(lines))
	}
	return lines
}
