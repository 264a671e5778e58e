package aliyun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/cloudtest"
)

const (
	ourInst  = "i-ours"
	peerInst = "i-peer"
	ourENI   = "eni-ours"
	peerENI  = "eni-peer"
	havipID  = "havip-1"
	table    = "vtb-1"
	testAK   = "AKIDTEST"
)

var testVIP = providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "eth0"}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup starts the emulator and builds a provider pointed at it.
func setup(t testing.TB, opts Options, prep func(*fakeCloud)) (*Provider, *cloudtest.Server, *fakeCloud) {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testAK)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
	f := newFakeCloud()
	f.havip.id = havipID
	if prep != nil {
		prep(f)
	}
	srv := cloudtest.New(cloudtest.ActionParam, f.handle)
	t.Cleanup(srv.Close)
	if opts.Region == "" {
		opts.Region = "cn-hangzhou"
	}
	if opts.InstanceID == "" {
		opts.InstanceID = ourInst
	}
	if opts.ENIID == "" {
		opts.ENIID = ourENI
	}
	opts.Endpoint = srv.URL
	if opts.Confirm == (providers.Confirm{}) {
		opts.Confirm = providers.Confirm{Polls: 5, Interval: time.Millisecond}
	}
	p, err := New(context.Background(), opts, quiet())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, srv, f
}

var readActions = map[string]bool{"DescribeHaVips": true, "DescribeRouteEntryList": true, "DescribeNetworkInterfaces": true}

// call is one write request as the emulator saw it, with the parameters
// that matter.
type call struct {
	Action string
	Params map[string]string
}

var keyParams = []string{"HaVipId", "InstanceId", "RouteEntryId", "RouteTableId", "DestinationCidrBlock",
	"NextHopType", "NextHopId", "NewNextHopType", "NewNextHopId", "NetworkInterfaceId", "PrivateIpAddress.1"}

func writes(srv *cloudtest.Server) []call {
	var out []call
	for _, r := range srv.Requests() {
		if readActions[r.Action] {
			continue
		}
		c := call{Action: r.Action, Params: map[string]string{}}
		for _, k := range keyParams {
			if v, ok := r.Params[k]; ok {
				c.Params[k] = v
			}
		}
		out = append(out, c)
	}
	return out
}

func TestAcquireVerify(t *testing.T) {
	dst := "192.0.2.100/32"
	ip := "192.0.2.100"
	tests := []struct {
		name       string
		opts       Options
		prep       func(*fakeCloud)
		afterWrite func(*fakeCloud) // e.g. the GARP moving the HAVIP
		wantWrites []call
		wantBefore providers.Ownership
	}{
		{
			name: "havip associated: no write, pending until GARP",
			opts: Options{Mode: ModeHaVip, HaVipID: havipID},
			prep: func(f *fakeCloud) { f.havip.master, f.havip.associated = peerInst, []string{ourInst, peerInst} },
			afterWrite: func(f *fakeCloud) {
				f.havip.master = ourInst
			},
			wantBefore: providers.Ownership{Owner: peerInst, Detail: "havip master is i-peer (pending GARP)"},
		},
		{
			name:       "havip not associated, manage_association",
			opts:       Options{Mode: ModeHaVip, HaVipID: havipID, ManageAssociation: true},
			prep:       func(f *fakeCloud) { f.havip.associated = []string{peerInst} },
			afterWrite: func(f *fakeCloud) { f.havip.master = ourInst },
			wantWrites: []call{{Action: "AssociateHaVip", Params: map[string]string{"HaVipId": havipID, "InstanceId": ourInst}}},
			wantBefore: providers.Ownership{Detail: "havip has no master yet (pending GARP)"},
		},
		{
			name: "route-entry modify",
			opts: Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}},
			prep: func(f *fakeCloud) {
				f.routes[dst] = &fakeRoute{id: "rte-1", table: table, hopType: "Instance", hopID: peerInst, status: "Available"}
			},
			wantWrites: []call{{Action: "ModifyRouteEntry", Params: map[string]string{"RouteEntryId": "rte-1", "RouteTableId": table,
				"DestinationCidrBlock": dst, "NewNextHopType": "Instance", "NewNextHopId": ourInst}}},
			wantBefore: providers.Ownership{Owner: peerInst, Detail: "route entry next hop Instance i-peer status Available"},
		},
		{
			name: "route-entry create when missing",
			opts: Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}},
			wantWrites: []call{{Action: "CreateRouteEntry", Params: map[string]string{"RouteTableId": table,
				"DestinationCidrBlock": dst, "NextHopType": "Instance", "NextHopId": ourInst}}},
			wantBefore: providers.Ownership{Detail: "no route entry for 192.0.2.100/32"},
		},
		{
			name: "route-entry without id: delete + create",
			opts: Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}},
			prep: func(f *fakeCloud) {
				f.routes[dst] = &fakeRoute{table: table, hopType: "Instance", hopID: peerInst, status: "Available"}
			},
			wantWrites: []call{
				{Action: "DeleteRouteEntry", Params: map[string]string{"RouteTableId": table, "DestinationCidrBlock": dst, "NextHopId": peerInst}},
				{Action: "CreateRouteEntry", Params: map[string]string{"RouteTableId": table, "DestinationCidrBlock": dst, "NextHopType": "Instance", "NextHopId": ourInst}},
			},
			wantBefore: providers.Ownership{Owner: peerInst, Detail: "route entry next hop Instance i-peer status Available"},
		},
		{
			name: "secondary-ip: unassign from peer, assign to ours",
			opts: Options{Mode: ModeSecondaryIP, PeerENIID: peerENI},
			prep: func(f *fakeCloud) { f.enis[peerENI] = []string{ip} },
			wantWrites: []call{
				{Action: "UnassignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": peerENI, "PrivateIpAddress.1": ip}},
				{Action: "AssignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": ourENI, "PrivateIpAddress.1": ip}},
			},
			wantBefore: providers.Ownership{Owner: peerENI, Detail: "secondary ip on eni-peer"},
		},
		{
			name: "secondary-ip: nobody holds it",
			opts: Options{Mode: ModeSecondaryIP, PeerENIID: peerENI},
			wantWrites: []call{
				{Action: "AssignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": ourENI, "PrivateIpAddress.1": ip}},
			},
			wantBefore: providers.Ownership{Detail: "secondary ip not assigned to any eni"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, f := setup(t, tt.opts, tt.prep)
			cloudtest.Takeover[call]{
				Provider: p, Server: srv, VIP: testVIP,
				Writes:     func() []call { return writes(srv) },
				WantBefore: tt.wantBefore, WantWrites: tt.wantWrites,
				AfterWrite: cloudtest.Locked(&f.mu, f, tt.afterWrite),
			}.Check(t)
		})
	}
}

func TestRequestsAreSignedRPC(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP}, func(f *fakeCloud) { f.enis[peerENI] = []string{"192.0.2.100"} })
	if err := p.Acquire(context.Background(), testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 5 {
		t.Fatalf("got %d requests (%v), want 5 (our ENI, holder, unassign, assign, confirm)", len(reqs), srv.Actions())
	}
	for _, r := range reqs {
		for _, k := range []string{"Action", "Signature", "SignatureNonce", "Version", "Timestamp"} {
			if r.Params[k] == "" {
				t.Errorf("%s: parameter %s missing", r.Action, k)
			}
		}
		want := map[string]string{"Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "AccessKeyId": testAK, "RegionId": "cn-hangzhou"}
		got := map[string]string{}
		for k := range want {
			got[k] = r.Params[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: signature params (-want +got):\n%s", r.Action, diff)
		}
	}
}

func TestHaVipNotAssociated(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) { f.havip.associated = []string{peerInst} })
	err := p.Acquire(context.Background(), testVIP)
	if err == nil || !strings.Contains(err.Error(), "manage_association") || !strings.Contains(err.Error(), ourInst) {
		t.Fatalf("Acquire = %v, want a clear not-associated error", err)
	}
	if w := writes(srv); len(w) != 0 {
		t.Errorf("wrote %v without manage_association", w)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		resp      cloudtest.Response
		wantCode  string
		wantHTTP  int
		retryable bool
	}{
		{"throttling", aliErr(400, "Throttling.User", "REQ-THROTTLE"), "Throttling.User", 400, true},
		{"server error", aliErr(503, "ServiceUnavailable", "REQ-503"), "ServiceUnavailable", 503, true},
		{"internal 500 any code", aliErr(500, "InternalError", "REQ-500"), "InternalError", 500, true},
		{"auth", aliErr(404, "InvalidAccessKeyId.NotFound", "REQ-AUTH"), "InvalidAccessKeyId.NotFound", 404, false},
		{"forbidden", aliErr(403, "Forbidden.RAM", "REQ-RAM"), "Forbidden.RAM", 403, false},
		{"bad parameter", aliErr(400, "InvalidParameter", "REQ-PARAM"), "InvalidParameter", 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP}, func(f *fakeCloud) { f.enis[peerENI] = []string{"192.0.2.100"} })
			srv.FailNext("AssignPrivateIpAddresses", 1, tt.resp)
			err := p.Acquire(context.Background(), testVIP)
			var ce *providers.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("Acquire = %v, want *providers.CallError", err)
			}
			got := providers.CallError{Provider: ce.Provider, Action: ce.Action, RequestID: ce.RequestID, Code: ce.Code, HTTPCode: ce.HTTPCode, Retryable: ce.Retryable}
			want := providers.CallError{Provider: "aliyun", Action: "AssignPrivateIpAddresses", RequestID: reqIDOf(tt.resp), Code: tt.wantCode, HTTPCode: tt.wantHTTP, Retryable: tt.retryable}
			if diff := cmp.Diff(want, got, cmpCallErr); diff != "" {
				t.Errorf("CallError (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("error text %q lacks the code", err)
			}
		})
	}
}

var cmpCallErr = cmp.Comparer(func(a, b providers.CallError) bool {
	return a.Provider == b.Provider && a.Action == b.Action && a.RequestID == b.RequestID && a.Code == b.Code && a.HTTPCode == b.HTTPCode && a.Retryable == b.Retryable
})

func reqIDOf(r cloudtest.Response) string {
	s := string(r.Body)
	i := strings.Index(s, `"RequestId":"`)
	if i < 0 {
		return ""
	}
	s = s[i+len(`"RequestId":"`):]
	return s[:strings.Index(s, `"`)]
}

func TestRetryRecovers(t *testing.T) {
	for _, tt := range []cloudtest.RetryCase{
		{Name: "throttled twice then ok", Resp: aliErr(400, "Throttling", "REQ-T"), Fails: 2, WantAttempts: 3},
		{Name: "5xx twice then ok", Resp: aliErr(502, "BadGateway", "REQ-B"), Fails: 2, WantAttempts: 3},
		{Name: "auth error: no retry", Resp: aliErr(400, "SignatureDoesNotMatch", "REQ-S"), Fails: 5, WantErr: true, WantAttempts: 1},
	} {
		t.Run(tt.Name, func(t *testing.T) {
			p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP}, nil)
			tt.Check(t, p, srv, testVIP, "AssignPrivateIpAddresses")
		})
	}
}

func TestNetworkErrorRetryable(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testAK)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p, err := New(context.Background(), Options{Mode: ModeSecondaryIP, Region: "cn-hangzhou", InstanceID: ourInst, ENIID: ourENI, Endpoint: "http://" + addr}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	err = p.Acquire(context.Background(), testVIP)
	var ce *providers.CallError
	if !errors.As(err, &ce) || !ce.Retryable || ce.HTTPCode != 0 {
		t.Fatalf("Acquire = %#v, want a retryable CallError without HTTP status", err)
	}
}

func TestCallTimeoutBoundsSDKCall(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP}, nil)
	cloudtest.CheckDeadlineBoundsCall(t, p, srv, testVIP)
}

func TestDryRunMakesNoWrite(t *testing.T) {
	for _, opts := range []Options{
		{Mode: ModeHaVip, HaVipID: havipID, ManageAssociation: true},
		{Mode: ModeRouteEntry, RouteTableIDs: []string{table}},
		{Mode: ModeSecondaryIP},
	} {
		t.Run(opts.Mode, func(t *testing.T) {
			opts.DryRun = true
			p, srv, _ := setup(t, opts, func(f *fakeCloud) {
				f.enis[peerENI] = []string{"192.0.2.100"}
				f.routes["192.0.2.100/32"] = &fakeRoute{id: "rte-1", table: table, hopType: "Instance", hopID: peerInst}
			})
			if err := p.Acquire(context.Background(), testVIP); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if w := writes(srv); len(w) != 0 {
				t.Errorf("dry-run wrote %v", w)
			}
			if len(srv.Requests()) == 0 {
				t.Errorf("dry-run made no read either; want the reads that decide")
			}
		})
	}
}

func TestMetadataDiscovery(t *testing.T) {
	for _, hardened := range []bool{false, true} {
		t.Run(fmt.Sprintf("hardened=%v", hardened), func(t *testing.T) {
			t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testAK)
			t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
			md := newMetadata(t, map[string]string{
				"instance-id": ourInst, "region-id": "cn-beijing", "mac": "00:16:3e:00:00:01",
				"network/interfaces/macs/00:16:3e:00:00:01/network-interface-id": ourENI,
			}, hardened)
			f := newFakeCloud()
			f.enis[peerENI] = []string{"192.0.2.100"}
			srv := cloudtest.New(cloudtest.ActionParam, f.handle)
			defer srv.Close()
			p, err := New(context.Background(), Options{Mode: ModeSecondaryIP, Endpoint: srv.URL, MetadataEndpoint: md.URL + "/latest/meta-data/"}, quiet())
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := p.Acquire(context.Background(), testVIP); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			want := []call{
				{Action: "UnassignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": peerENI, "PrivateIpAddress.1": "192.0.2.100"}},
				{Action: "AssignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": ourENI, "PrivateIpAddress.1": "192.0.2.100"}},
			}
			if diff := cmp.Diff(want, writes(srv)); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if r := srv.Requests()[0].Params["RegionId"]; r != "cn-beijing" {
				t.Errorf("RegionId = %q, want cn-beijing from metadata", r)
			}
		})
	}
}

func TestMetadataUnreachable(t *testing.T) {
	start := time.Now()
	_, err := New(context.Background(), Options{Mode: ModeSecondaryIP, MetadataEndpoint: "http://127.0.0.1:1/latest/meta-data/"}, quiet())
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("New without metadata = %v, want a region error", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("metadata failure took %v", el)
	}
}

func TestIPv6Rejected(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP}, nil)
	cloudtest.CheckIPv6Rejected(t, p, srv)
}

// A route entry is Pending after a write: Verify says not here until it is
// Available, and Acquire returns only once it is (providers.Confirm).
func TestRoutePendingIsNotHere(t *testing.T) {
	p, srv, f := setup(t, Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}}, func(f *fakeCloud) { f.routeStatus = "Pending" })
	ctx := context.Background()
	if err := p.Acquire(ctx, testVIP); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("DescribeRouteEntryList"); n != 3 {
		t.Errorf("%d DescribeRouteEntryList, want 3 (read, Pending, Available)", n)
	}
	f.mu.Lock()
	f.routes["192.0.2.100/32"].status = "Pending"
	f.mu.Unlock()
	o, err := p.Verify(ctx, testVIP)
	if err != nil || o.Here {
		t.Fatalf("Verify while Pending = %+v, %v; want not here", o, err)
	}
	o, err = p.Verify(ctx, testVIP)
	if err != nil || !o.Here {
		t.Fatalf("Verify once Available = %+v, %v; want here", o, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opts Options
		ok   bool
	}{
		{Options{Mode: ModeHaVip, HaVipID: "h"}, true},
		{Options{Mode: ModeHaVip}, false},
		{Options{Mode: ModeHaVip, HaVipID: "h", NoLocalAddress: true}, false},
		{Options{Mode: ModeRouteEntry}, false},
		{Options{Mode: ModeRouteEntry, RouteTableIDs: []string{"t"}}, true},
		{Options{Mode: ModeSecondaryIP}, true},
		{Options{Mode: "eip"}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.opts, err, tt.ok)
		}
	}
}

// TestTwoNodesTakeover: two providers (the pair) on one emulated cloud. The
// backup's Acquire moves the VIP with one unassign+assign; the old master's
// Verify then names the new owner (what fencing and drift repair read).
func TestTwoNodesTakeover(t *testing.T) {
	a, srv, _ := setup(t, Options{Mode: ModeSecondaryIP, PeerENIID: peerENI}, func(f *fakeCloud) { f.enis[ourENI] = []string{"192.0.2.100"} })
	b, err := New(context.Background(), Options{Mode: ModeSecondaryIP, Region: "cn-hangzhou", InstanceID: peerInst, ENIID: peerENI, PeerENIID: ourENI, Endpoint: srv.URL}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	cloudtest.Handover[call]{
		From: a, To: b, Server: srv, VIP: testVIP,
		Writes: func() []call { return writes(srv) },
		WantWrites: []call{
			{Action: "UnassignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": ourENI, "PrivateIpAddress.1": "192.0.2.100"}},
			{Action: "AssignPrivateIpAddresses", Params: map[string]string{"NetworkInterfaceId": peerENI, "PrivateIpAddress.1": "192.0.2.100"}},
		},
		WantFrom: providers.Ownership{Owner: peerENI, Detail: "secondary ip on eni-peer"},
	}.Check(t)
}

// TestRetryableCode checks every code of the tables, plus the families.
func TestRetryableCode(t *testing.T) {
	for code := range transientCodes {
		if !retryableCode(code) {
			t.Errorf("retryableCode(%q) = false, want true", code)
		}
		if finalCodes[code] {
			t.Errorf("%s is in both tables", code)
		}
	}
	for code := range finalCodes {
		if retryableCode(code) {
			t.Errorf("retryableCode(%q) = true, want false", code)
		}
	}
	for code, want := range map[string]bool{
		"Throttling.Other": true, "IncorrectStatus.RouteTableStatus": true, "OperationConflict.X": true,
		"SomethingNew": false, "": false,
	} {
		if got := retryableCode(code); got != want {
			t.Errorf("retryableCode(%q) = %v, want %v", code, got, want)
		}
	}
}
