package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aws/awstest"
)

// fastConfirm keeps the confirmation polls of tests short.
var fastConfirm = providers.Confirm{Polls: 4, Interval: 5 * time.Millisecond}

// A route read as present and deleted before ReplaceRoute: AWS answers
// InvalidParameterValue "… Use CreateRoute instead."; the same attempt
// creates the route instead of failing for good.
func TestReplaceRouteOnDeletedRouteCreatesIt(t *testing.T) {
	e := newEnv(t, "")
	p := e.provider(t, Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}})
	e.ec2.FailNext("DescribeRouteTables", 1, awstest.DescribeRouteTablesResponse(map[string][]awstest.Route{
		"rtb-1": {{Destination: "10.0.0.100/32", Target: peerENI}},
	}))
	if err := p.Acquire(ctxT(t), vip); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if diff := cmp.Diff([]string{"DescribeRouteTables", "ReplaceRoute", "CreateRoute"}, e.ec2.Actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	routes, _ := e.ec2.RouteTable("rtb-1")
	if diff := cmp.Diff([]awstest.Route{{Destination: "10.0.0.100/32", Target: ourENI}}, routes); diff != "" {
		t.Errorf("rtb-1 (-want +got):\n%s", diff)
	}
}

// The holder lookup is scoped to our VPC and paged: an ENI of another VPC
// reusing the address is neither reported nor touched, and a holder on a
// later page is found.
func TestSecondaryIPScopedAndPaged(t *testing.T) {
	e := newEnv(t, "")
	e.ec2.AddENI(awstest.ENI{ID: "eni-000", InstanceID: "i-other", PrimaryIP: "10.0.0.10", Secondary: []string{"10.0.0.100"}, VPCID: "vpc-2"})
	for _, id := range []string{"eni-a01", "eni-a02", "eni-a03"} {
		e.ec2.AddENI(awstest.ENI{ID: id, InstanceID: "i-x", PrimaryIP: "10.0.0." + id[len(id)-1:]})
	}
	peer, _ := e.ec2.ENI(peerENI)
	peer.Secondary = []string{"10.0.0.99", "10.0.0.100"}
	e.ec2.AddENI(peer)
	e.ec2.SetUnpagedLimit(2)
	e.ec2.SetMaxPage(1)
	p := e.provider(t, Options{Mode: ModeSecondaryIP, Confirm: fastConfirm})
	own, err := p.Verify(ctxT(t), vip)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if own.Here || own.Owner != peerENI {
		t.Errorf("Verify = %+v, want owner %s (eni-000 is in another VPC)", own, peerENI)
	}
	if err := p.Acquire(ctxT(t), vip); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if got := e.ec2.HolderIn("vpc-1", "10.0.0.100"); got != ourENI {
		t.Errorf("holder in vpc-1 = %q, want %q", got, ourENI)
	}
	if got := e.ec2.HolderIn("vpc-2", "10.0.0.100"); got != "eni-000" {
		t.Errorf("holder in vpc-2 = %q, want eni-000 untouched", got)
	}
	for _, r := range e.ec2.Requests() {
		if r.Action != "DescribeNetworkInterfaces" || r.Params["NetworkInterfaceId.1"] != "" {
			continue
		}
		if r.Params["MaxResults"] == "" || r.Params["Filter.2.Name"] != "vpc-id" || r.Params["Filter.2.Value.1"] != "vpc-1" {
			t.Errorf("holder lookup %v: want MaxResults and a vpc-id filter", r.Params)
		}
	}
}

// AssignPrivateIpAddresses is asynchronous when it moves an address: Acquire
// returns only once Verify sees it here, and a remap lost after the call
// returned is re-issued by the next attempt.
func TestSecondaryIPAsyncRemap(t *testing.T) {
	t.Run("delayed", func(t *testing.T) {
		e := newEnv(t, "")
		peer, _ := e.ec2.ENI(peerENI)
		peer.Secondary = []string{"10.0.0.100"}
		e.ec2.AddENI(peer)
		e.ec2.SetRemapDelay(2)
		p := e.provider(t, Options{Mode: ModeSecondaryIP, Confirm: fastConfirm})
		if err := p.Acquire(ctxT(t), vip); err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		if got := e.ec2.HolderIn("vpc-1", "10.0.0.100"); got != ourENI {
			t.Errorf("Acquire returned with the holder %q, want %q (confirmed)", got, ourENI)
		}
		if n := e.ec2.Writes("AssignPrivateIpAddresses"); n != 1 {
			t.Errorf("%d writes, want 1", n)
		}
	})
	t.Run("lost", func(t *testing.T) {
		e := newEnv(t, "")
		peer, _ := e.ec2.ENI(peerENI)
		peer.Secondary = []string{"10.0.0.100"}
		e.ec2.AddENI(peer)
		e.ec2.LoseNextRemaps(1)
		p := e.provider(t, Options{Mode: ModeSecondaryIP, Confirm: fastConfirm})
		err := p.Acquire(ctxT(t), vip)
		var ce *providers.CallError
		if !errors.As(err, &ce) || ce.Code != "NotConfirmed" || !ce.Retryable {
			t.Fatalf("first Acquire = %v, want a retryable NotConfirmed", err)
		}
		b := providers.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
		if err := providers.Retry(ctxT(t), testLogger(t), b, 2*time.Second, "acquire", func(ctx context.Context) error { return p.Acquire(ctx, vip) }); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		if n := e.ec2.Writes("AssignPrivateIpAddresses"); n != 2 {
			t.Errorf("%d writes, want 2 (the lost one re-issued)", n)
		}
		if got := e.ec2.HolderIn("vpc-1", "10.0.0.100"); got != ourENI {
			t.Errorf("holder = %q, want %q", got, ourENI)
		}
	})
}

// Without private_ip the Elastic IP is here only when it maps to our ENI's
// primary address, not to any address of the ENI.
func TestEIPWithoutPrivateIPMeansPrimary(t *testing.T) {
	e := newEnv(t, "")
	eni, _ := e.ec2.ENI(ourENI)
	eni.Secondary = []string{"10.0.0.50"}
	e.ec2.AddENI(eni)
	e.ec2.AddAddress(awstest.Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10", AssociationID: "eipassoc-1", ENI: ourENI, PrivateIP: "10.0.0.50"})
	p := e.provider(t, Options{Mode: ModeEIP, AllocationID: "eipalloc-1", NoLocalAddress: true})
	eipVIP := providers.VIP{Prefix: netip.MustParsePrefix("203.0.113.10/32")}
	own, err := p.Verify(ctxT(t), eipVIP)
	if err != nil {
		t.Fatal(err)
	}
	if own.Here {
		t.Errorf("Verify = %+v, want not here (mapped to a secondary address)", own)
	}
	if err := p.Acquire(ctxT(t), eipVIP); err != nil {
		t.Fatal(err)
	}
	if a, _ := e.ec2.Address("eipalloc-1"); a.ENI != ourENI || a.PrivateIP != "10.0.0.10" {
		t.Errorf("EIP → %s %s, want %s 10.0.0.10", a.ENI, a.PrivateIP, ourENI)
	}
}

// The IMDS client never uses the environment's proxy (HTTPS_PROXY /
// HTTP_PROXY without a NO_PROXY entry for 169.254.169.254 would otherwise
// receive the metadata and credential requests).
func TestMetadataClientHasNoProxy(t *testing.T) {
	tr := metadataHTTPClient().GetTransport()
	if tr.Proxy != nil {
		t.Fatal("IMDS transport has a Proxy function, want none")
	}
}

// A failing call is logged with code and request id, never with the key id
// or the session token, even when the server's message names them.
func TestFailedCallLogsNoCredential(t *testing.T) {
	e := newEnv(t, "")
	t.Setenv("AWS_SESSION_TOKEN", "vipd-session-token-123")
	p := e.provider(t, Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}})
	e.ec2.FailNext("DescribeRouteTables", 1, awstest.ErrorResponse(401, "AuthFailure",
		"AWS was not able to validate the provided access credentials: key "+awstest.AccessKeyID+" token vipd-session-token-123", "req-auth"))
	var buf strings.Builder
	b := providers.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	err := providers.Retry(ctxT(t), slog.New(slog.NewTextHandler(&buf, nil)), b, time.Second, "acquire", func(ctx context.Context) error { return p.Acquire(ctx, vip) })
	if err == nil {
		t.Fatal("Acquire succeeded, want AuthFailure")
	}
	out := buf.String() + err.Error()
	for _, secret := range []string{awstest.AccessKeyID, "vipd-session-token-123"} {
		if strings.Contains(out, secret) {
			t.Errorf("log or error contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"code=AuthFailure", "request_id=req-auth"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

// In dry-run no mode writes, whatever the cloud state.
func TestDryRunNoModeWrites(t *testing.T) {
	for _, opts := range []Options{
		{Mode: ModeSecondaryIP},
		{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1", "rtb-2"}},
		{Mode: ModeEIP, AllocationID: "eipalloc-1"},
	} {
		t.Run(string(opts.Mode), func(t *testing.T) {
			e := newEnv(t, "")
			peer, _ := e.ec2.ENI(peerENI)
			peer.Secondary = []string{"10.0.0.100"}
			e.ec2.AddENI(peer)
			e.ec2.AddRouteTable("rtb-1", awstest.Route{Destination: "10.0.0.100/32", Target: peerENI})
			e.ec2.AddAddress(awstest.Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10", AssociationID: "eipassoc-1", ENI: peerENI, PrivateIP: "10.0.0.11"})
			opts.DryRun = true
			p := e.provider(t, opts)
			if err := p.Acquire(ctxT(t), vip); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if n := e.ec2.TotalWrites(); n != 0 {
				t.Errorf("%d writes in dry-run, want 0 (%v)", n, e.ec2.Actions())
			}
		})
	}
}

// TestIMDSBypassesProxyEnv runs New in a child process whose environment
// names a proxy (Go reads the proxy environment once per process) and no
// NO_PROXY: the metadata requests must not reach the proxy.
func TestIMDSBypassesProxyEnv(t *testing.T) {
	if os.Getenv("VIPD_IMDS_PROXY_CHILD") == "1" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := New(ctx, Options{Mode: ModeSecondaryIP, Endpoint: "http://127.0.0.1:1"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		fmt.Println("child New:", err) // fails: no IMDS answers; only the proxy's log matters
		return
	}
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String())
		mu.Unlock()
		http.Error(w, "proxy", http.StatusBadGateway)
	}))
	defer proxy.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIMDSBypassesProxyEnv$", "-test.count=1")
	cmd.Env = append(os.Environ(), "VIPD_IMDS_PROXY_CHILD=1",
		"HTTP_PROXY="+proxy.URL, "HTTPS_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "https_proxy="+proxy.URL,
		"NO_PROXY=", "no_proxy=", "AWS_REGION=", "AWS_EC2_METADATA_DISABLED=",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_ACCESS_KEY_ID=AKIDCHILD", "AWS_SECRET_ACCESS_KEY=x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child New:") {
		t.Fatalf("child did not run New:\n%s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Errorf("the proxy received metadata requests %v, want none", seen)
	}
}
