package aliyun

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
)

// The holder lookup is scoped to our ENI's VPC and vSwitch: an ENI of
// another VPC reusing the address is never unassigned.
func TestSecondaryIPScopedToVSwitch(t *testing.T) {
	p, srv, f := setup(t, Options{Mode: ModeSecondaryIP, PeerENIID: peerENI}, func(f *fakeCloud) {
		f.enis["eni-aaa"] = []string{"192.0.2.100"}
		f.eniNet["eni-aaa"] = [2]string{"vpc-2", "vsw-9"}
		f.enis[peerENI] = []string{"192.0.2.100"}
	})
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
	if !slices.Contains(f.enis["eni-aaa"], "192.0.2.100") {
		t.Error("the ENI of another VPC lost its address")
	}
	for _, r := range srv.Requests() {
		if r.Action == "DescribeNetworkInterfaces" && r.Params["PrivateIpAddress.1"] != "" &&
			(r.Params["VpcId"] != "vpc-1" || r.Params["VSwitchId"] != "vsw-1" || r.Params["MaxResults"] == "") {
			t.Errorf("holder lookup %v: want VpcId vpc-1, VSwitchId vsw-1, MaxResults", r.Params)
		}
	}
}

// With peer_eni_id set, an address held by any other ENI is left alone: the
// attempt fails for good and says why.
func TestPeerENIIDGuardsUnassign(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP, PeerENIID: peerENI}, func(f *fakeCloud) {
		f.enis["eni-stranger"] = []string{"192.0.2.100"}
	})
	err := p.Acquire(context.Background(), testVIP)
	if err == nil || providers.IsRetryable(err) || !strings.Contains(err.Error(), "eni-stranger") {
		t.Fatalf("Acquire = %v, want a final error naming eni-stranger", err)
	}
	if w := writes(srv); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}

// An association made by ENI (InstanceType NetworkInterface) counts, and a
// HAVIP whose master is our ENI is here.
func TestHaVipAssociatedByENI(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) {
		f.havip.associated, f.havip.assocType, f.havip.master = []string{ourENI, peerENI}, "NetworkInterface", ourENI
	})
	if err := p.Acquire(context.Background(), testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if w := writes(srv); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
	own, err := p.Verify(context.Background(), testVIP)
	if err != nil || !own.Here {
		t.Errorf("Verify = %+v, %v; want here", own, err)
	}
}

// AssociateHaVip is asynchronous: Acquire returns once the association
// shows, and never sends a second AssociateHaVip while one is running.
func TestAssociateHaVipAsync(t *testing.T) {
	p, srv, f := setup(t, Options{Mode: ModeHaVip, HaVipID: havipID, ManageAssociation: true, Confirm: providers.Confirm{Polls: 5, Interval: time.Millisecond}}, func(f *fakeCloud) {
		f.havip.associated = []string{peerInst}
		f.associating = 3
	})
	b := providers.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	if err := providers.Retry(context.Background(), quiet(), b, time.Second, "acquire", func(ctx context.Context) error { return p.Acquire(ctx, testVIP) }); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	f.mu.Lock()
	assoc := slices.Clone(f.havip.associated)
	f.mu.Unlock()
	if !slices.Contains(assoc, ourInst) {
		t.Errorf("Acquire returned before the association showed: %v", assoc)
	}
	if n := srv.Count("AssociateHaVip"); n != 1 {
		t.Errorf("AssociateHaVip sent %d times, want 1", n)
	}
}

// SignatureDoesNotMatch's message holds the server's string to sign with
// the AccessKeyId and the STS token: neither reaches the log or the error.
func TestSignatureErrorLogsNoCredential(t *testing.T) {
	const token = "CAIS-sts-token-1234567890"
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", token)
	p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP}, nil)
	msg := "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D" + testAK + "%26SecurityToken%3D" + token
	srv.FailNext("DescribeNetworkInterfaces", 1, jsonResp(400, map[string]any{"Code": "SignatureDoesNotMatch", "Message": msg, "RequestId": "REQ-SIG"}))
	var buf strings.Builder
	b := providers.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	err := providers.Retry(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)), b, time.Second, "acquire", func(ctx context.Context) error { return p.Acquire(ctx, testVIP) })
	var ce *providers.CallError
	if !errors.As(err, &ce) || ce.Code != "SignatureDoesNotMatch" {
		t.Fatalf("Acquire = %v, want SignatureDoesNotMatch", err)
	}
	out := buf.String() + err.Error()
	for _, secret := range []string{testAK, token, "string to sign"} {
		if strings.Contains(out, secret) {
			t.Errorf("log or error contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"code=SignatureDoesNotMatch", "request_id=REQ-SIG"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

// The holder lookup follows NextToken: a first page without the holder
// (the API may return fewer items than MaxResults) is not the answer.
func TestSecondaryIPHolderOnSecondPage(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeSecondaryIP, PeerENIID: peerENI}, func(f *fakeCloud) {
		f.enis[peerENI] = []string{"192.0.2.100"}
	})
	if _, _, err := p.network(context.Background()); err != nil { // our ENI's VPC, kept
		t.Fatal(err)
	}
	srv.FailNext("DescribeNetworkInterfaces", 1, jsonResp(200, map[string]any{
		"RequestId": "REQ-PAGE1", "NextToken": "tok-0", "TotalCount": 1,
		"NetworkInterfaceSets": map[string]any{"NetworkInterfaceSet": []any{}},
	}))
	own, err := p.Verify(context.Background(), testVIP)
	if err != nil {
		t.Fatal(err)
	}
	if own.Owner != peerENI {
		t.Errorf("Verify = %+v, want owner %s (on the second page)", own, peerENI)
	}
}
